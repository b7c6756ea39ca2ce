//! The briefing, CURRENT_STATE.md: the page a human lead reads. Alerts
//! first, then sessions, claims, recent messages and activity, each capped
//! with a count of the rest. The same state and the same `now` give the same
//! bytes, whatever the order of the log lines; user text is escaped so it
//! cannot break a table or inject markup.

use serde::Serialize;

use super::kpi::{from_records, KpiReport};
use super::plan::{gate_views, summary, GateView, PlanSummary};
use super::views::{held_claims, sessions, ClaimView, SessionView};
use super::Ctx;
use crate::core::clock::{ago, format_time, parse_duration, short_duration, Time};
use crate::core::error::Result;
use crate::core::model::{Event, Message, Registry};
use crate::core::rules::plan::bar;
use crate::core::rules::{claims, messages, Alert, State};
use crate::core::text::{counted, md, progress_bar};
use crate::store::{Hub, Tail, STATE};

#[derive(Debug, Clone, Default)]
pub struct BriefRequest {
    /// Return the page without writing the file.
    pub dry_run: bool,
    /// How far back messages and activity go, as typed (default: brief.since).
    pub since: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BriefReport {
    pub path: String,
    pub bytes: usize,
    /// The page (left out of JSON unless asked for by the door).
    #[serde(skip)]
    pub markdown: String,
}

/// Everything the page shows, gathered under one lock.
pub struct Brief {
    pub now: Time,
    pub since: chrono::Duration,
    pub alerts: Vec<Alert>,
    pub sessions: Vec<SessionView>,
    pub claims: Vec<ClaimView>,
    pub messages: Tail<Message>,
    pub events: Tail<Event>,
    /// At most this many alerts, sessions and claims are listed.
    pub max_rows: usize,
    pub plan: PlanSummary,
    pub gates: Vec<GateView>,
    pub kpi: KpiReport,
    /// The hub's time zone, for reservation times.
    pub zone: String,
}

pub fn brief(ctx: &Ctx, req: &BriefRequest) -> Result<BriefReport> {
    let hub = &ctx.hub;
    let since = match &req.since {
        Some(s) => parse_duration(s)?,
        None => hub.config.brief_since,
    };
    // Printing it only reads (signs of life not yet folded included);
    // writing it is a change, which folds them.
    let markdown = if req.dry_run {
        let now = ctx.now();
        hub.read(|reg| Ok(render(&gather(hub, reg, now, since)?)))?
    } else {
        hub.transact(ctx.now(), |tx| {
            let text = render(&gather(tx.hub, &tx.reg, tx.now, since)?);
            tx.write_briefing(text.clone());
            Ok(text)
        })?
    };
    Ok(BriefReport {
        path: hub.path(STATE).display().to_string(),
        bytes: markdown.len(),
        markdown,
    })
}

pub fn gather(hub: &Hub, reg: &Registry, now: Time, since: chrono::Duration) -> Result<Brief> {
    let cfg = &hub.config;
    let mut alerts = messages::escalation_alerts(reg, now, None);
    alerts.extend(claims::claim_alerts(reg, now, cfg));
    alerts.extend(crate::core::rules::radar::overlap_alerts(reg, now, cfg));
    let recent = super::kpi::recent(hub, now, since)?;
    let events = recent.events;
    let pinned = events.shown.iter().filter(|e| is_pinned(e)).count();
    if pinned > 0 {
        alerts.push(crate::core::rules::Alert {
            kind: "pinned_clock",
            target: None,
            text: format!(
                "{pinned} of the events listed below were made under a pinned clock (marked \"pinned\"): their times are not real, and a claim they lapsed may have been live"
            ),
        });
    }
    Ok(Brief {
        now,
        since,
        alerts,
        sessions: sessions(reg, now, cfg, false),
        claims: held_claims(reg, now, cfg),
        messages: recent.messages,
        events,
        max_rows: cfg.max_rows,
        plan: summary(reg, now, cfg),
        gates: gate_views(reg),
        kpi: from_records(cfg, reg, now, now - since, &recent.kpi),
        zone: cfg.zone_name.clone(),
    })
}

/// Made under a pinned clock (`COORD_NOW`).
fn is_pinned(e: &Event) -> bool {
    e.clock.as_deref() == Some(crate::store::PINNED)
}

/// `## Messages (last 1d: 40 messages, newest first; 10 not shown)`.
fn tail_heading<T>(title: &str, window: &str, tail: &Tail<T>, noun: &str, note: &str) -> String {
    let total = tail.shown.len() + tail.more;
    let hidden = if tail.more > 0 {
        format!("; {} not shown", tail.more)
    } else {
        String::new()
    };
    format!(
        "## {title} (last {window}: {}, newest first{note}{hidden})\n\n",
        counted(total, noun)
    )
}

/// "and 12 more sessions (see `coord status --all`)" under a capped list,
/// so the page stays readable whatever the hub holds.
fn more(s: &mut String, total: usize, shown: usize, what: &str, see: &str) {
    if total > shown {
        let n = total - shown;
        let plural = if n == 1 { "" } else { "s" };
        s.push_str(&format!("\nand {n} more {what}{plural} (see `{see}`)\n"));
    }
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(md).unwrap_or_default()
}

/// The page. Pure: the same `Brief` always gives the same bytes.
pub fn render(b: &Brief) -> String {
    let mut s = String::new();
    s.push_str("# Current state\n\n");
    s.push_str(&format!(
        "Generated by `coord brief` at {}. Do not edit: run `coord brief` to refresh.\n\n",
        format_time(b.now)
    ));

    s.push_str("## Alerts\n\n");
    if b.alerts.is_empty() {
        s.push_str("None.\n\n");
    } else {
        for a in b.alerts.iter().take(b.max_rows) {
            let label = a.kind.to_uppercase().replace('_', " ");
            s.push_str(&format!("- **{label}**: {}\n", md(&a.text)));
        }
        more(&mut s, b.alerts.len(), b.max_rows, "alert", "coord status");
        s.push('\n');
    }

    let count = |st: State| b.sessions.iter().filter(|v| v.state == st).count();
    s.push_str("## Sessions\n\n");
    s.push_str(&format!(
        "{} active, {} stale, {} gone.\n\n",
        count(State::Active),
        count(State::Stale),
        count(State::Gone)
    ));
    if !b.sessions.is_empty() {
        s.push_str("| Session | Role | State | Last seen | Doing | Progress |\n");
        s.push_str("| --- | --- | --- | --- | --- | --- |\n");
        let machines: std::collections::BTreeSet<_> =
            b.sessions.iter().filter_map(|v| v.machine.as_deref()).collect();
        for v in b.sessions.iter().take(b.max_rows) {
            let mut doing = v.clone();
            doing.progress = None;
            let doing = if v.action.is_none() && v.target.is_none() && v.phase.is_none() && v.note.is_none() {
                String::new()
            } else {
                md(&doing.doing())
            };
            let bar = match v.progress {
                Some(_) => format!("`{}`", progress_bar(v.progress)),
                None => String::new(),
            };
            let id = match (&v.machine, machines.len() > 1) {
                (Some(m), true) => format!("{} @{m}", v.id),
                _ => v.id.clone(),
            };
            s.push_str(&format!(
                "| {} | {} | {} | {} | {doing} | {bar} |\n",
                md(&id),
                opt(&v.role),
                v.state.as_str(),
                ago(v.last_seen, b.now)
            ));
        }
        more(
            &mut s,
            b.sessions.len(),
            b.max_rows,
            "session",
            "coord status --all",
        );
        s.push('\n');
    }

    s.push_str("## Claims\n\n");
    if b.claims.is_empty() {
        s.push_str("None.\n\n");
    } else {
        s.push_str("| Claim | Holder | Since | Time left | Token | Note |\n");
        s.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for c in b.claims.iter().take(b.max_rows) {
            let left = c.left();
            s.push_str(&format!(
                "| {} | {} | {} | {left} | {} | {} |\n",
                md(&c.key),
                opt(&c.holder),
                c.since.map(format_time).unwrap_or_default(),
                c.token,
                opt(&c.note)
            ));
        }
        more(&mut s, b.claims.len(), b.max_rows, "claim", "coord status");
        s.push('\n');
    }

    plan_sections(&mut s, b);
    let window = short_duration(b.since);
    kpi_section(&mut s, &b.kpi, &window);
    s.push_str(&tail_heading("Messages", &window, &b.messages, "message", ""));
    if b.messages.shown.is_empty() {
        s.push_str("None.\n\n");
    } else {
        s.push_str("| Time | From | To | Level | Subject |\n| --- | --- | --- | --- | --- |\n");
        for m in &b.messages.shown {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                format_time(m.ts),
                md(&m.from),
                md(&m.to),
                m.level.as_str(),
                md(&m.subject)
            ));
        }
        s.push('\n');
    }

    s.push_str(&tail_heading(
        "Activity",
        &window,
        &b.events,
        "event",
        ", heartbeats left out",
    ));
    if b.events.shown.is_empty() {
        s.push_str("None.\n");
    } else {
        s.push_str("| Time | Session | Event | What |\n| --- | --- | --- | --- |\n");
        for e in &b.events.shown {
            let pinned = if is_pinned(e) { " (pinned)" } else { "" };
            s.push_str(&format!(
                "| {}{pinned} | {} | {} | {} |\n",
                format_time(e.ts),
                opt(&e.session),
                md(&e.kind),
                md(&e.text)
            ));
        }
    }
    s
}

