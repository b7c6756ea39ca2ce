//! The storage layer: the only code that touches hub files.
//!
//! Invariants it keeps:
//! - every read-modify-write runs in [`Hub::transact`], under an exclusive
//!   lock on a sentinel file (`.lock`) that is never renamed over;
//! - a replaced file is written to a temporary file in the same folder,
//!   fsynced, renamed over the old one, and the folder fsynced (by the
//!   `durability` setting), so a crash leaves the old or the new file;
//! - an append is one write of whole lines; a torn last line (a writer killed
//!   mid-write) is skipped by readers with a warning and cut off by the next
//!   writer, under the lock;
//! - a file that does not parse is reported with its name and line, and never
//!   overwritten.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fs2::FileExt;
use serde::de::DeserializeOwned;

use crate::clock::Time;
use crate::config::{Config, Durability};
use crate::error::{hub, timeout};
use crate::ids::{fnv1a, IdSource};
use crate::model::{sorted_json, sorted_json_pretty, Bindings, Event, Message, Registry, SCHEMA};

pub const DIR_NAME: &str = "coordination";
pub const REGISTRY: &str = "REGISTRY.json";
pub const MESSAGES: &str = "MESSAGES.jsonl";
pub const EVENTS: &str = "EVENTS.jsonl";
pub const STATE: &str = "CURRENT_STATE.md";
pub const LOCK: &str = ".lock";
/// Machine-local facts (process ids, agent session ids): never committed.
pub const BINDINGS: &str = ".bindings.json";

pub const GITIGNORE: &str =
    "# coord: machine-local files, never shared through git\n.lock\n.bindings.json\n.*.tmp\n*.bak\n";
pub const GITATTRIBUTES: &str =
    "# coord: append-only logs merge by keeping both sides' lines\nMESSAGES.jsonl merge=union\nEVENTS.jsonl merge=union\n";

/// An open hub: its folder, the repository root its file claims are relative
/// to, and its settings.
#[cfg(test)]
mod tests {
    use super::last_newline;

    #[test]
    fn last_newline_matches_a_plain_search() {
        let text = b"ab\ncdefghijklmnop\nqrstuvwxyz0123456789\n\nxyz";
        for end in 0..=text.len() {
            for start in 0..=end {
                let s = &text[start..end];
                assert_eq!(
                    last_newline(s),
                    s.iter().rposition(|b| *b == b'\n'),
                    "{start}..{end}"
                );
            }
        }
        // Bytes with the high bit set must not look like newlines.
        let high = [0x8au8, 0x0b, 0x09, 0xff, 0x80, 0x8a, 0x0a, 0x8a, 0x89, 0x8b];
        assert_eq!(last_newline(&high), Some(6));
    }
}

#[derive(Debug)]
pub struct Hub {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub config: Config,
    warned_torn: std::cell::Cell<bool>,
}

impl Hub {
    /// Open the hub in `dir`, which must have been made by `coord init`.
    pub fn open(dir: &Path) -> anyhow::Result<Hub> {
        Self::open_with(dir, read_settings)
    }

    /// Open even when coord.toml is broken, with default settings: for
    /// `coord doctor`, whose job is to report exactly that.
    pub fn open_lenient(dir: &Path) -> anyhow::Result<Hub> {
        Self::open_with(dir, |d| Ok(read_settings(d).unwrap_or_default()))
    }

