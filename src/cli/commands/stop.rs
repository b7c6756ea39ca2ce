//! `coord stop`: end this session and release its claims.

use crate::app::{stop, Ctx};
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// End this session and release its claims
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(ui: &Ui, ctx: &Ctx, _args: &Args) -> Result<()> {
    let report = stop::stop(ctx)?;
    if ui.report(&report)? {
        return Ok(());
    }
    let claims = match report.released.len() {
        0 => "it held no claims".to_string(),
        n => format!(
            "released {n} claim{}: {}",
            if n == 1 { "" } else { "s" },
            report.released.join(", ")
        ),
    };
    ui.status(&format!("ended session {}; {claims}", report.session));
    ui.out(&format!("{}\n", sanitize(&report.session, false)))
}
