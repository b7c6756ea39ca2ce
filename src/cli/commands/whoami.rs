//! `coord whoami`: the acting session and how it was found.

use crate::app::{whoami, Ctx};
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Print the session this command acts as, and how it was found (exit 4 when none)
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(ui: &Ui, ctx: &Ctx, _args: &Args) -> Result<()> {
    let report = whoami::whoami(ctx)?;
    if ui.report(&report)? {
        return Ok(());
    }
    let id = &report.session.id;
    ui.status(&format!("acting as {id}, found by {}", report.how.describe()));
    ui.out(&format!("{}\n", sanitize(id, false)))
}
