//! `coord doctor`: check every hub file and say what is wrong, one line per
//! finding with its file and line. `--fix` repairs what is safe to repair
//! (torn or invalid log lines, duplicate ids, claims held by unknown
//! sessions, timestamps from a skewed clock, missing files), keeping a
//! backup of every file it changes. It never rewrites a REGISTRY.json or
//! coord.toml that does not parse: that needs a human (or git).

use std::collections::HashSet;

use serde::Serialize;

use crate::clock::{format_time, Time};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error;
use crate::model::{sorted_json_pretty, Event, Message, Registry};
use crate::render::{print_json, write_stdout};
use crate::store::{Hub, EVENTS, MESSAGES, REGISTRY};

/// Check the hub's files; --fix repairs what is safe (with backups)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Repair what can be repaired safely; every changed file is backed up first
    #[arg(long)]
    pub fix: bool,
}

#[derive(Serialize, Clone)]
pub struct Finding {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub problem: String,
    /// `--fix` can repair it.
    pub fixable: bool,
}

#[derive(Serialize)]
struct Report {
    healthy: bool,
    findings: Vec<Finding>,
    fixed: Vec<Finding>,
    backups: Vec<String>,
}

/// How far ahead of `now` a timestamp may be before it counts as skewed.
const SKEW_SECS: i64 = 300;

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let hub = ctx.hub();
    let lock = hub.lock(args.fix)?;
    let mut findings = check(hub, ctx.now);
    let mut fixed = Vec::new();
    let mut backups = Vec::new();
    if args.fix && findings.iter().any(|f| f.fixable) {
        backups = repair(hub, ctx.now)?;
        let after = check(hub, ctx.now);
        let remaining: HashSet<String> = after.iter().map(|f| f.problem.clone()).collect();
        fixed = findings
            .iter()
            .filter(|f| !remaining.contains(&f.problem))
            .cloned()
            .collect();
        findings = after;
    }
    drop(lock);
    let healthy = findings.is_empty();
    if ctx.out.json {
        print_json(&Report {
            healthy,
            findings: findings.clone(),
            fixed: fixed.clone(),
            backups,
        })?;
    } else {
        let mut text = String::new();
        for f in &fixed {
            text.push_str(&format!("fixed: {}\n", line_of(f)));
        }
        for f in &findings {
            let tail = if f.fixable && !args.fix {
                " (coord doctor --fix repairs this)"
            } else {
                ""
            };
            text.push_str(&format!("{}{tail}\n", line_of(f)));
        }
        write_stdout(&text)?;
        for b in &backups {
            ctx.out.status(&format!("backup kept at {b}"));
        }
        if healthy {
            ctx.out.status("hub is healthy");
        }
    }
    if healthy {
        Ok(())
    } else {
        Err(error::hub(format!(
            "the hub has {} problem{}",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        ))
        .hint(if findings.iter().any(|f| f.fixable) && !args.fix {
            "run `coord doctor --fix` to repair what is safe to repair"
        } else {
            "fix the files named above by hand or restore them from git"
        })
        .into())
    }
}

fn line_of(f: &Finding) -> String {
    match f.line {
        Some(l) => format!("{}:{l}: {}", f.file, f.problem),
        None => format!("{}: {}", f.file, f.problem),
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
pub fn check(hub: &Hub, now: Time) -> Vec<Finding> {
    let mut out = Vec::new();
    let skew = now + chrono::Duration::seconds(SKEW_SECS);
    for (name, _) in hub.missing_files() {
        out.push(finding(name, None, format!("{name} is missing"), true));
    }
    if let Ok(Some(bytes)) = hub.read_bytes(crate::config::FILE) {
        let parsed = String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string());
        if let Err(e) = parsed.and_then(|t| Config::parse(&t).map(|_| ())) {
            out.push(finding(crate::config::FILE, None, e, false));
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
        Err(e) => return Err((None, format!("{e:#}"))),
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
fn repair(hub: &Hub, now: Time) -> anyhow::Result<Vec<String>> {
    let mut backups = Vec::new();
    let stamp = format_time(now).replace([':', '-'], "");
    let mut backup = |name: &str| -> anyhow::Result<()> {
        backups.push(hub.backup(name, &stamp)?.display().to_string());
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
