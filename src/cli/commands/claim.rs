//! `coord claim`: take or renew a claim.

use crate::app::claim::{claim, ClaimRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::clock::format_time;
use crate::core::error::{usage, Result};
use crate::core::text::sanitize;

/// Take or renew a claim on a task, service, file glob or other resource
#[derive(clap::Args, Debug)]
#[command(
    allow_negative_numbers = true,
    override_usage = "coord claim TYPE NAME [OPTIONS]\n       coord claim TYPE:NAME [OPTIONS]"
)]
pub struct Args {
    /// A word: task, service, file, resource...
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// What to claim; for `file`, a glob relative to the repository root
    /// (`TYPE:NAME` in one word works too, as coord prints keys)
    #[arg(allow_hyphen_values = true)]
    pub name: Option<String>,
    /// A hard deadline in hours (default: none, the claim lasts while you are live)
    #[arg(long, conflicts_with = "for_", allow_hyphen_values = true)]
    pub hours: Option<f64>,
    /// A hard deadline: 90m, 2h, 1h30m (default: none, the claim lasts while you are live)
    #[arg(long = "for", value_name = "DUR", allow_hyphen_values = true)]
    pub for_: Option<String>,
    /// Why, for the team (default: none)
    #[arg(long)]
    pub note: Option<String>,
    /// Take it even if someone holds it (default: no; they are told, and it is journaled)
    #[arg(long)]
    pub force: bool,
    /// If it is held, keep trying for this long (default: do not wait; exit 6 when it runs out)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub wait: Option<String>,
}

/// `TYPE NAME`, or `TYPE:NAME` in one word (the key form coord prints).
pub fn split_key(kind: &str, name: Option<&str>, verb: &str) -> Result<(String, String)> {
    match name {
        Some(name) => Ok((kind.to_string(), name.to_string())),
        None => match kind.split_once(':') {
            Some((k, n)) if !k.is_empty() && !n.is_empty() => Ok((k.to_string(), n.to_string())),
            _ => Err(usage(format!(
                "missing NAME; usage: coord {verb} TYPE NAME (or TYPE:NAME)"
            ))),
        },
    }
}

/// The claim of `release` and `renew`: `TYPE NAME`, or `None` for `--all`.
pub fn one_or_all(
    kind: Option<&str>,
    name: Option<&str>,
    all: bool,
    verb: &str,
) -> Result<Option<(String, String)>> {
    match kind {
        Some(kind) => Ok(Some(split_key(kind, name, verb)?)),
        None if all => Ok(None),
        None => Err(usage(format!("{verb} needs TYPE and NAME, or --all"))),
    }
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let (kind, name) = split_key(&args.kind, args.name.as_deref(), "claim")?;
    let report = claim(
        ctx,
        &ClaimRequest {
            kind,
            name,
            hours: args.hours,
            for_: args.for_.clone(),
            note: args.note.clone(),
            force: args.force,
            wait: args.wait.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
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