    fn open_with(dir: &Path, config: impl FnOnce(&Path) -> anyhow::Result<Config>) -> anyhow::Result<Hub> {
        if !dir.join(REGISTRY).is_file() {
            return Err(hub(format!(
                "no hub at {}: {REGISTRY} is missing; run `coord init --hub {}` to create it",
                dir.display(),
                dir.display()
            ))
            .into());
        }
        let config = config(dir)?;
        let dir = dir.to_path_buf();
        let root = dir.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.clone());
        Ok(Hub {
            dir,
            root,
            config,
            warned_torn: std::cell::Cell::new(false),
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    // ---- locking -------------------------------------------------------

    /// Take the hub lock (exclusive for writers); released when dropped.
    pub fn lock(&self, exclusive: bool) -> anyhow::Result<File> {
        let path = self.path(LOCK);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .or_else(|e| if exclusive { Err(e) } else { File::open(&path) })
            .with_context(|| hub(format!("cannot open the lock file {}", path.display())))?;
        let deadline = Instant::now() + self.config.lock_timeout;
        let mut pause = Duration::from_micros(100);
        loop {
            let got = if exclusive {
                FileExt::try_lock_exclusive(&file)
            } else {
                // fs2's, not std's inherent method of the same name.
                FileExt::try_lock_shared(&file)
            };
            match got {
                Ok(()) => return Ok(file),
                Err(e) if e.kind() == fs2::lock_contended_error().kind() => {}
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(hub(format!("cannot lock {}", path.display()))))
                }
            }
            if Instant::now() >= deadline {
                return Err(timeout(format!(
                    "the hub stayed locked by another coord for {}s (storage.lock_timeout); try again, or look for a stuck coord process",
                    self.config.lock_timeout.as_secs()
                ))
                .into());
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(4));
        }
    }

    /// Run `f` on a consistent view of the hub under the shared lock.
    pub fn read<T>(&self, f: impl FnOnce(&Registry) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let lock = self.lock(false)?;
        let (reg, _) = self.load_registry()?;
        let out = f(&reg);
        drop(lock);
        out
    }

    /// Lock, read, let `f` change the state, and write what changed; if `f`
    /// fails, nothing is written.
    pub fn transact<T>(&self, now: Time, f: impl FnOnce(&mut Tx) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let lock = self.lock(true)?;
        let (reg, original) = self.load_registry()?;
        let mut tx = Tx {
            hub: self,
            now,
            reg,
            messages: Vec::new(),
            events: Vec::new(),
            bindings: None,
            bindings_dirty: false,
            ids: IdSource::from_env(),
            // Only seeded ids need a salt from the hub; the OS needs none.
            salt: if ids_seeded() { self.salt() } else { 0 },
            minted: 0,
        };
        let out = f(&mut tx)?;
        tx.commit(&original)?;
        drop(lock);
        Ok(out)
    }

    /// A number that differs for every transaction on this hub: the two
    /// logs' lengths. Seeds deterministic ids under `COORD_ID_SEED`.
    fn salt(&self) -> u64 {
        let len = |n| std::fs::metadata(self.path(n)).map(|m| m.len()).unwrap_or(0);
        len(MESSAGES).rotate_left(32) ^ len(EVENTS) ^ len(REGISTRY).rotate_left(16)
    }

    // ---- whole files ---------------------------------------------------

    fn load_registry(&self) -> anyhow::Result<(Registry, Vec<u8>)> {
        let path = self.path(REGISTRY);
        let bytes = std::fs::read(&path).map_err(|e| {
            hub(format!(
                "cannot read {}: {e}; run `coord init` to recreate a missing hub file",
                path.display()
            ))
        })?;
        let reg: Registry = parse_json(&path, &bytes)?;
        if reg.schema > SCHEMA {
            return Err(hub(format!(
                "{} has schema {} but this coord knows only up to {SCHEMA}; upgrade coord",
                path.display(),
                reg.schema
            ))
            .into());
        }
        Ok((reg, bytes))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// A hub file's raw bytes (`None` when missing), for checks that must see
    /// exactly what is on disk.
    pub fn read_bytes(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        read_optional(&self.path(name))
    }

    /// Copy `name` to `name.TAG.bak` (ignored by git); returns the copy's path.
    pub fn backup(&self, name: &str, tag: &str) -> anyhow::Result<PathBuf> {
        let to = self.path(&format!("{name}.{tag}.bak"));
        std::fs::copy(self.path(name), &to)
            .with_context(|| format!("cannot back up {name} to {}", to.display()))?;
        Ok(to)
    }

    /// The files a hub should have that this one lacks, with their initial text.
    pub fn missing_files(&self) -> Vec<(&'static str, String)> {
        initial_files()
            .into_iter()
            .filter(|(n, _)| !self.exists(n))
            .collect()
    }

    /// Read and parse a JSON file that may be missing (then `None`).
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> anyhow::Result<Option<T>> {
        let path = self.path(name);
        match std::fs::read(&path) {
            Ok(bytes) => parse_json(&path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(hub(format!("cannot read {}: {e}", path.display())).into()),
        }
    }

    /// Replace `name` atomically: temp file, fsync, rename, fsync folder.
    /// Only called with the exclusive lock held (or by `init`, before the
    /// file exists).
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.dir, name, bytes, self.config.durability)
    }

