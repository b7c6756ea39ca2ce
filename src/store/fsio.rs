//! Raw file primitives, private to the storage layer: atomic replace,
//! whole-line append that repairs a torn tail, reads that name the file.
//!
//! The hub is input from peers, so no file outside it is ever written
//! whatever it contains: every hub file is opened with `O_NOFOLLOW` and must
//! be a regular file (a link, folder, pipe or device is a hub error naming
//! it); temporary files get unpredictable names and are created with
//! `O_CREAT | O_EXCL` (never through an existing path or link); files are
//! created with explicit modes that are never group- or world-writable,
//! whatever the umask.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::core::config::Durability;
use crate::core::error::{hub, CoordError, Result};

/// What an append did besides appending.
pub(super) enum Appended {
    Clean,
    /// A torn last line (a writer killed mid-write) was cut off first.
    CutTorn,
}

/// The mode of shared hub files.
pub(super) const SHARED: u32 = 0o644;
/// The mode of machine-local files (`.bindings.json`): this user only.
pub(super) const PRIVATE: u32 = 0o600;

/// Open a hub file without following a link, and check it is a regular
/// file. `O_NONBLOCK` keeps a planted FIFO from hanging the open; it means
/// nothing for regular files.
pub(crate) fn open_checked(path: &Path, opts: &mut OpenOptions) -> std::io::Result<File> {
    let file = opts
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => not_regular(),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

fn not_regular() -> std::io::Error {
    std::io::Error::other(
        "it is not a regular file (a symbolic link, folder or device); coord never follows links in the hub: replace it with a regular file, see `coord doctor`",
    )
}

/// Open for reading; `None` when missing.
fn open_read(path: &Path) -> Result<Option<File>> {
    match open_checked(path, OpenOptions::new().read(true)) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CoordError::io("read", path, e)),
    }
}

/// Open (creating it if missing) for writing in place: the lock sentinel.
pub(super) fn open_rw(path: &Path, create: bool) -> std::io::Result<File> {
    open_checked(
        path,
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .mode(SHARED),
    )
}

/// Append whole lines in one write, first cutting off a torn last line.
pub(super) fn append(path: &Path, lines: &[String], durability: Durability) -> Result<Appended> {
    if lines.is_empty() {
        return Ok(Appended::Clean);
    }
    let io = |what: &'static str| move |e| CoordError::io(what, path, e);
    let mut file = open_checked(
        path,
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(SHARED),
    )
    .map_err(io("open to append"))?;
    let len = file.metadata().map_err(io("read"))?.len();
    let keep = last_newline_end(&mut file, len).map_err(io("read"))?;
    let outcome = if keep < len {
        file.set_len(keep).map_err(io("repair the torn end of"))?;
        Appended::CutTorn
    } else {
        Appended::Clean
    };
    let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        buf.push_str(line);
        buf.push('\n');
    }
    file.write_all(buf.as_bytes()).map_err(io("append to"))?;
    if durability != Durability::None {
        file.sync_data().map_err(io("fsync"))?;
    }
    Ok(outcome)
}

/// A new file with an unpredictable name next to `name` (`.NAME.RANDOM.tmp`),
/// created with `O_CREAT | O_EXCL`: never an existing file, never a link.
pub(super) fn create_new_beside(dir: &Path, name: &str, mode: u32) -> Result<(File, PathBuf)> {
    use std::hash::{BuildHasher, Hasher};
    for _ in 0..8 {
        // RandomState is keyed from the OS's randomness.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let tmp = dir.join(format!(".{name}.{random:016x}.tmp"));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(mode)
            .open(&tmp);
        match opened {
            Ok(file) => {
                // The mode is exact whatever the umask did to it.
                file.set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(|e| CoordError::io("set the mode of", &tmp, e))?;
                return Ok((file, tmp));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CoordError::io("create", &tmp, e)),
        }
    }
    Err(hub(format!(
        "cannot create a temporary file in {}: every name tried was taken",
        dir.display()
    )))
}

/// Temp file in the same folder, fsync, rename over, fsync the folder.
pub(super) fn write_atomic(dir: &Path, name: &str, bytes: &[u8], durability: Durability) -> Result<()> {
    write_atomic_mode(dir, name, bytes, durability, SHARED)
}

