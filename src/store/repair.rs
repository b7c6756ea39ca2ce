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
use crate::core::model::{sorted_json_pretty, Event, Message, Registry, SCHEMA};
use crate::core::rules::{glob, validate};

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

impl Hub {
    /// Check every hub file under the lock; with `fix`, repair what is safe
    /// (under the exclusive lock) and check again.
    pub fn doctor(&self, fix: bool, now: Time) -> Result<Repair> {
        let lock = self.lock(fix)?;
        // Doctor reads every line anyway; the log index is built again
        // from them, in case a log was edited in place.
        self.forget_logscan();
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
            self.journal_fixes(&fixed, now)?;
        }
        drop(lock);
        Ok(Repair {
            findings,
            fixed,
            backups,
        })
    }

    /// Repairs are changes too: the journal says what doctor did.
    fn journal_fixes(&self, fixed: &[Finding], now: Time) -> Result<()> {
        if fixed.is_empty() {
            return Ok(());
        }
        let what: Vec<String> = fixed
            .iter()
            .map(|f| format!("{}: {}", f.file, f.problem))
            .collect();
        let event = Event {
            by: None,
            clock: None,
            id: self.ids.mint('e', now, self.salt()),
            kind: "doctor.fixed".to_string(),
            session: None,
            target: None,
            text: crate::core::text::clip(&format!("coord doctor --fix repaired: {}", what.join("; ")), 1000),
            token: None,
            ts: now,
            extra: Default::default(),
        };
        self.append(EVENTS, &[crate::core::model::sorted_json(&event)])
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
    let skew = now + hub.config.max_skew;
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
                format!("{name} is {what}; coord never follows or writes through it: delete it, then run `coord doctor --fix` (it puts back the registry's last good copy and recreates the other files)"),
                false,
            ));
        }
    }
    for (name, _) in hub.missing_files() {
        out.push(finding(name, None, format!("{name} is missing"), true));
    }
    // The old in-tree hub still tracked on the code branch: the hub itself
    // (old layout), or a stale copy beside the live one in `.git/coord/`.
    let tracked_hub = match super::git::work_tree(&hub.dir) {
        Some(top) => hub
            .dir
            .strip_prefix(&top)
            .ok()
            .and_then(|p| p.to_str())
            .filter(|rel| !rel.is_empty())
            .map(|rel| (top.clone(), rel.to_string(), "the hub")),
        None => {
            super::live_top(&hub.dir).map(|top| (top, super::DIR_NAME.to_string(), "an old copy of the hub"))
        }
    };
    if let Some((top, rel, what)) = tracked_hub {
        if super::git::tracked(&top, &rel) {
            out.push(finding(
                &format!("{rel}/"),
                None,
                format!("{what} ({rel}/) is tracked on the code branch, so checkout, stash, reset and pull can roll it back or mistake it for the live hub; run `coord init` to move it into the git directory and untrack it"),
                false,
            ));
        }
    }
    if let Some(repo) = super::merge::repository_of(&hub.dir) {
        if !super::merge::driver_registered(&repo) {
            out.push(finding(
                ".git/config",
                None,
                "coord's merge driver is not registered in this clone, so git merges REGISTRY.json line by line (conflict markers)".into(),
                true,
            ));
        }
        let attributes = hub
            .read_bytes(".gitattributes")
            .ok()
            .flatten()
            .unwrap_or_default();
        if !String::from_utf8_lossy(&attributes)
            .lines()
            .any(|l| l.trim() == "REGISTRY.json merge=coord")
        {
            out.push(finding(
                ".gitattributes",
                None,
                "REGISTRY.json is not marked `merge=coord`, so git merges it line by line; add that line"
                    .into(),
                false,
            ));
        }
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
            check_contents(&reg, &text, &mut out);
            check_times(&reg, &text, skew, &mut out);
            check_plan(&reg, &text, now, &hub.config, &mut out);
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
            }
        }
    }
    for log in [MESSAGES, EVENTS] {
        check_log(hub, log, skew, &mut out);
        for path in hub.archive_files(log).unwrap_or_default() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                check_log(hub, &format!("{}/{name}", super::ARCHIVE_DIR), skew, &mut out);
            }
        }
    }
    offer_restore(hub, now, &mut out);
    out
}

