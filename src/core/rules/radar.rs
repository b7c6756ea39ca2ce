//! The conflict radar: two live sessions editing the same file, or files
//! under one claim, without either of them holding a claim on it, within
//! `hooks.overlap_window`. The edits are the ones the agent hooks observe
//! (post-tool-use records the file a session edited in its `edits`); a
//! claim on the file by one of the two ends it, as does the window passing.

use serde::Serialize;

use super::{glob, live_holder, state, Alert};
use crate::core::clock::{short_duration, stamp, Time};
use crate::core::config::Config;
use crate::core::model::{Registry, Session};

/// Edits older than this are dropped from a session's record whatever the
/// window (a session keeps at most `KEEP` files).
const FORGET_AFTER_HOURS: i64 = 24;
const KEEP: usize = 32;
/// A repeated edit of a file is recorded again only this much later: the
/// radar works in minutes, and each record is a write.
pub const RECORD_EVERY_SECONDS: i64 = 60;

/// When `s` last edited `path`, as recorded.
pub fn edited_at(s: &Session, path: &str) -> Option<Time> {
    s.edits.get(path).and_then(|t| stamp::parse(t))
}

/// Whether an edit of `path` at `now` is worth recording (new, or the
/// record is a minute old).
pub fn worth_recording(s: &Session, path: &str, now: Time) -> bool {
    edited_at(s, path).is_none_or(|t| now - t >= chrono::Duration::seconds(RECORD_EVERY_SECONDS))
}

/// Whether an edit of `path` at `now` starts an episode: the session had
/// not edited it within the window.
pub fn starts(s: &Session, path: &str, now: Time, cfg: &Config) -> bool {
    edited_at(s, path).is_none_or(|t| now - t >= cfg.overlap_window)
}

/// Record an edit of `path` at `now`, forgetting the oldest.
pub fn record(s: &mut Session, path: &str, now: Time) {
    record_all(s, [(path, now)]);
}

/// Record edits (a file, and when), each file at its newest time, then
/// forget the edits a day older than the newest of these and all but the
/// `KEEP` newest (of one time, the first in path order goes first).
/// Each recorded time is read once, however many edits are added.
pub fn record_all<'p>(s: &mut Session, edits: impl IntoIterator<Item = (&'p str, Time)>) {
    let mut all: std::collections::BTreeMap<&str, Time> = s
        .edits
        .iter()
        .filter_map(|(p, t)| Some((p.as_str(), stamp::parse(t)?)))
        .collect();
    let mut newest = None;
    for (path, at) in edits {
        let t = all.entry(path).or_insert(at);
        *t = (*t).max(at);
        newest = newest.max(Some(at));
    }
    let Some(newest) = newest else { return };
    let cutoff = newest - chrono::Duration::hours(FORGET_AFTER_HOURS);
    let mut kept: Vec<(Time, &str)> = all
        .into_iter()
        .filter(|(_, t)| *t > cutoff)
        .map(|(p, t)| (t, p))
        .collect();
    kept.sort_unstable_by(|a, b| b.cmp(a));
    kept.truncate(KEEP);
    s.edits = kept
        .into_iter()
        .map(|(t, p)| (p.to_string(), stamp::format(&t)))
        .collect();
}

/// Another session's edit that overlaps.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Editor {
    pub session: String,
    /// The file it edited (the same file, or one under the same claim).
    pub path: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub at: Time,
}

/// Whether a live file claim covering `path` is held by one of `who`.
fn claimed_by(reg: &Registry, path: &str, who: &[&str], now: Time, cfg: &Config) -> bool {
    let folded = super::claims::fold(path);
    reg.claims.iter().any(|(_, c)| {
        c.kind == "file"
            && live_holder(c, reg, now, cfg).is_some_and(|h| who.contains(&h))
            && glob::overlap(&super::claims::fold(&c.name), &folded)
    })
}

/// The live sessions other than `me` that edited `path` within the window,
/// when neither they nor `me` hold a claim on it: newest first.
pub fn others_on(reg: &Registry, me: &str, path: &str, now: Time, cfg: &Config) -> Vec<Editor> {
    let mut out: Vec<Editor> = reg
        .sessions
        .iter()
        .filter(|(id, s)| id.as_str() != me && state(s, now, cfg).is_live())
        .filter_map(|(id, s)| {
            let at = edited_at(s, path)?;
            (now - at < cfg.overlap_window).then(|| Editor {
                session: id.clone(),
                path: path.to_string(),
                at,
            })
        })
        .filter(|e| !claimed_by(reg, path, &[me, e.session.as_str()], now, cfg))
        .collect();
    out.sort_by(|a, b| b.at.cmp(&a.at).then(a.session.cmp(&b.session)));
    out
}

