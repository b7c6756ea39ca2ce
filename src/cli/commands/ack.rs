//! `coord ack`: acknowledge a message; --resolve closes an escalation.

use crate::app::ack::{ack, AckRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;

/// Acknowledge a message; --resolve closes an escalation for everyone
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The message id (from `coord inbox` or the emergency banner)
    pub id: String,
    /// Close the escalation or emergency for everyone
    #[arg(long)]
    pub resolve: bool,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = ack(
        ctx,
        &AckRequest {
            id: args.id.clone(),
            resolve: args.resolve,
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let what = if report.closed {
        "closed for everyone"
    } else {
        "acknowledged"
    };
    ui.out(&format!("{} {what}\n", report.id))
}
