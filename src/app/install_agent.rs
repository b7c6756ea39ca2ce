//! `coord install claude|codex|cursor`: coord's hooks in an agent tool's
//! hook configuration, merged with what is there. Other settings and other
//! hooks are kept as they are (keys in their order); coord's own entries are
//! the command hooks whose command is `coord hook ...`, so installing twice
//! changes nothing and `--uninstall` removes exactly those.

use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::install::{refuse_link, replace, InstallReport};
use crate::core::error::{hub, CoordError, Result};
use crate::core::rules::validate;
use crate::core::text::{shell_line, shell_quote};
use crate::store::git;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Claude,
    Codex,
    Cursor,
}

impl Tool {
    /// The name `coord hook --agent` takes.
    pub fn flag(self) -> &'static str {
        match self {
            Tool::Claude => "claude",
            Tool::Codex => "codex",
            Tool::Cursor => "cursor",
        }
    }

    /// The configuration file, relative to the top of the work tree.
    fn file(self, local: bool) -> &'static str {
        match (self, local) {
            (Tool::Claude, false) => ".claude/settings.json",
            (Tool::Claude, true) => ".claude/settings.local.json",
            (Tool::Codex, _) => ".codex/hooks.json",
            (Tool::Cursor, _) => ".cursor/hooks.json",
        }
    }

    /// The tool's event names, each with the `coord hook` event answering it.
    /// Every tool call is seen (no matcher): the emergency stop covers them all.
    fn events(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Tool::Claude => &[
                ("SessionStart", "session-start"),
                ("UserPromptSubmit", "user-prompt-submit"),
                ("PreToolUse", "pre-tool-use"),
                ("PostToolUse", "post-tool-use"),
                ("Stop", "stop"),
                ("SessionEnd", "session-end"),
            ],
            Tool::Codex => &[
                ("SessionStart", "session-start"),
                ("UserPromptSubmit", "user-prompt-submit"),
                ("PreToolUse", "pre-tool-use"),
                ("PostToolUse", "post-tool-use"),
                ("Stop", "stop"),
                ("SessionEnd", "session-end"),
            ],
            Tool::Cursor => &[
                ("sessionStart", "session-start"),
                ("beforeSubmitPrompt", "user-prompt-submit"),
                ("preToolUse", "pre-tool-use"),
                ("postToolUse", "post-tool-use"),
                ("stop", "stop"),
                ("sessionEnd", "session-end"),
            ],
        }
    }

    /// Claude Code and Codex group handlers under matchers; Cursor lists
    /// them flat.
    fn grouped(self) -> bool {
        self != Tool::Cursor
    }
}

