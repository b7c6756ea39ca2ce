//! `coord status`: sessions, claims, your unread count and alerts; with
//! `--watch`, a frame every interval, each read afresh.

use comfy_table::Color;

use crate::app::status::{status, StatusReport, StatusRequest};
use crate::app::Ctx;
use crate::cli::ui::{cell, Ui};
use crate::core::clock::{ago, format_time, parse_duration};
use crate::core::error::Result;
use crate::core::text::{progress_bar, sanitize};

/// Sessions, claims, your unread count and alerts
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Include ended sessions
    #[arg(long)]
    pub all: bool,
    /// One line per session
    #[arg(long)]
    pub short: bool,
    /// Redraw every --interval until interrupted
    #[arg(long)]
    pub watch: bool,
    /// How often --watch redraws
    #[arg(long, value_name = "DUR", default_value = "2s")]
    pub interval: String,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let interval = parse_duration(&args.interval)?
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(2));
    loop {
        let report = status(ctx, &StatusRequest { all: args.all })?;
        if ui.json {
            ui.json(&report)?;
        } else {
            let mut text = String::new();
            if args.watch && ui.tty {
                text.push_str("\x1b[2J\x1b[H");
            }
            text.push_str(&if args.short {
                short(&report)
            } else {
                full(&report, ui)
            });
            if args.watch && !ui.tty {
                text.push_str("--\n");
            }
            ui.out(&text)?;
        }
        if !args.watch {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

fn short(r: &StatusReport) -> String {
    let mut out = String::new();
    for s in &r.sessions {
        out.push_str(&format!(
            "{} {} ({}): {}\n",
            sanitize(&s.id, false),
            s.state.as_str(),
            ago(s.last_seen, r.now),
            sanitize(&s.doing(), false)
        ));
    }
    out
}

fn full(r: &StatusReport, ui: &Ui) -> String {
    let mut text = String::new();
    let live = r.sessions.iter().filter(|s| s.state.is_live()).count();
    text.push_str(&format!("sessions: {live} live, {} listed\n", r.sessions.len()));
    if !r.sessions.is_empty() {
        let rows = r
            .sessions
            .iter()
            .map(|s| {
                let me = if r.me.as_deref() == Some(s.id.as_str()) {
                    " (you)"
                } else {
                    ""
                };
                vec![
                    format!("{}{me}", sanitize(&s.id, false)),
                    s.state.as_str().to_string(),
                    ago(s.last_seen, r.now),
                    cell(&s.role),
                    cell(&s.action),
                    cell(&s.target),
                    cell(&s.phase),
                    progress_bar(s.progress),
                ]
            })
            .collect();
        text.push_str(&ui.table_colored(
            &[
                "SESSION",
                "STATE",
                "LAST SEEN",
                "ROLE",
                "ACTION",
                "TARGET",
                "PHASE",
                "PROGRESS",
            ],
            rows,
            |column, text| match (column, text) {
                ("STATE", "active") => Some(Color::Green),
                ("STATE", "stale") => Some(Color::Yellow),
                ("STATE", "gone") => Some(Color::Red),
                ("STATE", "ended") => Some(Color::DarkGrey),
                _ => None,
            },
        ));
    }
    text.push_str(&format!("claims: {}\n", r.claims.len()));
    if !r.claims.is_empty() {
        let rows = r
            .claims
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
        text.push_str(&ui.table(&["CLAIM", "HOLDER", "SINCE", "LEFT", "TOKEN"], rows));
    }
    if let (Some(me), Some(n)) = (&r.me, r.unread) {
        let hint = if n > 0 {
            "; read them with `coord inbox`"
        } else {
            ""
        };
        text.push_str(&format!("inbox: {n} unread for {}{hint}\n", sanitize(me, false)));
    }
    text.push_str(&format!("alerts: {}\n", r.alerts.len()));
    for a in &r.alerts {
        text.push_str(&format!(
            "  {}: {}\n",
            ui.paint(a.kind, "1"),
            sanitize(&a.text, false)
        ));
    }
    text
}
