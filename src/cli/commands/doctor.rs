//! `coord doctor`: check the hub's files; --fix repairs what is safe.

use crate::app::doctor::{doctor, DoctorRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::sanitize;
use crate::store::Finding;

/// Check the hub's files; --fix repairs what is safe (with backups)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Repair what can be repaired safely; every changed file is backed up first
    #[arg(long)]
    pub fix: bool,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = doctor(ctx, &DoctorRequest { fix: args.fix })?;
    if ui.json {
        ui.json(&report)?;
    } else {
        let mut text = String::new();
        for f in &report.fixed {
            text.push_str(&format!("fixed: {}\n", line_of(f)));
        }
        for f in &report.findings {
            let tail = if f.fixable && !args.fix {
                " (coord doctor --fix repairs this)"
            } else {
                ""
            };
            text.push_str(&format!("{}{tail}\n", line_of(f)));
        }
        ui.out(&text)?;
        for n in &report.notes {
            ui.status(&format!("note: {n}"));
        }
        for b in &report.backups {
            ui.status(&format!("backup kept at {b}"));
        }
        if report.healthy {
            ui.status("hub is healthy");
        }
    }
    report.verdict(args.fix)
}

fn line_of(f: &Finding) -> String {
    let problem = sanitize(&f.problem, false);
    match f.line {
        Some(l) => format!("{}:{l}: {problem}", f.file),
        None => format!("{}: {problem}", f.file),
    }
}
