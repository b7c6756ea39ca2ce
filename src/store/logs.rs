//! The log formats, known here and nowhere else: MESSAGES.jsonl and
//! EVENTS.jsonl are one JSON object a line, keys sorted, so `"ts"` ends
//! every line coord writes. Queries: unread messages since a session's
//! cursor, a message by id, the end of the log, every message involving a
//! session, and the newest records in a time window for the briefing.
//!
//! The read cursor is a byte offset kept on the session, so reading costs
//! what arrived since the last read, not the log's size. The line that ends
//! at the cursor is checked on every use; if the log was rewritten (a git
//! merge), the cursor is found again by that line's id, and failing that by
//! its timestamp.

use std::sync::LazyLock;

use memchr::memmem::{Finder, FinderRev};
use serde::de::DeserializeOwned;

use super::fsio::{self, contains, LogChunk};
use super::{Hub, EVENTS, MESSAGES};
use crate::core::clock::Time;
use crate::core::error::Result;
use crate::core::model::{Cursor, Event, Message, Registry};

/// Unread messages for one session, oldest first, each with the cursor just
/// past it, plus the cursor at the end of the scan.
pub struct Unread {
    pub items: Vec<(Message, Cursor)>,
    pub end: Option<Cursor>,
}

/// The newest records of a log within a window, and how many more there are.
pub struct Tail<T> {
    pub shown: Vec<T>,
    pub more: usize,
}

impl Hub {
    fn read_log_from(&self, name: &str, offset: u64) -> Result<LogChunk> {
        let (chunk, torn) = fsio::read_lines_from(&self.path(name), offset)?;
        if torn {
            self.warn_torn(name);
        }
        Ok(chunk)
    }

    /// Parse one log line; a line that is not a valid record is skipped
    /// and counted (a peer's bad line must not stop anyone's reading), and
    /// the count becomes a warning naming the file and the first such line.
    fn parse_line<T: DeserializeOwned>(&self, name: &'static str, offset: u64, line: &[u8]) -> Option<T> {
        match serde_json::from_slice(line) {
            Ok(record) => Some(record),
            Err(_) => {
                self.skip_line(name, offset);
                None
            }
        }
    }

