//! `coord prime`: the protocol and the live facts an agent starts from.

use crate::app::prime::{prime, PrimeReport};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::text::{command_line, sanitize};

/// Print how this team coordinates and what concerns this session now (for an agent's context)
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(ui: &Ui, ctx: &Ctx, _args: &Args) -> Result<()> {
    let report = prime(ctx)?;
    if ui.report(&report)? {
        return Ok(());
    }
    ui.out(&text(&report))
}

/// The text an agent reads: plain lines, every hub field sanitised.
pub fn text(r: &PrimeReport) -> String {
    let mut t = String::from("This repository's sessions coordinate with coord.\n");
    match &r.me {
        Some(s) => {
            t.push_str(&format!("You are session {}", sanitize(&s.id, false)));
            if let Some(role) = &s.role {
                t.push_str(&format!(", role {}", sanitize(role, false)));
            }
            t.push_str(&format!(" ({}).\n", s.state.as_str()));
        }
        None => t.push_str("You have no session yet: run `coord start --name NAME` first.\n"),
    }
    for rule in r.protocol {
        t.push_str(&format!("- {rule}\n"));
    }
    t.push_str(&format!(
        "Team: {}; {} held by others (`coord claims`).\n",
        crate::core::text::counted(r.live_sessions, "live session"),
        crate::core::text::counted(r.held_by_others, "claim")
    ));
    if r.me.is_some() {
        if r.claims.is_empty() {
            t.push_str("You hold no claims.\n");
        } else {
            let held: Vec<String> = r
                .claims
                .iter()
                .map(|c| format!("{} ({})", sanitize(&c.key, false), c.left()))
                .collect();
            t.push_str(&format!("You hold: {}.\n", held.join(", ")));
        }
    }
    if !r.ready.is_empty() {
        let ids: Vec<String> = r.ready.iter().map(|id| sanitize(id, false)).collect();
        t.push_str(&format!(
            "Ready for you: {} (`{}`).\n",
            ids.join(", "),
            command_line(&["claim", "task", &r.ready[0]])
        ));
    }
    if let Some(n) = r.unread {
        let hint = if n > 0 {
            ": read them with `coord inbox`"
        } else {
            ""
        };
        t.push_str(&format!("Inbox: {n} unread{hint}.\n"));
    }
    for a in &r.alerts {
        t.push_str(&format!("Alert, {}: {}\n", a.kind, sanitize(&a.text, false)));
    }
    if r.more_alerts > 0 {
        t.push_str(&format!("{} more alerts: `coord status`.\n", r.more_alerts));
    }
    t
}
