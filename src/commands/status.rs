//! `coord status`: who is here, what they are doing, what is claimed, and
//! what needs attention. Read-only, under the shared lock.

use serde::Serialize;

use super::heartbeat::describe;
use super::views::{held_claims, sessions, ClaimView, SessionView};
use crate::clock::{ago, format_time, parse_duration, Time};
use crate::ctx::Ctx;
use crate::error::usage;
use crate::render::{print_json, progress_bar, sanitize, table, table_colored, write_stdout, Out};
use crate::rules::{claim_alerts, Alert};
use comfy_table::Color;

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

#[derive(Serialize)]
pub struct Report {
    pub now: Time,
    /// The acting session, when one is found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub me: Option<String>,
    /// Unread messages for `me`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<usize>,
    pub sessions: Vec<SessionView>,
    pub claims: Vec<ClaimView>,
    pub alerts: Vec<Alert>,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let interval = parse_duration(&args.interval)
        .map_err(usage)?
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(2));
    loop {
        let report = gather(ctx, args.all)?;
        if ctx.out.json {
            print_json(&report)?;
        } else {
            let mut text = String::new();
            if args.watch && ctx.out.tty {
                text.push_str("\x1b[2J\x1b[H");
            }
            text.push_str(&if args.short {
                short(&report)
            } else {
                full(&report, &ctx.out)
            });
            if args.watch && !ctx.out.tty {
                text.push_str("--\n");
            }
            write_stdout(&text)?;
        }
        if !args.watch {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

fn gather(ctx: &Ctx, all: bool) -> anyhow::Result<Report> {
    let hub = ctx.hub();
    let cfg = &hub.config;
    let now = ctx.now;
    hub.read(|reg| {
        // Status works for anyone; a found session adds its unread count.
        let me = ctx.me_read(reg).ok();
        let unread = match &me {
            Some(id) => Some(super::inbox::unread_count(hub, reg, id)?),
            None => None,
        };
        let mut alerts = super::brief::message_alerts(reg, now);
        alerts.extend(claim_alerts(reg, now, cfg));
        Ok(Report {
            now,
            me,
            unread,
            sessions: sessions(reg, now, cfg, all),
            claims: held_claims(reg, now, cfg),
            alerts,
        })
    })
}

fn short(r: &Report) -> String {
    let mut out = String::new();
    for s in &r.sessions {
        out.push_str(&format!(
            "{} {} ({}): {}\n",
            s.id,
            s.state.as_str(),
            ago(s.last_seen, r.now),
            sanitize(&describe(s), false)
        ));
    }
    out
}

fn full(r: &Report, out: &Out) -> String {
    let mut text = String::new();
    let live = r.sessions.iter().filter(|s| s.state.is_live()).count();
    text.push_str(&format!("sessions: {live} live, {} listed\n", r.sessions.len()));
    if !r.sessions.is_empty() {
        let rows = r
            .sessions
            .iter()
            .map(|s| {
                let state = s.state.as_str().to_string();
                let me = if r.me.as_deref() == Some(s.id.as_str()) {
                    " (you)"
                } else {
                    ""
                };
                vec![
                    format!("{}{me}", s.id),
                    state,
                    ago(s.last_seen, r.now),
                    cell(&s.role),
                    cell(&s.action),
                    cell(&s.target),
                    cell(&s.phase),
                    progress_bar(s.progress),
                ]
            })
            .collect();
        text.push_str(&table_colored(
            out,
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
                let left = c.left();
                vec![
                    sanitize(&c.key, false),
                    cell(&c.holder),
                    c.since.map(format_time).unwrap_or_default(),
                    left,
                    c.token.to_string(),
                ]
            })
            .collect();
        text.push_str(&table(out, &["CLAIM", "HOLDER", "SINCE", "LEFT", "TOKEN"], rows));
    }
    if let (Some(me), Some(n)) = (&r.me, r.unread) {
        let hint = if n > 0 {
            "; read them with `coord inbox`"
        } else {
            ""
        };
        text.push_str(&format!("inbox: {n} unread for {me}{hint}\n"));
    }
    text.push_str(&format!("alerts: {}\n", r.alerts.len()));
    for a in &r.alerts {
        text.push_str(&format!(
            "  {}: {}\n",
            out.paint(a.kind, "1"),
            sanitize(&a.text, false)
        ));
    }
    text
}

fn cell(v: &Option<String>) -> String {
    v.as_deref().map(|s| sanitize(s, false)).unwrap_or_default()
}
