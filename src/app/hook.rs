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
    /// Files it writes: absolute, with every symbolic link resolved.
    pub files: Vec<PathBuf>,
    /// A shell command line that runs only coord with a subcommand allowed
    /// through an emergency.
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
    /// Allowed, with something the agent should know (the conflict radar).
    Note {
        context: String,
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
/// The tools that run a shell command line (Claude Code's `Bash`; Codex's
/// shell tools), in their `command` (or `cmd`) field.
const SHELL_TOOLS: &[&str] = &[
    "Bash",
    "shell",
    "Shell",
    "local_shell",
    "exec_command",
    "unified_exec",
    "container.exec",
];

/// Read a tool call from the payload's `tool_name` and `tool_input`, each
/// tool by its own fields only; `cwd` is the payload's folder.
pub fn tool_call(tool: &str, input: &serde_json::Value, cwd: &Path) -> ToolCall {
    let mut raw: Vec<String> = Vec::new();
    let mut coord_only = false;
    let mut base = cwd.to_path_buf();
    if FILE_TOOLS.contains(&tool) {
        raw.extend(
            PATH_FIELDS
                .iter()
                .find_map(|f| input.get(*f).and_then(|v| v.as_str()))
                .map(str::to_string),
        );
    } else if tool == "apply_patch" || tool.ends_with("apply_patch") {
        // Codex: the paths are in the patch text, wherever the input
        // carries it (a string field or an argument list).
        let mut texts = Vec::new();
        strings(input, &mut texts);
        for text in texts {
            raw.extend(patch_paths(&text));
        }
    } else if SHELL_TOOLS.contains(&tool) {
        let command = input.get("command").or_else(|| input.get("cmd"));
        if let Some(dir) = input.get("workdir").and_then(|v| v.as_str()) {
            base = cwd.join(dir);
        }
        coord_only = command.is_some_and(runs_only_coord);
        // apply_patch run through the shell (`apply_patch <<'EOF'`) edits
        // as the tool does.
        let mut texts = Vec::new();
        if let Some(c) = command {
            strings(c, &mut texts);
        }
        for text in texts.iter().filter(|t| t.contains("*** Begin Patch")) {
            raw.extend(patch_paths(text));
        }
    }
    ToolCall {
        tool: tool.to_string(),
        files: raw.iter().map(|p| resolve(&base.join(p))).collect(),
        coord_only,
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

/// `path` as the kernel will find it: every symbolic link resolved (a link
/// to the file or a folder above it, `/proc/PID/root`), the part that does
/// not exist yet kept by name. A link that dangles is followed too: a write
/// through it creates its target.
pub fn resolve(path: &Path) -> PathBuf {
    resolve_in(path, 0)
}

fn resolve_in(path: &Path, depth: usize) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    if depth < 40 {
        if let Ok(target) = std::fs::read_link(path) {
            let parent = path.parent().unwrap_or(Path::new("/"));
            return resolve_in(&parent.join(target), depth + 1);
        }
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        // `/`, or a path ending in `..` or `.`: resolve what it names.
        return match path.components().next_back() {
            Some(std::path::Component::ParentDir) => {
                let up = resolve_in(path.parent().unwrap_or(Path::new("/")), depth + 1);
                up.parent().map(Path::to_path_buf).unwrap_or(up)
            }
            _ => path.to_path_buf(),
        };
    };
    resolve_in(parent, depth + 1).join(name)
}

/// `file` relative to `top` (both resolved); `None` outside it.
pub fn relative(file: &Path, top: &Path) -> Option<String> {
    let rel = file.strip_prefix(top).ok()?;
    let s = rel.to_str()?;
    (!s.is_empty()).then(|| s.to_string())
}

/// The subcommands that pass an emergency: coordination, not programs that
/// write outside the hub or serve (install, merge-driver, hook, mcp,
/// dashboard, init, guard, prune, archive, completions, man).
pub const EMERGENCY_ALLOWED: &[&str] = &[
    "start",
    "stop",
    "status",
    "heartbeat",
    "claim",
    "release",
    "renew",
    "send",
    "inbox",
    "ack",
    "brief",
    "doctor",
    "whoami",
    "prime",
    "claims",
    "who",
    "log",
    "sync",
    "task",
    "tasks",
    "ready",
    "milestone",
    "gate",
    "gates",
    "reserve",
    "unreserve",
    "reservations",
    "handoff",
    "accept",
    "kpi",
];

/// Characters that would let a command line run another program: control
/// operators, substitutions and redirections.
const SHELL_OPERATORS: &[char] = &[';', '|', '&', '$', '`', '<', '>', '(', ')', '\n', '\r', '\\'];

/// A command line (or argument list) that runs the coord binary itself with
/// a subcommand allowed through an emergency, optionally after `cd DIR &&`,
/// and nothing else.
fn runs_only_coord(command: &serde_json::Value) -> bool {
    match command {
        serde_json::Value::String(line) => line_runs_only_coord(line),
        serde_json::Value::Array(a) => {
            let argv: Option<Vec<&str>> = a.iter().map(|x| x.as_str()).collect();
            let Some(argv) = argv else { return false };
            // `["bash", "-lc", "LINE"]`: the line decides.
            if let [shell, flag, line] = argv.as_slice() {
                let shell = shell.rsplit('/').next().unwrap_or(shell);
                if matches!(shell, "bash" | "sh" | "zsh" | "dash")
                    && flag.starts_with('-')
                    && flag.ends_with('c')
                {
                    return line_runs_only_coord(line);
                }
            }
            argv_is_coord(&argv)
        }
        _ => false,
    }
}

fn line_runs_only_coord(line: &str) -> bool {
    let mut line = line.trim();
    // `cd DIR && coord ...`: one plain folder, then coord.
    if let Some(rest) = line.strip_prefix("cd ") {
        let Some((dir, tail)) = rest.split_once("&&") else {
            return false;
        };
        let dir = dir.trim();
        if dir.is_empty() || dir.contains(char::is_whitespace) || dir.contains(SHELL_OPERATORS) {
            return false;
        }
        line = tail.trim();
    }
    if line.contains(SHELL_OPERATORS) {
        return false;
    }
    let words: Vec<String> = line.split_whitespace().map(unquote).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    argv_is_coord(&words)
}

/// A word without the plain quotes around it (`'coord'`, `"inbox"`).
fn unquote(word: &str) -> String {
    word.chars().filter(|c| *c != '\'' && *c != '"').collect()
}

/// `coord [global options] SUBCOMMAND ...` with the program being coord
/// itself (by name on the PATH, or a path to this very binary).
fn argv_is_coord(argv: &[&str]) -> bool {
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let is_coord = *program == "coord"
        || (program.contains('/')
            && std::env::current_exe()
                .ok()
                .and_then(|me| std::fs::canonicalize(me).ok())
                .is_some_and(|me| std::fs::canonicalize(program).is_ok_and(|p| p == me)));
    if !is_coord {
        return false;
    }
    let mut rest = args.iter();
    while let Some(word) = rest.next() {
        match *word {
            "--hub" | "-s" | "--session" => {
                rest.next();
            }
            w if w.starts_with('-') => {}
            w => return EMERGENCY_ALLOWED.contains(&w),
        }
    }
    false
}

/// Whether the acting session may make this call: never while an emergency
/// addressed to it is open (except coord's own commands), never a write
/// into another session's live file claim.
/// `paths` are the files it writes in this hub's work tree.
pub fn pre_tool_use(ctx: &Ctx, coord_only: bool, paths: &[String]) -> Result<Decision> {
    // This runs on every tool call: the digest (the acting session, the
    // open escalations, the held file claims and their holders) decides
    // when it matches the registry; else the registry, read once for both
    // checks.
    let now = ctx.now();
    let quick = ctx.hub.quick_read(now, |q| {
        let Some((me, _, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        // Only the claims that could cover a file written matter (their
        // literal prefixes first, then the globs), and only their holders
        // are looked up.
        let folded: Vec<String> = paths
            .iter()
            .filter_map(|p| crate::core::rules::glob::normalize(p).ok())
            .map(|p| crate::core::rules::claims::fold(&p))
            .collect();
        let Some(mut files) = q.files_for(&folded) else {
            return Ok(None);
        };
        files.retain(|_, c| {
            let name = crate::core::rules::claims::fold(&c.name);
            folded.iter().any(|p| crate::core::rules::glob::overlap(&name, p))
        });
        let mut reg = Registry {
            escalations: q.digest.head.escalations.clone(),
            ..Registry::default()
        };
        for holder in files.values().filter_map(|c| c.holder.as_deref()) {
            if let Some(d) = q.session(holder) {
                reg.sessions.insert(holder.to_string(), d.session);
            }
        }
        // The conflict radar: the sessions that may have edited a written
        // file lately (a substring search; only their lines are parsed).
        for path in paths {
            for id in q.editor_ids(path) {
                if id != me && !reg.sessions.contains_key(&id) {
                    if let Some(d) = q.session(&id) {
                        reg.sessions.insert(id, d.session);
                    }
                }
            }
        }
        reg.sessions.insert(me, line.session);
        reg.claims = files;
        decide(ctx, &reg, coord_only, paths).map(Some)
    })?;
    match quick {
        Some(d) => Ok(d),
        None => ctx.hub.read(|reg| decide(ctx, reg, coord_only, paths)),
    }
}

/// The decision on one reading of the state.
fn decide(ctx: &Ctx, reg: &Registry, coord_only: bool, paths: &[String]) -> Result<Decision> {
    {
        let report = guard_in(ctx, reg, paths)?;
        // Resolving the session gathered its open emergencies.
        if let Some(e) = ctx.open_emergencies().first() {
            if !coord_only {
                return Ok(Decision::Deny {
                    reason: format!("{}. Every tool but coord is blocked until then.", e.describe()),
                });
            }
        }
        let Some(first) = report.blocked.first() else {
            return Ok(match unclaimed(ctx, reg, report.me.as_deref(), paths) {
                Decision::Pass => radar_note(ctx, reg, report.me.as_deref(), paths),
                deny => deny,
            });
        };
        let c = &first.claims[0];
        let holder = c.holder.clone().unwrap_or_default();
        // Without a deadline, whether the holder is still there is the news.
        let when = match (c.expires, reg.sessions.get(&holder)) {
            (None, Some(s)) => format!(
                "{} last seen {}",
                sanitize(&holder, false),
                crate::core::clock::ago(s.last_seen, ctx.now())
            ),
            _ => c.left(),
        };
        Ok(Decision::Deny {
            reason: format!(
                "{} is claimed by {} ({}, {}). Ask them with `{}`, or work on something else (`coord claims` lists what is taken).",
                sanitize(&first.path, false),
                sanitize(&holder, false),
                sanitize(&c.key, false),
                when,
                command_line(&["send", &holder, &format!("may I edit {}?", first.path)])
            ),
        })
    }
}

/// The conflict radar before an allowed edit: who else edited these files
/// lately, with nobody holding them (the edit goes ahead; the agent is told).
fn radar_note(ctx: &Ctx, reg: &Registry, me: Option<&str>, paths: &[String]) -> Decision {
    let Some(me) = me else {
        return Decision::Pass;
    };
    let now = ctx.now();
    let notes: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let others = crate::core::rules::radar::others_on(reg, me, p, now, &ctx.hub.config);
            (!others.is_empty()).then(|| sanitize(&crate::core::rules::radar::tell(p, &others, now), false))
        })
        .collect();
    if notes.is_empty() {
        Decision::Pass
    } else {
        Decision::Note {
            context: format!("coord: {}.", notes.join("; ")),
        }
    }
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

    fn paths(call: &ToolCall, top: &Path) -> Vec<String> {
        call.files.iter().filter_map(|f| relative(f, top)).collect()
    }

    #[test]
    fn file_tools_and_patches_name_their_files() {
        let tmp = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(tmp.path()).unwrap();
        let cwd = top.join("src");
        std::fs::create_dir_all(&cwd).unwrap();
        let call = tool_call(
            "Write",
            &json!({"file_path": cwd.join("a.rs"), "content": "x"}),
            &cwd,
        );
        assert_eq!(paths(&call, &top), vec!["src/a.rs"]);
        let call = tool_call("NotebookEdit", &json!({"notebook_path": "nb.ipynb"}), &cwd);
        assert_eq!(paths(&call, &top), vec!["src/nb.ipynb"]);
        let patch = "*** Begin Patch\n*** Update File: b.rs\n@@\n-x\n+y\n*** Add File: ../docs/c.md\n+hi\n*** End Patch\n";
        let call = tool_call("apply_patch", &json!({"command": ["apply_patch", patch]}), &cwd);
        assert_eq!(paths(&call, &top), vec!["src/b.rs", "docs/c.md"]);
        // The same patch through the shell.
        let line = format!("apply_patch <<'EOF'\n{patch}EOF");
        let call = tool_call("Bash", &json!({ "command": line }), &cwd);
        assert_eq!(paths(&call, &top), vec!["src/b.rs", "docs/c.md"]);
        let call = tool_call("Write", &json!({"file_path": "/etc/passwd"}), &cwd);
        assert!(paths(&call, &top).is_empty(), "outside the work tree");
        let call = tool_call("Read", &json!({"file_path": top.join("a")}), &cwd);
        assert!(call.files.is_empty(), "reads write nothing");
        // A tool is read by its own fields: a Write's `command` is nothing.
        let call = tool_call(
            "Write",
            &json!({"file_path": "x", "command": "coord inbox"}),
            &cwd,
        );
        assert!(!call.coord_only);
    }

    #[test]
    fn links_are_resolved_to_what_they_name() {
        let tmp = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(top.join("src")).unwrap();
        std::fs::write(top.join("src/a.rs"), "x").unwrap();
        std::os::unix::fs::symlink(top.join("src/a.rs"), top.join("link.rs")).unwrap();
        std::os::unix::fs::symlink(top.join("src"), top.join("dir")).unwrap();
        std::os::unix::fs::symlink(top.join("src/new.rs"), top.join("dangling")).unwrap();
        assert_eq!(resolve(&top.join("link.rs")), top.join("src/a.rs"));
        assert_eq!(resolve(&top.join("dir/a.rs")), top.join("src/a.rs"));
        assert_eq!(resolve(&top.join("dir/sub/new.rs")), top.join("src/sub/new.rs"));
        assert_eq!(resolve(&top.join("dangling")), top.join("src/new.rs"));
        assert_eq!(resolve(&top.join("dir/../src/x/../a.rs")), top.join("src/a.rs"));
        let proc_root = Path::new("/proc/self/root").join(top.strip_prefix("/").unwrap());
        assert_eq!(resolve(&proc_root.join("src/a.rs")), top.join("src/a.rs"));
    }

    #[test]
    fn only_coord_itself_with_an_allowed_subcommand_passes_an_emergency() {
        let only = |v: serde_json::Value| runs_only_coord(&v);
        assert!(only(json!("coord ack m-1")));
        assert!(only(json!("coord --json -s bob inbox")));
        assert!(only(json!("cd /repo && coord inbox")));
        assert!(only(json!(["coord", "inbox"])));
        assert!(only(json!(["bash", "-lc", "coord status"])));
        assert!(!only(json!("coord ack m-1; rm -rf .")));
        assert!(!only(json!("coord inbox | sh")));
        assert!(!only(json!("cd /repo && coord inbox && rm x")));
        assert!(!only(json!("cd $(evil) && coord inbox")));
        assert!(!only(json!("git commit")));
        assert!(!only(json!("./scripts/coord rm -rf /")));
        assert!(!only(json!("/tmp/coord inbox")));
        assert!(!only(json!("coord install git")));
        assert!(!only(json!("coord merge-driver a b c")));
        assert!(!only(json!("coord")));
        assert!(!only(json!(["bash", "-lc", "rm -rf /"])));
    }

    #[test]
    fn every_subcommand_is_judged_for_emergencies() {
        use clap::CommandFactory;
        const REFUSED: &[&str] = &[
            "init",
            "guard",
            "install",
            "hook",
            "mcp",
            "dashboard",
            "prune",
            "archive",
            "completions",
            "merge-driver",
            "man",
        ];
        for c in crate::cli::Cli::command().get_subcommands() {
            let name = c.get_name();
            assert!(
                EMERGENCY_ALLOWED.contains(&name) != REFUSED.contains(&name),
                "{name}: allowed through an emergency or not? list it in one of the two"
            );
        }
    }
}
