//! The storage layer: the only code that touches hub files, and the only
//! code that knows their formats.
//!
//! Invariants it keeps:
//! - every read-modify-write runs in [`Hub::transact`], under an exclusive
//!   lock on a sentinel file (`.lock`) that is never renamed over; reads that
//!   need a consistent view run in [`Hub::read`] under the shared lock;
//! - a replaced file is written to a temporary file in the same folder,
//!   fsynced, renamed over the old one, and the folder fsynced (by the
//!   `durability` setting), so a crash leaves the old or the new file;
//! - an append is one write of whole lines; a torn last line (a writer killed
//!   mid-write) is skipped by readers with a warning and cut off by the next
//!   writer, under the lock;
//! - a file that does not parse is reported with its name and line, and never
//!   overwritten.
//!
//! Nothing here prints: warnings are collected for the caller
//! ([`Hub::take_warnings`]) and a long lock wait is reported through the
//! callback the caller installs ([`Hub::on_lock_wait`]).

mod archive;
mod discover;
mod fsio;
pub mod git;
mod incoming;
mod lock;
mod logs;
mod logscan;
pub mod merge;
pub mod pulse;
mod repair;
mod segments;
mod sync;
mod tx;

use std::cell::{Cell, RefCell};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use fs2::FileExt;

use crate::core::config::{Config, Durability};
use crate::core::error::{hub, CoordError, Result};
use crate::core::ids::IdSource;
use crate::core::model::{sorted_json_pretty, Bindings, Registry, SCHEMA};

pub use archive::{Archived, ARCHIVE_DIR};
pub use discover::{common_dir, locate, LIVE_DIR};
pub use logs::{line_ts, raw_id, raw_kind, KpiRecords, Recent, Tail, Unread};
pub use repair::{Finding, Repair};
pub use sync::{Flow, SyncPlan, Synced};
pub use tx::{materialize, Materialized, Tx, PINNED};

pub const DIR_NAME: &str = "coordination";
pub const REGISTRY: &str = "REGISTRY.json";
pub const MESSAGES: &str = "MESSAGES.jsonl";
pub const EVENTS: &str = "EVENTS.jsonl";
pub const STATE: &str = "CURRENT_STATE.md";
const LOCK: &str = ".lock";
/// Machine-local facts (process ids, agent session ids): never committed.
const BINDINGS: &str = ".bindings.json";

const GITIGNORE: &str =
    "# coord: machine-local files, never shared through git\n.lock\n.bindings.json\n.synced.json\n.pulse.jsonl\n.digest\n.logscan.json\n.*.tmp\n*.bak\n";
const GITATTRIBUTES: &str =
    "# coord: every hub file merges record by record through coord's merge\n# driver (registered by `coord init` and `coord sync`)\nREGISTRY.json merge=coord\nMESSAGES.jsonl merge=coord\nEVENTS.jsonl merge=coord\narchive/*.jsonl merge=coord\n";

/// Told, with a sentence, when a lock wait lasts more than a moment.
type WaitNotice = Box<dyn Fn(&str)>;

/// An open hub: its folder, the repository root its file claims are relative
/// to, and its settings.
pub struct Hub {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub config: Config,
    ids: IdSource,
    warnings: RefCell<Vec<String>>,
    warned_torn: Cell<bool>,
    /// Log lines skipped because they are not valid records: per log, where
    /// each starts.
    skipped: RefCell<std::collections::BTreeMap<&'static str, std::collections::BTreeSet<u64>>>,
    /// The log index, once read (`.logscan.json`).
    logscan: RefCell<Option<logscan::Index>>,
    on_wait: Option<WaitNotice>,
    /// What this process is, for the note a writer leaves in the lock.
    label: String,
    /// The clock is pinned (`COORD_NOW`): every journal entry this process
    /// writes is marked so.
    pub pinned_clock: bool,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Open the hub in `dir`, which must have been made by `coord init`.
    /// `ids` mints message and event ids (seeded for repeatable demos).
    pub fn open(dir: &Path, ids: IdSource) -> Result<Hub> {
        Self::open_with(dir, ids, read_settings)
    }

    /// Open even when coord.toml is broken, with default settings: for
    /// `coord doctor`, whose job is to report exactly that.
    pub fn open_lenient(dir: &Path, ids: IdSource) -> Result<Hub> {
        Self::open_with(dir, ids, |d| Ok(read_settings(d).unwrap_or_default()))
    }