    /// A number that changes whenever a message is appended.
    pub fn messages_version(&self) -> u64 {
        std::fs::metadata(self.path(MESSAGES))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// Where reading starts for a cursor, and a timestamp floor when the
    /// cursor could only be recovered approximately.
    fn cursor_start(&self, cursor: Option<&Cursor>) -> Result<(u64, Option<Time>)> {
        let Some(c) = cursor else { return Ok((0, None)) };
        let Some(id) = &c.id else { return Ok((0, None)) };
        let needle = format!("\"id\":\"{id}\"");
        if c.len > 0 && c.offset >= c.len {
            if let Some(bytes) = fsio::read_at(&self.path(MESSAGES), c.offset - c.len, c.len)? {
                if bytes.last() == Some(&b'\n') && contains(&bytes, needle.as_bytes()) {
                    return Ok((c.offset, None));
                }
            }
        }
        // The log changed under the cursor: find the line again by id.
        let chunk = self.read_log_from(MESSAGES, 0)?;
        let needle = Finder::new(&needle);
        for (offset, line) in chunk.lines() {
            if needle.find(line).is_some() {
                return Ok((offset + line.len() as u64 + 1, None));
            }
        }
        Ok((0, c.ts))
    }

    /// The unread messages for `me` (escalations it acknowledged are skipped).
    pub fn unread(&self, reg: &Registry, me: &str) -> Result<Unread> {
        let cursor = reg.sessions.get(me).and_then(|s| s.cursor.as_ref());
        let (from, floor) = self.cursor_start(cursor)?;
        let chunk = self.read_log_from(MESSAGES, from)?;
        let mine = format!("\"{me}\"");
        let mine = Finder::new(&mine);
        let mut items = Vec::new();
        let mut last = None;
        for (offset, line) in chunk.lines() {
            let here = offset + line.len() as u64 + 1;
            // Lines that cannot be for `me` are skipped unparsed, except the
            // last one, which the new cursor must name.
            let candidate = BROADCAST.find(line).is_some() || mine.find(line).is_some();
            if !candidate && here < chunk.end() {
                continue;
            }
            let Some(m) = self.parse_line::<Message>(MESSAGES, offset, line) else {
                // Skipped (and counted); the cursor stays on the last good
                // line, which it must name.
                continue;
            };
            let at = Cursor {
                offset: here,
                id: Some(m.id.clone()),
                len: line.len() as u64 + 1,
                ts: Some(m.ts),
            };
            let acked = reg
                .escalations
                .get(&m.id)
                .is_some_and(|e| e.acked.contains_key(me));
            if candidate && m.addressed_to(me) && floor.is_none_or(|f| m.ts > f) && !acked {
                items.push((m, at.clone()));
            }
            last = Some(at);
        }
        // Messages a merge put behind the cursor come first: they are older.
        let session = reg.sessions.get(me);
        let pending = session.map(|s| s.pending.as_slice()).unwrap_or_default();
        if !pending.is_empty() {
            let here = cursor.cloned().unwrap_or(Cursor {
                offset: 0,
                id: None,
                len: 0,
                ts: None,
            });
            let mut behind = Vec::new();
            for id in pending {
                if items.iter().any(|(m, _): &(Message, Cursor)| &m.id == id) {
                    continue;
                }
                if let Some(m) = self.find_message(id)? {
                    let acked = reg.escalations.get(id).is_some_and(|e| e.acked.contains_key(me));
                    if m.addressed_to(me) && !acked {
                        behind.push((m, here.clone()));
                    }
                }
            }
            behind.extend(items);
            items = behind;
        }
        Ok(Unread { items, end: last })
    }

    /// How many messages `me` has not read: what `unread` finds, counted
    /// without building the messages (only the routing fields are read), so
    /// a long backlog costs `status` little.
    pub fn unread_count(&self, reg: &Registry, me: &str) -> Result<usize> {
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            from: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            id: std::borrow::Cow<'a, str>,
            #[serde(borrow, default)]
            recipients: Option<Vec<std::borrow::Cow<'a, str>>>,
            #[serde(borrow)]
            to: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            ts: std::borrow::Cow<'a, str>,
        }
        let cursor = reg.sessions.get(me).and_then(|s| s.cursor.as_ref());
        let (from, floor) = self.cursor_start(cursor)?;
        let floor = floor.map(|f| crate::core::clock::stamp::format(&f));
        let mine = format!("\"{me}\"");
        let from_me = format!("\"from\":\"{me}\",");
        // Escalations `me` acknowledged: their lines are not unread.
        let acked: Vec<String> = reg
            .escalations
            .iter()
            .filter(|(_, e)| e.acked.contains_key(me))
            .map(|(id, _)| format!("\"id\":\"{id}\""))
            .collect();
        let mut count = 0;
        // Searchers built once, not once a line.
        let f_from_me = Finder::new(from_me.as_bytes());
        let f_mine = Finder::new(mine.as_bytes());
        let f_acked: Vec<Finder> = acked.iter().map(|a| Finder::new(a.as_bytes())).collect();
        let torn = fsio::scan_lines_from(&self.path(MESSAGES), from, |offset, line| {
            // The usual line, as coord writes it (keys sorted, so `to` and
            // `ts` end it), is judged from its bytes; anything else is parsed.
            // Bytes, not text: the fields compared are ASCII or compared
            // whole, and validating every line as UTF-8 was a third of the
            // cost of 20,000 unread broadcasts.
            if floor.is_none() {
                if let Some(to) = canonical_to(line) {
                    let addressed = if to == b"broadcast" {
                        f_from_me.find(line).is_none()
                    } else {
                        recipients_hold(line, mine.as_bytes())
                    };
                    if addressed && !f_acked.iter().any(|a| a.find(line).is_some()) {
                        count += 1;
                    }
                    return Ok(());
                }
            }
            if !(BROADCAST.find(line).is_some() || f_mine.find(line).is_some()) {
                return Ok(());
            }
            let Ok(h) = serde_json::from_slice::<Head>(line) else {
                self.skip_line(MESSAGES, offset);
                return Ok(());
            };
            let addressed = match &h.recipients {
                Some(list) => list.iter().any(|r| r == me),
                None => h.to == "broadcast" && h.from != me,
            };
            let acked = reg
                .escalations
                .get(h.id.as_ref())
                .is_some_and(|e| e.acked.contains_key(me));
            if addressed && !acked && floor.as_deref().is_none_or(|f| h.ts.as_ref() > f) {
                count += 1;
            }
            Ok(())
        })?;
        if torn {
            self.warn_torn(MESSAGES);
        }
        Ok(count + reg.sessions.get(me).map_or(0, |s| s.pending.len()))
    }