/// What a registry says, checked beyond its syntax: the schema, keys that
/// appear twice in one object (a JSON parser keeps one silently), claim keys
/// that do not match their record, names and fields coord itself would have
/// refused, and tokens at the end of their range.
fn check_contents(reg: &Registry, text: &str, out: &mut Vec<Finding>) {
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    if reg.schema == 0 || reg.schema > SCHEMA {
        out.push(finding(
            REGISTRY,
            line("\"schema\""),
            format!("schema {} is not one this coord knows (1 to {SCHEMA}); restore the last good copy or upgrade coord", reg.schema),
            false,
        ));
    }
    for (path, key) in duplicate_keys(text) {
        let at = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(&format!("\"{key}\":")))
            .nth(1)
            .map(|(i, _)| i + 1);
        out.push(finding(
            REGISTRY,
            at,
            format!("the key {path} appears twice in one object; only the last counts (--fix rewrites the file without the other)"),
            true,
        ));
    }
    for (key, c) in &reg.claims {
        // Found only when needed: a search per record is quadratic.
        let at = || line(&format!("\"{key}\""));
        let expected = crate::core::model::Claim::key(&c.kind, &c.name);
        if *key != expected {
            out.push(finding(
                REGISTRY,
                at(),
                format!("claim key {key} does not match its record ({expected})"),
                false,
            ));
        }
        let name_ok = validate::claim_type(&c.kind).is_ok()
            && validate::text("claim name", &c.name, validate::MAX_TEXT).is_ok()
            && (c.kind != "file" || glob::normalize(&c.name).is_ok_and(|n| n == c.name));
        if !name_ok {
            out.push(finding(
                REGISTRY,
                at(),
                format!("claim {key} has a type or name coord would refuse (hidden characters, or a path outside the repository)"),
                false,
            ));
        }
        if c.token == u64::MAX {
            out.push(finding(
                REGISTRY,
                at(),
                format!("claim {key} has an exhausted fencing token ({})", c.token),
                false,
            ));
        }
        if c.token == 0 {
            out.push(finding(
                REGISTRY,
                at(),
                format!("claim {key} has fencing token 0, which coord never issues (tokens start at 1)"),
                false,
            ));
        }
        if let Some(h) = c.holder.as_deref().filter(|h| validate::session_id(h).is_err()) {
            out.push(finding(
                REGISTRY,
                at(),
                format!("claim {key} names a holder that is not a session id ({h:?})"),
                false,
            ));
        }
    }
    for (id, s) in &reg.sessions {
        let at = || line(&format!("\"{id}\": {{"));
        if validate::session_id(id).is_err() {
            out.push(finding(
                REGISTRY,
                at(),
                format!("session id {id:?} is not one coord would accept"),
                false,
            ));
        }
        if s.text_fields()
            .iter()
            .any(|f| f.as_deref().is_some_and(has_unsafe))
        {
            out.push(finding(
                REGISTRY,
                at(),
                format!("session {id} has fields with control or invisible characters (--fix removes them)"),
                true,
            ));
        }
        // The conflict radar's record: bounded, paths and stamps only.
        let bad_edit = s.edits.len() > 64
            || s.edits.iter().any(|(p, t)| {
                p.is_empty()
                    || p.len() > 4096
                    || has_unsafe(p)
                    || crate::core::clock::stamp::parse(t).is_none()
            });
        if bad_edit {
            out.push(finding(
                REGISTRY,
                at(),
                format!("session {id} has an edits record coord would not write (over 64 files, or a path or time that is not one)"),
                false,
            ));
        }
    }
    for (id, e) in &reg.escalations {
        if [id.as_str(), &e.from, &e.to, &e.subject]
            .into_iter()
            .any(has_unsafe)
        {
            out.push(finding(
                REGISTRY,
                line(&format!("\"{id}\"")),
                format!("escalation {id} has fields with control or invisible characters"),
                false,
            ));
        }
    }
}

/// Times further ahead than `skew` (a clock that is wrong, or a record made
/// to win every merge).
fn check_times(reg: &Registry, text: &str, skew: Time, out: &mut Vec<Finding>) {
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    for (key, c) in &reg.claims {
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

/// What makes a registry unfit to take from a peer or to push to one: it
/// is not UTF-8, does not parse, or says what doctor reports as broken
/// (schema, duplicate keys, claim keys, names coord would refuse, tokens out
/// of range, times beyond the skew limit). Empty when it is fit.
pub(super) fn registry_problems(bytes: &[u8], now: Time, max_skew: chrono::Duration) -> Vec<Finding> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return vec![finding(REGISTRY, Some(line), "is not valid UTF-8".into(), false)];
        }
    };
    let reg = match serde_json::from_str::<Registry>(text) {
        Ok(r) => r,
        Err(e) => {
            let why = e.to_string();
            let why = why.split(" at line").next().unwrap_or("invalid JSON");
            return vec![finding(
                REGISTRY,
                Some(e.line()),
                format!("does not parse ({why})"),
                false,
            )];
        }
    };
    let mut out = Vec::new();
    check_contents(&reg, text, &mut out);
    check_times(&reg, text, now + max_skew, &mut out);
    out
}