    // ---- logs ----------------------------------------------------------

    /// Append whole lines in one write, first cutting off a torn last line.
    fn append(&self, name: &str, lines: &[String]) -> anyhow::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let path = self.path(name);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("cannot open {} to append", path.display()))?;
        let len = file.metadata()?.len();
        let keep = last_newline_end(&mut file, len)?;
        if keep < len {
            file.set_len(keep)?;
            eprintln!(
                "warning: cut a torn last line from {} (a coord was killed mid-write; that write had not been reported as saved)",
                path.display()
            );
        }
        let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            buf.push_str(line);
            buf.push('\n');
        }
        file.write_all(buf.as_bytes())
            .with_context(|| format!("cannot append to {}", path.display()))?;
        if self.config.durability != Durability::None {
            file.sync_data()
                .with_context(|| format!("cannot fsync {}", path.display()))?;
        }
        Ok(())
    }

    fn warn_torn(&self, name: &str) {
        if !self.warned_torn.replace(true) {
            eprintln!(
                "warning: {name} ends in a torn line (a coord was killed mid-write); skipped it, the next write repairs it"
            );
        }
    }

    /// Size of a log in bytes (0 when missing).
    pub fn log_len(&self, name: &str) -> u64 {
        std::fs::metadata(self.path(name)).map(|m| m.len()).unwrap_or(0)
    }

    /// The complete lines of a log from byte `offset` to the end, each with
    /// its own starting offset. A torn last line is skipped with a warning.
    pub fn read_lines_from(&self, name: &str, offset: u64) -> anyhow::Result<LogChunk> {
        let path = self.path(name);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LogChunk {
                    start: offset,
                    bytes: Vec::new(),
                })
            }
            Err(e) => return Err(hub(format!("cannot read {}: {e}", path.display())).into()),
        };
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
            self.warn_torn(name);
            let cut = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            bytes.truncate(cut);
        }
        Ok(LogChunk { start: offset, bytes })
    }

    /// The bytes of `len` at `offset`, or `None` if the file is shorter.
    pub fn read_at(&self, name: &str, offset: u64, len: u64) -> anyhow::Result<Option<Vec<u8>>> {
        let path = self.path(name);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(hub(format!("cannot read {}: {e}", path.display())).into()),
        };
        if file.metadata()?.len() < offset + len {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; len as usize];
        file.read_exact(&mut buf)?;
        Ok(Some(buf))
    }

    /// Visit the complete lines of a log newest first, reading backwards in
    /// chunks, so "the last N" costs N lines and not the log's size. `f` gets
    /// each line's offset and bytes (without the newline) and may stop early.
    pub fn rev_lines(
        &self,
        name: &str,
        mut f: impl FnMut(u64, &[u8]) -> anyhow::Result<ControlFlow<()>>,
    ) -> anyhow::Result<()> {
        const CHUNK: u64 = 64 * 1024;
        let path = self.path(name);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(hub(format!("cannot read {}: {e}", path.display())).into()),
        };
        let len = file.metadata()?.len();
        let mut pos = last_newline_end(&mut file, len)?;
        if pos < len {
            self.warn_torn(name);
        }
        // Invariant: `buf` holds the file's bytes [pos, pos + buf.len()) and
        // is empty or ends with a newline.
        let mut buf: Vec<u8> = Vec::new();
        while pos > 0 {
            let step = CHUNK.min(pos);
            pos -= step;
            let mut chunk = vec![0u8; step as usize];
            file.seek(SeekFrom::Start(pos))?;
            file.read_exact(&mut chunk)?;
            chunk.extend_from_slice(&buf);
            buf = chunk;
            let mut stop = buf.len();
            while stop > 0 {
                let line_end = stop - 1;
                let start = match last_newline(&buf[..line_end]) {
                    Some(nl) => nl + 1,
                    None if pos == 0 => 0,
                    None => break,
                };
                if f(pos + start as u64, &buf[start..line_end])?.is_break() {
                    return Ok(());
                }
                stop = start;
            }
            buf.truncate(stop);
        }
        Ok(())
    }

    /// The 1-based line number of byte `offset` in a log (for error messages).
    pub fn line_number(&self, name: &str, offset: u64) -> usize {
        std::fs::read(self.path(name))
            .map(|b| {
                b[..(offset as usize).min(b.len())]
                    .iter()
                    .filter(|c| **c == b'\n')
                    .count()
                    + 1
            })
            .unwrap_or(0)
    }

    /// Parse one log line, naming the file and line when it is not valid.
    pub fn parse_line<T: DeserializeOwned>(&self, name: &str, offset: u64, line: &[u8]) -> anyhow::Result<T> {
        serde_json::from_slice(line).map_err(|e| {
            hub(format!(
                "{} line {} is not a valid record ({e}); run `coord doctor` to see what is wrong",
                self.path(name).display(),
                self.line_number(name, offset)
            ))
            .into()
        })
    }
}