pub(super) fn write_atomic_mode(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    durability: Durability,
    mode: u32,
) -> Result<()> {
    let target = dir.join(name);
    let (mut file, tmp) = create_new_beside(dir, name, mode)?;
    let written = write_and_sync(&mut file, bytes, durability);
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(CoordError::io("write", &tmp, e));
    }
    // rename replaces a link at `target` itself; it never writes through it.
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(CoordError::io("replace", &target, e));
    }
    if durability == Durability::Full {
        // Make the rename itself durable. Opening a folder for fsync works on
        // Linux and macOS; where it does not, the rename still happened.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn write_and_sync(file: &mut File, bytes: &[u8], durability: Durability) -> std::io::Result<()> {
    file.write_all(bytes)?;
    if durability != Durability::None {
        // The data and its length; the rename is what the folder's fsync
        // makes durable.
        file.sync_data()?;
    }
    Ok(())
}

/// A file's bytes, `None` when it is missing.
pub(super) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    let Some(mut file) = open_read(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| CoordError::io("read", path, e))?;
    Ok(Some(bytes))
}

/// Open a log for reading; `None` when it is missing.
pub(super) fn open_log(path: &Path) -> Result<Option<File>> {
    open_read(path)
}

/// Parse a whole JSON file; the error names the file, line and column, and
/// how to get a good copy back.
pub(super) fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T> {
    let remedy = if path.file_name().is_some_and(|n| n == super::REGISTRY) {
        "run `coord doctor` to see how to put back its last good copy"
    } else {
        "it is this machine's alone: delete it, and sessions bind again at their next `coord start`"
    };
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(hub(format!(
            "{} line {line} is not valid UTF-8; it was left untouched: {remedy}",
            path.display(),
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        hub(format!(
            "{} line {} is corrupt ({}); it was left untouched: {remedy}",
            path.display(),
            e.line(),
            e.to_string().split(" at line").next().unwrap_or("invalid JSON"),
        ))
    })
}

/// Lines read from a log, starting at byte `start`.
pub(super) struct LogChunk {
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

/// The complete lines of a log from byte `offset` to the end; the flag says
/// whether a torn last line was left out.
pub(super) fn read_lines_from(path: &Path, offset: u64) -> Result<(LogChunk, bool)> {
    let Some(mut file) = open_log(path)? else {
        return Ok((
            LogChunk {
                start: offset,
                bytes: Vec::new(),
            },
            false,
        ));
    };
    let io = |e| CoordError::io("read", path, e);
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    let mut torn = false;
    if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
        torn = true;
        let cut = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        bytes.truncate(cut);
    }
    Ok((LogChunk { start: offset, bytes }, torn))
}

/// The bytes of `len` at `offset`, or `None` if the file is shorter.
pub(super) fn read_at(path: &Path, offset: u64, len: u64) -> Result<Option<Vec<u8>>> {
    let Some(mut file) = open_log(path)? else {
        return Ok(None);
    };
    let io = |e| CoordError::io("read", path, e);
    if file.metadata().map_err(io)?.len() < offset + len {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut buf = vec![0u8; len as usize];
    file.read_exact(&mut buf).map_err(io)?;
    Ok(Some(buf))
}

/// Visit the complete lines of a log newest first, reading backwards in
/// chunks, so "the last N" costs N lines and not the log's size. `f` gets
/// each line's offset and bytes (without the newline) and returns `false`
/// to stop. Returns whether a torn last line was skipped.
pub(super) fn rev_lines(path: &Path, mut f: impl FnMut(u64, &[u8]) -> Result<bool>) -> Result<bool> {
    const CHUNK: u64 = 64 * 1024;
    let Some(mut file) = open_log(path)? else {
        return Ok(false);
    };
    let io = |e| CoordError::io("read", path, e);
    let len = file.metadata().map_err(io)?.len();
    let mut pos = last_newline_end(&mut file, len).map_err(io)?;
    let torn = pos < len;
    // Invariant: `buf` holds the file's bytes [pos, pos + buf.len()) and
    // is empty or ends with a newline.
    let mut buf: Vec<u8> = Vec::new();
    while pos > 0 {
        let step = CHUNK.min(pos);
        pos -= step;
        let mut chunk = vec![0u8; step as usize];
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        file.read_exact(&mut chunk).map_err(io)?;
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
            if !f(pos + start as u64, &buf[start..line_end])? {
                return Ok(torn);
            }
            stop = start;
        }
        buf.truncate(stop);
    }
    Ok(torn)
}

/// Visit every complete line of a log in file order, reading it in chunks
/// through one reused buffer (a 40 MiB log costs no 40 MiB allocation). `f`
/// gets each line's offset and bytes (without the newline). Returns whether a
/// torn last line was left out.
pub(super) fn scan_lines(path: &Path, f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<bool> {
    scan_lines_from(path, 0, f)
}

/// `scan_lines` from byte `offset` on.
pub(super) fn scan_lines_from(
    path: &Path,
    offset: u64,
    f: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<bool> {
    match open_log(path)? {
        Some(mut file) => scan_range(&mut file, path, offset..u64::MAX, f),
        None => Ok(false),
    }
}

/// The complete lines of `file` that start in `range` (whose start is the
/// start of a line and whose end is the end of one, or past the file's
/// end). Returns whether a torn line was left out at the end.
pub(super) fn scan_range(
    file: &mut File,
    path: &Path,
    range: std::ops::Range<u64>,
    mut f: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<bool> {
    // Reused for the whole range: small enough that touching it costs few
    // page faults, large enough that a read is not a syscall a line.
    const CHUNK: usize = 128 * 1024;
    let io = |e| CoordError::io("read", path, e);
    file.seek(SeekFrom::Start(range.start)).map_err(io)?;
    let mut buf = vec![0u8; CHUNK.min(range.end.saturating_sub(range.start).saturating_add(1) as usize)];
    // `buf[..filled]` holds file bytes from `base`; `buf[..start]` is done.
    let (mut base, mut filled) = (range.start, 0usize);
    loop {
        let left = range.end.saturating_sub(base + filled as u64);
        let room = (buf.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = file.read(&mut buf[filled..filled + room]).map_err(io)?;
        if n == 0 {
            return Ok(filled > 0);
        }
        filled += n;
        let mut start = 0;
        while let Some(nl) = next_newline(&buf[start..filled]) {
            f(base + start as u64, &buf[start..start + nl])?;
            start += nl + 1;
        }
        // Keep the unfinished line; grow the buffer when one line fills it.
        buf.copy_within(start..filled, 0);
        base += start as u64;
        filled -= start;
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
    }
}

/// The position of the first `\n` in `s` (SIMD: every scan of a log is
/// mostly this search).
pub(super) fn next_newline(s: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', s)
}

/// The position of the last `\n` in `s`: reading a log backwards is mostly
/// this search.
pub(super) fn last_newline(s: &[u8]) -> Option<usize> {
    memchr::memrchr(b'\n', s)
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

/// A hasher for short keys hashed many times (ids in a set; the tail of a
/// log), eight bytes a step (as rustc's FxHasher): much cheaper than the
/// default hasher. These keys are not chosen to collide, and the worst a
/// collision costs is a slower lookup.
#[derive(Clone, Copy, Default)]
pub(super) struct QuickHasher(u64);

impl std::hash::Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

/// A `HashSet`/`HashMap` hasher of `QuickHasher`s.
pub(super) type Quick = std::hash::BuildHasherDefault<QuickHasher>;

/// Whether `hay` holds `needle` (a SIMD substring search of the bytes; the
/// line is not checked as UTF-8 first, which cost more than the search).
pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::last_newline;

    #[test]
    fn next_newline_matches_a_plain_search() {
        let text = b"ab\ncdefghijklmnop\nqrstuvwxyz0123456789\n\nxyz\x8a\x0b\x0a";
        for end in 0..=text.len() {
            for start in 0..=end {
                let s = &text[start..end];
                assert_eq!(
                    super::next_newline(s),
                    s.iter().position(|b| *b == b'\n'),
                    "{start}..{end}"
                );
            }
        }
    }

    #[test]
    fn scanning_sees_every_line_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let long = "x".repeat(3 << 20);
        let text = format!("a\n{long}\nb\nc\ntorn");
        std::fs::write(&path, &text).unwrap();
        let mut seen = Vec::new();
        let torn = super::scan_lines(&path, |offset, line| {
            seen.push((offset, line.len()));
            Ok(())
        })
        .unwrap();
        assert!(torn);
        let long_len = long.len() as u64;
        assert_eq!(
            seen,
            vec![(0, 1), (2, long.len()), (3 + long_len, 1), (5 + long_len, 1)]
        );
    }

    #[test]
    fn a_range_is_scanned_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "aa\nbbb\ncc\ntor").unwrap();
        let lines = |range: std::ops::Range<u64>| {
            let mut file = std::fs::File::open(&path).unwrap();
            let mut seen = Vec::new();
            let torn = super::scan_range(&mut file, &path, range, |offset, line| {
                seen.push((offset, String::from_utf8(line.to_vec()).unwrap()));
                Ok(())
            })
            .unwrap();
            (seen, torn)
        };
        assert_eq!(lines(3..7), (vec![(3, "bbb".to_string())], false));
        assert_eq!(lines(0..3), (vec![(0, "aa".to_string())], false));
        assert_eq!(
            lines(7..u64::MAX),
            (vec![(7, "cc".to_string())], true),
            "the torn end is left out and reported"
        );
        assert_eq!(lines(10..10), (vec![], false));
    }

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
