//! `coord claims` and `coord who PATH`: the claims alone.

use crate::app::claims::{claims, who, ClaimsRequest};
use crate::app::views::ClaimView;
use crate::app::Ctx;
use crate::cli::ui::{cell, Ui};
use crate::core::clock::format_time;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// List live claims: holder, since, time left, token
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this session's claims
    #[arg(long)]
    pub mine: bool,
    /// Only claims of this type (task, file, service...)
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
}

/// Who holds a file: the live file claims that cover PATH (claims nothing)
#[derive(clap::Args, Debug)]
pub struct WhoArgs {
    /// A file path relative to the repository root
    pub path: String,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = claims(
        ctx,
        &ClaimsRequest {
            mine: args.mine,
            kind: args.kind.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.claims.is_empty() {
        ui.status("no live claims");
    }
    ui.out(&table(ui, &report.claims))
}

pub fn run_who(ui: &Ui, ctx: &Ctx, args: &WhoArgs) -> Result<()> {
    let report = who(ctx, &args.path)?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.claims.is_empty() {
        ui.status(&format!("nobody holds {}", report.path));
        return Ok(());
    }
    ui.out(&table(ui, &report.claims))
}

/// The claims table of `coord claims` and `coord status`; empty for no claims.
pub(super) fn table(ui: &Ui, claims: &[ClaimView]) -> String {
    if claims.is_empty() {
        return String::new();
    }
    let rows = claims
        .iter()
        .map(|c| {
            vec![
                sanitize(&c.key, false),
                cell(&c.holder),
                c.since.map(format_time).unwrap_or_default(),
                c.left(),
                c.token.to_string(),
            ]
        })
        .collect();
    ui.table(&["CLAIM", "HOLDER", "SINCE", "LEFT", "TOKEN"], rows)
}
