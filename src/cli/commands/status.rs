//! `coord status`: sessions, claims, your unread count and alerts; with
//! `--watch`, a frame every interval, each read afresh.

use comfy_table::Color;

use crate::app::status::{status, StatusReport, StatusRequest};
use crate::app::views::{ClaimView, SessionView};
use crate::app::Ctx;
use crate::cli::ui::{cell, Ui};
use crate::core::clock::{ago, parse_duration};
use crate::core::error::Result;
use crate::core::rules::State;
use crate::core::text::sanitize;

/// Sessions, claims, your unread count and alerts
#[derive(clap::Args, Debug)]
pub struct Args {
    /// List gone and ended sessions too (otherwise they are counted in one line)
    #[arg(long)]
    pub all: bool,
    /// One line per session, then one line each for other claims, alerts and unread
    #[arg(long)]
    pub short: bool,
    /// Redraw every --interval until interrupted (default: print once)
    #[arg(long)]
    pub watch: bool,
    /// How often --watch redraws (default 2s)
    #[arg(long, value_name = "DUR", default_value = "2s")]
    pub interval: String,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let interval = parse_duration(&args.interval)?
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(2));
    // A watched JSON stream is one object a line, unless asked otherwise.
    let mut json_ui = ui.clone();
    if args.watch && !explicit_pretty(ui) {
        json_ui.pretty = false;
    }
    loop {
        let report = status(ctx, &StatusRequest { all: args.all })?;
        if !json_ui.report(&report)? {
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

/// `alice (you) stale 45m ago [backend, auth API]: implementing auth
/// (build, 40%); holds task:auth (45m left)`. An active session's last sign
/// of life is recent by definition, so it is left out.
fn session_line(s: &SessionView, r: &StatusReport, facts: &Facts) -> String {
    let me = if r.me.as_deref() == Some(s.id.as_str()) {
        " (you)"
    } else {
        ""
    };
    // The machine, once sessions run on more than one.
    let me = match (&s.machine, facts.many_machines) {
        (Some(m), true) => format!("{me} @{m}"),
        _ => me.to_string(),
    };
    let seen = if s.state == State::Active {
        String::new()
    } else {
        format!(" {}", ago(s.last_seen, r.now))
    };
    let tags: Vec<&str> = [s.role.as_deref(), s.focus.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", tags.join(", "))
    };
    let (doing, held) = doing_and_held(s, facts);
    sanitize(
        &format!("{}{me} {}{seen}{tags}{doing}{held}", s.id, s.state.as_str()),
        false,
    )
}

/// What every session line needs, gathered once (not once a session: a
/// hub of 10,000 sessions made that quadratic).
struct Facts<'r> {
    many_machines: bool,
    held: std::collections::HashMap<&'r str, Vec<String>>,
}

impl<'r> Facts<'r> {
    fn of(r: &'r StatusReport) -> Facts<'r> {
        let machines: std::collections::BTreeSet<_> =
            r.sessions.iter().filter_map(|s| s.machine.as_deref()).collect();
        let mut held: std::collections::HashMap<&str, Vec<String>> = Default::default();
        for c in &r.claims {
            if let Some(h) = c.holder.as_deref() {
                held.entry(h).or_default().push(held_claim(c));
            }
        }
        Facts {
            many_machines: machines.len() > 1,
            held,
        }
    }
}

/// `task:auth`, with `(45m left)` when it has a deadline.
fn held_claim(c: &ClaimView) -> String {
    match c.expires {
        None if c.live => c.key.clone(),
        _ => format!("{} ({})", c.key, left_words(c)),
    }
}

fn left_words(c: &ClaimView) -> String {
    match c.left().as_str() {
        "lapsed" | "expired" | "lease" => c.left(),
        left => format!("{left} left"),
    }
}

/// `3 gone, 1 ended (`coord status --all` lists them)`, or nothing.
fn hidden(r: &StatusReport) -> String {
    let mut parts = Vec::new();
    if r.gone > 0 {
        parts.push(format!("{} gone", r.gone));
    }
    if r.ended > 0 {
        parts.push(format!("{} ended", r.ended));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {} (`coord status --all` lists them)", parts.join(", "))
    }
}

/// Claims whose holder is not listed (gone, not yet swept): one line, the
/// first few named and the rest counted.
fn other_claims(r: &StatusReport) -> Option<String> {
    const NAMED: usize = 10;
    let listed: std::collections::HashSet<&str> = r.sessions.iter().map(|s| s.id.as_str()).collect();
    let others: Vec<&ClaimView> = r
        .claims
        .iter()
        .filter(|c| c.holder.as_deref().is_none_or(|h| !listed.contains(h)))
        .collect();
    if others.is_empty() {
        return None;
    }
    let named: Vec<String> = others
        .iter()
        .take(NAMED)
        .map(|c| format!("{} by {}", held_claim(c), c.holder.as_deref().unwrap_or("")))
        .collect();
    let rest = match others.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!(" and {n} more (`coord claims` lists them)"),
    };
    Some(sanitize(
        &format!("other claims: {}{rest}", named.join(", ")),
        false,
    ))
}

/// One line per session (with what it holds), then one line each for the
/// claims of sessions not listed, alerts, and unread messages.
fn short(r: &StatusReport) -> String {
    let mut out = String::new();
    let facts = Facts::of(r);
    for s in &r.sessions {
        out.push_str(&terse_line(s, r, &facts));
        out.push('\n');
    }
    let hidden = hidden(r);
    if !hidden.is_empty() {
        out.push_str(&format!("not listed{hidden}\n"));
    }
    if let Some(line) = other_claims(r) {
        out.push_str(&line);
        out.push('\n');
    }
    if !r.alerts.is_empty() {
        let alerts: Vec<String> = r
            .alerts
            .iter()
            .map(|a| sanitize(&format!("{}: {}", a.kind, a.text), false))
            .collect();
        out.push_str(&format!("alerts: {}\n", alerts.join("; ")));
    }
    // The plan has its own commands (`coord ready`, `coord tasks`): the
    // short form stays to sessions, claims, alerts and unread.
    if let (Some(_), Some(n)) = (&r.me, r.unread) {
        out.push_str(&format!("inbox: {n} unread\n"));
    }
    out
}

/// `: implementing auth (build, 40%)` and `; holds task:auth`, each empty
/// when there is nothing to say.
fn doing_and_held(s: &SessionView, facts: &Facts) -> (String, String) {
    let doing = s.doing();
    let doing = if doing.is_empty() {
        String::new()
    } else {
        format!(": {doing}")
    };
    let held = match facts.held.get(s.id.as_str()) {
        Some(list) => format!("; holds {}", list.join(", ")),
        None => String::new(),
    };
    (doing, held)
}

/// `status --short`'s line: `alice (you): implementing auth (build, 40%);
/// holds task:auth`: the state only when not active, no role or focus.
fn terse_line(s: &SessionView, r: &StatusReport, facts: &Facts) -> String {
    let me = if r.me.as_deref() == Some(s.id.as_str()) {
        " (you)"
    } else {
        ""
    };
    let state = match s.state {
        State::Active => String::new(),
        other => format!(" {} {}", other.as_str(), ago(s.last_seen, r.now)),
    };
    let (doing, held) = doing_and_held(s, facts);
    sanitize(&format!("{}{me}{state}{doing}{held}", s.id), false)
}

/// Off a terminal: the same facts as the table, one line each, no padding.
fn plain(r: &StatusReport) -> String {
    let mut text = String::new();
    let live = r.sessions.iter().filter(|s| s.state.is_live()).count();
    text.push_str(&format!("sessions: {live} live{}\n", hidden(r)));
    let facts = Facts::of(r);
    for s in &r.sessions {
        text.push_str(&session_line(s, r, &facts));
        text.push('\n');
    }
    if let Some(line) = other_claims(r) {
        text.push_str(&line);
        text.push('\n');
    }
    tail(&mut text, r, &Ui::default());
    text
}

/// The plan, inbox and alerts lines both full forms end with.
fn tail(text: &mut String, r: &StatusReport, ui: &Ui) {
    text.push_str(&super::plan::summary_lines(&r.plan));
    if let (Some(me), Some(n)) = (&r.me, r.unread) {
        let hint = if n > 0 {
            "; read them with `coord inbox`"
        } else {
            ""
        };
        text.push_str(&format!("inbox: {n} unread for {}{hint}\n", sanitize(me, false)));
    }
    if r.alerts.is_empty() {
        return;
    }
    text.push_str(&format!("alerts: {}\n", r.alerts.len()));
    for a in &r.alerts {
        text.push_str(&format!(
            "  {}: {}\n",
            ui.paint(a.kind, "1"),
            sanitize(&a.text, false)
        ));
    }
}

/// `--json=pretty` was asked for by name (auto picks pretty only on a tty).
fn explicit_pretty(ui: &Ui) -> bool {
    ui.style == Some(crate::cli::ui::JsonStyle::Pretty)
}

fn full(r: &StatusReport, ui: &Ui) -> String {
    if !ui.tty {
        return plain(r);
    }
    let mut text = String::new();
    let live = r.sessions.iter().filter(|s| s.state.is_live()).count();
    text.push_str(&format!("sessions: {live} live{}\n", hidden(r)));
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
                let role = match (&s.role, &s.focus) {
                    (Some(role), Some(focus)) => sanitize(&format!("{role}: {focus}"), false),
                    (role, focus) => cell(&role.clone().or(focus.clone())),
                };
                vec![
                    format!("{}{me}", sanitize(&s.id, false)),
                    s.state.as_str().to_string(),
                    ago(s.last_seen, r.now),
                    role,
                    cell(&s.action),
                    cell(&s.target),
                    cell(&s.phase),
                    s.progress.map(|p| format!("{p}%")).unwrap_or_default(),
                ]
            })
            .collect();
        text.push_str(&ui.table_colored(
            &[
                "SESSION", "STATE", "SEEN", "ROLE", "ACTION", "TARGET", "PHASE", "DONE",
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
    text.push_str(&super::claims::table(ui, &r.claims));
    tail(&mut text, r, ui);
    text
}
