//! Which parts of a log can hold lines of a recent window, machine-local
//! (`.logscan.json` in the hub, never shared; like `.digest`, deleting it
//! only costs one full read of each log).
//!
//! The briefing and `coord kpi` want the lines at or after a cutoff: a day
//! out of a week of logs. Lines are appended in about time order, but a git
//! merge or a hand edit can put a recent line anywhere, so the only safe
//! answer without an index is to read every line (42 MiB for 100,000
//! messages and 100,000 events, four times per briefing). The index cuts
//! each log into blocks of about 64 KiB, whole lines each, and keeps the
//! newest time in each block: a block whose newest time is before the
//! cutoff cannot hold a line of the window and is not read. Whatever the
//! order of the lines, the answer is the same as reading them all; when they
//! are in about time order, the old blocks are skipped.
//!
//! Logs only grow between rewrites, so the index of a log is extended by
//! the lines appended since, and rebuilt when the log is another file (its
//! device or inode changed: a sync, an archive or an editor replaced it),
//! shorter than what was indexed, or no longer ends with the bytes it ended
//! with when indexed. Anything wrong with the index file means a rebuild.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;

use serde::{Deserialize, Serialize};

use super::{fsio, Hub};
use crate::core::config::Durability;
use crate::core::error::{CoordError, Result};

pub const LOGSCAN: &str = ".logscan.json";
/// A block is closed once it holds this many bytes of lines.
const BLOCK: u64 = 64 * 1024;
/// How many bytes before the indexed end must still be the same.
const FINGERPRINT: u64 = 64;
/// The newest time of a block holding a line without a readable time:
/// above every time, so the block is always read (and the line reported).
const UNTIMED: &str = "~";
const VERSION: u32 = 1;

/// The index of every log (the file's contents).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Index {
    version: u32,
    logs: BTreeMap<String, LogIndex>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct LogIndex {
    dev: u64,
    ino: u64,
    /// Bytes indexed: the end of the last complete line seen.
    len: u64,
    /// A hash of the bytes just before `len`.
    tail: u64,
    /// Each block's first byte and the newest time of its lines (the raw
    /// `"ts"`, compared as bytes as the scans compare them).
    blocks: Vec<(u64, String)>,
}

impl LogIndex {
    /// Add the line at `offset` (`len` bytes, newline included) of time `ts`.
    fn add(&mut self, offset: u64, len: u64, ts: Option<&[u8]>) {
        let ts = ts.and_then(|t| std::str::from_utf8(t).ok()).unwrap_or(UNTIMED);
        match self.blocks.last_mut() {
            Some((start, newest)) if offset - *start < BLOCK => {
                if ts > newest.as_str() {
                    *newest = ts.to_string();
                }
            }
            _ => self.blocks.push((offset, ts.to_string())),
        }
        self.len = offset + len;
    }

    /// The byte ranges that can hold a line at or after `cutoff`, merged.
    fn ranges(&self, cutoff: &str) -> Vec<std::ops::Range<u64>> {
        let mut out: Vec<std::ops::Range<u64>> = Vec::new();
        for (i, (start, newest)) in self.blocks.iter().enumerate() {
            if newest.as_str() < cutoff {
                continue;
            }
            let end = self.blocks.get(i + 1).map_or(self.len, |b| b.0);
            match out.last_mut() {
                Some(r) if r.end == *start => r.end = end,
                _ => out.push(*start..end),
            }
        }
        out
    }

    /// Whether the blocks describe `len` bytes from 0 in order.
    fn well_formed(&self) -> bool {
        let starts_ok = self.blocks.first().is_none_or(|b| b.0 == 0)
            && self.blocks.windows(2).all(|w| w[0].0 < w[1].0)
            && self.blocks.last().is_none_or(|b| b.0 < self.len);
        starts_ok && (self.blocks.is_empty() == (self.len == 0))
    }
}

/// The hash of the `FINGERPRINT` bytes before `len` in `file`.
fn fingerprint(file: &mut File, len: u64) -> std::io::Result<u64> {
    let from = len.saturating_sub(FINGERPRINT);
    let mut buf = vec![0u8; (len - from) as usize];
    file.seek(SeekFrom::Start(from))?;
    file.read_exact(&mut buf)?;
    Ok(crate::core::ids::fnv1a(&buf))
}

/// A log's lines of a window: the open file and the ranges to read.
pub(super) struct Window {
    pub file: File,
    pub ranges: Vec<std::ops::Range<u64>>,
    /// Bytes after the last complete line (a torn line being written).
    pub torn: bool,
}