/// A warning when a login shell does not find `coord` (`bash -lc 'command
/// -v coord'`): Codex runs the model's shell commands that way, so its own
/// `coord ...` lines would fail with "command not found". The installed
/// hooks run with the agent's inherited PATH and are not affected. `None`
/// when it is found, or when there is no bash to ask.
pub fn login_path_warning(exe: &Path) -> Option<String> {
    let out = std::process::Command::new("bash")
        .args(["-lc", "command -v coord"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if out.status.success() && !out.stdout.trim_ascii().is_empty() {
        return None;
    }
    let dir = exe
        .parent()
        .map(|d| d.to_string_lossy().to_string())
        .unwrap_or_default();
    Some(format!(
        "a login shell does not find coord (`bash -lc 'command -v coord'` finds nothing), so an agent's own `coord` commands will fail with \"command not found\" (Codex runs commands that way; the hooks are not affected): link it into a folder on the login PATH, e.g. `{}`, or add `{}` to PATH in ~/.profile",
        shell_line(&["ln", "-s", &exe.to_string_lossy(), "/usr/local/bin/coord"]),
        crate::core::text::sanitize(&dir, false)
    ))
}

/// How many hooks coord installs for Codex.
pub fn codex_events() -> usize {
    Tool::Codex.events().len()
}

/// The tool's hook file for the work tree `dir` is in (its top, and the file).
pub fn hooks_file(dir: &Path, tool: Tool, local: bool) -> (PathBuf, PathBuf) {
    let top = git::work_tree(dir).unwrap_or_else(|| dir.to_path_buf());
    let path = top.join(tool.file(local));
    (top, path)
}

/// Whether a hook command is one coord wrote: `coord hook ...`, coord named
/// by any path.
pub fn is_ours(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or("").trim_matches(['\'', '"']);
    let program = program.rsplit('/').next().unwrap_or("");
    program == "coord" && words.next() == Some("hook")
}

/// The command coord writes for one event.
fn command(tool: Tool, event: &str, role: Option<&str>) -> String {
    let mut c = format!("coord hook {event} --agent {}", tool.flag());
    if let (Some(role), "session-start") = (role, event) {
        c.push_str(&format!(" --role {}", shell_quote(role)));
    }
    c
}

/// Add, refresh or (`uninstall`) remove coord's hooks in the tool's
/// configuration at the top of the work tree `dir` is in.
pub fn install_agent(
    dir: &Path,
    tool: Tool,
    local: bool,
    role: Option<&str>,
    uninstall: bool,
) -> Result<InstallReport> {
    if let Some(role) = role {
        validate::text("role", role, validate::MAX_TEXT)?;
    }
    let (top, path) = hooks_file(dir, tool, local);
    refuse_link(
        &path,
        "add coord's hooks by hand (see docs/commands.md, `coord install`)",
    )?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(CoordError::io("read", &path, e)),
    };
    let mut root = match text.as_deref() {
        None => Vec::new(),
        Some(t) if t.trim().is_empty() => Vec::new(),
        Some(t) => match serde_json::from_str::<Json>(t) {
            Ok(Json::Obj(m)) => m,
            _ => {
                return Err(hub(format!(
                    "{} is not a JSON object; coord will not rewrite it: fix it by hand and run `coord install {}` again",
                    path.display(),
                    tool.flag()
                )))
            }
        },
    };
    let had = remove_ours(&mut root, tool, &path)?;
    if uninstall {
        if !had {
            return Ok(report(path, "absent"));
        }
        let only_version = root.iter().all(|(k, _)| tool == Tool::Cursor && k == "version");
        if root.is_empty() || only_version {
            std::fs::remove_file(&path).map_err(|e| CoordError::io("remove", &path, e))?;
        } else {
            replace(&top, &path, &render(root, text.as_deref()), 0o644)?;
        }
        return Ok(report(path, "uninstalled"));
    }
    add_ours(&mut root, tool, role, &path)?;
    let new = render(root, text.as_deref());
    if text.as_deref() != Some(new.as_str()) {
        replace(&top, &path, &new, 0o644)?;
    }
    Ok(report(path, if had { "updated" } else { "installed" }))
}

fn report(path: PathBuf, action: &'static str) -> InstallReport {
    InstallReport {
        path,
        action,
        chained: None,
    }
}

/// Two-space JSON, ending as the file did (with a newline when new).
fn render(root: Vec<(String, Json)>, old: Option<&str>) -> String {
    let mut t = serde_json::to_string_pretty(&Json::Obj(root)).unwrap_or_default();
    if old.is_none_or(|o| o.ends_with('\n')) {
        t.push('\n');
    }
    t
}

fn shape_error(path: &Path, what: &str) -> CoordError {
    hub(format!(
        "{}: {what}; coord will not rewrite a file it does not understand: fix it by hand and run the install again",
        path.display()
    ))
}

/// Take coord's handlers out, dropping the groups, event lists and `hooks`
/// object that only they filled. Whether there were any.
fn remove_ours(root: &mut Vec<(String, Json)>, tool: Tool, path: &Path) -> Result<bool> {
    let Some(hooks) = field_mut(root, "hooks") else {
        return Ok(false);
    };
    let Json::Obj(events) = hooks else {
        return Err(shape_error(path, "\"hooks\" is not an object"));
    };
    let mut found = false;
    let mut emptied = Vec::new();
    for (name, list) in events.iter_mut() {
        let Json::Arr(list) = list else { continue };
        let before = list.len();
        if tool.grouped() {
            // A group's handlers: drop coord's; a group coord emptied goes.
            list.retain_mut(|group| {
                let Some(Json::Arr(handlers)) = group.get_mut("hooks") else {
                    return true;
                };
                let n = handlers.len();
                handlers.retain(|h| !h.is_ours());
                found |= handlers.len() < n;
                !(handlers.is_empty() && n > 0)
            });
        } else {
            list.retain(|h| !h.is_ours());
        }
        if list.len() < before {
            found = true;
            if list.is_empty() {
                emptied.push(name.clone());
            }
        }
    }
    if found {
        events.retain(|(name, _)| !emptied.contains(name));
        if events.is_empty() {
            root.retain(|(k, _)| k != "hooks");
        }
    }
    Ok(found)
}

fn add_ours(root: &mut Vec<(String, Json)>, tool: Tool, role: Option<&str>, path: &Path) -> Result<()> {
    if tool == Tool::Cursor && field_mut(root, "version").is_none() {
        root.insert(0, ("version".to_string(), Json::Num(1.into())));
    }
    if field_mut(root, "hooks").is_none() {
        root.push(("hooks".to_string(), Json::Obj(Vec::new())));
    }
    let Some(Json::Obj(events)) = field_mut(root, "hooks") else {
        return Err(shape_error(path, "\"hooks\" is not an object"));
    };
    for (name, event) in tool.events() {
        let handler = Json::Obj(if tool.grouped() {
            vec![
                ("type".to_string(), Json::Str("command".to_string())),
                ("command".to_string(), Json::Str(command(tool, event, role))),
            ]
        } else {
            vec![("command".to_string(), Json::Str(command(tool, event, role)))]
        });
        let entry = if tool.grouped() {
            Json::Obj(vec![("hooks".to_string(), Json::Arr(vec![handler]))])
        } else {
            handler
        };
        if field_mut(events, name).is_none() {
            events.push((name.to_string(), Json::Arr(Vec::new())));
        }
        match field_mut(events, name) {
            Some(Json::Arr(list)) => list.push(entry),
            _ => return Err(shape_error(path, &format!("hooks.{name} is not a list"))),
        }
    }
    Ok(())
}

fn field_mut<'a>(obj: &'a mut [(String, Json)], key: &str) -> Option<&'a mut Json> {
    obj.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// JSON that keeps an object's keys in the order the file has them, so that
