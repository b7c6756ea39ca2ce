//! What a hub commit may bring into this machine. Whoever can push to the
//! shared remote writes the hub branch's trees, so a commit is read as
//! untrusted input: only the hub's own data paths are taken
//! (`REGISTRY.json`, the log segments `MESSAGES/YYYY-MM-DDTHH.jsonl` and
//! `EVENTS/...`, the logs whole as older coords pushed them, and
//! `archive/MESSAGES-YYYY-MM.jsonl` / `archive/EVENTS-YYYY-MM.jsonl`), each a
//! regular blob (mode 100644) of bounded size, matched exactly by full path
//! in one listing (so `..`, `archive/../config` or a nested folder is a path
//! that does not match, and nothing is ever resolved on disk). Everything
//! else is left in git and named once in a warning.
//! The briefing, the settings and the attributes on the branch are coord's
//! own output or the owners' decision, never taken. Log lines that are not
//! records are dropped here; the registry is checked by the caller as
//! doctor checks it.

use std::collections::BTreeMap;
use std::path::Path;

use super::archive::ARCHIVE_DIR;
use super::git::{git, run_raw};
use super::{EVENTS, MESSAGES, REGISTRY, STATE};
use crate::core::error::{hub, Result};

/// A hub's shared data, path (relative to the hub) to bytes.
pub(super) type Files = BTreeMap<String, Vec<u8>>;

/// The largest registry and log a peer may send (the 100,000-message
/// benchmark hub's logs are about 25 MiB).
const MAX_REGISTRY: u64 = 64 << 20;
const MAX_LOG: u64 = 512 << 20;

/// Names the branch carries that are never taken: the briefing is made here
/// from the merged state, settings are the repository owners' (the code
/// branch) or this clone's, the attributes are coord's own.
const NOT_TAKEN: [&str; 4] = [STATE, crate::core::config::FILE, ".gitattributes", ".gitignore"];

/// An archive file's name: `MESSAGES-2026-02.jsonl` or `EVENTS-2026-02.jsonl`.
pub fn archive_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("MESSAGES-")
        .or_else(|| name.strip_prefix("EVENTS-"))
    else {
        return false;
    };
    let Some(month) = rest.strip_suffix(".jsonl") else {
        return false;
    };
    let b = month.as_bytes();
    b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit())
}

/// Whether `path` (relative to the hub) is one of the hub's shared data files.
pub(super) fn data_name(path: &str) -> bool {
    match path.split_once('/') {
        None => [REGISTRY, MESSAGES, EVENTS].contains(&path),
        Some((dir, name)) => dir == ARCHIVE_DIR && archive_name(name),
    }
}

/// Whether `path` is hub data on the branch: a hub data file, or a log
/// segment (`MESSAGES/2026-03-09T11.jsonl`).
fn branch_name(path: &str) -> bool {
    data_name(path)
        || path.split_once('/').is_some_and(|(dir, name)| {
            super::segments::log_of(dir).is_some() && super::segments::segment_name(name)
        })
}

/// What a commit brought: the data taken, and what was left out.
pub(super) struct Incoming {
    pub files: Files,
    /// Entries not taken, readable (sanitised), for one warning.
    pub ignored: Vec<String>,
    /// Log lines that are not records, dropped.
    pub dropped_lines: usize,
}

struct Entry {
    mode: String,
    kind: String,
    oid: String,
    size: Option<u64>,
    name: String,
}

/// Every entry of a tree at every depth, folders included, by full path
/// (`git ls-tree -r -t -l -z`).
fn ls_tree(repo: &Path, treeish: &str) -> Result<Vec<Entry>> {
    let mut c = git(repo);
    c.args(["ls-tree", "-r", "-t", "-l", "-z", treeish]);
    let out = run_raw(c, b"", "list a hub commit")?;
    let mut entries = Vec::new();
    for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let text = String::from_utf8_lossy(record);
        let Some((meta, name)) = text.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split_whitespace();
        let (Some(mode), Some(kind), Some(oid), Some(size)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        entries.push(Entry {
            mode: mode.to_string(),
            kind: kind.to_string(),
            oid: oid.to_string(),
            size: size.parse().ok(),
            // A name that is not UTF-8 is lossy here and so never a hub name.
            name: name.to_string(),
        });
    }
    Ok(entries)
}

