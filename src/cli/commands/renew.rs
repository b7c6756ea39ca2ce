//! `coord renew`: push back the deadlines of this session's claims.

use crate::app::renew::{renew, RenewRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::clock::format_time;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Renew claims that have a deadline: `renew --all`, or `renew TYPE NAME`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The claim's type: task, file, service, resource...
    #[arg(value_name = "TYPE", required_unless_present = "all")]
    pub kind: Option<String>,
    /// What to renew (`TYPE:NAME` in one word works too)
    pub name: Option<String>,
    /// Every claim of this session that has a deadline
    #[arg(long, conflicts_with_all = ["kind", "name"])]
    pub all: bool,
    /// The new length from now: 90m, 2h (default: each claim's own length)
    #[arg(long = "for", value_name = "DUR")]
    pub for_: Option<String>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let claim = super::claim::one_or_all(args.kind.as_deref(), args.name.as_deref(), args.all, "renew")?;
    let report = renew(
        ctx,
        &RenewRequest {
            claim,
            for_: args.for_.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.renewed.is_empty() {
        ui.status("no claim with a deadline to renew (claims without --for last while you are live)");
    }
    let text: String = report
        .renewed
        .iter()
        .map(|r| {
            format!(
                "renewed {} until {}\n",
                sanitize(&r.key, false),
                format_time(r.expires)
            )
        })
        .collect();
    ui.out(&text)
}