impl Hub {
    /// The parts of `log` that can hold a line whose raw `"ts"` is at or
    /// after `cutoff`, the index brought up to date first (and saved when
    /// it changed). `None` when the log does not exist.
    pub(super) fn window(&self, log: &str, cutoff: &str) -> Result<Option<Window>> {
        let path = self.path(log);
        let Some(mut file) = fsio::open_log(&path)? else {
            return Ok(None);
        };
        let io = |e| CoordError::io("read", &path, e);
        let meta = file.metadata().map_err(io)?;
        // Read from disk once a process; both logs' entries live in it.
        let mut cached = self.logscan.borrow_mut();
        let index = cached.get_or_insert_with(|| self.load_logscan());
        let known = index.logs.get(log).cloned().unwrap_or_default();
        let mut entry = if known.dev == meta.dev()
            && known.ino == meta.ino()
            && known.len <= meta.len()
            && known.well_formed()
            && fingerprint(&mut file, known.len).ok() == Some(known.tail)
        {
            known.clone()
        } else {
            LogIndex {
                dev: meta.dev(),
                ino: meta.ino(),
                ..LogIndex::default()
            }
        };
        let torn = fsio::scan_range(&mut file, &path, entry.len..meta.len(), |offset, line| {
            entry.add(offset, line.len() as u64 + 1, super::logs::line_ts(line));
            Ok(())
        })?;
        let ranges = entry.ranges(cutoff);
        if entry != known {
            entry.tail = fingerprint(&mut file, entry.len).map_err(io)?;
            index.version = VERSION;
            index.logs.insert(log.to_string(), entry);
            self.save_logscan(index);
        }
        Ok(Some(Window { file, ranges, torn }))
    }

    /// Visit the lines of `log` that can be at or after `cutoff` (and
    /// maybe others: the caller still judges each line), in file order.
    /// Returns whether a torn last line was left out.
    pub(super) fn scan_window(
        &self,
        log: &str,
        cutoff: &str,
        mut f: impl FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<bool> {
        let Some(mut w) = self.window(log, cutoff)? else {
            return Ok(false);
        };
        let path = self.path(log);
        for range in w.ranges.clone() {
            fsio::scan_range(&mut w.file, &path, range, &mut f)?;
        }
        Ok(w.torn)
    }

    /// Drop the index: the next reader of each log reads it all once.
    pub(super) fn forget_logscan(&self) {
        self.logscan.borrow_mut().take();
        let _ = std::fs::remove_file(self.path(LOGSCAN));
    }

    fn load_logscan(&self) -> Index {
        let Ok(Some(bytes)) = fsio::read_optional(&self.path(LOGSCAN)) else {
            return Index::default();
        };
        match serde_json::from_slice::<Index>(&bytes) {
            Ok(index) if index.version == VERSION => index,
            _ => Index::default(),
        }
    }

    /// Save the index, or leave it: it only saves work, and a reader may
    /// not be able to write the hub.
    fn save_logscan(&self, index: &Index) {
        if let Ok(bytes) = serde_json::to_vec(index) {
            let _ = fsio::write_atomic_mode(&self.dir, LOGSCAN, &bytes, Durability::None, fsio::PRIVATE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(lines: &[(&str, u64)]) -> LogIndex {
        let mut ix = LogIndex::default();
        let mut at = 0;
        for (ts, len) in lines {
            ix.add(at, *len, (!ts.is_empty()).then_some(ts.as_bytes()));
            at += len;
        }
        ix
    }

    #[test]
    fn old_blocks_are_skipped_and_a_late_line_anywhere_is_found() {
        // Three full blocks in time order, then a recent line merged into
        // the first block's place in the log.
        let big = BLOCK / 2;
        let ix = index_of(&[
            ("2026-01-01T00:00:00Z", big),
            ("2026-01-09T00:00:00Z", big),
            ("2026-01-02T00:00:00Z", big),
            ("2026-01-02T00:00:01Z", big),
            ("2026-01-05T00:00:00Z", big),
            ("2026-01-06T00:00:00Z", big),
        ]);
        assert_eq!(ix.blocks.len(), 3);
        assert!(ix.well_formed());
        assert_eq!(ix.ranges("2026-01-08T00:00:00Z"), vec![0..BLOCK]);
        assert_eq!(
            ix.ranges("2026-01-05T00:00:00Z"),
            vec![0..BLOCK, 2 * BLOCK..3 * BLOCK]
        );
        assert_eq!(ix.ranges("2026-01-01T00:00:00Z"), vec![0..3 * BLOCK]);
        assert_eq!(
            ix.ranges("2026-02-01T00:00:00Z"),
            Vec::<std::ops::Range<u64>>::new()
        );
    }

    #[test]
    fn a_block_with_a_line_without_a_time_is_always_read() {
        let ix = index_of(&[
            ("2026-01-01T00:00:00Z", BLOCK),
            ("", 10),
            ("2026-01-01T00:00:00Z", BLOCK),
        ]);
        assert_eq!(ix.ranges("2027-01-01T00:00:00Z"), vec![BLOCK..BLOCK + 10 + BLOCK]);
    }

    #[test]
    fn a_malformed_index_is_not_used() {
        let mut ix = index_of(&[("2026-01-01T00:00:00Z", 100)]);
        assert!(ix.well_formed());
        ix.blocks[0].0 = 5;
        assert!(!ix.well_formed());
        let mut ix = index_of(&[("2026-01-01T00:00:00Z", 100)]);
        ix.len = 0;
        assert!(!ix.well_formed());
    }
}