    fn open_with(dir: &Path, ids: IdSource, config: impl FnOnce(&Path) -> Result<Config>) -> Result<Hub> {
        if !dir.join(REGISTRY).is_file() {
            return Err(hub(format!(
                "no hub at {}: {REGISTRY} is missing; run `coord init --hub {}` to create it",
                dir.display(),
                dir.display()
            )));
        }
        let config = config(dir)?;
        let dir = dir.to_path_buf();
        let root = dir.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.clone());
        Ok(Hub {
            dir,
            root,
            config,
            ids,
            warnings: RefCell::new(Vec::new()),
            warned_torn: Cell::new(false),
            skipped: RefCell::new(Default::default()),
            logscan: RefCell::new(None),
            on_wait: None,
            label: "coord".to_string(),
            pinned_clock: false,
        })
    }

    /// Called once, with a sentence, when a lock wait lasts more than a
    /// moment (the CLI prints it on stderr).
    pub fn on_lock_wait(&mut self, f: impl Fn(&str) + 'static) {
        self.on_wait = Some(Box::new(f));
    }

    /// Warnings gathered since the last call (a torn log line skipped or
    /// cut, lines that are not valid records skipped).
    pub fn take_warnings(&self) -> Vec<String> {
        let mut out = std::mem::take(&mut *self.warnings.borrow_mut());
        for (name, offsets) in std::mem::take(&mut *self.skipped.borrow_mut()) {
            let (count, first) = (offsets.len(), offsets.first().copied().unwrap_or(0));
            out.push(format!(
                "skipped {count} line{} of {} that {} not valid records (the first at line {}); run `coord doctor` to see them",
                if count == 1 { "" } else { "s" },
                self.path(name).display(),
                if count == 1 { "is" } else { "are" },
                self.line_number(name, first)
            ));
        }
        out
    }

    fn skip_line(&self, name: &'static str, offset: u64) {
        self.skipped.borrow_mut().entry(name).or_default().insert(offset);
    }

    /// The 1-based line number of byte `offset` in a file (for messages).
    fn line_number(&self, name: &str, offset: u64) -> usize {
        fsio::read_optional(&self.path(name))
            .ok()
            .flatten()
            .map(|b| {
                b[..(offset as usize).min(b.len())]
                    .iter()
                    .filter(|c| **c == b'\n')
                    .count()
                    + 1
            })
            .unwrap_or(0)
    }

    fn warn(&self, text: String) {
        self.warnings.borrow_mut().push(text);
    }

    fn warn_torn(&self, name: &str) {
        if !self.warned_torn.replace(true) {
            self.warn(format!(
                "{name} ends in a torn line (a coord was killed mid-write); skipped it, the next write repairs it"
            ));
        }
    }

    /// Where a hub file lives (for messages and reports).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Run `f` on a consistent view of the hub under the shared lock.
    pub fn read<T>(&self, f: impl FnOnce(&Registry) -> Result<T>) -> Result<T> {
        let lock = self.lock(false)?;
        let (reg, _) = self.load_registry()?;
        let out = f(&reg);
        drop(lock);
        out
    }

    /// This machine's identity bindings (read under a lock the caller holds).
    pub fn bindings(&self) -> Result<Bindings> {
        let path = self.path(BINDINGS);
        Ok(match fsio::read_optional(&path)? {
            Some(bytes) => fsio::parse_json(&path, &bytes)?,
            None => Bindings::default(),
        })
    }

    /// The registry with the pulse applied (every reader sees signs of life
    /// not yet folded), and the file's bytes.
    fn load_registry(&self) -> Result<(Registry, Vec<u8>)> {
        let base = self.base()?;
        let (mut reg, bytes) = self.load_registry_file()?;
        self.apply_pulse_state(&mut reg, &base)?;
        Ok((reg, bytes))
    }

    /// `load_registry`, and what a fold of the pulse must still do.
    fn load_registry_pending(&self) -> Result<(Registry, Vec<u8>, pulse::Pending)> {
        let base = self.base()?;
        let (mut reg, bytes) = self.load_registry_file()?;
        let pending = self.apply_pulse(&mut reg, &base)?;
        Ok((reg, bytes, pending))
    }

    fn load_registry_file(&self) -> Result<(Registry, Vec<u8>)> {
        let path = self.path(REGISTRY);
        let bytes = std::fs::read(&path).map_err(|e| {
            hub(format!(
                "cannot read {}: {e}; run `coord init` to recreate a missing hub file",
                path.display()
            ))
        })?;
        let reg: Registry = fsio::parse_json(&path, &bytes)?;
        if reg.schema > SCHEMA {
            return Err(hub(format!(
                "{} has schema {} but this coord knows only up to {SCHEMA}; upgrade coord",
                path.display(),
                reg.schema
            )));
        }
        Ok((reg, bytes))
    }

    /// Replace `name` atomically (the exclusive lock is held by the caller).
    fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<()> {
        fsio::write_atomic(&self.dir, name, bytes, self.config.durability)
    }

    /// Append whole lines to a log (the exclusive lock is held by the caller).
    fn append(&self, name: &str, lines: &[String]) -> Result<()> {
        let path = self.path(name);
        if let fsio::Appended::CutTorn = fsio::append(&path, lines, self.config.durability)? {
            self.warn(format!(
                "cut a torn last line from {} (a coord was killed mid-write; that write had not been reported as saved)",
                path.display()
            ));
        }
        Ok(())
    }
}

