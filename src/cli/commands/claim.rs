//! `coord claim`: take or renew a claim.

use crate::app::claim::{claim, ClaimRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::clock::format_time;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Take or renew a claim on a task, service, file glob or other resource
#[derive(clap::Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// A word: task, service, file, resource...
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// What to claim; for `file`, a glob relative to the repository root
    #[arg(allow_hyphen_values = true)]
    pub name: String,
    /// A hard deadline in hours (default: none, the claim lasts while you are live)
    #[arg(long, conflicts_with = "for_", allow_hyphen_values = true)]
    pub hours: Option<f64>,
    /// A hard deadline: 90m, 2h, 1h30m (default: none, the claim lasts while you are live)
    #[arg(long = "for", value_name = "DUR", allow_hyphen_values = true)]
    pub for_: Option<String>,
    /// Why, for the team
    #[arg(long)]
    pub note: Option<String>,
    /// Take it even if someone holds it (they are told, and it is journaled)
    #[arg(long)]
    pub force: bool,
    /// If it is held, keep trying for this long before giving up (exit 6)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub wait: Option<String>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = claim(
        ctx,
        &ClaimRequest {
            kind: args.kind.clone(),
            name: args.name.clone(),
            hours: args.hours,
            for_: args.for_.clone(),
            note: args.note.clone(),
            force: args.force,
            wait: args.wait.clone(),
        },
    )?;
    if ui.json {
        return ui.json(&report);
    }
    for r in &report.revoked {
        ui.status(&format!("took {} from {} (they have been told)", r.key, r.holder));
    }
    let c = &report.claim;
    let until = match c.expires {
        Some(t) => format!("until {}", format_time(t)),
        None => "while you are live".to_string(),
    };
    ui.out(&format!(
        "{} {} {until} (token {})\n",
        report.outcome.as_str(),
        sanitize(&c.key, false),
        report.token
    ))
}
