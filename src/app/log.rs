//! `coord log`: the journal, filtered, newest last; and what was appended
//! since, for `--follow`.

use serde::Serialize;

use super::Ctx;
use crate::core::clock::{parse_duration, stamp, Time};
use crate::core::error::{usage, Result};
use crate::core::model::Event;
use crate::core::rules::validate;
use crate::store::{line_ts, raw_kind};

/// The kinds each group name stands for (a kind's first word, or a whole
/// family): `--kind plan` is every task, milestone, gate, reservation and
/// handoff entry.
const GROUPS: &[(&str, &[&str])] = &[
    ("session", &["session."]),
    ("claim", &["claim."]),
    ("message", &["message.", "escalation."]),
    (
        "plan",
        &["task.", "milestone.", "gate.", "reservation.", "handoff."],
    ),
    ("sync", &["sync.", "_on_sync"]),
    ("hub", &["hub.", "doctor.", "clock."]),
];

#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    /// Entries about this session or made by it.
    pub session: Option<String>,
    /// Groups (`claim`, `plan`...) or exact kinds (`claim.released`).
    pub kinds: Vec<String>,
    /// As typed: `2h`, `3d`.
    pub since: Option<String>,
    /// Text the entry's kind, target or sentence contains (any case).
    pub grep: Option<String>,
    /// The newest this many (default 50; 0: all).
    pub limit: Option<usize>,
    /// The archived months too.
    pub all: bool,
}

/// What to show, checked once.
#[derive(Debug, Clone)]
pub struct Filter {
    session: Option<String>,
    /// Patterns a kind must contain (a group's) or equal (a kind).
    kinds: Vec<(String, bool)>,
    since: Option<String>,
    grep: Option<String>,
}

impl Filter {
    pub fn new(req: &LogRequest, now: Time) -> Result<Filter> {
        if let Some(s) = &req.session {
            validate::session_id(s)?;
        }
        let mut kinds = Vec::new();
        for k in &req.kinds {
            let plain = !k.is_empty()
                && k.len() <= 64
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
            if !plain {
                return Err(usage(format!(
                    "--kind {k:?} is not a kind: use a group ({}) or a kind such as claim.released",
                    GROUPS.iter().map(|(g, _)| *g).collect::<Vec<_>>().join(", ")
                )));
            }
            match GROUPS.iter().find(|(g, _)| g == k) {
                Some((_, pats)) => kinds.extend(pats.iter().map(|p| (p.to_string(), false))),
                None if k.contains('.') => kinds.push((k.clone(), true)),
                None => kinds.push((format!("{k}."), false)),
            }
        }
        let since = match &req.since {
            Some(t) => Some(stamp::format(&(now - parse_duration(t)?))),
            None => None,
        };
        let grep = match &req.grep {
            Some(g) if g.trim().is_empty() => return Err(usage("--grep needs some text to look for")),
            Some(g) => {
                validate::text("grep", g, validate::MAX_TEXT)?;
                Some(g.to_lowercase())
            }
            None => None,
        };
        Ok(Filter {
            session: req.session.clone(),
            kinds,
            since,
            grep,
        })
    }

    /// A cheap test on the raw line: its time and kind.
    pub fn raw(&self, line: &[u8]) -> bool {
        if let Some(since) = &self.since {
            if line_ts(line).is_none_or(|ts| ts < since.as_bytes()) {
                return false;
            }
        }
        if self.kinds.is_empty() {
            return true;
        }
        raw_kind(line).is_some_and(|k| self.kind_ok(&String::from_utf8_lossy(k)))
    }

    fn kind_ok(&self, kind: &str) -> bool {
        self.kinds.is_empty()
            || self.kinds.iter().any(|(p, exact)| match exact {
                true => kind == p,
                false if p.ends_with('.') => kind.starts_with(p.as_str()),
                false => kind.contains(p.as_str()),
            })
    }

    /// The whole test on a parsed entry.
    pub fn keeps(&self, e: &Event) -> bool {
        if let Some(since) = &self.since {
            if stamp::format(&e.ts) < *since {
                return false;
            }
        }
        if !self.kind_ok(&e.kind) {
            return false;
        }
        if let Some(s) = &self.session {
            let by = e.by.as_ref().map(|a| a.session.as_str());
            if e.session.as_deref() != Some(s.as_str())
                && by != Some(s.as_str())
                && e.target.as_deref() != Some(s.as_str())
            {
                return false;
            }
        }
        if let Some(g) = &self.grep {
            let hay = format!("{} {} {}", e.kind, e.target.as_deref().unwrap_or(""), e.text).to_lowercase();
            if !hay.contains(g.as_str()) {
                return false;
            }
        }
        true
    }
}

#[derive(Debug, Serialize)]
pub struct LogReport {
    /// Oldest first.
    pub events: Vec<Event>,
    /// Entries that matched and were left out by the limit.
    pub more: usize,
    /// Where the live journal ended when read (for `--follow`).
    #[serde(skip)]
    pub end: u64,
}

/// The newest matching entries, oldest first.
pub fn log(ctx: &Ctx, req: &LogRequest) -> Result<LogReport> {
    let filter = Filter::new(req, ctx.now())?;
    let mut events = if req.all {
        ctx.hub.archived_journal(|l| filter.raw(l))?
    } else {
        Vec::new()
    };
    let (live, end) = ctx.hub.journal_from(0, |l| filter.raw(l))?;
    events.extend(live);
    // Signs of life not yet folded into the journal.
    events.extend(ctx.hub.pulse_events()?);
    events.retain(|e| filter.keeps(e));
    // Newest last, whatever order merges left the lines in.
    events.sort_by_key(|e| e.ts);
    let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
    let more = match limit {
        0 => 0,
        n => events.len().saturating_sub(n),
    };
    events.drain(..more);
    Ok(LogReport { events, more, end })
}

/// What `coord log` shows without `--limit`.
pub const DEFAULT_LIMIT: usize = 50;

/// Entries appended to the live journal since byte `offset` that `filter`
/// keeps; the new end. A journal shorter than `offset` was rewritten (an
/// archive, a sync): read again from the start, and the caller drops what
/// it has shown.
pub fn appended(ctx: &Ctx, filter: &Filter, offset: u64) -> Result<(Vec<Event>, u64, bool)> {
    let rewritten = ctx.hub.journal_len() < offset;
    let from = if rewritten { 0 } else { offset };
    let (mut events, end) = ctx.hub.journal_from(from, |l| filter.raw(l))?;
    events.extend(ctx.hub.pulse_events()?);
    events.retain(|e| filter.keeps(e));
    Ok((events, end, rewritten))
}
