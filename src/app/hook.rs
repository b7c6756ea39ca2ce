//! The agent hooks' decisions (Claude Code and Codex share one contract):
//! which files a tool call writes, and whether the acting session may make
//! it. The CLI reads the payload and prints the decision.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::claims::{covering, guard_in};
use super::views::{held_claims, ClaimView};
use super::Ctx;
use crate::core::error::Result;
use crate::core::model::Registry;
use crate::core::text::{command_line, sanitize};

/// One tool call, as the hook payload describes it.
#[derive(Debug, Default, PartialEq)]
pub struct ToolCall {
    pub tool: String,
    /// Files it writes, relative to the top of the work tree.
    pub paths: Vec<String>,
    /// A shell command that runs only coord (allowed through an emergency).
    pub coord_only: bool,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "decision", rename_all = "lowercase")]
pub enum Decision {
    /// No objection: the agent's own permission rules decide.
    Pass,
    Deny {
        reason: String,
    },
}

/// The tools that write the file named in their input: Claude Code's
/// `Write`, `Edit`, `MultiEdit`, `NotebookEdit`; Cursor's `Write`,
/// `StrReplace`, `Delete`.
const FILE_TOOLS: &[&str] = &[
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "StrReplace",
    "Delete",
];
/// The input fields that name the file, the first present wins.
const PATH_FIELDS: &[&str] = &["file_path", "notebook_path", "path"];

/// Read a tool call from the payload's `tool_name` and `tool_input`; `cwd`
/// is the payload's folder and `top` the work tree's top.
pub fn tool_call(tool: &str, input: &serde_json::Value, cwd: &Path, top: &Path) -> ToolCall {
    let mut raw: Vec<String> = Vec::new();
    if FILE_TOOLS.contains(&tool) {
        raw.extend(
            PATH_FIELDS
                .iter()
                .find_map(|f| input.get(*f).and_then(|v| v.as_str()))
                .map(str::to_string),
        );
    }
    // apply_patch (Codex): the paths are in the patch text, wherever the
    // input carries it (a string field or an argument list).
    if tool == "apply_patch" || tool.ends_with("apply_patch") {
        let mut texts = Vec::new();
        strings(input, &mut texts);
        for text in texts {
            raw.extend(patch_paths(&text));
        }
    }
    let paths = raw.iter().filter_map(|p| relative(&cwd.join(p), top)).collect();
    ToolCall {
        tool: tool.to_string(),
        paths,
        coord_only: coord_only(input.get("command")),
    }
}

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The files an apply_patch text adds, updates, deletes or moves to.
pub fn patch_paths(text: &str) -> Vec<String> {
    const HEADS: &[&str] = &[
        "*** Add File: ",
        "*** Update File: ",
        "*** Delete File: ",
        "*** Move to: ",
    ];
    text.lines()
        .filter_map(|l| HEADS.iter().find_map(|h| l.strip_prefix(h)))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// `path` relative to `top`, with `.` and `..` resolved by name; `None`
/// outside the work tree.
fn relative(path: &Path, top: &Path) -> Option<String> {
    let mut clean = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    let rel = clean.strip_prefix(top).ok()?;
    let s = rel.to_str()?;
    (!s.is_empty()).then(|| s.to_string())
}

/// A shell command that runs coord and nothing else: `coord ...` with no
/// operator that could chain another program.
fn coord_only(command: Option<&serde_json::Value>) -> bool {
    let text = match command {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => {
            a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" ")
        }
        _ => return false,
    };
    let t = text.trim();
    let first = t.split_whitespace().next().unwrap_or("");
    (first == "coord" || first.ends_with("/coord"))
        && !t.contains([';', '|', '&', '$', '`', '<', '>', '\n', '('])
}

