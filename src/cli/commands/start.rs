//! `coord start`: register this session and print its id.

use crate::app::start::{start, StartRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Register this session and print its id
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Session id to take (default: a generated one such as quiet-otter)
    #[arg(long)]
    pub name: Option<String>,
    /// What this session does, e.g. backend, reviewer (default: none; others can message @ROLE)
    #[arg(long)]
    pub role: Option<String>,
    /// What it is working on, in a few words (default: none)
    #[arg(long)]
    pub focus: Option<String>,
    /// Take over NAME even though it is live (default: no; it is you, in a new process)
    #[arg(long)]
    pub resume: bool,
    /// End the session this agent or shell is bound to (releasing its claims) and start NAME instead
    #[arg(long, requires = "name")]
    pub replace: bool,
    /// Print `export COORD_SESSION=ID` for shells that keep variables
    #[arg(long)]
    pub export: bool,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = start(
        ctx,
        &StartRequest {
            name: args.name.clone(),
            role: args.role.clone(),
            focus: args.focus.clone(),
            resume: args.resume,
            replace: args.replace,
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let id = &report.session.id;
    if let Some(old) = &report.replaced {
        ui.status(&format!("ended session {old} and released its claims"));
    }
    let verb = if report.resumed { "resumed" } else { "started" };
    if report.bound {
        ui.status(&format!(
            "{verb} session {id}; commands from this agent or shell now act as {id} (or pass -s {id}); next: `coord claim task NAME`"
        ));
    } else {
        ui.status(&format!(
            "{verb} session {id}; no agent id or long-lived shell to bind it to, so pass -s {id} (or export COORD_SESSION={id})"
        ));
    }
    let line = if args.export { &report.export } else { id };
    ui.out(&format!("{}\n", sanitize(line, false)))
}
