//! Moving old log lines out of the way: `coord archive` appends messages and
//! events older than a cutoff to monthly files under `archive/`
//! (`archive/MESSAGES-2026-02.jsonl`) and rewrites the logs without them,
//! under the hub lock, moving every read cursor to the same place in the
//! shorter log. The archived lines stay in the hub (and in git), read by
//! `inbox --all` and `doctor`; the live logs stay short, so everything that
//! scans them stays fast.

use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use serde::Serialize;

use super::fsio::{self, LogChunk};
use super::{Hub, Tx, EVENTS, MESSAGES};
use crate::core::clock::{stamp, Time};
use crate::core::error::{hub, CoordError, Result};
use crate::core::model::{Cursor, Message};

pub const ARCHIVE_DIR: &str = "archive";

/// What an archive run moved.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Archived {
    pub messages: usize,
    pub events: usize,
    /// Old messages kept in the live log because a live session has not
    /// read them yet.
    pub kept_unread: usize,
    /// The files lines were appended to, relative to the hub.
    pub files: Vec<String>,
}

impl Hub {
    /// The archive folder, which must be a real folder when it exists.
    pub(super) fn archive_dir(&self) -> Result<std::path::PathBuf> {
        let dir = self.path(ARCHIVE_DIR);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if !m.is_dir() || m.file_type().is_symlink() => Err(hub(format!(
                "{} is not a folder (a link or a file); coord never follows links in the hub",
                dir.display()
            ))),
            _ => Ok(dir),
        }
    }

    /// Archived files of one log (`MESSAGES` or `EVENTS`), oldest first.
    pub(super) fn archive_files(&self, log: &str) -> Result<Vec<std::path::PathBuf>> {
        let dir = self.archive_dir()?;
        let stem = log.trim_end_matches(".jsonl");
        let mut files: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with(&format!("{stem}-")) && super::incoming::archive_name(n)
                    })
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        Ok(files)
    }

    /// Every message in the archive, oldest file first (lines that are not
    /// valid records skipped).
    pub(super) fn archived_messages(&self) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        for path in self.archive_files(MESSAGES)? {
            let (chunk, _) = fsio::read_lines_from(&path, 0)?;
            out.extend(chunk.lines().filter_map(|(_, l)| serde_json::from_slice(l).ok()));
        }
        Ok(out)
    }
}

impl Tx<'_> {
    /// Move log lines dated before `cutoff` into the archive, except the
    /// messages a session in `readers` (the live ones) has not read yet:
    /// they stay, unread, where they are.
    pub fn archive(&mut self, cutoff: Time, readers: &[&str]) -> Result<Archived> {
        let hub = self.hub;
        let dir = hub.archive_dir()?;
        let cutoff = stamp::format(&cutoff);
        let mut done = Archived::default();
        // Where each live reader has read up to, and what it has pending.
        let unread: Vec<(&str, u64, std::collections::HashSet<String>)> = readers
            .iter()
            .filter_map(|id| {
                let s = self.reg.sessions.get(*id)?;
                let upto = s.cursor.as_ref().map_or(0, |c| c.offset);
                Some((*id, upto, s.pending.iter().cloned().collect()))
            })
            .collect();
        for log in [MESSAGES, EVENTS] {
            let (chunk, _) = fsio::read_lines_from(&hub.path(log), 0)?;
            let keep = |end: u64, line: &[u8]| {
                if log != MESSAGES {
                    return false;
                }
                let Ok(m) = serde_json::from_slice::<Message>(line) else {
                    return false;
                };
                unread.iter().any(|(id, upto, pending)| {
                    m.addressed_to(id) && (end > *upto || pending.contains(m.id.as_str()))
                })
            };
            let plan = split(&chunk, cutoff.as_bytes(), keep);
            done.kept_unread += plan.kept_old;
            if plan.moved.is_empty() {
                continue;
            }
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&dir)
                .map_err(|e| CoordError::io("create", &dir, e))?;
            for (month, lines) in &plan.moved {
                let name = format!("{}-{month}.jsonl", log.trim_end_matches(".jsonl"));
                let path = dir.join(&name);
                append_whole(&path, lines, hub)?;
                done.files.push(format!("{ARCHIVE_DIR}/{name}"));
            }
            let moved: usize = plan.moved.values().map(Vec::len).sum();
            hub.write_atomic(log, &plan.kept)?;
            if log == MESSAGES {
                done.messages = moved;
                for s in self.reg.sessions.values_mut() {
                    if let Some(c) = &s.cursor {
                        s.cursor = plan.remap(c);
                    }
                }
            } else {
                done.events = moved;
            }
        }
        Ok(done)
    }
}

/// Append whole lines to an archive file (created 0644, never through a
/// link), durably: the live log is rewritten only after this.
fn append_whole(path: &std::path::Path, lines: &[&[u8]], hub: &Hub) -> Result<()> {
    use std::io::Write;
    let mut file = fsio::open_checked(
        path,
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(fsio::SHARED),
    )
    .map_err(|e| CoordError::io("open to append", path, e))?;
    let mut buf = Vec::new();
    for l in lines {
        buf.extend_from_slice(l);
        buf.push(b'\n');
    }
    file.write_all(&buf)
        .map_err(|e| CoordError::io("append to", path, e))?;
    if hub.config.durability != crate::core::config::Durability::None {
        file.sync_data().map_err(|e| CoordError::io("fsync", path, e))?;
    }
    Ok(())
}

/// Which lines go (by month) and which stay, and where each kept line ends
/// in the old and the new log.
struct Plan<'a> {
    moved: BTreeMap<String, Vec<&'a [u8]>>,
    kept: Vec<u8>,
    /// (old end, new end, line) of every kept line, in order.
    ends: Vec<(u64, u64, &'a [u8])>,
    /// Lines old enough to go that `keep` held back.
    kept_old: usize,
}

/// Lines dated before `cutoff` go, unless `keep(end, line)` says otherwise.
fn split<'a>(chunk: &'a LogChunk, cutoff: &[u8], keep: impl Fn(u64, &[u8]) -> bool) -> Plan<'a> {
    let mut plan = Plan {
        moved: BTreeMap::new(),
        kept: Vec::new(),
        ends: Vec::new(),
        kept_old: 0,
    };
    for (offset, line) in chunk.lines() {
        let old = super::logs::line_ts(line).filter(|ts| *ts < cutoff && ts.len() >= 7);
        let held = old.is_some() && keep(offset + line.len() as u64 + 1, line);
        plan.kept_old += usize::from(held);
        match old.filter(|_| !held) {
            Some(ts) => {
                let month = String::from_utf8_lossy(&ts[..7]).into_owned();
                plan.moved.entry(month).or_default().push(line);
            }
            _ => {
                plan.kept.extend_from_slice(line);
                plan.kept.push(b'\n');
                plan.ends
                    .push((offset + line.len() as u64 + 1, plan.kept.len() as u64, line));
            }
        }
    }
    plan
}

impl Plan<'_> {
    /// The cursor after the same kept line in the new log: the last kept
    /// line that ended at or before the old position. None when every line
    /// before it was archived: reading from the start is then exact.
    fn remap(&self, old: &Cursor) -> Option<Cursor> {
        let at = self.ends.partition_point(|(end, _, _)| *end <= old.offset);
        let (_, new_end, line) = self.ends.get(at.checked_sub(1)?)?;
        let m: Message = serde_json::from_slice(line).ok()?;
        Some(Cursor {
            offset: *new_end,
            id: Some(m.id),
            len: line.len() as u64 + 1,
            ts: Some(m.ts),
        })
    }
}