/// rewriting a user's settings leaves everything but coord's part as it was
/// (`serde_json::Value` sorts keys, and the hub's files rely on that).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Obj(o) => field_mut(o, key),
            _ => None,
        }
    }

    /// A handler coord wrote: its command is `coord hook ...`.
    fn is_ours(&self) -> bool {
        match self {
            Json::Obj(o) => o
                .iter()
                .any(|(k, v)| k == "command" && matches!(v, Json::Str(c) if is_ours(c))),
            _ => false,
        }
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Num(n) => n.serialize(s),
            Json::Str(t) => s.serialize_str(t),
            Json::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Json::Obj(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> std::result::Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> std::result::Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> std::result::Result<Json, E> {
        Ok(Json::Num(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> std::result::Result<Json, E> {
        Ok(Json::Num(n.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> std::result::Result<Json, E> {
        serde_json::Number::from_f64(n)
            .map(Json::Num)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }
    fn visit_str<E>(self, t: &str) -> std::result::Result<Json, E> {
        Ok(Json::Str(t.to_string()))
    }
    fn visit_string<E>(self, t: String) -> std::result::Result<Json, E> {
        Ok(Json::Str(t))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Json, A::Error> {
        let mut a = Vec::new();
        while let Some(v) = seq.next_element()? {
            a.push(v);
        }
        Ok(Json::Arr(a))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Json, A::Error> {
        let mut o: Vec<(String, Json)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            // A repeated key: the last one counts, as in serde_json.
            o.retain(|(old, _)| *old != k);
            o.push((k, v));
        }
        Ok(Json::Obj(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_coord_hook_by_any_path() {
        assert!(is_ours("coord hook pre-tool-use --agent claude"));
        assert!(is_ours("/usr/local/bin/coord hook stop"));
        assert!(!is_ours("coord status"));
        assert!(!is_ours("python3 hooks/coord.py hook"));
        assert!(!is_ours("echo coord hook"));
    }

    #[test]
    fn json_keeps_key_order_and_values_through_a_round_trip() {
        let text = "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    null,\n    -2.5,\n    \"s\\u00e9\"\n  ],\n  \"m\": {}\n}";
        let v: Json = serde_json::from_str(text).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&v).unwrap(),
            text.replace("\\u00e9", "\u{e9}")
        );
    }
}
