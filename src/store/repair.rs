//! Checking and repairing hub files, for `coord doctor`: one finding per
//! problem with its file and line; repairs of what is safe to repair (torn
//! or invalid log lines, duplicate ids, claims held by unknown sessions,
//! timestamps from a skewed clock, missing files), each changed file backed
//! up first. A REGISTRY.json or coord.toml that does not parse is never
//! rewritten: that needs a human (or git).

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use serde::Serialize;

use super::{fsio, initial_files, Hub, BINDINGS, EVENTS, LOCK, MESSAGES, REGISTRY, STATE};
use crate::core::clock::{format_time, Time};
use crate::core::config::Config;
use crate::core::error::{CoordError, Result};
use crate::core::model::{sorted_json_pretty, Event, Message, Registry};

#[derive(Debug, Serialize, Clone, PartialEq)]
pub struct Finding {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub problem: String,
    /// `--fix` can repair it.
    pub fixable: bool,
}

/// What a check (and, with `fix`, a repair) found and did.
#[derive(Debug, Clone)]
pub struct Repair {
    /// What is wrong now (after the repair, when one ran).
    pub findings: Vec<Finding>,
    pub fixed: Vec<Finding>,
    pub backups: Vec<String>,
}

/// How far ahead of `now` a timestamp may be before it counts as skewed.
const SKEW_SECS: i64 = 300;

impl Hub {
    /// Check every hub file under the lock; with `fix`, repair what is safe
    /// (under the exclusive lock) and check again.
    pub fn doctor(&self, fix: bool, now: Time) -> Result<Repair> {
        let lock = self.lock(fix)?;
        let mut findings = check(self, now);
        let mut fixed = Vec::new();
        let mut backups = Vec::new();
        if fix && findings.iter().any(|f| f.fixable) {
            backups = repair(self, now)?;
            let after = check(self, now);
            let remaining: HashSet<String> = after.iter().map(|f| f.problem.clone()).collect();
            fixed = findings
                .iter()
                .filter(|f| !remaining.contains(&f.problem))
                .cloned()
                .collect();
            findings = after;
        }
        drop(lock);
        Ok(Repair {
            findings,
            fixed,
            backups,
        })
    }

    fn missing_files(&self) -> Vec<(&'static str, String)> {
        initial_files()
            .into_iter()
            .filter(|(n, _)| std::fs::symlink_metadata(self.path(n)).is_err())
            .collect()
    }

    fn read_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        fsio::read_optional(&self.path(name))
    }

    /// Copy `name` to `name.TAG.bak` (ignored by git), never through a
    /// link; returns the copy's path.
    fn backup(&self, name: &str, tag: &str) -> Result<String> {
        let bytes = self.read_bytes(name)?.unwrap_or_default();
        let to = self.path(&format!("{name}.{tag}.bak"));
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(fsio::SHARED)
            .open(&to);
        let mut file = opened.map_err(|e| CoordError::io("back up to", &to, e))?;
        file.write_all(&bytes)
            .map_err(|e| CoordError::io("back up to", &to, e))?;
        Ok(to.display().to_string())
    }
}

fn finding(file: &str, line: Option<usize>, problem: String, fixable: bool) -> Finding {
    Finding {
        file: file.to_string(),
        line,
        problem,
        fixable,
    }
}

/// Every finding, read-only.
fn check(hub: &Hub, now: Time) -> Vec<Finding> {
    let mut out = Vec::new();
    let skew = now + chrono::Duration::seconds(SKEW_SECS);
    for name in [
        REGISTRY,
        MESSAGES,
        EVENTS,
        STATE,
        LOCK,
        BINDINGS,
        crate::core::config::FILE,
        ".gitignore",
        ".gitattributes",
    ] {
        let Ok(meta) = std::fs::symlink_metadata(hub.path(name)) else {
            continue;
        };
        if !meta.file_type().is_file() {
            let what = if meta.file_type().is_symlink() {
                "a symbolic link"
            } else if meta.is_dir() {
                "a folder"
            } else {
                "not a regular file"
            };
            out.push(finding(
                name,
                None,
                format!("{name} is {what}; coord never follows or writes through it: delete it and restore the file (`git checkout -- {name}`)"),
                false,
            ));
        }
    }
    for (name, _) in hub.missing_files() {
        out.push(finding(name, None, format!("{name} is missing"), true));
    }
    if let Ok(Some(bytes)) = hub.read_bytes(crate::core::config::FILE) {
        let parsed = String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string());
        if let Err(e) = parsed.and_then(|t| Config::parse(&t).map(|_| ()).map_err(|e| e.message)) {
            out.push(finding(crate::core::config::FILE, None, e, false));
        }
    }
    match read_registry(hub) {
        Err(problem) => out.push(finding(REGISTRY, problem.0, problem.1, false)),
        Ok((reg, text)) => {
            let line = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
            for (key, c) in &reg.claims {
                if let Some(h) = &c.holder {
                    if !reg.sessions.contains_key(h) {
                        out.push(finding(
                            REGISTRY,
                            line(&format!("\"{key}\"")),
                            format!("claim {key} is held by unknown session {h}"),
                            true,
                        ));
                    }
                }
                // An expiry in the future is normal; a start in the future is a skewed clock.
                if let Some(since) = c.since.filter(|t| *t > skew) {
                    out.push(finding(
                        REGISTRY,
                        line(&format!("\"{key}\"")),
                        format!(
                            "claim {key} has since {} in the future (a skewed clock)",
                            format_time(since)
                        ),
                        true,
                    ));
                }
            }
            for (id, s) in &reg.sessions {
                for (what, t) in [("last_seen", s.last_seen), ("started", s.started)] {
                    if t > skew {
                        out.push(finding(
                            REGISTRY,
                            line(&format!("\"{id}\": {{")),
                            format!(
                                "session {id} has {what} {} in the future (a skewed clock)",
                                format_time(t)
                            ),
                            true,
                        ));
                    }
                }
            }
        }
    }
    for log in [MESSAGES, EVENTS] {
        check_log(hub, log, skew, &mut out);
    }
    out
}

