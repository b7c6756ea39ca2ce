//! Create the hub, or fill in whatever files it lacks. Never touches a file
//! that exists. In a git repository the live hub goes into the common git
//! directory (`.git/coord/`), out of reach of every git command run on code;
//! a hub of the old layout (`coordination/` tracked in the work tree) is
//! copied there and untracked (no file deleted).

use serde::Serialize;

use super::Location;
use crate::core::error::Result;
use crate::store::{self, git};

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub hub: String,
    pub created: Vec<String>,
    /// Files copied from a hub of the old layout.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<String>,
    /// The old in-tree hub was untracked (`git rm --cached`) and excluded.
    pub untracked: Option<String>,
    /// The merge driver was (re)registered in this clone's git config.
    pub merge_driver: bool,
}

pub fn init(location: &Location) -> Result<InitReport> {
    let dir = store::locate(
        location.flag.as_deref(),
        location.env.as_deref(),
        &location.cwd,
        true,
    )?;
    let top = git::work_tree(&location.cwd);
    // In a repository without --hub or COORD_HUB the hub is the live one.
    let live = dir.file_name().is_some_and(|n| n == store::LIVE_DIR)
        && location.flag.is_none()
        && location.env.is_none();
    let mut adopted = Vec::new();
    let mut untracked = None;
    if let (true, Some(common)) = (live, dir.parent()) {
        let old = common.parent().unwrap_or(common).join(store::DIR_NAME);
        if old.join(store::REGISTRY).is_file() {
            adopted = store::adopt(&old, &dir)?;
        }
        if let Some(top) = &top {
            if git::tracked(top, store::DIR_NAME) {
                git::untrack(top, store::DIR_NAME)?;
                git::exclude(common, &format!("/{}/", store::DIR_NAME))?;
                untracked = Some(store::DIR_NAME.to_string());
            }
        }
    }
    let created = store::create(&dir)?;
    // In a git repository, git must know how to merge the registry.
    let merge_driver = match &top {
        Some(repo) if !store::merge::driver_registered(repo) => {
            store::merge::register_driver(repo)?;
            true
        }
        _ => false,
    };
    Ok(InitReport {
        hub: dir.display().to_string(),
        created,
        adopted,
        untracked,
        merge_driver,
    })
}