fn read_settings(dir: &Path) -> Result<Config> {
    let path = dir.join(crate::core::config::FILE);
    let team = team_settings(dir);
    let team = match &team {
        Some(p) => fsio::read_optional(p)?.map(|b| (p.as_path(), b)),
        None => None,
    };
    Config::layered(team, fsio::read_optional(&path)?.map(|b| (path.as_path(), b)))
}

/// The team's settings file for the hub in `dir`: `coord.toml` at the top of
/// the repository's main work tree (the hub is `.git/coord/` there), or
/// beside a `coordination/` hub. A hub elsewhere (`--hub`) has none.
pub fn team_settings(dir: &Path) -> Option<PathBuf> {
    let top = match live_top(dir) {
        Some(top) => top,
        None => dir
            .parent()
            .filter(|_| dir.file_name().is_some_and(|n| n == DIR_NAME))?
            .to_path_buf(),
    };
    Some(top.join(crate::core::config::FILE))
}

/// The main work tree's top, for the live hub `<top>/.git/coord`.
fn live_top(dir: &Path) -> Option<PathBuf> {
    let git = dir.parent()?;
    if dir.file_name()? == LIVE_DIR && git.file_name()? == ".git" {
        git.parent().map(Path::to_path_buf)
    } else {
        None
    }
}

/// Every file a new hub gets, with its initial text.
fn initial_files() -> Vec<(&'static str, String)> {
    vec![
        (REGISTRY, sorted_json_pretty(&Registry::new()) + "\n"),
        (MESSAGES, String::new()),
        (EVENTS, String::new()),
        (
            crate::core::config::FILE,
            crate::core::config::DEFAULT_TOML.to_string(),
        ),
        (".gitignore", GITIGNORE.to_string()),
        (".gitattributes", GITATTRIBUTES.to_string()),
    ]
}

/// Bring a hub of the old layout (`coordination/` in the work tree) into
/// `live`: every hub file `live` lacks is copied (never through a link).
/// Returns the names copied.
pub fn adopt(old: &Path, live: &Path) -> Result<Vec<String>> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(live)
        .map_err(|e| CoordError::io("create", live, e))?;
    let mut copied = Vec::new();
    let mut names: Vec<String> = initial_files().into_iter().map(|(n, _)| n.to_string()).collect();
    names.push(STATE.to_string());
    for name in names {
        let to = live.join(&name);
        if std::fs::symlink_metadata(&to).is_ok() {
            continue;
        }
        if let Some(bytes) = fsio::read_optional(&old.join(&name))? {
            fsio::write_atomic(live, &name, &bytes, Durability::Full)?;
            copied.push(name);
        }
    }
    Ok(copied)
}

/// Create the hub in `dir`, or add the files it lacks; an existing file is
/// never touched. Returns the names of the files created.
pub fn create(dir: &Path) -> Result<Vec<String>> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|e| {
            hub(format!(
                "cannot create the hub folder {}: {e}; check permissions or pass --hub DIR",
                dir.display()
            ))
        })?;
    // Two inits at once must not both write: take the hub lock first.
    let lock_path = dir.join(LOCK);
    let lock =
        fsio::open_rw(&lock_path, true).map_err(|e| CoordError::io("create the lock file", &lock_path, e))?;
    FileExt::lock_exclusive(&lock).map_err(|e| CoordError::io("lock", &lock_path, e))?;
    let mut created = Vec::new();
    for (name, text) in initial_files() {
        if std::fs::symlink_metadata(dir.join(name)).is_err() {
            fsio::write_atomic(dir, name, text.as_bytes(), Durability::Full)?;
            created.push(name.to_string());
        }
    }
    Ok(created)
}