fn check_log(hub: &Hub, log: &str, skew: Time, out: &mut Vec<Finding>) {
    let Ok(Some(bytes)) = hub.read_bytes(log) else {
        return;
    };
    let mut ids = HashSet::new();
    let mut lineno = 0;
    let complete = bytes.last().is_none_or(|b| *b == b'\n');
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let n = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        lineno += 1;
        if i == n - 1 {
            if !complete {
                out.push(finding(
                    log,
                    Some(lineno),
                    "the last line is torn (a writer was killed mid-write)".into(),
                    true,
                ));
            }
            break;
        }
        match parse_record(log, line) {
            Err(why) => out.push(finding(log, Some(lineno), why, true)),
            Ok((id, ts)) => {
                if !ids.insert(id.clone()) {
                    out.push(finding(log, Some(lineno), format!("duplicate id {id}"), true));
                }
                if ts > skew {
                    out.push(finding(
                        log,
                        Some(lineno),
                        format!("{id} is dated {} in the future (a skewed clock)", format_time(ts)),
                        false,
                    ));
                }
            }
        }
    }
}

/// The id and time of a valid log line, or what is wrong with it.
fn parse_record(log: &str, line: &[u8]) -> Result<(String, Time), String> {
    let text = std::str::from_utf8(line).map_err(|_| "the line is not valid UTF-8".to_string())?;
    if log == MESSAGES {
        serde_json::from_str::<Message>(text).map(|m| (m.id, m.ts))
    } else {
        serde_json::from_str::<Event>(text).map(|e| (e.id, e.ts))
    }
    .map_err(|e| format!("the line is not a valid record ({e})"))
}

fn read_registry(hub: &Hub) -> Result<(Registry, String), (Option<usize>, String)> {
    let bytes = match hub.read_bytes(REGISTRY) {
        Ok(Some(b)) => b,
        Ok(None) => return Err((None, "is missing; restore it from git or run `coord init`".into())),
        Err(e) => return Err((None, e.message)),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        (Some(line), "not valid UTF-8; restore it from git".to_string())
    })?;
    let reg = serde_json::from_str::<Registry>(&text).map_err(|e| {
        (
            Some(e.line()),
            format!("does not parse ({e}); restore it from git"),
        )
    })?;
    Ok((reg, text))
}

/// Repair what is safe; return the backups made.
fn repair(hub: &Hub, now: Time) -> Result<Vec<String>> {
    let mut backups = Vec::new();
    let stamp = format_time(now).replace([':', '-'], "");
    let mut backup = |name: &str| -> Result<()> {
        backups.push(hub.backup(name, &stamp)?);
        Ok(())
    };
    for (name, text) in hub.missing_files() {
        hub.write_atomic(name, text.as_bytes())?;
    }
    if let Ok((mut reg, text)) = read_registry(hub) {
        let known: HashSet<String> = reg.sessions.keys().cloned().collect();
        for c in reg.claims.values_mut() {
            if c.holder.as_ref().is_some_and(|h| !known.contains(h)) {
                c.holder = None;
                c.since = None;
                c.expires = None;
            }
            if c.since.is_some_and(|t| t > now) {
                c.since = Some(now);
            }
        }
        for s in reg.sessions.values_mut() {
            s.last_seen = s.last_seen.min(now);
            s.started = s.started.min(now);
        }
        let new = sorted_json_pretty(&reg) + "\n";
        if new != text {
            backup(REGISTRY)?;
            hub.write_atomic(REGISTRY, new.as_bytes())?;
        }
    }
    for log in [MESSAGES, EVENTS] {
        let Ok(Some(bytes)) = hub.read_bytes(log) else {
            continue;
        };
        let mut ids = HashSet::new();
        let mut keep = Vec::with_capacity(bytes.len());
        let complete_end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        for line in bytes[..complete_end].split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            if let Ok((id, _)) = parse_record(log, line) {
                if ids.insert(id) {
                    keep.extend_from_slice(line);
                    keep.push(b'\n');
                }
            }
        }
        if keep != bytes {
            backup(log)?;
            hub.write_atomic(log, &keep)?;
        }
    }
    Ok(backups)
}
