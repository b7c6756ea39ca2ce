//! Signs of life kept apart from the registry. A heartbeat, a hook's
//! activity record and an inbox read change a few fields of one session;
//! rewriting the whole `REGISTRY.json` for them made the most frequent
//! operation cost in proportion to the team. Instead each is one line
//! appended to `.pulse.jsonl` (machine-local, under the hub lock, one small
//! durable write), folded into the registry by the next write of the
//! registry, which every other change makes anyway.
//!
//! Every reader of the registry reads it with the pulse applied
//! ([`Hub::load_registry`]), so liveness, status, the briefing and sync see
//! the combined state. A pulse line names the registry it applies to (its
//! *base*: the file's inode, size and modification time); the fold rewrites
//! the registry first (a new base), then appends the lines' journal entries
//! to `EVENTS.jsonl`, then empties the pulse. A crash between those steps
//! leaves lines whose base is gone: their state is already in the registry
//! (only `last_seen`, which only moves forward, is applied again), and
//! their journal entries are appended by the next fold unless they are
//! already in the journal. Nothing is lost and nothing is journaled twice.
//!
//! The hot path must not parse the registry either: `.digest` is a
//! machine-local, line-per-session summary of it (written by each registry
//! write, checked against the same base), where a command finds its own
//! session with one substring search.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::{fsio, Hub, EVENTS, REGISTRY};
use crate::core::clock::Time;
use crate::core::config::Durability;
use crate::core::error::Result;
use std::collections::BTreeMap;

use crate::core::model::{Claim, Cursor, Escalation, Event, Registry, Session};

/// The pulse: signs of life since the registry was last written.
pub const PULSE: &str = ".pulse.jsonl";
/// The hot path's summary of the registry.
pub const DIGEST: &str = ".digest";
/// A pulse this long is folded by the next sign of life. Every hot-path
/// call reads the pulse, so its length is their cost; a fold costs one
/// registry write (about 60 ms at 2,000 sessions), once per 2,000-odd
/// lines: more often, and the writers waiting on a fold show in the p99.
pub const FOLD_AT: u64 = 512 << 10;

/// What a sign of life sets on its session.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Activity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Activity {
    pub fn of(s: &Session) -> Activity {
        Activity {
            action: s.action.clone(),
            note: s.note.clone(),
            phase: s.phase.clone(),
            progress: s.progress,
            target: s.target.clone(),
        }
    }

    fn set(&self, s: &mut Session) {
        s.action = self.action.clone();
        s.note = self.note.clone();
        s.phase = self.phase.clone();
        s.progress = self.progress;
        s.target = self.target.clone();
    }
}

/// One line of `.pulse.jsonl` (keys in sorted order).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pulse {
    /// The session's new activity, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// The registry this applies to.
    pub base: String,
    /// Claims changed on the hot path: each one's new record, or null when
    /// it is gone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, Option<Claim>>,
    /// The read cursor after an inbox read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// A file the session edited (the conflict radar's record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
    /// Journal entries, appended to EVENTS.jsonl when folded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// Pending message ids read (no longer pending).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<String>,
    /// The session.
    pub s: String,
    /// The session's whole record, when this line writes it (a session
    /// started on the hot path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    /// Its last sign of life.
    #[serde(
        serialize_with = "crate::core::clock::stamp::serialize",
        deserialize_with = "crate::core::clock::stamp::deserialize"
    )]
    pub ts: Time,
}

/// A pulse line without its journal entries: what a reader applies.
#[derive(Deserialize)]
struct PulseState {
    #[serde(default)]
    activity: Option<Activity>,
    base: String,
    #[serde(default)]
    claims: BTreeMap<String, Option<Claim>>,
    #[serde(default)]
    cursor: Option<Cursor>,
    #[serde(default)]
    edit: Option<String>,
    #[serde(default)]
    read: Vec<String>,
    s: String,
    #[serde(default)]
    session: Option<Session>,
    #[serde(deserialize_with = "crate::core::clock::stamp::deserialize")]
    ts: Time,
}

/// A pulse line as a reader first sees it: which fields it has, the
/// session and the time, nothing copied and the journal entries skipped.
#[derive(Deserialize)]
struct PulseView<'a> {
    #[serde(default)]
    activity: Option<IgnoredAny>,
    #[allow(dead_code)]
    base: IgnoredAny,
    #[serde(default)]
    claims: Option<IgnoredAny>,
    #[serde(default)]
    cursor: Option<IgnoredAny>,
    #[serde(default)]
    edit: Option<IgnoredAny>,
    #[serde(default)]
    read: Option<IgnoredAny>,
    #[serde(borrow)]
    s: std::borrow::Cow<'a, str>,
    #[serde(default)]
    session: Option<IgnoredAny>,
    #[serde(deserialize_with = "crate::core::clock::stamp::deserialize")]
    ts: Time,
}

impl PulseView<'_> {
    /// Whether the line sets more than its session's last sign of life.
    fn changes_records(&self) -> bool {
        self.activity.is_some()
            || self.claims.is_some()
            || self.cursor.is_some()
            || self.edit.is_some()
            || self.read.is_some()
            || self.session.is_some()
    }
}

impl From<PulseState> for Pulse {
    fn from(p: PulseState) -> Pulse {
        Pulse {
            activity: p.activity,
            base: p.base,
            claims: p.claims,
            cursor: p.cursor,
            edit: p.edit,
            events: Vec::new(),
            read: p.read,
            s: p.s,
            session: p.session,
            ts: p.ts,
        }
    }
}

impl Pulse {
    /// A line that says only "still here": the fields to set are added to it.
    pub fn new(base: String, s: String, ts: Time) -> Pulse {
        Pulse {
            activity: None,
            base,
            claims: BTreeMap::new(),
            cursor: None,
            edit: None,
            events: Vec::new(),
            read: Vec::new(),
            s,
            session: None,
            ts,
        }
    }