fn regular_blob(e: &Entry, max: u64) -> bool {
    e.mode == "100644" && e.kind == "blob" && e.size.is_some_and(|s| s <= max)
}

/// The hub data of `commit`, taken as described above, with each log
/// whole (its segments joined, hour by hour). Blobs in `known` (this
/// clone's own segments, by id) are not read again.
pub(super) fn read_hub(repo: &Path, commit: &str, known: &Known) -> Result<Incoming> {
    let (wanted, ignored) = list(repo, commit)?;
    let unknown: BTreeMap<String, String> = wanted
        .iter()
        .filter(|(_, oid)| !known.contains_key(*oid))
        .map(|(p, o)| (p.clone(), o.clone()))
        .collect();
    let mut read = read_blobs(repo, &unknown)?;
    let mut dropped_lines = 0;
    for (path, bytes) in read.iter_mut() {
        if path != REGISTRY {
            dropped_lines += keep_records(bytes);
        }
    }
    let mut files = Files::new();
    let mut segments: BTreeMap<&'static str, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for (path, oid) in &wanted {
        let bytes = match read.remove(path) {
            Some(b) => b,
            None => known.get(oid).cloned().unwrap_or_default(),
        };
        match path
            .split_once('/')
            .and_then(|(dir, name)| Some((super::segments::log_of(dir)?, name)))
        {
            Some((log, name)) => {
                segments.entry(log).or_default().insert(name.to_string(), bytes);
            }
            None => {
                files.insert(path.clone(), bytes);
            }
        }
    }
    for (log, parts) in segments {
        let joined = super::segments::join(parts.values());
        let whole = match files.remove(log) {
            // A branch written by an older coord: the log whole.
            Some(old) => crate::core::rules::merge::merge_log(
                &String::from_utf8_lossy(&old),
                &String::from_utf8_lossy(&joined),
            )
            .into_bytes(),
            None => joined,
        };
        files.insert(log.to_string(), whole);
    }
    Ok(Incoming {
        files,
        ignored,
        dropped_lines,
    })
}

/// The registry of `commit` alone, taken as `read_hub` takes it (a regular
/// blob of bounded size at exactly that path), without reading the logs.
pub(super) fn registry_at(repo: &Path, commit: &str) -> Result<Option<Vec<u8>>> {
    let (mut wanted, _) = list(repo, commit)?;
    wanted.retain(|path, _| path == REGISTRY);
    Ok(read_blobs(repo, &wanted)?.remove(REGISTRY))
}

/// Blobs this clone has, by id: not read from git again.
pub(super) type Known = std::collections::HashMap<String, Vec<u8>>;

/// The data entries of `commit` (path to blob id) and what was left out,
/// from one recursive listing. A folder coord does not know is named once,
/// not each thing in it.
fn list(repo: &Path, commit: &str) -> Result<(BTreeMap<String, String>, Vec<String>)> {
    let mut wanted: BTreeMap<String, String> = BTreeMap::new();
    let mut ignored = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let entries = ls_tree(repo, &format!("{commit}^{{tree}}"))?;
    // The folders of a hub: archive/, MESSAGES/, EVENTS/, as real trees.
    let folders: Vec<&str> = entries
        .iter()
        .filter(|e| {
            !e.name.contains('/')
                && (e.name == ARCHIVE_DIR || super::segments::log_of(&e.name).is_some())
                && e.mode == "040000"
                && e.kind == "tree"
        })
        .map(|e| e.name.as_str())
        .collect();
    for e in &entries {
        let parent = e.name.rsplit_once('/').map(|(p, _)| p);
        match parent {
            None if folders.contains(&e.name.as_str()) || NOT_TAKEN.contains(&e.name.as_str()) => continue,
            Some(p) if !folders.contains(&p) => continue,
            _ => {}
        }
        let max = if e.name == REGISTRY { MAX_REGISTRY } else { MAX_LOG };
        *seen.entry(e.name.clone()).or_default() += 1;
        if branch_name(&e.name) && regular_blob(e, max) {
            wanted.insert(e.name.clone(), e.oid.clone());
        } else {
            ignored.push(describe(&e.name, e));
        }
    }
    // A name listed twice in one tree (git fsck refuses such a tree; a
    // crafted push can carry one) is taken from neither entry.
    for (path, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
        if wanted.remove(&path).is_some() {
            ignored.push(format!("{} (listed {n} times)", readable(&path)));
        }
    }
    Ok((wanted, ignored))
}