fn read_optional(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(hub(format!(
            "cannot read {}: {e}; check its permissions",
            path.display()
        ))
        .into()),
    }
}

fn read_settings(dir: &Path) -> anyhow::Result<Config> {
    let path = dir.join(crate::config::FILE);
    Config::from_file(&path, read_optional(&path)?)
}

/// Every file a new hub gets, with its initial text.
pub fn initial_files() -> Vec<(&'static str, String)> {
    vec![
        (REGISTRY, sorted_json_pretty(&Registry::new()) + "\n"),
        (MESSAGES, String::new()),
        (EVENTS, String::new()),
        (crate::config::FILE, crate::config::DEFAULT_TOML.to_string()),
        (".gitignore", GITIGNORE.to_string()),
        (".gitattributes", GITATTRIBUTES.to_string()),
    ]
}

/// Create the hub in `dir`, or add the files it lacks; an existing file is
/// never touched. Returns the names of the files created.
pub fn create(dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| {
        hub(format!(
            "cannot create the hub folder {}: {e}; check permissions or pass --hub DIR",
            dir.display()
        ))
    })?;
    // Two inits at once must not both write: take the hub lock first.
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK))
        .with_context(|| hub(format!("cannot create the lock file in {}", dir.display())))?;
    FileExt::lock_exclusive(&lock)?;
    let mut created = Vec::new();
    for (name, text) in initial_files() {
        if !dir.join(name).exists() {
            write_atomic(dir, name, text.as_bytes(), Durability::Full)?;
            created.push(name.to_string());
        }
    }
    Ok(created)
}

/// Lines read from a log, starting at byte `start`.
pub struct LogChunk {
    pub start: u64,
    pub bytes: Vec<u8>,
}

impl LogChunk {
    /// Each complete line with its starting offset (no trailing newline).
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let start = self.start;
        let mut at = 0usize;
        let bytes = &self.bytes;
        std::iter::from_fn(move || {
            if at >= bytes.len() {
                return None;
            }
            let end = bytes[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |p| at + p);
            let line = (start + at as u64, &bytes[at..end]);
            at = end + 1;
            Some(line)
        })
    }

    pub fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

