//! `coord release`: give a claim back, or all of this session's claims.

use crate::app::release::{release, ReleaseRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Give claims back: `release TYPE NAME`, or `release --all`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The claim's type: task, file, service, resource...
    #[arg(value_name = "TYPE", required_unless_present = "all")]
    pub kind: Option<String>,
    /// What to release (`TYPE:NAME` in one word works too)
    pub name: Option<String>,
    /// Release every claim this session holds
    #[arg(long, conflicts_with_all = ["kind", "name"])]
    pub all: bool,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let claim = super::claim::one_or_all(args.kind.as_deref(), args.name.as_deref(), args.all, "release")?;
    let report = release(ctx, &ReleaseRequest { claim })?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.released.is_empty() {
        ui.status("you held no claims; nothing released");
    }
    let text: String = report
        .released
        .iter()
        .map(|key| format!("released {}\n", sanitize(key, false)))
        .collect();
    ui.out(&text)
}