/// The plan's loose ends: dependencies on tasks or gates that do not
/// exist, cycles a merge made, tasks claimed by sessions that are gone, and
/// reservations of days gone by.
fn check_plan(reg: &Registry, text: &str, now: Time, cfg: &Config, out: &mut Vec<Finding>) {
    use crate::core::plan::TaskState;
    use crate::core::rules::plan as rules;
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    let plan = &reg.plan;
    for (id, t) in &plan.tasks {
        let at = || line(&format!("\"{id}\": {{"));
        for dep in &t.after {
            let missing = match rules::gate_of(dep) {
                Some(g) => !plan.gates.contains_key(g),
                None => !plan.tasks.contains_key(dep),
            };
            if missing {
                out.push(finding(
                    REGISTRY,
                    at(),
                    format!("task {id} waits on {dep}, which does not exist; add it, or change the task with `coord task edit {id} --after ...`"),
                    false,
                ));
            }
        }
        let deps: Vec<String> = t.after.clone();
        if let Some(path) = rules::cycle(plan, id, &deps) {
            out.push(finding(
                REGISTRY,
                at(),
                format!(
                    "tasks wait on each other in a cycle ({}); break it with `coord task edit`",
                    path.join(" -> ")
                ),
                false,
            ));
        }
        if t.state == TaskState::Open {
            if let Some(h) = reg
                .claims
                .get(&format!("task:{id}"))
                .and_then(|c| c.holder.as_deref())
            {
                let gone = reg
                    .sessions
                    .get(h)
                    .is_none_or(|s| !crate::core::rules::state(s, now, cfg).is_live());
                if gone {
                    out.push(finding(
                        REGISTRY,
                        at(),
                        format!("task {id} is claimed by {h}, which is gone; the claim lapses at the next change, or take it with `coord claim task {id} --force`"),
                        false,
                    ));
                }
            }
        }
    }
    // Overlapping reservations of one resource (a merge keeps one; a hand
    // edit or an older coord may leave two).
    let all: Vec<(&String, &crate::core::plan::Reservation)> = plan.reservations.iter().collect();
    for (i, (id, r)) in all.iter().enumerate() {
        for (other, o) in &all[i + 1..] {
            if r.resource == o.resource && rules::overlap(r, o) {
                out.push(finding(
                    REGISTRY,
                    line(&format!("\"{other}\": {{")),
                    format!(
                        "reservations {id} ({}) and {other} ({}) of {} overlap; remove one with `coord unreserve ID`",
                        r.holder, o.holder, r.resource
                    ),
                    false,
                ));
            }
        }
    }
    let today = rules::today(now, cfg.zone).format("%Y-%m-%d").to_string();
    for (id, r) in &plan.reservations {
        if let Some(d) = r.date.as_deref().filter(|d| *d < today.as_str()) {
            out.push(finding(
                REGISTRY,
                line(&format!("\"{id}\": {{")),
                format!(
                    "reservation {id} ({} {d} {}-{}) is in the past; remove it with `coord unreserve {id}`",
                    r.resource, r.from, r.to
                ),
                false,
            ));
        }
    }
}

fn has_unsafe(text: &str) -> bool {
    text.chars().any(crate::core::text::is_unsafe_char)
}

/// Object keys that appear twice in one object, by path (`a.b.key`).
fn duplicate_keys(text: &str) -> Vec<(String, String)> {
    use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;

    struct Walk<'a> {
        path: String,
        found: &'a RefCell<Vec<(String, String)>>,
    }
    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = format!("{}{key}", self.path);
                if !seen.insert(key.clone()) {
                    self.found.borrow_mut().push((path.clone(), key));
                }
                map.next_value_seed(Walk {
                    path: format!("{path}."),
                    found: self.found,
                })?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
            while seq
                .next_element_seed(Walk {
                    path: self.path.clone(),
                    found: self.found,
                })?
                .is_some()
            {}
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> std::result::Result<(), E> {
            Ok(())
        }
    }
    let found = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Walk {
        path: String::new(),
        found: &found,
    }
    .deserialize(&mut de);
    found.into_inner()
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
    if log.contains("MESSAGES") {
        serde_json::from_str::<Message>(text).map(|m| (m.id, m.ts))
    } else {
        serde_json::from_str::<Event>(text).map(|e| (e.id, e.ts))
    }
    .map_err(|e| format!("the line is not a valid record ({e})"))
}