/// The plan: milestones with progress bars and what blocks them, what is
/// ready, the gates with their checklists, today's reservations and open
/// handoffs. Left out when the hub has no plan.
fn plan_sections(s: &mut String, b: &Brief) {
    let p = &b.plan;
    if p.is_empty() {
        return;
    }
    s.push_str(&format!(
        "## Plan

{} of {} tasks done.

",
        p.done, p.total
    ));
    if !p.milestones.is_empty() {
        s.push_str("| Milestone | Due | Progress | Blocked |\n| --- | --- | --- | --- |\n");
        for m in &p.milestones {
            let blocked: Vec<String> = m
                .blocked
                .iter()
                .map(|(id, by)| format!("{} (waits on {})", id, by.join(", ")))
                .collect();
            s.push_str(&format!(
                "| {} {} | {} | `{}` {}/{} | {} |\n",
                md(&m.id),
                md(&m.title),
                opt(&m.due),
                bar(m.done, m.total, 10),
                m.done,
                m.total,
                md(&blocked.join("; "))
            ));
        }
        s.push('\n');
    }
    let ready: Vec<String> = p
        .ready
        .iter()
        .take(b.max_rows)
        .map(|t| match &t.role {
            Some(r) => format!("{} [{}]", md(&t.id), md(r)),
            None => md(&t.id),
        })
        .collect();
    s.push_str(&format!(
        "Ready to take, best first: {}.\n\n",
        if ready.is_empty() {
            "none".to_string()
        } else {
            ready.join(", ")
        }
    ));
    if !b.gates.is_empty() {
        s.push_str("### Gates\n\n");
        for g in &b.gates {
            s.push_str(&format!(
                "- **{}** {}{}\n",
                md(&g.name),
                g.state.to_uppercase(),
                g.decider().map(|d| format!(" ({})", md(&d))).unwrap_or_default()
            ));
            for c in &g.checks {
                s.push_str(&format!(
                    "  - [{}] {}\n",
                    if c.done { "x" } else { " " },
                    md(&c.text)
                ));
            }
            if let Some(d) = &g.decision {
                s.push_str(&format!(
                    "  - decision by {} at {}: {}\n",
                    md(&d.by),
                    format_time(d.at),
                    md(&d.note)
                ));
            }
        }
        s.push('\n');
    }
    if !p.reservations.is_empty() {
        s.push_str(&format!("### Reservations today ({})\n\n", md(&b.zone)));
        s.push_str("| Resource | Window | Holder | Now |\n| --- | --- | --- | --- |\n");
        for r in &p.reservations {
            s.push_str(&format!(
                "| {} | {}-{} | {} | {} |\n",
                md(&r.resource),
                md(&r.from),
                md(&r.to),
                md(&r.holder),
                if r.active { "on" } else { "" }
            ));
        }
        s.push('\n');
    }
    if !p.handoffs.is_empty() {
        s.push_str("### Handoffs on offer\n\n");
        for h in &p.handoffs {
            s.push_str(&format!(
                "- {}: {} from {} to {} until {}\n",
                md(&h.id),
                md(&h.key),
                md(&h.from),
                md(&h.to),
                format_time(h.expires)
            ));
        }
        s.push('\n');
    }
}

/// The coordination's own numbers over the page's window (`coord kpi`).
fn kpi_section(s: &mut String, k: &KpiReport, window: &str) {
    s.push_str(&format!("## Coordination (last {window}, `coord kpi`)\n\n"));
    s.push_str(&format!(
        "- Claims: {} collisions refused, {} stolen, {} lapsed; {} overlapping edits told\n",
        k.collisions, k.stolen, k.lapsed, k.overlaps
    ));
    s.push_str(&format!(
        "- Messages: time to read {}; to reply {}; to acknowledge critical and emergency {}\n",
        k.time_to_read.describe(),
        k.time_to_reply.describe(),
        k.time_to_ack.describe()
    ));
    let days: Vec<String> = k.done_per_day.iter().map(|(d, n)| format!("{d}: {n}")).collect();
    s.push_str(&format!(
        "- Tasks done: {}; lead time from ready to done {}\n\n",
        if days.is_empty() {
            "none".to_string()
        } else {
            days.join(", ")
        },
        k.lead_time.describe()
    ));
}
