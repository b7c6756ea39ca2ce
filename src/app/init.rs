//! Create the hub, or fill in whatever files it lacks. Never touches a file
//! that exists.

use serde::Serialize;

use super::Location;
use crate::core::error::Result;
use crate::store;

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub hub: String,
    pub created: Vec<String>,
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
    let created = store::create(&dir)?;
    // In a git repository, git must know how to merge the registry.
    let merge_driver = match store::merge::repository_of(&dir) {
        Some(repo) if !store::merge::driver_registered(&repo) => {
            store::merge::register_driver(&repo)?;
            true
        }
        _ => false,
    };
    Ok(InitReport {
        hub: dir.display().to_string(),
        created,
        merge_driver,
    })
}
