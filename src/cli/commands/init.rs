//! `coord init`: create the hub (idempotent: only missing files are written).

use crate::app::{init, Location};
use crate::cli::ui::Ui;
use crate::core::error::Result;

/// Create the hub (idempotent: only missing files are written)
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(ui: &Ui, location: &Location, _args: &Args) -> Result<()> {
    let report = init::init(location)?;
    if ui.report(&report)? {
        return Ok(());
    }
    let hub = &report.hub;
    if !report.adopted.is_empty() {
        ui.status(&format!(
            "moved the hub of the old layout into {hub} ({})",
            report.adopted.join(", ")
        ));
    }
    if let Some(old) = &report.untracked {
        ui.status(&format!(
            "{old}/ is no longer tracked by git (git rm --cached; no file deleted) and is excluded locally; the live hub is {hub}"
        ));
    }
    if report.merge_driver {
        ui.status("registered coord's merge driver in this clone's git config (merge.coord.driver)");
    }
    if report.created.is_empty() {
        ui.status(&format!("hub already at {hub}; nothing to do"));
    } else {
        ui.status(&format!(
            "created hub at {hub}; next: `coord start --name NAME --role ROLE`"
        ));
    }
    ui.out(&format!("{hub}\n"))
}