fn readable(path: &str) -> String {
    format!("{:?}", crate::core::text::sanitize(path, false))
}

fn describe(path: &str, e: &Entry) -> String {
    let what = match (e.mode.as_str(), e.kind.as_str()) {
        ("120000", _) => "a symbolic link",
        ("160000", _) => "a submodule",
        ("100755", _) => "an executable",
        (_, "tree") => "a folder",
        _ if !branch_name(path) => "not a hub file",
        _ => "too large",
    };
    format!("{} ({what})", readable(path))
}

/// Every wanted blob, through one `git cat-file --batch`.
fn read_blobs(repo: &Path, wanted: &BTreeMap<String, String>) -> Result<Files> {
    if wanted.is_empty() {
        return Ok(Files::new());
    }
    let input: String = wanted.values().map(|oid| format!("{oid}\n")).collect();
    let mut c = git(repo);
    c.args(["cat-file", "--batch"]);
    let out = run_raw(c, input.as_bytes(), "read the hub files")?;
    let mut files = Files::new();
    let mut at = 0usize;
    for path in wanted.keys() {
        let bad = || {
            hub(format!(
                "git gave an unreadable answer for {path} of the hub commit"
            ))
        };
        let header_end = out[at..].iter().position(|b| *b == b'\n').ok_or_else(bad)? + at;
        let header = String::from_utf8_lossy(&out[at..header_end]).into_owned();
        let size: usize = header
            .split(' ')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let start = header_end + 1;
        let end = start
            .checked_add(size)
            .filter(|e| *e <= out.len())
            .ok_or_else(bad)?;
        files.insert(path.clone(), out[start..end].to_vec());
        at = end + 1;
    }
    Ok(files)
}

/// Keep only the complete lines that are records (an id and a time coord
/// can read); returns how many lines were dropped.
fn keep_records(bytes: &mut Vec<u8>) -> usize {
    #[derive(serde::Deserialize)]
    struct Head {
        id: String,
        ts: String,
    }
    let record = |line: &[u8]| {
        serde_json::from_slice::<Head>(line)
            .is_ok_and(|h| !h.id.is_empty() && crate::core::clock::stamp::parse(&h.ts).is_some())
    };
    let mut kept = Vec::with_capacity(bytes.len());
    let mut dropped = 0;
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    if complete < bytes.len() {
        dropped += 1;
    }
    for line in bytes[..complete].split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if record(line) {
            kept.extend_from_slice(line);
            kept.push(b'\n');
        } else {
            dropped += 1;
        }
    }
    if dropped > 0 {
        *bytes = kept;
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hubs_own_names_are_data() {
        for ok in [
            "REGISTRY.json",
            "MESSAGES.jsonl",
            "EVENTS.jsonl",
            "archive/MESSAGES-2026-02.jsonl",
            "archive/EVENTS-1999-12.jsonl",
        ] {
            assert!(data_name(ok), "{ok}");
        }
        for bad in [
            "..",
            "archive/..",
            "archive/../config",
            "archive/MESSAGES-2026-2.jsonl",
            "archive/MESSAGES-2026-02.jsonl.sh",
            "archive/x/MESSAGES-2026-02.jsonl",
            "archive/NOTES-2026-02.jsonl",
            ".bindings.json",
            ".lock",
            "CURRENT_STATE.md",
            "coord.toml",
            "x.jsonl",
            "REGISTRY.json/x",
        ] {
            assert!(!data_name(bad), "{bad}");
        }
    }

    #[test]
    fn log_lines_that_are_not_records_are_dropped() {
        let mut log = b"{\"id\":\"m-1\",\"ts\":\"2026-03-02T09:00:00Z\"}\nnot json\n{\"id\":\"m-2\",\"ts\":\"soon\"}\n{\"id\":\"m-3\",\"ts\":\"2026-03-02T09:00:00Z\"}\n{\"torn".to_vec();
        assert_eq!(keep_records(&mut log), 3);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "{\"id\":\"m-1\",\"ts\":\"2026-03-02T09:00:00Z\"}\n{\"id\":\"m-3\",\"ts\":\"2026-03-02T09:00:00Z\"}\n"
        );
    }
}
