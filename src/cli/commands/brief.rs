//! `coord brief`: (re)write CURRENT_STATE.md.

use serde::Serialize;

use crate::app::brief::{brief, BriefRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;

/// (Re)write CURRENT_STATE.md, the briefing for humans
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the briefing instead of writing the file
    #[arg(long)]
    pub stdout: bool,
    /// How far back messages and activity go (default: brief.since in coord.toml, 24h)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub since: Option<String>,
}

#[derive(Serialize)]
struct Json<'a> {
    path: &'a str,
    bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<&'a str>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = brief(
        ctx,
        &BriefRequest {
            dry_run: args.stdout,
            since: args.since.clone(),
        },
    )?;
    let json = Json {
        path: &report.path,
        bytes: report.bytes,
        markdown: args.stdout.then_some(report.markdown.as_str()),
    };
    if ui.report(&json)? {
        return Ok(());
    }
    if args.stdout {
        return ui.out(&report.markdown);
    }
    ui.status(&format!("wrote {} ({} bytes)", report.path, report.bytes));
    ui.out(&format!("{}\n", report.path))
}
