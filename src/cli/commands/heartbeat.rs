//! `coord heartbeat`: record what this session is doing.

use crate::app::heartbeat::{heartbeat, HeartbeatRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Record what this session is doing (also refreshes its last-seen time)
#[derive(clap::Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// What it is doing: implementing, reviewing, testing...
    #[arg(value_name = "ACTION", allow_hyphen_values = true)]
    pub pos_action: Option<String>,
    /// What it is doing it to: a task, a file, a service
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub pos_target: Option<String>,
    /// Where in the work it is: design, build, test, review...
    #[arg(value_name = "PHASE", allow_hyphen_values = true)]
    pub pos_phase: Option<String>,
    /// How far along, 0-100 (50% accepted)
    #[arg(value_name = "PROGRESS")]
    pub pos_progress: Option<String>,
    /// The same as ACTION (default: unchanged, or cleared when ACTION starts a new activity)
    #[arg(long)]
    pub action: Option<String>,
    /// The same as TARGET (default: as --action)
    #[arg(long)]
    pub target: Option<String>,
    /// The same as PHASE (default: as --action)
    #[arg(long)]
    pub phase: Option<String>,
    /// The same as PROGRESS (default: as --action)
    #[arg(long, allow_hyphen_values = true)]
    pub progress: Option<String>,
    /// A free note for the team (default: as --action)
    #[arg(long)]
    pub note: Option<String>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    // A flag wins over the positional value.
    let pick = |flag: &Option<String>, pos: &Option<String>| flag.clone().or_else(|| pos.clone());
    let report = heartbeat(
        ctx,
        &HeartbeatRequest {
            action: pick(&args.action, &args.pos_action),
            target: pick(&args.target, &args.pos_target),
            phase: pick(&args.phase, &args.pos_phase),
            progress: pick(&args.progress, &args.pos_progress),
            note: args.note.clone(),
            edited: None,
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let s = &report.session;
    let doing = s.doing();
    let doing = if doing.is_empty() {
        "still here"
    } else {
        doing.as_str()
    };
    ui.out(&format!(
        "{}: {}\n",
        sanitize(&s.id, false),
        sanitize(doing, false)
    ))
}
