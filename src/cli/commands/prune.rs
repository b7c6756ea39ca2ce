//! `coord prune` and `coord archive`: a hub that stays small over months.

use crate::app::prune::{archive, prune, PruneRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::counted;

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
        "pruned {} and {}\n",
        counted(p.sessions.len(), "session"),
        counted(p.claims.len(), "released claim")
    ))
}

pub fn run_archive(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = archive(ctx, &args.request())?;
    if ui.report(&report)? {
        return Ok(());
    }
    let a = &report.archived;
    ui.out(&format!(
        "archived {} and {}{}\n",
        counted(a.messages, "message"),
        counted(a.events, "event"),
        if a.files.is_empty() {
            String::new()
        } else {
            format!(" to {}", a.files.join(", "))
        }
    ))?;
    if a.kept_unread > 0 {
        ui.status(&format!(
            "kept {} that a live session has not read yet (archived once read)",
            counted(a.kept_unread, "old message")
        ));
    }
    Ok(())
}
