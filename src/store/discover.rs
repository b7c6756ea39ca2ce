//! Finding the hub: `--hub`, then `COORD_HUB`, then walking up from the
//! current folder; inside a linked git worktree, the main worktree's hub.
//! The caller (the CLI) reads the environment and passes what it found.

use std::path::{Path, PathBuf};

use super::{DIR_NAME, REGISTRY};
use crate::core::error::{hub, Result};

/// `flag` (`--hub`), then `env` (`COORD_HUB`), then walking up from `cwd` (a linked git
/// worktree uses its main worktree's hub). `for_init` returns the default
/// place for a new hub instead of failing when none exists.
pub fn locate(flag: Option<&Path>, env: Option<&str>, cwd: &Path, for_init: bool) -> Result<PathBuf> {
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
                let hub = main.join(DIR_NAME);
                refuse_link(&hub)?;
                return Ok(hub);
            }
        }
        let candidate = dir.join(DIR_NAME);
        if !for_init && candidate.join(REGISTRY).is_file() {
            refuse_link(&candidate)?;
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
    )))
}

/// A hub found by walking up is used only when it is a real folder: a link
/// named `coordination` may have arrived through git, pointing anywhere.
/// Linking the hub is the user's choice to make explicitly (`--hub`,
/// `COORD_HUB`).
fn refuse_link(candidate: &Path) -> Result<()> {
    let linked = std::fs::symlink_metadata(candidate).is_ok_and(|m| m.file_type().is_symlink());
    if linked {
        return Err(hub(format!(
            "{} is a symbolic link; coord does not follow a hub link it was not given: pass --hub {} (or set COORD_HUB) if you made it",
            candidate.display(),
            candidate.display()
        )));
    }
    Ok(())
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