/// One overlap as status, the briefing and the dashboard show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Overlap {
    /// The file, or the claim's name (a glob) when they edited different
    /// files under one claim.
    pub path: String,
    /// The claim the files are under, when it is that kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    pub editors: Vec<Editor>,
}

/// Every overlap now: per file, then per claim that no editor holds.
pub fn overlaps(reg: &Registry, now: Time, cfg: &Config) -> Vec<Overlap> {
    let mut recent: Vec<Editor> = Vec::new();
    for (id, s) in &reg.sessions {
        if !state(s, now, cfg).is_live() {
            continue;
        }
        for (path, t) in &s.edits {
            if let Some(at) = stamp::parse(t).filter(|at| now - *at < cfg.overlap_window) {
                recent.push(Editor {
                    session: id.clone(),
                    path: path.clone(),
                    at,
                });
            }
        }
    }
    let mut out = Vec::new();
    let mut by_path: std::collections::BTreeMap<&str, Vec<&Editor>> = Default::default();
    for e in &recent {
        by_path.entry(e.path.as_str()).or_default().push(e);
    }
    for (path, editors) in by_path {
        let who: Vec<&str> = editors.iter().map(|e| e.session.as_str()).collect();
        if editors.len() >= 2 && !claimed_by(reg, path, &who, now, cfg) {
            out.push(Overlap {
                path: path.to_string(),
                claim: None,
                editors: editors.into_iter().cloned().collect(),
            });
        }
    }
    // Different files under one claim that no editor holds (a released
    // claim's record, or a holder that is gone). Each name is folded once:
    // folding is the costly part (Unicode normalisation).
    if recent.len() < 2 {
        return out;
    }
    let folded: Vec<String> = recent.iter().map(|e| super::claims::fold(&e.path)).collect();
    for (key, c) in reg.claims.iter().filter(|(_, c)| c.kind == "file") {
        // A live holder: its claim is the answer already (the other editor
        // is denied, or is the holder).
        if live_holder(c, reg, now, cfg).is_some() {
            continue;
        }
        let name = super::claims::fold(&c.name);
        let under: Vec<&Editor> = recent
            .iter()
            .zip(&folded)
            .filter(|(_, f)| glob::overlap(&name, f))
            .map(|(e, _)| e)
            .collect();
        let mut who: Vec<&str> = under.iter().map(|e| e.session.as_str()).collect();
        who.sort();
        who.dedup();
        let files: std::collections::BTreeSet<&str> = under.iter().map(|e| e.path.as_str()).collect();
        if who.len() >= 2 && files.len() >= 2 {
            out.push(Overlap {
                path: c.name.clone(),
                claim: Some(key.clone()),
                editors: under.into_iter().cloned().collect(),
            });
        }
    }
    out
}

/// The radar as alerts (kind `overlapping_edits`).
pub fn overlap_alerts(reg: &Registry, now: Time, cfg: &Config) -> Vec<Alert> {
    overlaps(reg, now, cfg)
        .into_iter()
        .map(|o| {
            let who: Vec<String> = o
                .editors
                .iter()
                .map(|e| {
                    let file = if o.claim.is_some() {
                        format!(" {}", e.path)
                    } else {
                        String::new()
                    };
                    format!("{}{file} {} ago", e.session, short_duration(now - e.at))
                })
                .collect();
            Alert {
                kind: "overlapping_edits",
                target: Some(o.path.clone()),
                text: format!(
                    "overlapping edits of {}: {}; nobody holds it (`coord claim file {}`)",
                    o.path,
                    who.join(", "),
                    o.path
                ),
            }
        })
        .collect()
}