    /// Apply to the registry: all of it on its own base; on another (a
    /// registry written since, which already holds it), only `last_seen`,
    /// which only moves forward.
    pub fn apply(&self, reg: &mut Registry, base: &str) {
        // Records written whole on the hot path. A line on an older base
        // was folded into the registry, or the registry was replaced since
        // by something else (a hand edit, a git checkout of a tracked hub):
        // its records are merged in by the sync's rules, which leave a
        // folded record as it is and bring a lost one back.
        use crate::core::rules::merge::{merge_claim, merge_session};
        if let Some(post) = &self.session {
            let merged = match reg.sessions.get(&self.s) {
                Some(now) if self.base != base => merge_session(now, post),
                _ => post.clone(),
            };
            reg.sessions.insert(self.s.clone(), merged);
        }
        for (key, c) in &self.claims {
            match (c, reg.claims.get(key)) {
                (Some(c), Some(now)) if self.base != base => {
                    let merged = merge_claim(now, c);
                    reg.claims.insert(key.clone(), merged);
                }
                (Some(c), _) => {
                    reg.claims.insert(key.clone(), c.clone());
                }
                (None, _) if self.base == base => {
                    reg.claims.remove(key);
                }
                (None, _) => {}
            }
        }
        let Some(s) = reg.sessions.get_mut(&self.s) else {
            return;
        };
        if self.ts > s.last_seen {
            s.last_seen = self.ts;
        }
        if self.base != base {
            return;
        }
        if let Some(a) = &self.activity {
            a.set(s);
        }
        if let Some(c) = &self.cursor {
            s.cursor = Some(c.clone());
        }
        if let Some(path) = &self.edit {
            crate::core::rules::radar::record(s, path, self.ts);
        }
        if !self.read.is_empty() {
            s.pending.retain(|id| !self.read.contains(id));
        }
    }
}

/// The pulse as read: its lines, and the journal entries that still have to
/// reach the journal.
#[derive(Debug, Default)]
pub struct Pending {
    pub lines: usize,
    /// Entries of lines on the current base: never journaled yet.
    pub events: Vec<Event>,
    /// Entries of lines on an older base (a fold was cut short): journaled
    /// unless the journal has them already.
    pub maybe: Vec<Event>,
}

impl Hub {
    /// The registry's identity on disk: inode, size and modification time.
    /// A rewrite (a rename over it) always changes it.
    pub fn base(&self) -> Result<String> {
        let path = self.path(REGISTRY);
        let m = std::fs::metadata(&path).map_err(|e| crate::core::error::CoordError::io("read", &path, e))?;
        Ok(format!(
            "{}-{}-{}.{}",
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec()
        ))
    }

    /// Every valid pulse line, in order (a torn last line is left for the
    /// next writer to cut).
    pub fn pulses(&self) -> Result<Vec<Pulse>> {
        self.pulse_lines::<Pulse>()
    }

