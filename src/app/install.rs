//! `coord install git`: the pre-commit guard, written into the folder git
//! runs hooks from, chaining a hook that was there before.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::core::error::{hub, CoordError, Result};
use crate::core::text::shell_quote;
use crate::store::git;

/// The line that marks a pre-commit hook as coord's.
pub const MARK: &str = "# coord-guard: written by `coord install git`";
/// Where a pre-commit hook that was there before goes; coord's hook runs it.
pub const CHAINED: &str = "pre-commit.before-coord";

#[derive(Debug, Serialize)]
pub struct InstallReport {
    pub hook: PathBuf,
    /// installed, updated, uninstalled, or absent (nothing to uninstall).
    pub action: &'static str,
    /// The earlier hook coord's hook runs after its check (or, on
    /// uninstall, put back in place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chained: Option<PathBuf>,
}

/// The hook: run the guard with the coord that installed it (else the one
/// on PATH), then the earlier hook. A missing coord lets the commit through
/// with a warning: the guard is a backstop, not a lock on the repository.
fn script(exe: &Path) -> String {
    format!(
        "#!/bin/sh\n{MARK}; `coord install git --uninstall` removes it.\n\
# Bypass once: COORD_GUARD=off git commit ..., or git commit --no-verify.\n\
coord={exe}\n\
[ -x \"$coord\" ] || coord=$(command -v coord) || coord=\n\
if [ -n \"$coord\" ]; then\n    \"$coord\" guard || exit $?\nelse\n    echo 'coord guard: coord is not installed; this commit was not checked' >&2\nfi\n\
chained=\"$(dirname \"$0\")/{CHAINED}\"\n\
if [ -x \"$chained\" ]; then\n    exec \"$chained\" \"$@\"\nfi\n",
        exe = shell_quote(&exe.to_string_lossy())
    )
}

pub fn install_git(dir: &Path, exe: &Path, uninstall: bool) -> Result<InstallReport> {
    let hooks = git::hooks_dir(dir)?;
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(CHAINED);
    let ours = std::fs::read_to_string(&hook).is_ok_and(|t| t.contains(MARK));
    if uninstall {
        if !ours {
            return Ok(InstallReport {
                hook,
                action: "absent",
                chained: None,
            });
        }
        if chained.exists() {
            std::fs::rename(&chained, &hook).map_err(|e| CoordError::io("restore", &chained, e))?;
            return Ok(InstallReport {
                hook,
                action: "uninstalled",
                chained: Some(chained),
            });
        }
        std::fs::remove_file(&hook).map_err(|e| CoordError::io("remove", &hook, e))?;
        return Ok(InstallReport {
            hook,
            action: "uninstalled",
            chained: None,
        });
    }
    std::fs::create_dir_all(&hooks).map_err(|e| CoordError::io("create", &hooks, e))?;
    let linked = std::fs::symlink_metadata(&hook).is_ok_and(|m| m.file_type().is_symlink());
    if linked {
        return Err(hub(format!(
            "{} is a symbolic link; coord will not write through it: move it to {} yourself and run `coord install git` again",
            hook.display(),
            chained.display()
        )));
    }
    let mut action = if ours { "updated" } else { "installed" };
    if !ours && hook.exists() {
        if chained.exists() {
            return Err(hub(format!(
                "both {} and {} exist; coord will not overwrite either: merge them by hand and run `coord install git` again",
                hook.display(),
                chained.display()
            )));
        }
        std::fs::rename(&hook, &chained).map_err(|e| CoordError::io("move", &hook, e))?;
        action = "installed";
    }
    // Written beside the hook, then renamed: git never runs half a hook.
    let tmp = hooks.join(".pre-commit.coord-tmp");
    std::fs::write(&tmp, script(exe)).map_err(|e| CoordError::io("write", &tmp, e))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| CoordError::io("make executable", &tmp, e))?;
    std::fs::rename(&tmp, &hook).map_err(|e| CoordError::io("write", &hook, e))?;
    Ok(InstallReport {
        hook,
        action,
        chained: chained.exists().then_some(chained),
    })
}
