//! The hub lock: an fs2 lock on a sentinel file that is never renamed over.
//! fs2 has no timed lock, so a contended lock is polled (100 us growing to
//! 4 ms) until `storage.lock_timeout`; after a moment of waiting the caller
//! is told once, so a stuck peer is not a silent hang.

use std::fs::File;
use std::time::{Duration, Instant};

use fs2::FileExt;

use super::{Hub, LOCK};
use crate::core::error::{timeout, CoordError, Result};

/// How long a wait lasts before the caller is told about it.
const PATIENCE: Duration = Duration::from_millis(500);

/// A held lock; released when dropped.
pub(super) struct Guard {
    _file: File,
}

impl Hub {
    /// Take the hub lock (exclusive for writers).
    pub(super) fn lock(&self, exclusive: bool) -> Result<Guard> {
        let path = self.path(LOCK);
        let file =
            super::fsio::open_rw(&path, true).map_err(|e| CoordError::io("open the lock file", &path, e))?;
        let started = Instant::now();
        let deadline = started + self.config.lock_timeout;
        let mut told = false;
        let mut pause = Duration::from_micros(100);
        loop {
            let got = if exclusive {
                FileExt::try_lock_exclusive(&file)
            } else {
                // fs2's, not std's inherent method of the same name.
                FileExt::try_lock_shared(&file)
            };
            match got {
                Ok(()) => return Ok(Guard { _file: file }),
                Err(e) if e.kind() == fs2::lock_contended_error().kind() => {}
                Err(e) => return Err(CoordError::io("lock", &path, e)),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(timeout(format!(
                    "the hub stayed locked by another coord for {}s (storage.lock_timeout)",
                    self.config.lock_timeout.as_secs()
                ))
                .hint("try again, or look for a stuck coord process (`pgrep -a coord`)"));
            }
            if !told && now - started >= PATIENCE {
                told = true;
                if let Some(f) = &self.on_wait {
                    f(&format!(
                        "waiting for the hub lock held by another coord process ({})",
                        path.display()
                    ));
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(4));
        }
    }
}
