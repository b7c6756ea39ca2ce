//! The git merge driver: `coord merge-driver %O %A %B %P` merges two
//! versions of a hub file (with their base) record by record and writes the
//! result over "ours", as git expects. REGISTRY.json goes through the
//! registry merge; the logs (and archive files) through the union by id in
//! (time, id) order, the same bytes whichever side is ours. Only the hub's
//! own file names are merged, and a registry that doctor would refuse (on
//! either side) is not: git then leaves the conflict for a human.
//! Also registering the driver in a clone's git config (git cannot commit
//! driver definitions, and an undefined driver falls back to a line merge
//! with conflict markers).

use std::path::Path;
use std::process::Command;

use super::fsio;
use crate::core::clock::Time;
use crate::core::error::{failure, hub, CoordError, Result};
use crate::core::model::{sorted_json_pretty, Registry};
use crate::core::rules::merge::{merge_log, merge_registry};

/// Which merge a hub file takes, by its name.
enum Kind {
    Registry,
    Log,
}

/// A hub data name, on the hub branch (`REGISTRY.json`) or in a work tree
/// that tracks the old in-tree hub (`coordination/REGISTRY.json`).
fn kind_of(path: &str) -> Option<Kind> {
    let rel = path
        .strip_prefix(&format!("{}/", super::DIR_NAME))
        .unwrap_or(path);
    if !super::incoming::data_name(rel) {
        None
    } else if rel == super::REGISTRY {
        Some(Kind::Registry)
    } else {
        Some(Kind::Log)
    }
}

fn read(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| CoordError::io("read", path, e))?;
    String::from_utf8(bytes).map_err(|_| hub(format!("{} is not UTF-8 text", path.display())))
}

/// A registry fit to merge: parsed, and nothing doctor would refuse.
fn registry(path: &Path, text: &str, now: Time, skew: chrono::Duration) -> Result<Registry> {
    if let Some(f) = super::repair::registry_problems(text.as_bytes(), now, skew)
        .into_iter()
        .next()
    {
        let at = f.line.map(|l| format!(" line {l}")).unwrap_or_default();
        return Err(hub(format!(
            "{}{at} is not a registry coord merges ({}); resolve this file by hand",
            path.display(),
            crate::core::text::sanitize(&f.problem, false)
        )));
    }
    serde_json::from_str(text).map_err(|e| {
        hub(format!(
            "{} is not a registry ({e}); merge it by hand",
            path.display()
        ))
    })
}

/// Merge `ours` and `theirs` (with `base`) for the hub file named `name`,
/// writing the result over `ours`.
pub fn merge_files(base: &Path, ours: &Path, theirs: &Path, name: &str, now: Time) -> Result<()> {
    let kind = kind_of(name).ok_or_else(|| {
        failure(format!(
            "{:?} is not a file coord merges (REGISTRY.json, MESSAGES.jsonl, EVENTS.jsonl and archive/ are); merge it by hand",
            crate::core::text::sanitize(name, false)
        ))
    })?;
    let skew = crate::core::config::Config::default().max_skew;
    let (a, b) = (read(ours)?, read(theirs)?);
    let merged = match kind {
        Kind::Registry => {
            // A missing or empty base (a file both sides added) is no base.
            // A base coord would refuse is no base (the merge keeps both sides' records).
            let base_text = read(base).ok().filter(|t| !t.trim().is_empty());
            let base = base_text.and_then(|t| registry(base, &t, now, skew).ok());
            let m = merge_registry(
                base.as_ref(),
                &registry(ours, &a, now, skew)?,
                &registry(theirs, &b, now, skew)?,
            );
            sorted_json_pretty(&m) + "\n"
        }
        Kind::Log => merge_log(&a, &b),
    };
    let dir = ours.parent().unwrap_or(Path::new("."));
    let name = ours.file_name().and_then(|n| n.to_str()).unwrap_or("merged");
    fsio::write_atomic(
        dir,
        name,
        merged.as_bytes(),
        crate::core::config::Durability::Normal,
    )
}

/// The repository a hub folder is in, when it is in one: its work tree's
/// top, or for the live hub inside the git directory (`.git/coord/`, where
/// git has no work tree) the common git directory, where `git config`
/// works the same.
pub fn repository_of(dir: &Path) -> Option<std::path::PathBuf> {
    super::git::work_tree(dir).or_else(|| super::git::require_repo(dir).ok())
}

/// The driver line git runs.
pub const DRIVER: &str = "coord merge-driver %O %A %B %P";

/// Whether the clone at `repo` has coord's merge driver defined.
pub fn driver_registered(repo: &Path) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["config", "--get", "merge.coord.driver"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == DRIVER)
}

/// Define coord's merge driver in the clone's git config.
pub fn register_driver(repo: &Path) -> Result<()> {
    for (key, value) in [
        ("merge.coord.name", "coord: merge hub records"),
        ("merge.coord.driver", DRIVER),
    ] {
        let ok = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["config", key, value])
            .status()
            .map_err(|e| failure(format!("cannot run git: {e}")))?;
        if !ok.success() {
            return Err(failure(format!(
                "git config {key} failed in {}; run `git config {key} '{value}'` there",
                repo.display()
            )));
        }
    }
    Ok(())
}