fn read_registry(hub: &Hub) -> Result<(Registry, String), (Option<usize>, String)> {
    let bytes = match hub.read_bytes(REGISTRY) {
        Ok(Some(b)) => b,
        Ok(None) => return Err((None, "is missing".into())),
        Err(e) => return Err((None, e.message)),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        (Some(line), "is not valid UTF-8".to_string())
    })?;
    let reg = serde_json::from_str::<Registry>(&text)
        .map_err(|e| (Some(e.line()), format!("does not parse ({e})")))?;
    Ok((reg, text))
}

/// The last good copy of the registry, and where it is from: the hub
/// branch's (the last `coord sync`), else the newest backup doctor made
/// that is fit. Read as a peer's would be: only the registry blob, checked.
fn last_good(hub: &Hub, now: Time) -> Option<(String, Vec<u8>)> {
    let fit = |bytes: &[u8]| {
        registry_problems(bytes, now, hub.config.max_skew)
            .iter()
            .all(|f| f.fixable)
    };
    let branch = &hub.config.sync_branch;
    let from_branch = super::git::require_repo(&hub.dir).ok().and_then(|repo| {
        let commit = super::sync::plumbing::rev(&repo, &format!("refs/heads/{branch}")).ok()??;
        let bytes = super::incoming::registry_at(&repo, &commit)
            .ok()?
            .filter(|b| fit(b))?;
        Some((
            format!("the {branch} branch at {}", &commit[..commit.len().min(12)]),
            bytes,
        ))
    });
    from_branch.or_else(|| {
        let mut backups: Vec<_> = std::fs::read_dir(&hub.dir)
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(&format!("{REGISTRY}.")) && n.ends_with(".bak"))
            .collect();
        backups.sort();
        backups.into_iter().rev().find_map(|name| {
            let bytes = hub.read_bytes(&name).ok()??;
            fit(&bytes).then(|| (format!("the backup {name}"), bytes))
        })
    })
}

/// Registry findings that only a restore can mend become fixable when a
/// good copy exists, and say where it is from; otherwise they say what a
/// human can do.
fn offer_restore(hub: &Hub, now: Time, out: &mut [Finding]) {
    let broken = |f: &Finding| f.file == REGISTRY && !f.fixable;
    if !out.iter().any(broken) {
        return;
    }
    let good = last_good(hub, now);
    for f in out.iter_mut().filter(|f| broken(f)) {
        match &good {
            Some((from, _)) => {
                f.fixable = true;
                f.problem = format!(
                    "{}; --fix puts back the last good copy ({from}), keeping this one as a backup",
                    f.problem
                );
            }
            None => {
                f.problem = format!(
                    "{}; no good copy is kept here (no sync yet, no backup): fix it by hand, or move it aside and run `coord init` for an empty registry (the logs are kept)",
                    f.problem
                );
            }
        }
    }
}

/// Repair what is safe; return the backups made.
fn repair(hub: &Hub, now: Time) -> Result<Vec<String>> {
    let mut backups = Vec::new();
    let stamp = format_time(now).replace([':', '-'], "");
    let mut backup = |name: &str| -> Result<()> {
        backups.push(hub.backup(name, &stamp)?);
        Ok(())
    };
    let bytes = hub.read_bytes(REGISTRY).ok().flatten();
    let unfit = bytes.as_deref().is_none_or(|b| {
        registry_problems(b, now, hub.config.max_skew)
            .iter()
            .any(|f| !f.fixable)
    });
    if unfit {
        if let Some((_, good)) = last_good(hub, now) {
            if bytes.is_some() {
                backup(REGISTRY)?;
            }
            hub.write_atomic(REGISTRY, &good)?;
        }
    }
    for (name, text) in hub.missing_files() {
        hub.write_atomic(name, text.as_bytes())?;
    }
    if let Some(repo) = super::merge::repository_of(&hub.dir) {
        if !super::merge::driver_registered(&repo) {
            super::merge::register_driver(&repo)?;
        }
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
            for f in s.text_fields_mut() {
                if let Some(v) = f.as_mut() {
                    v.retain(|c| !crate::core::text::is_unsafe_char(c));
                }
            }
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