    fn pulse_lines<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        fsio::scan_lines(&self.path(PULSE), |_, line| {
            if let Ok(p) = serde_json::from_slice::<T>(line) {
                out.push(p);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Apply the pulse to `reg` for a reader: the journal entries the
    /// lines carry are skipped, not parsed (only a fold needs them).
    /// Most lines are only a sign of life (and journal entries): those
    /// move `last_seen` without being parsed further; a line that changes a
    /// record is parsed whole.
    pub(super) fn apply_pulse_state(&self, reg: &mut Registry, base: &str) -> Result<()> {
        fsio::scan_lines(&self.path(PULSE), |_, line| {
            let Ok(view) = serde_json::from_slice::<PulseView>(line) else {
                return Ok(());
            };
            if view.changes_records() {
                if let Ok(p) = serde_json::from_slice::<PulseState>(line) {
                    Pulse::from(p).apply(reg, base);
                }
            } else if let Some(s) = reg.sessions.get_mut(view.s.as_ref()) {
                s.last_seen = s.last_seen.max(view.ts);
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Apply the pulse to `reg` (read from the file of `base`).
    pub(super) fn apply_pulse(&self, reg: &mut Registry, base: &str) -> Result<Pending> {
        let mut pending = Pending::default();
        for p in self.pulses()? {
            p.apply(reg, base);
            pending.lines += 1;
            let events = p.events;
            if p.base == base {
                pending.events.extend(events);
            } else {
                pending.maybe.extend(events);
            }
        }
        Ok(pending)
    }

    /// The journal entries the pulse carries, not yet in EVENTS.jsonl.
    pub fn pulse_events(&self) -> Result<Vec<Event>> {
        self.pulse_events_where(|_| true)
    }

    /// The journal entries of the pulse lines whose raw text passes `keep`
    /// (the other lines, and the rest of each line, are not parsed).
    pub fn pulse_events_where(&self, keep: impl Fn(&[u8]) -> bool) -> Result<Vec<Event>> {
        /// A pulse line as a reader of the journal wants it.
        #[derive(Deserialize)]
        struct Entries {
            #[serde(default)]
            events: Vec<Event>,
            #[allow(dead_code)]
            base: IgnoredAny,
            #[allow(dead_code)]
            s: IgnoredAny,
            #[allow(dead_code)]
            ts: IgnoredAny,
        }
        // Built once for the scan: building a searcher costs more than
        // searching a pulse line with it.
        let entries = memchr::memmem::Finder::new(b"\"events\":[");
        let mut out = Vec::new();
        fsio::scan_lines(&self.path(PULSE), |_, line| {
            if entries.find(line).is_some() && keep(line) {
                if let Ok(p) = serde_json::from_slice::<Entries>(line) {
                    out.extend(p.events);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Append one sign of life (the exclusive lock is held by the caller).
    pub fn append_pulse(&self, pulse: &Pulse) -> Result<()> {
        // Fields are declared in sorted order: the line's keys are sorted.
        let line = serde_json::to_string(pulse)
            .map_err(|e| crate::core::error::failure(format!("cannot write a pulse line: {e}")))?;
        self.append(PULSE, &[line])
    }

    /// The pulse's length in bytes.
    pub fn pulse_len(&self) -> u64 {
        std::fs::metadata(self.path(PULSE)).map(|m| m.len()).unwrap_or(0)
    }

    /// After a fold: the journal gets what the pulse carried (entries of an
    /// interrupted fold only if the journal lacks them), then the pulse is
    /// emptied. The registry was written first.
    pub(super) fn settle_pulse(&self, pending: &Pending) -> Result<Vec<Event>> {
        let mut out = pending.events.clone();
        if !pending.maybe.is_empty() {
            let have = self.journal_ids_since_end(1 << 20)?;
            out.extend(pending.maybe.iter().filter(|e| !have.contains(&e.id)).cloned());
        }
        Ok(out)
    }

    /// Fold the pulse into the registry now (the exclusive lock is held by
    /// the caller): what `sync` does before it reads the registry's bytes.
    pub(super) fn fold_pulse(&self) -> Result<()> {
        if self.pulse_len() == 0 {
            return Ok(());
        }
        let (reg, _, pending) = self.load_registry_pending()?;
        let text = crate::core::model::sorted_json_pretty(&reg) + "\n";
        self.write_atomic(REGISTRY, text.as_bytes())?;
        let events: Vec<String> = self
            .settle_pulse(&pending)?
            .iter()
            .map(crate::core::model::sorted_json)
            .collect();
        self.append(EVENTS, &events)?;
        self.clear_pulse()?;
        self.write_digest(&reg)
    }

    /// Empty the pulse (its lines are folded and journaled).
    pub(super) fn clear_pulse(&self) -> Result<()> {
        let path = self.path(PULSE);
        if let Ok(f) = fsio::open_checked(&path, std::fs::OpenOptions::new().write(true)) {
            f.set_len(0)
                .map_err(|e| crate::core::error::CoordError::io("empty", &path, e))?;
            if self.config.durability != Durability::None {
                let _ = f.sync_data();
            }
        }
        Ok(())
    }

    /// The ids of the journal's last `span` bytes.
    fn journal_ids_since_end(&self, span: u64) -> Result<HashSet<String>> {
        let len = std::fs::metadata(self.path(EVENTS)).map(|m| m.len()).unwrap_or(0);
        let mut ids = HashSet::new();
        fsio::scan_lines_from(&self.path(EVENTS), len.saturating_sub(span), |_, line| {
            if let Some(id) = super::logs::raw_id(line) {
                ids.insert(String::from_utf8_lossy(id).into_owned());
            }
            Ok(())
        })?;
        Ok(ids)
    }
}

/// What the hot path needs of the registry, one line per session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestHead {
    pub base: String,
    pub escalations: std::collections::BTreeMap<String, Escalation>,
    /// From this time on, the sweep every full write makes (a claim that
    /// lapses, a loser to tell) has something to do: the hot path leaves
    /// such calls to the full path. `None`: nothing is held.
    #[serde(default)]
    pub sweep_due: Option<Time>,
    /// Where the session lines start, counted from the byte after this
    /// line: they are sorted by id, so one is found by a binary search of
    /// the file, reading a few pages whatever the size of the hub.
    #[serde(default)]
    pub sessions_from: Option<u64>,
    /// Where the claim lines start (same count): `C<TAB>KIND<TAB>FOLDED
    /// NAME<TAB>KEY<TAB>{claim}` for every claim record, sorted, so the
    /// records a claim could collide with are found by a binary search.
    /// `None`: no such lines (an older digest, or a name they cannot hold).
    #[serde(default)]
    pub claims_from: Option<u64>,
    /// Where the edit lines start (same count; they end the digest):
    /// `E<TAB>"PATH"<TAB>SESSION` for every file a session's record says it
    /// edited, sorted, so the conflict radar finds who edited a file by a
    /// binary search. `None`: no such lines (an older digest, or an id that
    /// cannot be written so), and the session lines are searched instead.
    #[serde(default)]
    pub edits_from: Option<u64>,
    /// How many claim records the registry holds (`limits.claims`).
    #[serde(default)]
    pub claims: usize,
    /// How many sessions it holds (`limits.sessions`).
    #[serde(default)]
    pub sessions: usize,
    /// The plan's task ids and reserved resources: a claim on one of them
    /// is judged against the plan (the full path).
    #[serde(default)]
    pub planned: std::collections::BTreeSet<String>,
    /// Token floors of pruned claims (`coord prune`).
    #[serde(default)]
    pub floors: BTreeMap<String, u64>,
}

/// One session's line: the record, and its claims that have a deadline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestSession {
    pub session: Session,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deadlines: Vec<(String, Time)>,
}

/// The digest of a registry: a head line, then `ID<TAB>DigestSession` lines.
pub fn digest_of(reg: &Registry, base: &str, cfg: &crate::core::config::Config) -> String {
    let mut out = String::new();
    // The held file claims, one a line (read only by the pre-tool-use
    // hook): `F<TAB>PREFIX<TAB>KEY<TAB>{claim}`, PREFIX the literal start of
    // the folded glob. A path can only overlap a glob whose prefix it
    // extends (or that extends it), so the hook parses only those lines.
    let mut files = String::new();
    for (key, c) in reg
        .claims
        .iter()
        .filter(|(_, c)| c.kind == "file" && c.holder.is_some())
    {
        let folded = crate::core::rules::claims::fold(&c.name);
        let prefix = crate::core::rules::glob::literal_prefix(&folded);
        if prefix.contains(['\t', '\n']) || key.contains(['\t', '\n']) {
            continue;
        }
        files.push_str(&format!(
            "F\t{prefix}\t{key}\t{}\n",
            serde_json::to_string(c).unwrap_or_default()
        ));
    }
    // A marker line, so that "no file claims" and "no such line" differ.
    out.push_str("F\t\n");
    out.push_str(&files);
    let mut deadlines: std::collections::HashMap<&str, Vec<(String, Time)>> = Default::default();
    for (k, c) in &reg.claims {
        if let (Some(h), Some(e)) = (&c.holder, c.expires) {
            deadlines.entry(h.as_str()).or_default().push((k.clone(), e));
        }
    }
    let sessions_from = out.len() as u64;
    let claims_section = claim_lines(reg);
    for (id, s) in &reg.sessions {
        let line = DigestSession {
            session: s.clone(),
            deadlines: deadlines.remove(id.as_str()).unwrap_or_default(),
        };
        out.push_str(id);
        out.push('\t');
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    let claims_from = out.len() as u64;
    if let Some(lines) = &claims_section {
        out.push_str(lines);
    }
    let edits_from = out.len() as u64;
    let edits_section = edit_lines(reg);
    if let Some(lines) = &edits_section {
        out.push_str(lines);
    }
    let mut planned: std::collections::BTreeSet<String> =
        reg.plan.tasks.keys().map(|t| format!("task:{t}")).collect();
    planned.extend(
        reg.plan
            .reservations
            .values()
            .map(|r| format!("resource:{}", r.resource)),
    );
    let head = DigestHead {
        base: base.to_string(),
        escalations: reg.escalations.clone(),
        sweep_due: sweep_due(reg, cfg),
        sessions_from: Some(sessions_from),
        claims_from: claims_section.map(|_| claims_from),
        edits_from: edits_section.map(|_| edits_from),
        claims: reg.claims.len(),
        sessions: reg.sessions.len(),
        planned,
        floors: reg.floors.clone(),
    };
    let mut text = serde_json::to_string(&head).unwrap_or_default();
    text.push('\n');
    text.push_str(&out);
    text
}

/// Every edit a session's record holds as a line `E<TAB>"PATH"<TAB>ID`
/// (the path as a JSON string), sorted; `None` when an id cannot be
/// written so.
fn edit_lines(reg: &Registry) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    for (id, s) in &reg.sessions {
        if s.edits.is_empty() {
            continue;
        }
        if id.contains(['\t', '\n']) {
            return None;
        }
        for path in s.edits.keys() {
            lines.push(format!("E\t{}\t{id}\n", serde_json::to_string(path).ok()?));
        }
    }
    lines.sort_unstable();
    Some(lines.concat())
}

/// Every claim record as a line `C<TAB>KIND<TAB>FOLDED<TAB>KEY<TAB>{claim}`,
/// sorted; `None` when one cannot be written so (a tab or newline in it).
fn claim_lines(reg: &Registry) -> Option<String> {
    let mut lines: Vec<String> = Vec::with_capacity(reg.claims.len());
    for (key, c) in &reg.claims {
        let folded = crate::core::rules::claims::fold(&c.name);
        if [c.kind.as_str(), &folded, key]
            .iter()
            .any(|f| f.contains(['\t', '\n']))
        {
            return None;
        }
        lines.push(format!(
            "C\t{}\t{folded}\t{key}\t{}\n",
            c.kind,
            serde_json::to_string(c).ok()?
        ));
    }
    lines.sort_unstable();
    Some(lines.concat())
}

/// The earliest time the sweep would change something: a held claim's
/// deadline, or its holder going past `gone_after` (on the registry's
/// `last_seen`, which a pulse only moves later: the time is never late),
/// or now, for a holder unknown or ended or a loser not yet told.
pub fn sweep_due(reg: &Registry, cfg: &crate::core::config::Config) -> Option<Time> {
    let now = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let mut due: Option<Time> = None;
    for c in reg.claims.values() {
        if c.lost_on_sync.iter().any(|l| !l.told) {
            return Some(now);
        }
        let Some(holder) = &c.holder else { continue };
        let gone = match reg.sessions.get(holder) {
            Some(s) if s.ended.is_none() => s.last_seen + cfg.gone_after,
            _ => return Some(now),
        };
        let t = c.expires.map_or(gone, |e| e.min(gone));
        due = Some(due.map_or(t, |d| d.min(t)));
    }
    due
}

/// The digest as read: its head, and the open file (the whole text is
/// read only when a call needs it).
pub struct Digest {
    pub head: DigestHead,
    file: std::fs::File,
    len: u64,
    /// Where the lines after the head start.
    body: u64,
    text: std::cell::OnceCell<Vec<u8>>,
    /// The pages read so far, by number: a binary search reads each page
    /// of the file at most once.
    pages: std::cell::RefCell<std::collections::HashMap<u64, Vec<u8>>>,
}

/// The digest is read in pages of this many bytes.
const PAGE: u64 = 16 * 1024;

impl Digest {
    /// The whole file (empty if it cannot be read: nothing is found).
    fn text(&self) -> &[u8] {
        self.text
            .get_or_init(|| self.read_range(0, self.len).unwrap_or_default())
    }

    fn read_range(&self, from: u64, to: u64) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        if to > self.len {
            return None;
        }
        let mut out = Vec::with_capacity(to.saturating_sub(from) as usize);
        let mut pages = self.pages.borrow_mut();
        let mut at = from;
        while at < to {
            let number = at / PAGE;
            let page = match pages.entry(number) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let start = number * PAGE;
                    let mut buf = vec![0; (self.len - start).min(PAGE) as usize];
                    self.file.read_exact_at(&mut buf, start).ok()?;
                    v.insert(buf)
                }
            };
            let offset = (at - number * PAGE) as usize;
            let take = ((to - at) as usize).min(page.len() - offset);
            out.extend_from_slice(&page[offset..offset + take]);
            at += take as u64;
        }
        Some(out)
    }

    /// The position after the first newline at or after `pos` (`to` when
    /// there is none before it).
    fn next_line(&self, pos: u64, to: u64) -> Option<u64> {
        let mut at = pos;
        while at < to {
            let end = (at + 4096).min(to);
            let chunk = self.read_range(at, end)?;
            if let Some(i) = memchr::memchr(b'\n', &chunk) {
                return Some(at + i as u64 + 1);
            }
            at = end;
        }
        Some(to)
    }

    /// The held file claims that could cover one of `paths` (folded): only
    /// the lines whose glob's literal prefix is a prefix of a path, or the
    /// other way round, are parsed. `None`: a digest without file lines.
    pub fn files_for(
        &self,
        paths: &[String],
    ) -> Option<std::collections::BTreeMap<String, crate::core::model::Claim>> {
        // The file lines lie between the head and the session lines.
        let files = match self.head.sessions_from {
            Some(to) => std::borrow::Cow::Owned(self.read_range(self.body - 1, self.body + to)?),
            None => std::borrow::Cow::Borrowed(self.text()),
        };
        let text: &[u8] = &files;
        let from = match self.head.sessions_from {
            Some(_) => 0,
            None => self.body as usize - 1,
        };
        let start = memfind(&text[from..], b"\nF\t\n")? + from + 4;
        let mut out = std::collections::BTreeMap::new();
        for line in text[start..].split(|b| *b == b'\n') {
            let Some(rest) = line.strip_prefix(b"F\t") else {
                break;
            };
            let mut parts = rest.splitn(3, |b| *b == b'\t');
            let (Some(prefix), Some(key), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let near = paths
                .iter()
                .any(|p| p.as_bytes().starts_with(prefix) || prefix.starts_with(p.as_bytes()));
            if !near {
                continue;
            }
            if let (Ok(key), Ok(c)) = (std::str::from_utf8(key), serde_json::from_slice(json)) {
                out.insert(key.to_string(), c);
            }
        }
        Some(out)
    }

    /// The end of the session lines (the claim lines follow them).
    fn sessions_end(&self) -> u64 {
        self.head.claims_from.map_or(self.claims_end(), |c| self.body + c)
    }

    /// The end of the claim lines (the edit lines follow them).
    fn claims_end(&self) -> u64 {
        self.head.edits_from.map_or(self.len, |e| self.body + e)
    }

    /// The session lines' bytes (all of the text after the head in a
    /// digest that does not say where they are).
    pub fn session_text(&self) -> std::borrow::Cow<'_, [u8]> {
        match self.head.sessions_from {
            Some(from) => self
                .read_range(self.body + from, self.sessions_end())
                .map(std::borrow::Cow::Owned)
                .unwrap_or_default(),
            None => std::borrow::Cow::Borrowed(&self.text()[self.body as usize - 1..]),
        }
    }

    /// The first line in `[start, end)` (sorted) not below `probe`: its
    /// offset. A binary search reading a few pages.
    fn lower_bound(&self, start: u64, end: u64, probe: &[u8]) -> Option<u64> {
        let (mut lo, mut hi) = (start, end);
        // Lines starting before `lo` are below the probe; lines starting
        // at or after `hi` are not.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let line = if mid == start {
                start
            } else {
                self.next_line(mid - 1, hi)?
            };
            if line >= hi {
                hi = mid;
                continue;
            }
            let next = self.next_line(line, end)?;
            let head = self.read_range(line, next.min(line + probe.len() as u64))?;
            if head.as_slice() < probe {
                lo = next;
            } else {
                hi = mid;
            }
        }
        if lo == start {
            Some(start)
        } else {
            self.next_line(lo - 1, end)
        }
    }

    /// The lines in `[start, end)` that begin with `prefix`, whole.
    fn lines_with(&self, start: u64, end: u64, prefix: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut at = self.lower_bound(start, end, prefix)?;
        let mut out = Vec::new();
        while at < end {
            let next = self.next_line(at, end)?;
            let line = self.read_range(at, next)?;
            if !line.starts_with(prefix) {
                break;
            }
            out.push(line.strip_suffix(b"\n").unwrap_or(&line).to_vec());
            at = next;
        }
        Some(out)
    }

    /// Session `id`'s line, if it has one: a binary search over the sorted
    /// session lines (a few reads), or a search of the whole text in a
    /// digest that does not say where they start.
    pub fn session(&self, id: &str) -> Option<DigestSession> {
        let Some(from) = self.head.sessions_from else {
            let text = self.text();
            let key = format!("\n{id}\t");
            let from = self.body as usize - 1;
            let at = memfind(&text[from..], key.as_bytes())? + key.len() + from;
            let end = text[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(text.len(), |p| at + p);
            return serde_json::from_slice(&text[at..end]).ok();
        };
        let probe = format!("{id}\t");
        let line = self
            .lines_with(self.body + from, self.sessions_end(), probe.as_bytes())?
            .into_iter()
            .next()?;
        serde_json::from_slice(&line[probe.len()..]).ok()
    }

    /// The claim records of `kind` whose name folds to `folded` (the same
    /// claim, or one a look-alike name would collide with). `None`: this
    /// digest has no claim lines.
    pub fn claims_named(&self, kind: &str, folded: &str) -> Option<BTreeMap<String, Claim>> {
        let from = self.head.claims_from?;
        if [kind, folded].iter().any(|f| f.contains(['\t', '\n'])) {
            return None;
        }
        let prefix = format!("C\t{kind}\t{folded}\t");
        let mut out = BTreeMap::new();
        for line in self.lines_with(self.body + from, self.claims_end(), prefix.as_bytes())? {
            let rest = &line[prefix.len()..];
            let tab = memchr::memchr(b'\t', rest)?;
            let key = std::str::from_utf8(&rest[..tab]).ok()?;
            out.insert(key.to_string(), serde_json::from_slice(&rest[tab + 1..]).ok()?);
        }
        Some(out)
    }

    /// The sessions whose record says they edited the file `key` (a path
    /// as a JSON string), from the edit lines. `None`: no edit lines.
    pub fn edited_by(&self, key: &str) -> Option<Vec<String>> {
        let from = self.head.edits_from?;
        let prefix = format!("E\t{key}\t");
        self.lines_with(self.body + from, self.len, prefix.as_bytes())?
            .into_iter()
            .map(|line| String::from_utf8(line[prefix.len()..].to_vec()).ok())
            .collect()
    }
}

/// The first position of `needle` in `hay` (SIMD substring search: the
/// hot path looks its session up in a digest of a megabyte at 2,000
/// sessions).
fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

impl Hub {
    /// Write the digest of `reg` for the registry now on disk (not synced:
    /// a cache, checked against the base when read).
    pub(super) fn write_digest(&self, reg: &Registry) -> Result<()> {
        let base = self.base()?;
        fsio::write_atomic_mode(
            &self.dir,
            DIGEST,
            digest_of(reg, &base, &self.config).as_bytes(),
            Durability::None,
            fsio::PRIVATE,
        )
    }

    /// The digest, when it describes the registry on disk now.
    pub fn digest(&self) -> Option<Digest> {
        use std::io::BufRead;
        let file = fsio::open_log(&self.path(DIGEST)).ok()??;
        let len = file.metadata().ok()?.len();
        let mut first = Vec::new();
        std::io::BufReader::new(&file)
            .read_until(b'\n', &mut first)
            .ok()?;
        if !first.ends_with(b"\n") {
            return None;
        }
        let head: DigestHead = serde_json::from_slice(&first[..first.len() - 1]).ok()?;
        (head.base == self.base().ok()?).then(|| Digest {
            head,
            file,
            len,
            body: first.len() as u64,
            text: std::cell::OnceCell::new(),
            pages: Default::default(),
        })
    }

    /// Whether the digest is missing or describes another registry (its
    /// head line only is read).
    pub(super) fn digest_stale(&self) -> bool {
        use std::io::BufRead;
        let Ok(base) = self.base() else { return true };
        let Ok(Some(f)) = fsio::open_log(&self.path(DIGEST)) else {
            return true;
        };
        let mut head = Vec::new();
        if std::io::BufReader::new(f).read_until(b'\n', &mut head).is_err() {
            return true;
        }
        serde_json::from_slice::<DigestHead>(head.trim_ascii_end()).map_or(true, |h| h.base != base)
    }
}

/// The hot path's view of the hub, under the exclusive lock: the digest,
/// the pulse, and nothing parsed that the call does not need.
pub struct Quick<'h> {
    pub hub: &'h Hub,
    pub base: String,
    pub digest: Digest,
    pulse: Vec<u8>,
    minted: std::cell::Cell<u64>,
    claims: std::cell::OnceCell<BTreeMap<String, Option<Claim>>>,
}

impl Hub {
    /// Run `f` on the quick view, under the exclusive lock. `None` when the
    /// quick path does not apply (no digest of this registry, or a pulse
    /// due for a fold): the caller then takes the full path.
    pub fn quick<T>(&self, now: Time, f: impl FnOnce(&Quick) -> Result<Option<T>>) -> Result<Option<T>> {
        // Auto-prune acts on every change: no hot path then.
        if self.config.prune_auto {
            return Ok(None);
        }
        self.quick_locked(true, now, f)
    }

    /// `quick` for a call that writes nothing (the shared lock).
    pub fn quick_read<T>(&self, now: Time, f: impl FnOnce(&Quick) -> Result<Option<T>>) -> Result<Option<T>> {
        self.quick_locked(false, now, f)
    }

    fn quick_locked<T>(
        &self,
        exclusive: bool,
        now: Time,
        f: impl FnOnce(&Quick) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let _lock = self.lock(exclusive)?;
        if self.pulse_len() >= FOLD_AT {
            return Ok(None);
        }
        let Some(digest) = self.digest() else {
            return Ok(None);
        };
        if digest.head.sweep_due.is_some_and(|due| due <= now) {
            return Ok(None);
        }
        let pulse = fsio::read_optional(&self.path(PULSE))?.unwrap_or_default();
        let quick = Quick {
            hub: self,
            base: digest.head.base.clone(),
            digest,
            pulse,
            minted: std::cell::Cell::new(0),
            claims: std::cell::OnceCell::new(),
        };
        // Claims taken on the hot path lapse too: the earliest time one
        // could (its deadline, or its holder gone if never seen after it
        // took it), checked as the digest's own.
        let gone = self.config.gone_after;
        let due = quick
            .pulse_claims()
            .values()
            .flatten()
            .filter(|c| c.holder.is_some())
            .map(|c| {
                let gone = c.since.unwrap_or(now) + gone;
                c.expires.map_or(gone, |e| e.min(gone))
            })
            .min();
        if due.is_some_and(|d| d <= now) {
            return Ok(None);
        }
        f(&quick)
    }
}

impl Quick<'_> {
    /// Session `id` as it stands: its digest line (or the record a pulse
    /// line wrote whole) with its later pulse lines applied.
    pub fn session(&self, id: &str) -> Option<DigestSession> {
        let key = format!("\"s\":{},", serde_json::to_string(id).ok()?);
        let base = format!("\"base\":\"{}\"", self.base);
        // Only what decides the state is parsed: the newest line with an
        // activity, the newest with a cursor, the lines that read pending
        // messages or record an edit, and the newest that wrote the whole
        // record (older lines are in it); the time of the others is read
        // off the raw line. So a session's own many lines cost a scan, not
        // a parse each.
        let (mut activity, mut cursor): (Option<Activity>, Option<Cursor>) = (None, None);
        let mut read: Vec<String> = Vec::new();
        let mut edits: Vec<(String, Time)> = Vec::new();
        let mut seen: Option<Time> = None;
        let mut whole: Option<Session> = None;
        // This session's lines, found by one substring search over the
        // pulse, newest first.
        let pulse = &self.pulse;
        let mut lines: Vec<&[u8]> = memchr::memmem::find_iter(pulse, key.as_bytes())
            .map(|at| {
                let start = memchr::memrchr(b'\n', &pulse[..at]).map_or(0, |p| p + 1);
                let end = memchr::memchr(b'\n', &pulse[at..]).map_or(pulse.len(), |p| at + p);
                &pulse[start..end]
            })
            .collect();
        lines.dedup();
        // The searchers are built once, not once a line.
        let whole_key = format!("{key}\"session\":{{");
        let (f_cursor, f_read, f_edit, f_base, f_whole) = (
            memchr::memmem::Finder::new(b"\"cursor\":"),
            memchr::memmem::Finder::new(b"\"read\":"),
            memchr::memmem::Finder::new(b"\"edit\":"),
            memchr::memmem::Finder::new(base.as_bytes()),
            memchr::memmem::Finder::new(whole_key.as_bytes()),
        );
        for l in lines.into_iter().rev() {
            let ts = super::logs::line_ts(l)
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(crate::core::clock::parse_time);
            if let Some(ts) = ts {
                seen = Some(seen.map_or(ts, |s| s.max(ts)));
            }
            let has = |f: &memchr::memmem::Finder| f.find(l).is_some();
            let wants_activity = activity.is_none() && l.starts_with(b"{\"activity\":");
            let wants_cursor = cursor.is_none() && has(&f_cursor);
            let is_whole = has(&f_whole);
            let current = has(&f_base);
            if !current || !(wants_activity || wants_cursor || is_whole || has(&f_read) || has(&f_edit)) {
                continue;
            }
            let Ok(p) = serde_json::from_slice::<PulseState>(l) else {
                continue;
            };
            if wants_activity {
                activity = p.activity;
            }
            if wants_cursor {
                cursor = p.cursor;
            }
            read.extend(p.read);
            edits.extend(p.edit.map(|e| (e, p.ts)));
            if let Some(record) = p.session {
                whole = Some(record);
                break;
            }
        }
        let mut line = match whole {
            Some(session) => DigestSession {
                session,
                deadlines: Vec::new(),
            },
            None => self.digest.session(id)?,
        };
        let s = &mut line.session;
        if let Some(ts) = seen.filter(|t| *t > s.last_seen) {
            s.last_seen = ts;
        }
        if let Some(a) = &activity {
            a.set(s);
        }
        if let Some(c) = cursor {
            s.cursor = Some(c);
        }
        s.pending.retain(|m| !read.contains(m));
        crate::core::rules::radar::record_all(s, edits.iter().map(|(p, at)| (p.as_str(), *at)));
        // Its claims with a deadline, as the hot path changed them.
        for (k, c) in self.pulse_claims().iter() {
            line.deadlines.retain(|(key, _)| key != k);
            if let Some(c) = c.as_ref().filter(|c| c.holder.as_deref() == Some(id)) {
                if let Some(e) = c.expires {
                    line.deadlines.push((k.clone(), e));
                }
            }
        }
        Some(line)
    }

    /// The held file claims that could cover one of `paths` (folded): the
    /// digest's, as the hot path changed them since.
    pub fn files_for(&self, paths: &[String]) -> Option<BTreeMap<String, Claim>> {
        let mut out = self.digest.files_for(paths)?;
        for (key, c) in self.pulse_claims() {
            out.remove(key);
            if let Some(c) = c.as_ref().filter(|c| c.kind == "file" && c.holder.is_some()) {
                out.insert(key.clone(), c.clone());
            }
        }
        Some(out)
    }

    /// The claims pulse lines on this registry changed, oldest first (a
    /// later line's record wins): parsed once per call.
    pub fn pulse_claims(&self) -> &BTreeMap<String, Option<Claim>> {
        self.claims.get_or_init(|| {
            let mut out = BTreeMap::new();
            let base = format!("\"base\":\"{}\"", self.base);
            let f_base = memchr::memmem::Finder::new(base.as_bytes());
            for at in memchr::memmem::find_iter(&self.pulse, b"\"claims\":{") {
                let start = memchr::memrchr(b'\n', &self.pulse[..at]).map_or(0, |p| p + 1);
                let end = memchr::memchr(b'\n', &self.pulse[at..]).map_or(self.pulse.len(), |p| at + p);
                let l = &self.pulse[start..end];
                if f_base.find(l).is_none() {
                    continue;
                }
                if let Ok(p) = serde_json::from_slice::<PulseState>(l) {
                    out.extend(p.claims);
                }
            }
            out
        })
    }

    /// The sessions whose record (in the digest) or pulse names an edit of
    /// `path`: found by substring search, so a few lines are parsed, not
    /// every session's.
    pub fn editor_ids(&self, path: &str) -> Vec<String> {
        let Ok(key) = serde_json::to_string(path) else {
            return Vec::new();
        };
        let mut ids = std::collections::BTreeSet::new();
        match self.digest.edited_by(&key) {
            Some(found) => ids.extend(found),
            None => self.editors_by_search(&key, &mut ids),
        }
        let needle = format!("\"edit\":{key}");
        for at in memchr::memmem::find_iter(&self.pulse, needle.as_bytes()) {
            let start = memchr::memrchr(b'\n', &self.pulse[..at]).map_or(0, |p| p + 1);
            let end = memchr::memchr(b'\n', &self.pulse[at..]).map_or(self.pulse.len(), |p| at + p);
            if let Ok(p) = serde_json::from_slice::<Pulse>(&self.pulse[start..end]) {
                ids.insert(p.s);
            }
        }
        ids.into_iter().collect()
    }

    /// `editor_ids` in the session lines of a digest without edit lines:
    /// the sessions whose record names `key` (a path as a JSON string).
    fn editors_by_search(&self, key: &str, ids: &mut std::collections::BTreeSet<String>) {
        let sessions = self.digest.session_text();
        let text: &[u8] = &sessions;
        let needle = format!("{key}:\"");
        for at in memchr::memmem::find_iter(text, needle.as_bytes()) {
            let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |p| p + 1);
            let line = &text[start..];
            if line.starts_with(b"F\t") {
                continue;
            }
            if let Some(tab) = memchr::memchr(b'\t', line) {
                if let Ok(id) = std::str::from_utf8(&line[..tab]) {
                    ids.insert(id.to_string());
                }
            }
        }
    }

    /// A registry holding only what reading `id`'s inbox needs: its
    /// session and the open escalations.
    pub fn registry_for(&self, id: &str, session: &Session) -> Registry {
        let mut reg = Registry::default();
        reg.sessions.insert(id.to_string(), session.clone());
        reg.escalations = self.digest.head.escalations.clone();
        reg
    }

    /// A fresh id, unique across machines (repeatable when seeded).
    pub fn mint(&self, prefix: char, now: Time) -> String {
        self.minted.set(self.minted.get() + 1);
        let salt = if self.hub.ids.is_seeded() {
            // The pulse's line count, not its length: a line names its
            // registry by inode and time, which differ from run to run.
            let lines = self.pulse.iter().filter(|b| **b == b'\n').count() as u64;
            self.hub.salt() ^ lines.rotate_left(48)
        } else {
            0
        };
        let salt =
            salt ^ crate::core::ids::fnv1a(&[prefix as u8]) ^ self.minted.get().wrapping_mul(0x9e37_79b9);
        self.hub.ids.mint(prefix, now, salt)
    }

    /// What a rule decided, as the records the hot path writes: ids minted
    /// here, journal entries by `actor` (and marked under a pinned clock),
    /// as a transaction's commit stamps them.
    pub fn records(
        &self,
        fx: crate::core::rules::Effects,
        actor: &crate::core::model::Actor,
        now: Time,
    ) -> super::Materialized {
        let mut out = super::materialize(fx, now, &mut |prefix| self.mint(prefix, now));
        let pinned = self.hub.pinned_clock.then(|| super::PINNED.to_string());
        for e in &mut out.events {
            e.by.get_or_insert_with(|| actor.clone());
            e.clock = pinned.clone();
        }
        out
    }

    /// A readable session name that no session here has (in the digest or
    /// started since on the hot path), repeatable when seeded.
    pub fn readable_name(&self, now: Time) -> String {
        let salt = crate::core::ids::fnv1a(self.mint('n', now).as_bytes());
        crate::core::ids::readable_name(&self.hub.ids, salt, |n| self.session(n).is_some())
    }

    /// Sessions started on the hot path since the digest was written.
    pub fn started(&self) -> usize {
        memchr::memmem::find_iter(&self.pulse, b",\"session\":{").count()
    }

    /// Append the sign of life (one small durable write).
    pub fn append(&self, pulse: &Pulse) -> Result<()> {
        self.hub.append_pulse(pulse)
    }

    /// Write what a rule decided, on the hot path: its messages appended
    /// to MESSAGES.jsonl, then one pulse line with its journal entries (by
    /// `actor`) and the sign of life of `actor.session` at `now`. What it
    /// wrote in MESSAGES.jsonl is returned.
    pub fn commit(
        &self,
        fx: crate::core::rules::Effects,
        actor: crate::core::model::Actor,
        now: Time,
    ) -> Result<Vec<crate::core::model::Message>> {
        self.commit_records(fx, actor, now, now, BTreeMap::new(), None)
    }

    /// `commit`, with records the change wrote whole: claims (null when
    /// gone) and the actor's session; `seen` is the actor's sign of life
    /// (its last one, for a change that is not one).
    pub fn commit_records(
        &self,
        fx: crate::core::rules::Effects,
        actor: crate::core::model::Actor,
        now: Time,
        seen: Time,
        claims: BTreeMap<String, Option<Claim>>,
        session: Option<Session>,
    ) -> Result<Vec<crate::core::model::Message>> {
        let out = self.records(fx, &actor, now);
        let lines: Vec<String> = out.messages.iter().map(crate::core::model::sorted_json).collect();
        self.hub.append(super::MESSAGES, &lines)?;
        let mut events = out.journal;
        events.extend(out.events);
        self.append(&Pulse {
            claims,
            events,
            session,
            ..Pulse::new(self.base.clone(), actor.session.clone(), seen)
        })?;
        Ok(out.messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Config;
    use crate::core::rules::fixtures::t;

    fn open(text: &str, dir: &std::path::Path) -> Digest {
        let path = dir.join("digest");
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let nl = text.find('\n').unwrap();
        Digest {
            head: serde_json::from_str(&text[..nl]).unwrap(),
            file,
            len: text.len() as u64,
            body: nl as u64 + 1,
            text: std::cell::OnceCell::new(),
            pages: Default::default(),
        }
    }

    #[test]
    fn a_session_is_found_by_binary_search_and_an_absent_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        for n in [0usize, 1, 2, 3, 7, 150] {
            let mut reg = Registry::default();
            for i in 0..n {
                let mut s = Session::new(t("09:00:00"));
                // Lines of very different lengths, some longer than a read.
                if i % 3 == 0 {
                    s.note = Some("x".repeat(i * 97 % 9000));
                }
                reg.sessions.insert(format!("s{:03}", i * 2), s);
            }
            let text = digest_of(&reg, "b", &Config::default());
            let d = open(&text, dir.path());
            for i in 0..n {
                let got = d.session(&format!("s{:03}", i * 2)).expect("present");
                assert_eq!(got.session.note, reg.sessions[&format!("s{:03}", i * 2)].note);
                assert!(d.session(&format!("s{:03}", i * 2 + 1)).is_none(), "absent");
            }
            assert!(d.session("a").is_none() && d.session("z").is_none() && d.session("s").is_none());
            // A digest that does not say where sessions start is searched.
            let mut head: serde_json::Value =
                serde_json::from_str(&text[..text.find('\n').unwrap()]).unwrap();
            head.as_object_mut().unwrap().remove("sessions_from");
            let old = format!("{head}{}", &text[text.find('\n').unwrap()..]);
            let d = open(&old, dir.path());
            for i in 0..n {
                assert!(d.session(&format!("s{:03}", i * 2)).is_some());
            }
        }
    }

    #[test]
    fn the_editors_of_a_file_are_found_by_binary_search() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::default();
        for i in 0..40 {
            let mut s = Session::new(t("09:00:00"));
            // Session i edited files f{i} .. f{i+2}: each file has up to
            // three editors; "a\tb" needs escaping.
            for f in i..i + 3 {
                s.edits
                    .insert(format!("src/f{f:02}.rs"), "2026-03-02T09:00:00Z".into());
            }
            if i == 7 {
                s.edits.insert("a\tb".into(), "2026-03-02T09:00:00Z".into());
            }
            reg.sessions.insert(format!("s{i:02}"), s);
        }
        let c: Claim =
            serde_json::from_str(r#"{"holder":"s03","name":"x","token":1,"type":"task"}"#).unwrap();
        reg.claims.insert("task:x".into(), c);
        let key = |p: &str| serde_json::to_string(p).unwrap();
        let text = digest_of(&reg, "b", &Config::default());
        let d = open(&text, dir.path());
        assert_eq!(
            d.edited_by(&key("src/f05.rs")).unwrap(),
            vec!["s03", "s04", "s05"]
        );
        assert_eq!(d.edited_by(&key("src/f00.rs")).unwrap(), vec!["s00"]);
        assert_eq!(d.edited_by(&key("a\tb")).unwrap(), vec!["s07"]);
        assert!(d.edited_by(&key("src/f99.rs")).unwrap().is_empty());
        assert!(
            d.edited_by(&key("src/f0")).unwrap().is_empty(),
            "a prefix names no file"
        );
        // The claim lines before them still end where they end.
        assert_eq!(d.claims_named("task", "x").unwrap().len(), 1);
        assert!(d.session("s39").is_some());
        // A digest without edit lines says so (the caller searches).
        let mut head: serde_json::Value = serde_json::from_str(&text[..text.find('\n').unwrap()]).unwrap();
        let from = head["edits_from"].as_u64().unwrap() as usize;
        head.as_object_mut().unwrap().remove("edits_from");
        let body = &text[text.find('\n').unwrap() + 1..];
        let old = format!("{head}\n{}", &body[..from]);
        let d = open(&old, dir.path());
        assert!(d.edited_by(&key("src/f05.rs")).is_none());
        assert_eq!(d.claims_named("task", "x").unwrap().len(), 1);
    }
}
