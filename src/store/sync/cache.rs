//! What the last sync left behind, machine-local (`.synced.json` in the
//! hub, like the lock and the bindings never shared): the blob id of each
//! hub file as it was when hashed (by length, modification time and inode,
//! so an unchanged 25 MiB log is not read and hashed again), the local
//! commit those files are, and per remote the published states found to
//! hold the same data as this clone (so they are not looked at again).
//! Anything wrong with the file means an empty cache: it only saves work.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::{fsio, Hub};
use crate::core::config::Durability;
use crate::core::error::Result;

pub const FILE: &str = ".synced.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    mtime_ns: i64,
    ino: u64,
    blob: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Seen {
    /// The hub branch after that sync.
    commit: String,
    tips: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {
    #[serde(default)]
    files: BTreeMap<String, Stamp>,
    /// The hub branch the files were last seen as.
    #[serde(default)]
    local: String,
    /// The attributes text and its blob.
    #[serde(default)]
    attributes: Option<(String, String)>,
    #[serde(default)]
    remotes: BTreeMap<String, Seen>,
    /// Each log's segments (hour to blob) as the file was when cut.
    #[serde(default)]
    logs: BTreeMap<String, (u64, i64, u64, BTreeMap<String, String>)>,
    /// Each segment's last blob, by path, with the hash and length of its
    /// bytes (an hour that did not change is not stored again).
    #[serde(default)]
    segments: BTreeMap<String, (u64, u64, String)>,
}

fn stamp(path: &Path) -> Option<(u64, i64, u64)> {
    let m = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file())?;
    Some((m.len(), m.mtime() * 1_000_000_000 + m.mtime_nsec(), m.ino()))
}

impl Cache {
    pub fn read(hub: &Hub) -> Cache {
        fsio::read_optional(&hub.path(FILE))
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn write(&self, hub: &Hub) -> Result<()> {
        let text = serde_json::to_string(self).unwrap_or_default() + "\n";
        fsio::write_atomic_mode(&hub.dir, FILE, text.as_bytes(), Durability::None, fsio::PRIVATE)
    }

    /// The blob of `name` when the file is as it was when hashed.
    pub fn known(&self, dir: &Path, name: &str) -> Option<String> {
        let s = self.files.get(name)?;
        (stamp(&dir.join(name))? == (s.len, s.mtime_ns, s.ino)).then(|| s.blob.clone())
    }

    pub fn remember(&mut self, dir: &Path, name: &str, blob: &str) {
        if let Some((len, mtime_ns, ino)) = stamp(&dir.join(name)) {
            let blob = blob.to_string();
            self.files.insert(
                name.to_string(),
                Stamp {
                    len,
                    mtime_ns,
                    ino,
                    blob,
                },
            );
        }
    }

    /// The segments of log `name` when the file is as it was when cut.
    pub fn log_segments(&self, dir: &Path, name: &str) -> Option<BTreeMap<String, String>> {
        let (len, mtime, ino, segs) = self.logs.get(name)?;
        (stamp(&dir.join(name))? == (*len, *mtime, *ino)).then(|| segs.clone())
    }

    pub fn remember_log(&mut self, dir: &Path, name: &str, segs: BTreeMap<String, String>) {
        if let Some((len, mtime, ino)) = stamp(&dir.join(name)) {
            self.logs.insert(name.to_string(), (len, mtime, ino, segs));
        }
    }

    /// The blob of a segment with these bytes, when it was stored before.
    pub fn segment(&self, path: &str, bytes: &[u8]) -> Option<String> {
        let (hash, len, blob) = self.segments.get(path)?;
        (*len == bytes.len() as u64 && *hash == crate::core::ids::fnv1a(bytes)).then(|| blob.clone())
    }

    pub fn remember_segment(&mut self, path: &str, bytes: &[u8], blob: &str) {
        self.segments.insert(
            path.to_string(),
            (
                crate::core::ids::fnv1a(bytes),
                bytes.len() as u64,
                blob.to_string(),
            ),
        );
    }

    /// Whether the hub's data files `names` are exactly as when the hub
    /// branch was last `parent`.
    pub fn unchanged(&self, hub: &Hub, names: &[String], parent: &str) -> bool {
        let logs = [super::super::MESSAGES, super::super::EVENTS];
        self.local == parent
            && names.iter().all(|n| {
                if logs.contains(&n.as_str()) {
                    self.log_segments(&hub.dir, n).is_some()
                } else {
                    self.known(&hub.dir, n).is_some()
                }
            })
            && self
                .files
                .keys()
                .filter(|k| k.as_str() != super::super::STATE)
                .all(|k| names.contains(k))
    }

    /// After a sync: the files as they are now (entries of files changed
    /// since they were hashed are dropped) are the hub branch `commit`.
    pub fn settle(&mut self, hub: &Hub, commit: &str) {
        let dir = hub.dir.clone();
        self.files
            .retain(|name, s| stamp(&dir.join(name)) == Some((s.len, s.mtime_ns, s.ino)));
        self.logs
            .retain(|name, (len, mtime, ino, _)| stamp(&dir.join(name)) == Some((*len, *mtime, *ino)));
        self.local = commit.to_string();
    }

    pub fn attributes(&self, text: &str) -> Option<String> {
        self.attributes
            .as_ref()
            .filter(|(t, _)| t == text)
            .map(|(_, b)| b.clone())
    }

    pub fn set_attributes(&mut self, text: &str, blob: &str) {
        self.attributes = Some((text.to_string(), blob.to_string()));
    }

    /// The commit the last sync with this remote ended on.
    pub fn last(&self, key: &str) -> Option<&str> {
        self.remotes.get(key).map(|s| s.commit.as_str())
    }

    /// Published states already found to hold this clone's data.
    pub fn seen(&self, key: &str) -> BTreeSet<String> {
        self.remotes.get(key).map(|s| s.tips.clone()).unwrap_or_default()
    }

    pub fn set_seen(&mut self, key: &str, tips: BTreeSet<String>, commit: &str) {
        self.remotes.insert(
            key.to_string(),
            Seen {
                commit: commit.to_string(),
                tips,
            },
        );
    }
}
