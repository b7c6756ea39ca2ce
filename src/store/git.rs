//! git, driven through the `git` binary: where the work tree is, whether a
//! path is tracked, untracking the old in-tree hub, the local exclude file,
//! and (for `coord sync`) the plumbing that builds commits of the hub on a
//! branch of its own without touching HEAD, the index or the work tree.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::core::error::{failure, hub, CoordError, Result};

/// A git command in `repo` with coord's own identity for the commits it
/// makes (sync commits are the hub's, not the user's).
pub(crate) fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(repo)
        .env("GIT_AUTHOR_NAME", "coord")
        .env("GIT_AUTHOR_EMAIL", "coord@localhost")
        .env("GIT_COMMITTER_NAME", "coord")
        .env("GIT_COMMITTER_EMAIL", "coord@localhost")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    c
}

/// Run git; its trimmed stdout, or an error with its stderr.
pub(crate) fn run(mut c: Command, what: &str) -> Result<String> {
    let out = c
        .output()
        .map_err(|e| failure(format!("cannot run git to {what}: {e}; is git installed?")))?;
    if !out.status.success() {
        return Err(failure(format!(
            "git could not {what}: {}",
            one_line(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Run git with `input` on stdin.
pub(crate) fn run_with(c: Command, input: &[u8], what: &str) -> Result<String> {
    run_raw(c, input, what).map(|out| String::from_utf8_lossy(&out).trim().to_string())
}

/// Run git with `input` on stdin; its stdout as bytes.
pub(crate) fn run_raw(mut c: Command, input: &[u8], what: &str) -> Result<Vec<u8>> {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| failure(format!("cannot run git to {what}: {e}; is git installed?")))?;
    // Fed from a thread: git may fill its stdout pipe before it has read
    // all of its input (cat-file --batch answers as it reads).
    let feeder = child.stdin.take().map(|mut stdin| {
        let input = input.to_vec();
        std::thread::spawn(move || stdin.write_all(&input))
    });
    let out = child
        .wait_with_output()
        .map_err(|e| failure(format!("git could not {what}: {e}")))?;
    let fed = feeder.map(|f| f.join());
    if !out.status.success() {
        return Err(failure(format!(
            "git could not {what}: {}",
            one_line(&out.stderr)
        )));
    }
    if let Some(Ok(Err(e))) = fed {
        return Err(failure(format!("cannot feed git to {what}: {e}")));
    }
    Ok(out.stdout)
}

/// What git said on stderr, as one line (its lines joined with "; ").
pub(crate) fn one_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The top of the work tree `dir` is in.
pub fn work_tree(dir: &Path) -> Option<PathBuf> {
    let mut c = git(dir);
    c.args(["rev-parse", "--show-toplevel"]);
    run(c, "find the work tree").ok().map(PathBuf::from)
}

/// Whether git tracks anything under `path` (relative to `repo`).
pub fn tracked(repo: &Path, path: &str) -> bool {
    let mut c = git(repo);
    c.args(["ls-files", "--", path]);
    run(c, "list tracked files").is_ok_and(|out| !out.is_empty())
}

/// Stop tracking `path` (no file is deleted).
pub fn untrack(repo: &Path, path: &str) -> Result<()> {
    let mut c = git(repo);
    c.args(["rm", "-r", "-q", "--cached", "--", path]);
    run(c, "untrack the old hub").map(|_| ())
}

/// Add `pattern` to the clone's own exclude file (`info/exclude` in the
/// common git dir), once.
pub fn exclude(common: &Path, pattern: &str) -> Result<()> {
    let info = common.join("info");
    std::fs::create_dir_all(&info).map_err(|e| CoordError::io("create", &info, e))?;
    let path = info.join("exclude");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.lines().any(|l| l.trim() == pattern) {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| CoordError::io("write", &path, e))?;
    let sep = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    write!(
        file,
        "{sep}# coord: the old in-tree hub (the live hub is in {})\n{pattern}\n",
        common.join(super::LIVE_DIR).display()
    )
    .map_err(|e| CoordError::io("write", &path, e))
}

/// The paths staged for the next commit of the work tree at `dir` (added,
/// changed, deleted; a rename as its two paths), relative to its top.
pub fn staged(dir: &Path) -> Result<Vec<String>> {
    let out = git(dir)
        .args(["diff", "--cached", "--name-only", "-z", "--no-renames"])
        .output()
        .map_err(|e| {
            failure(format!(
                "cannot run git to list the staged files: {e}; is git installed?"
            ))
        })?;
    if !out.status.success() {
        return Err(failure(format!(
            "git could not list the staged files: {}",
            one_line(&out.stderr)
        )));
    }
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// The folder git runs hooks from for the work tree at `dir`: `core.hooksPath`
/// when set, else `hooks/` in the common git directory (shared by linked
/// worktrees).
pub fn hooks_dir(dir: &Path) -> Result<PathBuf> {
    let mut c = git(dir);
    c.args(["rev-parse", "--git-path", "hooks"]);
    let out = run(c, "find the hooks folder").map_err(|_| {
        hub(format!(
            "{} is not in a git repository; run `coord install git` inside one",
            dir.display()
        ))
    })?;
    let path = PathBuf::from(out);
    Ok(if path.is_absolute() { path } else { dir.join(path) })
}

/// The hub must be in a git repository for this.
pub fn require_repo(dir: &Path) -> Result<PathBuf> {
    let mut c = git(dir);
    c.args(["rev-parse", "--git-common-dir"]);
    let out = run(c, "find the repository").map_err(|_| {
        hub(format!(
            "the hub at {} is not in a git repository; `coord sync` carries a hub through git",
            dir.display()
        ))
    })?;
    let common = PathBuf::from(out);
    let common = if common.is_absolute() {
        common
    } else {
        dir.join(common)
    };
    // In the main work tree when there is one: git reads a relative remote
    // URL (`../remote.git`) from where it runs.
    Ok(match common.parent() {
        Some(top) if common.file_name().is_some_and(|n| n == ".git") => top.to_path_buf(),
        _ => common,
    })
}
