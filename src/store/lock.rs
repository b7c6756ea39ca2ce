//! The hub lock: an fs2 lock on a sentinel file that is never renamed over.
//! fs2 has no timed lock, so a contended lock is polled (100 us growing to
//! 4 ms) until `storage.lock_timeout`; after a moment of waiting the caller
//! is told once, so a stuck peer is not a silent hang. A writer holding the
//! lock writes who it is (pid, command, since when) into the sentinel and
//! clears it when done, so a waiter can name the holder.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use fs2::FileExt;
use serde::{Deserialize, Serialize};

use super::{Hub, LOCK};
use crate::core::clock::{format_time, whole_seconds};
use crate::core::error::{timeout, CoordError, Result};

/// How long a wait lasts before the caller is told about it.
const PATIENCE: Duration = Duration::from_millis(500);

/// A held lock; released (and, for a writer, its note cleared) when dropped.
pub(super) struct Guard {
    file: File,
    exclusive: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.exclusive {
            let _ = self.file.set_len(0);
        }
    }
}

/// Who holds the lock for writing, as the holder wrote it.
#[derive(Serialize, Deserialize)]
struct Holder {
    command: String,
    pid: u32,
    since: String,
}

impl Hub {
    /// What this process is, for the note a writer leaves in the lock
    /// (`coord heartbeat`): set by the door.
    pub fn set_lock_label(&mut self, label: &str) {
        self.label = label.to_string();
    }

    /// Take the hub lock (exclusive for writers).
    pub(super) fn lock(&self, exclusive: bool) -> Result<Guard> {
        let path = self.path(LOCK);
        let mut file =
            super::fsio::open_rw(&path, true).map_err(|e| CoordError::io("open the lock file", &path, e))?;
        let started = Instant::now();
        let deadline = started + self.config.lock_timeout;
        let got = if exclusive {
            FileExt::try_lock_exclusive(&file)
        } else {
            // fs2's, not std's inherent method of the same name.
            FileExt::try_lock_shared(&file)
        };
        match got {
            Ok(()) => return Ok(self.locked(file, exclusive)),
            Err(e) if e.kind() == fs2::lock_contended_error().kind() => {}
            Err(e) => return Err(CoordError::io("lock", &path, e)),
        }
        // Contended: wait in the kernel (a blocking flock on a clone of the
        // same open file, in a thread), so the lock goes to a waiter as soon
        // as it is free; polling with pauses let fresh callers overtake a
        // waiter again and again (a 99th percentile of hundreds of ms with 8
        // writers). The thread is left behind on a timeout: the process is
        // about to exit with it.
        let waiter = file
            .try_clone()
            .map_err(|e| CoordError::io("open the lock file", &path, e))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = if exclusive {
                FileExt::lock_exclusive(&waiter)
            } else {
                FileExt::lock_shared(&waiter)
            };
            let _ = tx.send(r);
        });
        let mut told = false;
        loop {
            let now = Instant::now();
            let wake = if told {
                deadline
            } else {
                deadline.min(started + PATIENCE)
            };
            match rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(Ok(())) => return Ok(self.locked(file, exclusive)),
                Ok(Err(e)) => return Err(CoordError::io("lock", &path, e)),
                Err(_) => {}
            }
            let now = Instant::now();
            if now >= deadline {
                let (who, hint) = holder(&mut file);
                return Err(timeout(format!(
                    "the hub stayed locked for {}s (storage.lock_timeout) by {who}",
                    self.config.lock_timeout.as_secs()
                ))
                .hint(hint));
            }
            if !told && now - started >= PATIENCE {
                told = true;
                if let Some(f) = &self.on_wait {
                    let (who, _) = holder(&mut file);
                    f(&format!("waiting for the hub lock held by {who}"));
                }
            }
        }
    }

    /// The lock taken: a writer leaves its note.
    fn locked(&self, mut file: File, exclusive: bool) -> Guard {
        if exclusive {
            self.note_holder(&mut file);
        }
        Guard { file, exclusive }
    }

    /// Leave a note in the sentinel: who holds it, since when.
    fn note_holder(&self, file: &mut File) {
        let note = Holder {
            command: self.label.clone(),
            pid: std::process::id(),
            since: format_time(whole_seconds(chrono::Utc::now())),
        };
        if let Ok(text) = serde_json::to_string(&note) {
            let _ = file.set_len(0);
            let _ = file.seek(SeekFrom::Start(0));
            let _ = file.write_all(text.as_bytes());
        }
    }
}

/// Who holds the lock, in words, and how to look at them.
fn holder(file: &mut File) -> (String, String) {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.take(4096).read_to_string(&mut text);
    match serde_json::from_str::<Holder>(text.trim()) {
        Ok(h) => (
            format!(
                "another coord process (pid {}, `{}`, since {})",
                h.pid,
                crate::core::text::sanitize(&h.command, false),
                crate::core::text::sanitize(&h.since, false)
            ),
            format!("if it is stuck, look at it with `ps -p {}` and stop it", h.pid),
        ),
        Err(_) => (
            "another coord process that is reading".to_string(),
            "if it is stuck, look for it with `pgrep -a coord`".to_string(),
        ),
    }
}