/// The position of the last `\n` in `s`, eight bytes at a time: reading a
/// log backwards is mostly this search.
pub fn last_newline(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut end = s.len();
    while end >= 8 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&s[end - 8..end]);
        let x = u64::from_le_bytes(word) ^ NL;
        // Non-zero exactly when some byte of `x` is zero (a newline in `word`).
        if x.wrapping_sub(LO) & !x & HI != 0 {
            return s[end - 8..end]
                .iter()
                .rposition(|b| *b == b'\n')
                .map(|p| end - 8 + p);
        }
        end -= 8;
    }
    s[..end].iter().rposition(|b| *b == b'\n')
}

/// Where the last complete line of `file` (of length `len`) ends.
fn last_newline_end(file: &mut File, len: u64) -> std::io::Result<u64> {
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    let mut pos = len;
    let mut buf = vec![0u8; 64 * 1024];
    while pos > 0 {
        let step = (buf.len() as u64).min(pos);
        pos -= step;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut buf[..step as usize])?;
        if let Some(p) = last_newline(&buf[..step as usize]) {
            return Ok(pos + p as u64 + 1);
        }
    }
    Ok(0)
}

/// Parse a whole JSON file; the error names the file, line and column.
fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> anyhow::Result<T> {
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(hub(format!(
            "{} line {line} is not valid UTF-8; it was left untouched: restore it from git or run `coord doctor`",
            path.display()
        ))
        .into());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        hub(format!(
            "{} line {} is corrupt ({}); it was left untouched: restore it from git or run `coord doctor`",
            path.display(),
            e.line(),
            e.to_string().split(" at line").next().unwrap_or("invalid JSON")
        ))
        .into()
    })
}

/// Temp file in the same folder, fsync, rename over, fsync the folder.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8], durability: Durability) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let mut file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    if durability != Durability::None {
        // The data and its length; the rename below is what the folder's
        // fsync makes durable.
        file.sync_data()
            .with_context(|| format!("cannot fsync {}", tmp.display()))?;
    }
    drop(file);
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot replace {}", target.display()))?;
    if durability == Durability::Full {
        // Make the rename itself durable. Opening a folder for fsync works on
        // Linux and macOS; where it does not, the rename still happened.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A transaction: the registry as read under the exclusive lock, plus the
/// log lines and local bindings the command wants written with it.
pub struct Tx<'h> {
    pub hub: &'h Hub,
    pub now: Time,
    pub reg: Registry,
    messages: Vec<Message>,
    events: Vec<Event>,
    bindings: Option<Bindings>,
    bindings_dirty: bool,
    ids: IdSource,
    salt: u64,
    minted: u64,
}

