//! `coord sync`: carry the hub through a git remote on a branch of its own.

use crate::app::sync::{sync, SyncRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::store::Flow;

/// Commit the hub, fetch the remote's, merge record by record, push (on a branch of its own)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The git remote (default: origin)
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// The branch the hub travels on (default: sync.branch in coord.toml, coord)
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Do not take the state of this remote commit (one sync refused, naming it); repeatable
    #[arg(long, value_name = "COMMIT")]
    pub skip: Vec<String>,
}

fn words(f: &Flow) -> String {
    format!(
        "{} sessions, {} claims, {} messages, {} events",
        f.sessions, f.claims, f.messages, f.events
    )
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = sync(
        ctx,
        &SyncRequest {
            remote: args.remote.clone(),
            branch: args.branch.clone(),
            skip: args.skip.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let s = &report.synced;
    let arbitrated = if s.arbitrated > 0 {
        format!(
            "; {} held on both sides, each given to one holder",
            crate::core::text::counted(s.arbitrated, "claim")
        )
    } else {
        String::new()
    };
    ui.out(&format!(
        "synced with {}/{}: in {}; out {}{arbitrated}\n",
        s.remote,
        s.branch,
        words(&s.incoming),
        words(&s.outgoing)
    ))
}
