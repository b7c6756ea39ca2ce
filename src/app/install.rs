//! `coord install git`: the pre-commit guard, written into the folder git
//! runs hooks from, chaining a hook that was there before. `coord install
//! agents-md`: coord's marked section of `AGENTS.md`.

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
    /// The file written: the hook, or AGENTS.md.
    pub path: PathBuf,
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
                path: hook,
                action: "absent",
                chained: None,
            });
        }
        if chained.exists() {
            std::fs::rename(&chained, &hook).map_err(|e| CoordError::io("restore", &chained, e))?;
            return Ok(InstallReport {
                path: hook,
                action: "uninstalled",
                chained: Some(chained),
            });
        }
        std::fs::remove_file(&hook).map_err(|e| CoordError::io("remove", &hook, e))?;
        return Ok(InstallReport {
            path: hook,
            action: "uninstalled",
            chained: None,
        });
    }
    let top = git::work_tree(dir).unwrap_or_else(|| dir.to_path_buf());
    let linked = std::fs::symlink_metadata(&hook).is_ok_and(|m| m.file_type().is_symlink());
    if linked {
        return Err(hub(format!(
            "{} is a symbolic link; coord will not write through it: move it to {} yourself and run `coord install git` again",
            hook.display(),
            chained.display()
        )));
    }
    let action = if ours { "updated" } else { "installed" };
    if !ours && hook.exists() {
        if chained.exists() {
            return Err(hub(format!(
                "both {} and {} exist; coord will not overwrite either: merge them by hand and run `coord install git` again",
                hook.display(),
                chained.display()
            )));
        }
        std::fs::rename(&hook, &chained).map_err(|e| CoordError::io("move", &hook, e))?;
    }
    // Written beside the hook, then renamed: git never runs half a hook.
    replace(&top, &hook, &script(exe), 0o755)?;
    Ok(InstallReport {
        path: hook,
        action,
        chained: chained.exists().then_some(chained),
    })
}

/// The lines around coord's section of AGENTS.md.
pub const BEGIN: &str = "<!-- coord:begin (written by `coord install agents-md`; `coord install agents-md --uninstall` removes it) -->";
pub const END: &str = "<!-- coord:end -->";

/// coord's section of AGENTS.md: what any agent reading the file should do.
fn section() -> String {
    let mut t = format!("{BEGIN}\n## Working with other sessions (coord)\n\n");
    t.push_str("Other sessions work in this repository at the same time. Run `coord prime` when you start and after your context is cleared: it says who you are, what you hold and what waits for you.\n\n");
    for rule in super::prime::PROTOCOL {
        t.push_str(&format!("- {rule}\n"));
    }
    t.push_str(END);
    t.push('\n');
    t
}

/// Where coord's section starts and ends in `text` (the end is past the
/// END line and its newline).
fn find_section(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BEGIN)?;
    let end = start + text[start..].find(END)? + END.len();
    let end = if text[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    Some((start, end))
}

/// Add, refresh or (`uninstall`) remove coord's section of `AGENTS.md` at the
/// top of the work tree `dir` is in (or in `dir` outside git). Other text is
/// kept as it is; the section is appended after a blank line.
pub fn install_agents_md(dir: &Path, uninstall: bool) -> Result<InstallReport> {
    let top = git::work_tree(dir).unwrap_or_else(|| dir.to_path_buf());
    let path = top.join("AGENTS.md");
    refuse_link(&path, "add coord's section by hand (see `coord prime`)")?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CoordError::io("read", &path, e)),
    };
    let found = find_section(&text);
    let (new, action) = match (found, uninstall) {
        (None, true) => {
            return Ok(InstallReport {
                path,
                action: "absent",
                chained: None,
            })
        }
        (Some((a, b)), true) => {
            // Take back the blank line the section was appended after.
            let a = if a >= 2 && text[..a].ends_with("\n\n") {
                a - 1
            } else {
                a
            };
            (format!("{}{}", &text[..a], &text[b..]), "uninstalled")
        }
        (Some((a, b)), false) => (format!("{}{}{}", &text[..a], section(), &text[b..]), "updated"),
        (None, false) if text.is_empty() => (section(), "installed"),
        (None, false) => {
            let sep = if text.ends_with('\n') { "\n" } else { "\n\n" };
            (format!("{text}{sep}{}", section()), "installed")
        }
    };
    if uninstall && new.trim().is_empty() {
        std::fs::remove_file(&path).map_err(|e| CoordError::io("remove", &path, e))?;
    } else if new != text {
        replace(&top, &path, &new, 0o644)?;
    }
    Ok(InstallReport {
        path,
        action,
        chained: None,
    })
}

/// A file coord edits must not be a link: writing through it would change a
/// file somewhere else. `what` says what to do instead.
pub fn refuse_link(path: &Path, what: &str) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(hub(format!(
            "{} is a symbolic link; coord will not write through it: {what}",
            path.display()
        )));
    }
    Ok(())
}

/// Replace a file's content whole outside the hub: written beside it
/// under a random name created with `O_CREAT | O_EXCL | O_NOFOLLOW` (so a
/// planted link or file is never written through), flushed, then renamed
/// over it, so a reader sees the old text or the new one, never half. Every
/// folder from `top` down to the file must be a real folder (missing ones
/// are created), and the file, when it exists, must not be a link.
pub fn replace(top: &Path, path: &Path, text: &str, mode: u32) -> Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| hub(format!("{} has no folder to write in", path.display())))?;
    real_folders(top, parent)?;
    refuse_link(
        path,
        "replace it with a plain file, or remove it, and run the command again",
    )?;
    // An existing file keeps its permissions (plus execute when asked for).
    let mode = match std::fs::symlink_metadata(path) {
        Ok(m) => (m.permissions().mode() & 0o777) | (mode & 0o111),
        Err(_) => mode,
    };
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let mut bytes = [0u8; 8];
    crate::core::ids::os_random_bytes(&mut bytes)
        .map_err(|e| CoordError::io("read", Path::new("/dev/urandom"), e))?;
    let tag: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = parent.join(format!(".{name}.{tag}.coord-tmp"));
    let written = (|| {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        // The mode asked for, whatever the umask took away.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(CoordError::io("write", &tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CoordError::io("write", path, e)
    })
}

/// Every folder from below `top` down to `dir` is a real folder, not a
/// link (a committed `.codex -> elsewhere` would send the file elsewhere);
/// missing ones are created, one at a time. Outside `top`, `dir` itself
/// must not be a link.
fn real_folders(top: &Path, dir: &Path) -> Result<()> {
    let mut at = top.to_path_buf();
    let below: Vec<_> = match dir.strip_prefix(top) {
        Ok(rest) => rest.components().collect(),
        Err(_) => {
            at = dir.to_path_buf();
            Vec::new()
        }
    };
    let check = |p: &Path| -> Result<bool> {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => Err(hub(format!(
                "{} is a symbolic link; coord will not write through it: replace it with a plain folder and run the command again",
                p.display()
            ))),
            Ok(m) if m.is_dir() => Ok(true),
            Ok(_) => Err(hub(format!("{} is not a folder; coord cannot write in it", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CoordError::io("read", p, e)),
        }
    };
    if below.is_empty() {
        if !check(&at)? {
            std::fs::create_dir_all(&at).map_err(|e| CoordError::io("create", &at, e))?;
        }
        return Ok(());
    }
    for c in below {
        at.push(c);
        if !check(&at)? {
            std::fs::create_dir(&at).map_err(|e| CoordError::io("create", &at, e))?;
            check(&at)?;
        }
    }
    Ok(())
}