/// Whether the acting session may make this call: never while an emergency
/// addressed to it is open (except coord's own commands), never a write
/// into another session's live file claim.
pub fn pre_tool_use(ctx: &Ctx, call: &ToolCall) -> Result<Decision> {
    // One read of the registry for both checks: this runs on every tool call.
    ctx.hub.read(|reg| {
        let report = guard_in(ctx, reg, &call.paths)?;
        // Resolving the session gathered its open emergencies.
        if let Some(e) = ctx.open_emergencies().first() {
            if !call.coord_only {
                return Ok(Decision::Deny {
                    reason: format!("{}. Every tool but coord is blocked until then.", e.describe()),
                });
            }
        }
        let Some(first) = report.blocked.first() else {
            return Ok(unclaimed(ctx, reg, report.me.as_deref(), &call.paths));
        };
        let c = &first.claims[0];
        let holder = c.holder.clone().unwrap_or_default();
        Ok(Decision::Deny {
            reason: format!(
                "{} is claimed by {} ({}, {}). Ask them with `{}`, or work on something else (`coord claims` lists what is taken).",
                sanitize(&first.path, false),
                sanitize(&holder, false),
                sanitize(&c.key, false),
                c.left(),
                command_line(&["send", &holder, &format!("may I edit {}?", first.path)])
            ),
        })
    })
}

/// With `hooks.require_claim`, a write to a file the session does not hold
/// a live file claim on is denied, naming the claim to take.
fn unclaimed(ctx: &Ctx, reg: &Registry, me: Option<&str>, paths: &[String]) -> Decision {
    if !ctx.hub.config.require_claim || paths.is_empty() {
        return Decision::Pass;
    }
    let Some(me) = me else {
        return Decision::Deny {
            reason: "this repository requires a claim before an edit, and you have no coord session: run `coord start --name NAME`, then `coord claim file PATH`".to_string(),
        };
    };
    let mine: Vec<ClaimView> = held_claims(reg, ctx.now(), &ctx.hub.config)
        .into_iter()
        .filter(|c| c.holder.as_deref() == Some(me))
        .collect();
    let missing = paths.iter().find(|p| covering(&mine, p).is_empty());
    match missing {
        None => Decision::Pass,
        Some(path) => Decision::Deny {
            reason: format!(
                "{} is not claimed by you, and this repository requires a claim before an edit (hooks.require_claim): run `{}` first",
                sanitize(path, false),
                command_line(&["claim", "file", path])
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_tools_and_patches_name_their_files_relative_to_the_top() {
        let top = Path::new("/repo");
        let cwd = Path::new("/repo/src");
        let call = tool_call(
            "Write",
            &json!({"file_path": "/repo/src/a.rs", "content": "x"}),
            cwd,
            top,
        );
        assert_eq!(call.paths, vec!["src/a.rs"]);
        let call = tool_call("NotebookEdit", &json!({"notebook_path": "nb.ipynb"}), cwd, top);
        assert_eq!(call.paths, vec!["src/nb.ipynb"]);
        let patch = "*** Begin Patch\n*** Update File: b.rs\n@@\n-x\n+y\n*** Add File: ../docs/c.md\n+hi\n*** End Patch\n";
        let call = tool_call(
            "apply_patch",
            &json!({"command": ["apply_patch", patch]}),
            cwd,
            top,
        );
        assert_eq!(call.paths, vec!["src/b.rs", "docs/c.md"]);
        let call = tool_call("Write", &json!({"file_path": "/etc/passwd"}), cwd, top);
        assert!(call.paths.is_empty(), "outside the work tree");
        let call = tool_call("Read", &json!({"file_path": "/repo/a"}), cwd, top);
        assert!(call.paths.is_empty(), "reads write nothing");
    }

    #[test]
    fn only_plain_coord_commands_pass_an_emergency() {
        assert!(coord_only(Some(&json!("coord ack m-1"))));
        assert!(coord_only(Some(&json!(["coord", "inbox"]))));
        assert!(!coord_only(Some(&json!("coord ack m-1; rm -rf ."))));
        assert!(!coord_only(Some(&json!("coord inbox | sh"))));
        assert!(!coord_only(Some(&json!("git commit"))));
        assert!(!coord_only(None));
    }
}