impl Tx<'_> {
    /// A fresh id, unique across machines (seeded under `COORD_ID_SEED`).
    pub fn mint(&mut self, prefix: char) -> String {
        self.minted += 1;
        let salt = self.salt ^ fnv1a(&[prefix as u8]) ^ self.minted.wrapping_mul(0x9e37_79b9);
        self.ids.mint(prefix, self.now, salt)
    }

    /// A readable session id not taken in the registry (seeded under
    /// `COORD_ID_SEED`).
    pub fn readable_name(&mut self) -> String {
        self.minted += 1;
        let reg = &self.reg;
        crate::ids::readable_name(&self.ids, self.salt ^ self.minted, |n| {
            reg.sessions.contains_key(n)
        })
    }

    /// Journal an event; written to EVENTS.jsonl when the transaction commits.
    pub fn event(
        &mut self,
        kind: &str,
        session: Option<&str>,
        target: Option<&str>,
        text: String,
    ) -> &mut Event {
        let id = self.mint('e');
        self.events.push(Event {
            id,
            ts: self.now,
            kind: kind.to_string(),
            session: session.map(str::to_string),
            target: target.map(str::to_string),
            token: None,
            text,
            extra: Default::default(),
        });
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Queue a message for MESSAGES.jsonl (its id already minted).
    pub fn push_message(&mut self, message: Message) {
        self.messages.push(message);
    }

    pub fn queued_messages(&self) -> &[Message] {
        &self.messages
    }

    /// The machine-local bindings file, loaded on first use; marked to be
    /// written back at commit.
    pub fn bindings_mut(&mut self) -> anyhow::Result<&mut Bindings> {
        if self.bindings.is_none() {
            self.bindings = Some(self.hub.read_json::<Bindings>(BINDINGS)?.unwrap_or_default());
        }
        self.bindings_dirty = true;
        Ok(self.bindings.get_or_insert_with(Bindings::default))
    }

    /// The bindings, read-only (loaded on first use).
    pub fn bindings(&mut self) -> anyhow::Result<&Bindings> {
        if self.bindings.is_none() {
            self.bindings = Some(self.hub.read_json::<Bindings>(BINDINGS)?.unwrap_or_default());
        }
        Ok(self.bindings.get_or_insert_with(Bindings::default))
    }

    fn commit(self, original: &[u8]) -> anyhow::Result<()> {
        let hub = self.hub;
        let text = sorted_json_pretty(&self.reg) + "\n";
        if text.as_bytes() != original {
            hub.write_atomic(REGISTRY, text.as_bytes())?;
        }
        let lines: Vec<String> = self.messages.iter().map(sorted_json).collect();
        hub.append(MESSAGES, &lines)?;
        let lines: Vec<String> = self.events.iter().map(sorted_json).collect();
        hub.append(EVENTS, &lines)?;
        if let (true, Some(b)) = (self.bindings_dirty, &self.bindings) {
            // Atomic but not fsynced: machine-local and rebuilt by
            // `coord start --resume`, it is not worth a second durable write
            // on every start and stop.
            let text = sorted_json_pretty(b) + "\n";
            write_atomic(&hub.dir, BINDINGS, text.as_bytes(), Durability::None)?;
        }
        Ok(())
    }
}

// ---- discovery -----------------------------------------------------------

fn ids_seeded() -> bool {
    std::env::var_os("COORD_ID_SEED").is_some()
}

/// `--hub`, then `COORD_HUB`, then walking up from `cwd` (a linked git
/// worktree uses its main worktree's hub). `for_init` returns the default
/// place for a new hub instead of failing when none exists.
pub fn locate(flag: Option<&Path>, env: Option<&str>, cwd: &Path, for_init: bool) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(absolute(cwd, dir));
    }
    if let Some(dir) = env.filter(|s| !s.is_empty()) {
        return Ok(absolute(cwd, Path::new(dir)));
    }
    let mut top: Option<PathBuf> = None;
    for dir in cwd.ancestors() {
        let git = dir.join(".git");
        if git.is_file() {
            if let Some(main) = main_worktree(dir, &git) {
                return Ok(main.join(DIR_NAME));
            }
        }
        let candidate = dir.join(DIR_NAME);
        if !for_init && candidate.join(REGISTRY).is_file() {
            return Ok(candidate);
        }
        if top.is_none() && git.exists() {
            top = Some(dir.to_path_buf());
            if for_init {
                break;
            }
        }
    }
    if for_init {
        let base = top.unwrap_or_else(|| cwd.to_path_buf());
        return Ok(base.join(DIR_NAME));
    }
    let expected = top.unwrap_or_else(|| cwd.to_path_buf()).join(DIR_NAME);
    Err(hub(format!(
        "no coord hub found from {}; run `coord init` to create one at {} (or pass --hub DIR)",
        cwd.display(),
        expected.display()
    ))
    .into())
}

/// For a linked worktree (`.git` is a file naming a gitdir with a
/// `commondir`), the main worktree's top folder: what
/// `git rev-parse --git-common-dir` finds, without spawning git.
fn main_worktree(dir: &Path, git_file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(git_file).ok()?;
    let gitdir = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let gitdir = absolute(dir, Path::new(gitdir));
    let common = std::fs::read_to_string(gitdir.join("commondir")).ok()?;
    let common = absolute(&gitdir, Path::new(common.trim()));
    let common = common.canonicalize().unwrap_or(common);
    if common.file_name()? == ".git" {
        common.parent().map(Path::to_path_buf)
    } else {
        None
    }
}

fn absolute(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