/// What the second editor is told before its edit (allowed), and what
/// both are sent: who else edited the file and when, and the two lines
/// that settle it.
pub fn tell(path: &str, others: &[Editor], now: Time) -> String {
    let who: Vec<String> = others
        .iter()
        .map(|e| format!("{} ({} ago)", e.session, short_duration(now - e.at)))
        .collect();
    let first = &others[0].session;
    format!(
        "{} was also edited by {} and nobody holds a claim on it: claim it with `{}` or agree with them first (`{}`)",
        path,
        who.join(", "),
        crate::core::text::command_line(&["claim", "file", path]),
        crate::core::text::command_line(&["send", first, &format!("I am editing {path} too")]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rules::fixtures::{reg_with, t};

    fn edit(reg: &mut Registry, who: &str, path: &str, at: &str) {
        record(reg.sessions.get_mut(who).unwrap(), path, t(at));
    }

    #[test]
    fn a_session_keeps_its_newest_edits_of_the_day_whatever_the_order() {
        // 40 files, one a minute, and one from the day before: the 32
        // newest are kept, each at its newest time, whether recorded one
        // at a time (oldest first, as a fold does) or at once in any order.
        let mut edits: Vec<(String, Time)> = (0..40)
            .map(|i| (format!("f{i:02}"), t(&format!("10:{i:02}:00"))))
            .collect();
        edits.push(("f05".into(), t("11:00:00")));
        edits.push(("old".into(), t("10:00:00") - chrono::Duration::hours(25)));
        let mut one_by_one = Session::new(t("09:00:00"));
        let mut sorted = edits.clone();
        sorted.sort_by_key(|(_, at)| *at);
        for (p, at) in &sorted {
            record(&mut one_by_one, p, *at);
        }
        assert_eq!(one_by_one.edits.len(), KEEP);
        assert_eq!(edited_at(&one_by_one, "f05"), Some(t("11:00:00")));
        assert!(edited_at(&one_by_one, "f00").is_none() && edited_at(&one_by_one, "old").is_none());
        assert!(edited_at(&one_by_one, "f39").is_some() && edited_at(&one_by_one, "f09").is_some());
        for shift in [0, 7, 23] {
            let mut at_once = Session::new(t("09:00:00"));
            let mut order = edits.clone();
            order.rotate_left(shift);
            order.reverse();
            record_all(&mut at_once, order.iter().map(|(p, at)| (p.as_str(), *at)));
            assert_eq!(at_once.edits, one_by_one.edits);
        }
    }

    #[test]
    fn two_live_sessions_on_one_unclaimed_file_overlap_within_the_window() {
        let cfg = Config::default();
        let mut reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "10:00:00"), ("carol", "10:00:00")],
            &[],
        );
        edit(&mut reg, "alice", "src/a.rs", "10:00:00");
        edit(&mut reg, "bob", "src/a.rs", "10:10:00");
        edit(&mut reg, "carol", "src/c.rs", "10:10:00");
        for s in reg.sessions.values_mut() {
            s.last_seen = t("10:10:00");
        }
        let now = t("10:10:00");
        let others = others_on(&reg, "bob", "src/a.rs", now, &cfg);
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].session, "alice");
        let all = overlaps(&reg, now, &cfg);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].path, "src/a.rs");
        assert!(tell("src/a.rs", &others, now).contains("coord claim file src/a.rs"));
        // The window passes: 30 minutes after alice's edit, nothing.
        let later = t("10:30:00");
        for s in reg.sessions.values_mut() {
            s.last_seen = later;
        }
        assert!(others_on(&reg, "bob", "src/a.rs", later, &cfg).is_empty());
        // A session that ended, or is gone, is no longer an editor.
        reg.sessions.get_mut("alice").unwrap().ended = Some(now);
        assert!(others_on(&reg, "bob", "src/a.rs", now, &cfg).is_empty());
    }

    #[test]
    fn a_claim_by_either_editor_ends_it_and_files_under_a_free_claim_overlap() {
        let cfg = Config::default();
        let mut reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "10:00:00")],
            &[("file", "src/*.rs", "alice", "12:00:00")],
        );
        let mut claim = reg.claims.remove("file:src/*.rs").unwrap();
        edit(&mut reg, "alice", "src/a.rs", "10:00:00");
        edit(&mut reg, "bob", "src/a.rs", "10:05:00");
        let now = t("10:05:00");
        assert_eq!(overlaps(&reg, now, &cfg).len(), 1);
        reg.claims.insert("file:src/*.rs".into(), claim.clone());
        assert!(overlaps(&reg, now, &cfg).is_empty(), "alice's claim covers it");
        assert!(others_on(&reg, "bob", "src/a.rs", now, &cfg).is_empty());
        // Released: the claim's record stays; different files under it.
        claim.holder = None;
        reg.claims.insert("file:src/*.rs".into(), claim);
        reg.sessions.get_mut("bob").unwrap().edits.clear();
        edit(&mut reg, "bob", "src/b.rs", "10:05:00");
        let all = overlaps(&reg, now, &cfg);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].claim.as_deref(), Some("file:src/*.rs"));
        assert_eq!(all[0].editors.len(), 2);
    }

    #[test]
    fn records_are_bounded_and_repeats_wait_a_minute() {
        let mut reg = reg_with(&[("alice", "10:00:00")], &[]);
        let s = reg.sessions.get_mut("alice").unwrap();
        for i in 0..40 {
            record(
                s,
                &format!("f{i:02}"),
                t("10:00:00") + chrono::Duration::seconds(i),
            );
        }
        assert_eq!(s.edits.len(), KEEP);
        assert!(!s.edits.contains_key("f00"), "the oldest goes first");
        assert!(!worth_recording(s, "f39", t("10:00:59")));
        assert!(worth_recording(s, "f39", t("10:01:39")));
        assert!(worth_recording(s, "new", t("10:00:40")));
        let cfg = Config::default();
        assert!(!starts(s, "f39", t("10:20:00"), &cfg));
        assert!(starts(s, "f39", t("10:31:00"), &cfg));
    }
}
