//! Finding the hub: `--hub`, then `COORD_HUB`, then walking up from the
//! current folder; inside a linked git worktree, the main worktree's hub.
//! The caller (the CLI) reads the environment and passes what it found.

use std::path::{Path, PathBuf};

use super::{DIR_NAME, REGISTRY};
use crate::core::error::{hub, Result};

/// `flag` (`--hub`), then `env` (`COORD_HUB`), then walking up from `cwd`.
/// Inside a git work tree (main or linked) the live hub is `coord/` in the
/// repository's common git directory (what `git rev-parse --git-common-dir`
/// names, read from `.git` without running git): no porcelain command reaches
/// it, and every worktree of the clone shares it. A hub of the old layout,
/// `coordination/` at the top of the (main) work tree, is still found when
/// there is no live hub yet (`coord init` moves it). `for_init` returns where
/// a new hub goes instead of failing when none exists.
pub fn locate(flag: Option<&Path>, env: Option<&str>, cwd: &Path, for_init: bool) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(absolute(cwd, dir));
    }
    if let Some(dir) = env.filter(|s| !s.is_empty()) {
        return Ok(absolute(cwd, Path::new(dir)));
    }
    for dir in cwd.ancestors() {
        let git = dir.join(".git");
        if git.exists() {
            if let Some(common) = common_dir(dir, &git) {
                let live = common.join(LIVE_DIR);
                if for_init || live.join(REGISTRY).is_file() {
                    refuse_link(&live)?;
                    return Ok(live);
                }
                let legacy = common.parent().unwrap_or(dir).join(DIR_NAME);
                if legacy.join(REGISTRY).is_file() {
                    refuse_link(&legacy)?;
                    return Ok(legacy);
                }
            }
            return Err(no_hub(cwd, &common_dir(dir, &git).unwrap_or(git).join(LIVE_DIR)));
        }
        let candidate = dir.join(DIR_NAME);
        if !for_init && candidate.join(REGISTRY).is_file() {
            refuse_link(&candidate)?;
            return Ok(candidate);
        }
    }
    if for_init {
        return Ok(cwd.join(DIR_NAME));
    }
    Err(no_hub(cwd, &cwd.join(DIR_NAME)))
}

/// The folder of the live hub inside the common git directory.
pub const LIVE_DIR: &str = "coord";

fn no_hub(cwd: &Path, expected: &Path) -> crate::core::error::CoordError {
    hub(format!(
        "no coord hub found from {}; run `coord init` to create one at {} (or pass --hub DIR)",
        cwd.display(),
        expected.display()
    ))
}

/// The repository's common git directory for the work tree at `dir`: `.git`
/// itself, or for a linked worktree the `commondir` its `.git` file leads to.
pub fn common_dir(dir: &Path, git: &Path) -> Option<PathBuf> {
    if git.is_dir() {
        return Some(git.canonicalize().unwrap_or_else(|_| git.to_path_buf()));
    }
    let text = std::fs::read_to_string(git).ok()?;
    let gitdir = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let gitdir = absolute(dir, Path::new(gitdir));
    let common = std::fs::read_to_string(gitdir.join("commondir")).ok()?;
    let common = absolute(&gitdir, Path::new(common.trim()));
    Some(common.canonicalize().unwrap_or(common))
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

fn absolute(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