    /// Every message addressed to or sent by `me`: the archive's, then the
    /// log's, in order.
    pub fn messages_involving(&self, me: &str) -> Result<Vec<Message>> {
        let mut all: Vec<Message> = self
            .archived_messages()?
            .into_iter()
            .filter(|m| m.addressed_to(me) || m.from == me)
            .collect();
        let chunk = self.read_log_from(MESSAGES, 0)?;
        for (offset, line) in chunk.lines() {
            let Some(m) = self.parse_line::<Message>(MESSAGES, offset, line) else {
                continue;
            };
            if m.addressed_to(me) || m.from == me {
                all.push(m);
            }
        }
        Ok(all)
    }

    /// Find a message by id, newest first (acks and replies are about recent
    /// messages, so this usually reads only the end of the log).
    pub fn find_message(&self, id: &str) -> Result<Option<Message>> {
        let path = self.path(MESSAGES);
        let needle = format!("\"id\":\"{id}\"");
        let needle = Finder::new(&needle);
        let mut found = None;
        let torn = fsio::rev_lines(&path, |offset, line| {
            if needle.find(line).is_some() {
                let Some(m) = self.parse_line::<Message>(MESSAGES, offset, line) else {
                    return Ok(true);
                };
                if m.id == id {
                    found = Some(m);
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        if torn {
            self.warn_torn(MESSAGES);
        }
        Ok(found)
    }

    /// A cursor just past the last message: where a new session starts reading.
    pub fn end_of_messages(&self) -> Result<Option<Cursor>> {
        let mut cursor = None;
        let torn = fsio::rev_lines(&self.path(MESSAGES), |offset, line| {
            let Some(m) = self.parse_line::<Message>(MESSAGES, offset, line) else {
                return Ok(true);
            };
            cursor = Some(Cursor {
                offset: offset + line.len() as u64 + 1,
                id: Some(m.id),
                len: line.len() as u64 + 1,
                ts: Some(m.ts),
            });
            Ok(false)
        })?;
        if torn {
            self.warn_torn(MESSAGES);
        }
        Ok(cursor)
    }

    /// The newest `cap` messages at or after `cutoff`, newest first.
    pub fn recent_messages(&self, cutoff: Time, cap: usize) -> Result<Tail<Message>> {
        self.tail(MESSAGES, cutoff, cap, &|_| false, &mut |_, _| {})
    }

    /// The newest `cap` journal entries at or after `cutoff`, newest first,
    /// heartbeats and reads left out (the sessions table sums them up; reads
    /// are for `coord kpi`).
    pub fn recent_events(&self, cutoff: Time, cap: usize) -> Result<Tail<Event>> {
        let tail = self.tail(EVENTS, cutoff, cap, &skipped_event, &mut |_, _| {})?;
        Ok(with_pulse_events(tail, &self.pulse_events()?, cutoff, cap))
    }

    /// Journal entries from byte `offset` of EVENTS.jsonl on, complete
    /// lines only, those `keep` passes (a test on the raw line) parsed, in
    /// log order; and the offset just past the last complete line.
    pub fn journal_from(&self, offset: u64, keep: impl Fn(&[u8]) -> bool) -> Result<(Vec<Event>, u64)> {
        let mut out = Vec::new();
        let mut end = offset;
        let torn = fsio::scan_lines_from(&self.path(EVENTS), offset, |at, line| {
            end = at + line.len() as u64 + 1;
            if keep(line) {
                out.extend(self.parse_line::<Event>(EVENTS, at, line));
            }
            Ok(())
        })?;
        if torn {
            self.warn_torn(EVENTS);
        }
        Ok((out, end))
    }

    /// The archived journal (`archive/EVENTS-YYYY-MM.jsonl`, oldest month
    /// first), filtered as `journal_from` does.
    pub fn archived_journal(&self, keep: impl Fn(&[u8]) -> bool) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for path in self.archive_files(EVENTS)? {
            fsio::scan_lines(&path, |_, line| {
                if keep(line) {
                    out.extend(serde_json::from_slice::<Event>(line).ok());
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// The live journal's length in bytes (shorter than before: rewritten,
    /// by an archive or a sync).
    pub fn journal_len(&self) -> u64 {
        std::fs::metadata(self.path(EVENTS)).map(|m| m.len()).unwrap_or(0)
    }

    /// The journal entries made under a pinned clock: how many, and how
    /// many of them lapsed a claim.
    pub fn pinned_entries(&self) -> Result<(usize, usize)> {
        let (mut all, mut lapses) = (0, 0);
        let mark = format!("\"clock\":\"{}\"", super::PINNED);
        let mark = Finder::new(&mark);
        let torn = fsio::scan_lines(&self.path(EVENTS), |_, line| {
            if mark.find(line).is_some() {
                all += 1;
                lapses += usize::from(raw_kind(line) == Some(b"claim.lapsed".as_slice()));
            }
            Ok(())
        })?;
        if torn {
            self.warn_torn(EVENTS);
        }
        Ok((all, lapses))
    }

    /// What `coord kpi` reads, parsed only where it must be: the journal
    /// entries at or after `cutoff` of one of `kinds` (found by their raw
    /// `"kind"` first), then the messages in the window that are replies or
    /// that those entries of `about_messages` name (found by their raw `"id"`).
    /// In log order.
    pub fn kpi_records(&self, cutoff: Time, kinds: &[&str], about_messages: &[&str]) -> Result<KpiRecords> {
        let mut kpi = KpiScan::new(cutoff, kinds, about_messages);
        let stamp = kpi.cutoff.clone();
        let torn = self.scan_window(EVENTS, &stamp, |offset, line| {
            if kpi.recent(line) {
                kpi.event_line(self, offset, line);
            }
            Ok(())
        })?;
        if torn {
            self.warn_torn(EVENTS);
        }
        kpi.pulse(self.pulse_events_where(|line| kpi.wants_pulse_line(line))?);
        let torn = self.scan_window(MESSAGES, &stamp, |offset, line| {
            if kpi.recent(line) {
                kpi.message_line(self, offset, line);
            }
            Ok(())
        })?;
        if torn {
            self.warn_torn(MESSAGES);
        }
        Ok(kpi.records)
    }

    /// The briefing's reads of the logs, each window read once: the newest
    /// messages and journal entries (as `recent_messages` and
    /// `recent_events`) and the KPIs' records (as `kpi_records`), all at or
    /// after `cutoff`.
    pub fn recent_with_kpi(
        &self,
        cutoff: Time,
        caps: (usize, usize),
        kinds: &[&str],
        about_messages: &[&str],
    ) -> Result<Recent> {
        let mut kpi = KpiScan::new(cutoff, kinds, about_messages);
        let pulse = self.pulse_events()?;
        let events = self.tail(EVENTS, cutoff, caps.1, &skipped_event, &mut |offset, line| {
            kpi.event_line(self, offset, line)
        })?;
        let events = with_pulse_events(events, &pulse, cutoff, caps.1);
        kpi.pulse(pulse);
        let messages = self.tail(MESSAGES, cutoff, caps.0, &|_| false, &mut |offset, line| {
            kpi.message_line(self, offset, line)
        })?;
        Ok(Recent {
            messages,
            events,
            kpi: kpi.records,
        })
    }

    /// The newest `cap` records at or after `cutoff` that `skip` (a test of
    /// the raw line) leaves, and a count of the others in the window; `also`
    /// sees every line of the window, skipped or not. Every line the
    /// window can hold is judged (the log index skips only blocks with no
    /// line in it) and lines are ranked by time: a git merge reorders
    /// lines, so the first line older than the window says nothing about
    /// the lines after it. Records of the same second keep their order in
    /// the log (the later line counts as newer), the only order there is
    /// between them. Only the newest few lines are kept (not a list of the
    /// window) and only the shown ones are parsed; the others
    /// are judged by their raw `"ts"`. When so many of the kept lines do not
    /// parse that fewer than `cap` are left, the window is read again
    /// keeping more.
    fn tail<T: DeserializeOwned>(
        &self,
        log: &'static str,
        cutoff: Time,
        cap: usize,
        skip: &dyn Fn(&[u8]) -> bool,
        also: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<Tail<T>> {
        use std::os::unix::fs::FileExt;
        type Line = (Stamp, u64, u32);
        let cutoff = crate::core::clock::stamp::format(&cutoff);
        let floor_ts = Stamp::new(cutoff.as_bytes());
        let path = self.path(log);
        let Some(mut w) = self.window(log, &cutoff)? else {
            return Ok(Tail {
                shown: Vec::new(),
                more: 0,
            });
        };
        if w.torn {
            self.warn_torn(log);
        }
        let ranges = std::mem::take(&mut w.ranges);
        let newest_first = |a: &Line, b: &Line| b.cmp(a);
        let mut keep = cap + 8;
        let mut first = true;
        loop {
            // The newest `keep` lines of the window as (time, offset,
            // length), among others: collected, and cut back to the newest
            // `keep` whenever `held` are; and the line a line must beat to
            // be kept once that is known. And how many lines the window
            // holds.
            let held = keep.saturating_mul(8);
            let mut newest: Vec<Line> = Vec::with_capacity(held.min(1 << 16));
            let mut floor: Option<Line> = None;
            let mut total = 0usize;
            for range in &ranges {
                fsio::scan_range(&mut w.file, &path, range.clone(), |offset, line| {
                    let Some(ts) = line_ts(line) else {
                        self.skip_line(log, offset);
                        return Ok(());
                    };
                    let ts = Stamp::new(ts);
                    if ts < floor_ts {
                        return Ok(());
                    }
                    if first {
                        also(offset, line);
                    }
                    if skip(line) {
                        return Ok(());
                    }
                    total += 1;
                    let entry = (ts, offset, line.len() as u32);
                    if floor.is_some_and(|f| entry <= f) {
                        return Ok(());
                    }
                    newest.push(entry);
                    if newest.len() == held {
                        newest.select_nth_unstable_by(keep - 1, newest_first);
                        newest.truncate(keep);
                        floor = newest.iter().min().copied();
                    }
                    Ok(())
                })?;
            }
            first = false;
            if newest.len() > keep {
                newest.select_nth_unstable_by(keep - 1, newest_first);
                newest.truncate(keep);
            }
            newest.sort_unstable_by(newest_first);
            // Parse newest first until `cap` are shown; a line that does not
            // parse is skipped (and counted), and the next one takes its place.
            let mut shown = Vec::with_capacity(cap.min(newest.len()));
            let mut used = 0;
            let mut line = Vec::new();
            for (_, offset, len) in &newest {
                if shown.len() == cap {
                    break;
                }
                used += 1;
                line.resize(*len as usize, 0);
                if w.file.read_exact_at(&mut line, *offset).is_err() {
                    line.clear();
                }
                if let Some(record) = self.parse_line(log, *offset, &line) {
                    shown.push(record);
                }
            }
            if shown.len() < cap && newest.len() < total {
                keep = keep.saturating_mul(4);
                continue;
            }
            return Ok(Tail {
                shown,
                more: total - used,
            });
        }
    }
}

/// Journal entries the briefing's activity list leaves out: heartbeats (the
/// sessions table sums them up) and reads (for `coord kpi`).
const SKIP_KINDS: [&str; 2] = ["session.heartbeat", "message.read"];

/// Whether a raw journal line is of one of `SKIP_KINDS` (its first
/// `"kind"`: the entry's own, as keys are sorted and `"by"` has none).
fn skipped_event(line: &[u8]) -> bool {
    raw_kind(line).is_some_and(|k| SKIP_KINDS.iter().any(|s| s.as_bytes() == k))
}

/// The briefing's reads of the logs (`Hub::recent_with_kpi`).
pub struct Recent {
    pub messages: Tail<Message>,
    pub events: Tail<Event>,
    pub kpi: KpiRecords,
}

/// What the KPIs read from the logs (`Hub::kpi_records`).
#[derive(Debug, Default)]
pub struct KpiRecords {
    /// Journal entries of each kind counted (valid JSON lines; not parsed).
    pub counts: std::collections::BTreeMap<String, usize>,
    /// The entries about a message, parsed (they are timed from it).
    pub events: Vec<Event>,
    /// The messages that are replies or that those entries name.
    pub messages: Vec<Message>,
}

/// The journal's tail with the entries the pulse still carries (a message
/// sent on the hot path): those are the newest, they come first.
fn with_pulse_events(mut tail: Tail<Event>, pulse: &[Event], cutoff: Time, cap: usize) -> Tail<Event> {
    let mut pending: Vec<Event> = pulse
        .iter()
        .filter(|e| e.ts >= cutoff && !SKIP_KINDS.contains(&e.kind.as_str()))
        .cloned()
        .collect();
    if !pending.is_empty() {
        pending.extend(tail.shown);
        tail.shown = pending;
        tail.shown.sort_by_key(|e| std::cmp::Reverse(e.ts));
        let over = tail.shown.len().saturating_sub(cap);
        tail.shown.truncate(cap);
        tail.more += over;
    }
    tail
}

/// The KPIs' records, gathered a line at a time (so that one read of a
/// window serves the briefing's tails too): journal entries first, then the
/// pulse's, then messages.
struct KpiScan<'k> {
    cutoff: String,
    kinds: &'k [&'k str],
    /// `"kind":"KIND"` for each of `kinds`, as found in a raw line.
    raw_kinds: Vec<Finder<'static>>,
    about_messages: &'k [&'k str],
    records: KpiRecords,
    /// The ids of the messages the entries of `about_messages` name.
    named: std::collections::HashSet<Vec<u8>, fsio::Quick>,
}

impl<'k> KpiScan<'k> {
    fn new(cutoff: Time, kinds: &'k [&'k str], about_messages: &'k [&'k str]) -> KpiScan<'k> {
        KpiScan {
            cutoff: crate::core::clock::stamp::format(&cutoff),
            kinds,
            raw_kinds: kinds
                .iter()
                .map(|k| Finder::new(&format!("\"kind\":\"{k}\"")).into_owned())
                .collect(),
            about_messages,
            records: KpiRecords::default(),
            named: Default::default(),
        }
    }

    fn count(&mut self, kind: &str) {
        *self.records.counts.entry(kind.to_string()).or_default() += 1;
    }

    fn recent(&self, line: &[u8]) -> bool {
        line_ts(line).is_some_and(|ts| ts >= self.cutoff.as_bytes())
    }

    /// A journal line of the window: counted when it is of a kind counted
    /// and JSON; parsed only when it is about a message.
    fn event_line(&mut self, hub: &Hub, offset: u64, line: &[u8]) {
        let Some(raw) = raw_kind(line) else {
            return;
        };
        let Some(kind) = self.kinds.iter().copied().find(|k| k.as_bytes() == raw) else {
            return;
        };
        if self.about_messages.contains(&kind) {
            if let Some(e) = hub.parse_line::<Event>(EVENTS, offset, line) {
                self.count(&e.kind);
                self.records.events.push(e);
            }
        } else if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
            self.count(kind);
        } else {
            hub.skip_line(EVENTS, offset);
        }
    }

    /// Whether a pulse line can carry an entry of one of the kinds.
    fn wants_pulse_line(&self, line: &[u8]) -> bool {
        self.raw_kinds.iter().any(|k| k.find(line).is_some())
    }

    /// The pulse's entries (reads and activity changes not yet folded into
    /// the journal); then which messages the entries name.
    fn pulse(&mut self, entries: Vec<Event>) {
        let since = crate::core::clock::parse_time(&self.cutoff);
        for e in entries {
            if !self.kinds.contains(&e.kind.as_str()) || since.is_some_and(|c| e.ts < c) {
                continue;
            }
            self.count(&e.kind);
            if self.about_messages.contains(&e.kind.as_str()) {
                self.records.events.push(e);
            }
        }
        self.named = self
            .records
            .events
            .iter()
            .filter_map(|e| Some(e.target.clone()?.into_bytes()))
            .collect();
    }

    /// A message line of the window: parsed when it is a reply or named.
    fn message_line(&mut self, hub: &Hub, offset: u64, line: &[u8]) {
        let named = || !self.named.is_empty() && raw_id(line).is_some_and(|id| self.named.contains(id));
        if REPLY_TO.find(line).is_some() || named() {
            self.records
                .messages
                .extend(hub.parse_line::<Message>(MESSAGES, offset, line));
        }
    }
}

/// The `to` of a line shaped as coord writes messages: ending in
/// `,"to":"VALUE","ts":"TIME"}` with a VALUE free of quotes and escapes.
fn canonical_to(line: &[u8]) -> Option<&[u8]> {
    const TS: &[u8] = b"\",\"ts\":\"";
    let ts_at = line.len().checked_sub(TS.len() + 22)?;
    if line.get(ts_at..ts_at + TS.len())? != TS || !line.ends_with(b"Z\"}") {
        return None;
    }
    let head = &line[..ts_at];
    let start = TO.rfind(head)? + TO.needle().len();
    let to = &head[start..];
    (!to.iter().any(|b| *b == b'"' || *b == b'\\')).then_some(to)
}

/// Whether the `"recipients":[...]` list of a canonical line names `who`
/// (given quoted).
fn recipients_hold(line: &[u8], who: &[u8]) -> bool {
    let Some(start) = RECIPIENTS.find(line) else {
        return false;
    };
    let list = &line[start + RECIPIENTS.needle().len()..];
    let list = &list[..memchr::memchr(b']', list).unwrap_or(list.len())];
    list.split(|b| *b == b',').any(|item| item == who)
}

/// A line's raw time, kept inline as big-endian words: every writer
/// formats it the same way, so comparing the words compares the bytes, and
/// so the times.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp([u64; 4]);

impl Stamp {
    fn new(raw: &[u8]) -> Stamp {
        let mut b = [0u8; 32];
        let n = raw.len().min(32);
        b[..n].copy_from_slice(&raw[..n]);
        let word = |i: usize| u64::from_be_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        Stamp([word(0), word(1), word(2), word(3)])
    }
}

/// A raw string field found by its key (`"id":"`) in a log line, without
/// parsing it (the first occurrence: keys are sorted, and `"id"` and
/// `"kind"` come before any free text in messages and events, which is
/// escaped anyway). Its searcher is built once a process: building one
/// costs more than searching a short line with it.
struct FieldKey(Finder<'static>);

impl FieldKey {
    fn new(key: &'static [u8]) -> FieldKey {
        FieldKey(Finder::new(key))
    }

    fn find<'a>(&self, line: &'a [u8]) -> Option<&'a [u8]> {
        value_at(line, self.0.find(line)? + self.0.needle().len())
    }
}

/// Searchers of the patterns judged in every line of a scan, built once.
static KIND: LazyLock<FieldKey> = LazyLock::new(|| FieldKey::new(b"\"kind\":\""));
static ID: LazyLock<FieldKey> = LazyLock::new(|| FieldKey::new(b"\"id\":\""));
static BROADCAST: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"broadcast\""));
static REPLY_TO: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"reply_to\":\""));
static RECIPIENTS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b",\"recipients\":["));
static TO: LazyLock<FinderRev<'static>> = LazyLock::new(|| FinderRev::new(b",\"to\":\""));

