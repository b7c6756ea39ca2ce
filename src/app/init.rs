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
}

pub fn init(location: &Location) -> Result<InitReport> {
    let dir = store::locate(
        location.flag.as_deref(),
        location.env.as_deref(),
        &location.cwd,
        true,
    )?;
    let created = store::create(&dir)?;
    Ok(InitReport {
        hub: dir.display().to_string(),
        created,
    })
}
