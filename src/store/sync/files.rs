//! The merge of two hub states as files: the registry through the record
//! merge, the logs through their union, the read state from both sides'
//! read sets, the losers of the merge told in the merged logs; and what
//! came in and went out, for the report.

use std::collections::BTreeSet;

use super::super::{EVENTS, MESSAGES, REGISTRY};
use super::Flow;
use crate::core::clock::Time;
use crate::core::error::{hub, Result};
use crate::core::model::{sorted_json, sorted_json_pretty, Registry};
use crate::core::rules::claims::losers_told;
use crate::core::rules::merge::{merge_log, merge_registry, other_losses};
use crate::core::rules::reads::{merge_reads, Line, Side};
use crate::store::incoming::Files;

fn text<'a>(files: &'a Files, name: &str) -> std::borrow::Cow<'a, str> {
    files
        .get(name)
        .map(|b| String::from_utf8_lossy(b))
        .unwrap_or_default()
}

pub(super) fn registry_of(files: &Files) -> Result<Option<Registry>> {
    files
        .get(REGISTRY)
        .map(|b| {
            serde_json::from_slice(b)
                .map_err(|e| hub(format!("a {REGISTRY} in the merge does not parse ({e})")))
        })
        .transpose()
}

/// Ids of the records of a log.
/// (A quick hasher: SipHash's resistance is not needed here, the sets live
/// for one sync and their keys are bounded ids.)
type IdSet<'a> = std::collections::HashSet<&'a str, crate::store::fsio::Quick>;

fn ids(log: &str) -> IdSet<'_> {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        id: &'a str,
    }
    log.lines()
        .filter_map(|l| fast_id(l).or_else(|| serde_json::from_str::<Id>(l).ok().map(|i| i.id)))
        .collect()
}

/// A line's id as coord writes it: the first `"id":"` (keys are sorted and
/// no key before `id` holds an object with one; a quote inside a string is
/// escaped, so the pattern cannot start inside a value). `None`: parse it.
fn fast_id(line: &str) -> Option<&str> {
    let start = line.find("\"id\":\"")? + 6;
    let len = line[start..].find('"')?;
    let id = &line[start..start + len];
    id.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        .then_some(id)
}

/// Merge two hubs' files; returns them and how many claims were arbitrated.
pub(super) fn merge_files(
    base: Option<&Files>,
    ours: &Files,
    theirs: &Files,
    now: Time,
) -> Result<(Files, usize)> {
    let mut out = Files::new();
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for name in names.into_iter().filter(|n| *n != REGISTRY) {
        out.insert(
            name.clone(),
            merge_log(&text(ours, name), &text(theirs, name)).into_bytes(),
        );
    }
    let base_reg = base.map(registry_of).transpose()?.flatten();
    let (a, b) = (
        registry_of(ours)?.unwrap_or_default(),
        registry_of(theirs)?.unwrap_or_default(),
    );
    let mut reg = merge_registry(base_reg.as_ref(), &a, &b);
    let losses = |r: &Registry| -> usize { r.claims.values().map(|c| c.lost_on_sync.len()).sum() };
    let arbitrated = losses(&reg).saturating_sub(losses(&a).max(losses(&b)));
    // The sync that gives a claim to one holder tells the others, in the
    // merged logs (the same lines whichever machine arbitrates).
    let (mut told, mut journal) = losers_told(&mut reg, now);
    let (more, more_journal) = other_losses(base_reg.as_ref(), &a, &b, &reg);
    told.extend(more);
    journal.extend(more_journal);
    for (name, lines) in [
        (MESSAGES, told.iter().map(sorted_json).collect::<Vec<_>>()),
        (EVENTS, journal.iter().map(sorted_json).collect()),
    ] {
        if !lines.is_empty() {
            let new = lines.join("\n") + "\n";
            out.insert(name.to_string(), merge_log(&text(&out, name), &new).into_bytes());
        }
    }
    // Read state: what each session read on either side stays read; the
    // rest of what is behind the merged cursor is pending.
    let (side_a, side_b) = (side_log(&text(ours, MESSAGES)), side_log(&text(theirs, MESSAGES)));
    merge_reads(
        &merged_lines(&text(&out, MESSAGES)),
        &Side {
            log: side_a,
            sessions: &a.sessions,
        },
        &Side {
            log: side_b,
            sessions: &b.sessions,
        },
        &mut reg.sessions,
    );
    if reg.schema == 0 {
        reg.schema = crate::core::model::SCHEMA;
    }
    let registry = sorted_json_pretty(&reg) + "\n";
    out.insert(REGISTRY.to_string(), registry.into_bytes());
    Ok((out, arbitrated))
}

/// A side's message log as ids in its order, each with its end offset.
pub(super) fn side_log(log: &str) -> Vec<(String, u64)> {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    let mut out = Vec::new();
    let mut end = 0u64;
    for line in log.split_inclusive('\n') {
        end += line.len() as u64;
        if let Ok(h) = serde_json::from_str::<Id>(line) {
            out.push((h.id.into_owned(), end));
        }
    }
    out
}

/// The merged message log's lines, with what routing needs.
pub(super) fn merged_lines(log: &str) -> Vec<Line> {
    #[derive(serde::Deserialize)]
    struct Head {
        id: String,
        ts: String,
        from: String,
        to: String,
        #[serde(default)]
        recipients: Option<Vec<String>>,
    }
    let mut out = Vec::new();
    let mut end = 0u64;
    for line in log.split_inclusive('\n') {
        end += line.len() as u64;
        let Ok(h) = serde_json::from_str::<Head>(line) else {
            continue;
        };
        let Some(ts) = crate::core::clock::stamp::parse(&h.ts) else {
            continue;
        };
        out.push(Line {
            id: h.id,
            ts,
            from: h.from,
            to: h.to,
            recipients: h.recipients,
            end,
            len: line.len() as u64,
        });
    }
    out
}

/// What changed from `from` to `to`: sessions and claims whose records
/// differ, messages and events new to `from`.
pub(super) fn flow(from: &Files, to: &Files) -> Flow {
    let (a, b) = (
        registry_of(from).ok().flatten().unwrap_or_default(),
        registry_of(to).ok().flatten().unwrap_or_default(),
    );
    let sessions = b
        .sessions
        .iter()
        .filter(|(k, v)| a.sessions.get(*k) != Some(*v))
        .count();
    let claims = b
        .claims
        .iter()
        .filter(|(k, v)| a.claims.get(*k) != Some(*v))
        .count();
    let new = |log: &str| {
        let (old, new) = (text(from, log), text(to, log));
        let before = ids(&old);
        ids(&new).difference(&before).count()
    };
    Flow {
        sessions,
        claims,
        messages: new(MESSAGES),
        events: new(EVENTS),
    }
}