/// A journal line's raw `"kind"`.
pub fn raw_kind(line: &[u8]) -> Option<&[u8]> {
    KIND.find(line)
}

/// A log line's raw `"id"`.
pub fn raw_id(line: &[u8]) -> Option<&[u8]> {
    ID.find(line)
}

/// The raw string value that starts at byte `at` of `line`.
fn value_at(line: &[u8], at: usize) -> Option<&[u8]> {
    let len = memchr::memchr(b'"', &line[at..])?;
    Some(&line[at..at + len])
}

/// The raw `"ts"` value of a log line: every writer formats it the same way
/// (`2026-01-01T09:00:00Z`), so bytes compare like times.
pub fn line_ts(line: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"ts\":\"";
    // Keys are sorted and "ts" sorts last in messages and events, so the
    // time normally ends the line: `..."ts":"2026-01-01T09:00:00Z"}`.
    if let Some(head) = line.len().checked_sub(KEY.len() + 22) {
        if &line[head..head + KEY.len()] == KEY && line.ends_with(b"Z\"}") {
            return Some(&line[head + KEY.len()..line.len() - 2]);
        }
    }
    let text = std::str::from_utf8(line).ok()?;
    let at = text.rfind("\"ts\":\"")? + KEY.len();
    let len = line[at..].iter().position(|b| *b == b'"')?;
    Some(&line[at..at + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_is_found_without_parsing() {
        let line = br#"{"from":"a","id":"m-1","ts":"2026-01-01T09:00:00Z"}"#;
        assert_eq!(line_ts(line), Some(&b"2026-01-01T09:00:00Z"[..]));
        assert_eq!(line_ts(b"{}"), None);
    }
}
