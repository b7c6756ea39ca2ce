//! `coord prune` and `coord archive`: a hub that stays small over months.

use crate::app::prune::{archive, prune, PruneRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;

/// Forget ended and gone sessions and released claims older than a limit (tokens keep growing)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How old (default: prune.older_than in coord.toml, 30d)
    #[arg(long, value_name = "DUR")]
    pub older_than: Option<String>,
}

impl Args {
    fn request(&self) -> PruneRequest {
        PruneRequest {
            older_than: self.older_than.clone(),
        }
    }
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = prune(ctx, &args.request())?;
    if ui.report(&report)? {
        return Ok(());
    }
    let p = &report.pruned;
    ui.out(&format!(
        "pruned {} sessions and {} released claims\n",
        p.sessions.len(),
        p.claims.len()
    ))
}

pub fn run_archive(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = archive(ctx, &args.request())?;
    if ui.report(&report)? {
        return Ok(());
    }
    let a = &report.archived;
    ui.out(&format!(
        "archived {} messages and {} events{}\n",
        a.messages,
        a.events,
        if a.files.is_empty() {
            String::new()
        } else {
            format!(" to {}", a.files.join(", "))
        }
    ))
}
