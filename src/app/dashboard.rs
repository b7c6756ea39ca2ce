//! What the dashboard shows, in one snapshot: the team ordered by what needs
//! attention, open emergencies with who has not acknowledged them, claims,
//! the plan, today's reservations, recent messages and activity.

use serde::Serialize;

use super::plan::{gate_views, reservations_on, GateView, ReservationView};
use super::status::{status_in, StatusReport, StatusRequest};
use super::views::SessionView;
use super::Ctx;
use crate::core::clock::Time;
use crate::core::error::Result;
use crate::core::model::{Event, Level, Message};
use crate::core::rules::plan::today;
use crate::core::rules::{state, State};

/// How much a session needs the lead, most first.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// An emergency addressed to it is not acknowledged.
    Emergency,
    /// Stale or gone while holding claims: its work is stuck.
    StaleHolding,
    /// Stale or gone.
    Silent,
    /// Says it is waiting or blocked (its action or phase).
    Waiting,
    Active,
    /// Ended.
    Done,
}

#[derive(Debug, Clone, Serialize)]
pub struct Card {
    #[serde(flatten)]
    pub session: SessionView,
    pub attention: Attention,
    /// Claims it holds (keys).
    pub claims: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenEmergency {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub ts: Time,
    /// Addressees that have not acknowledged it.
    pub waiting: Vec<String>,
    /// Who may resolve it, in words (its sender, a lead, the addressee of
    /// a direct one).
    pub resolved_by: String,
    /// Whether the page's own session (with `--write`) may resolve it.
    pub resolvable: bool,
}

#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// `coord status --all`, as its JSON.
    pub status: StatusReport,
    /// The sessions, most in need of attention first.
    pub cards: Vec<Card>,
    pub emergencies: Vec<OpenEmergency>,
    pub gates: Vec<GateView>,
    pub reservations: Vec<ReservationView>,
    pub zone: String,
    /// Newest first.
    pub messages: Vec<Message>,
    pub events: Vec<Event>,
}

/// What the dashboard lists of the logs.
pub const RECENT_MESSAGES: usize = 20;
pub const RECENT_EVENTS: usize = 30;

fn waiting_word(s: &SessionView) -> bool {
    [&s.action, &s.phase].into_iter().flatten().any(|t| {
        let t = t.to_lowercase();
        t.contains("wait") || t.contains("block")
    })
}

pub fn snapshot(ctx: &Ctx) -> Result<Snapshot> {
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    let window = now - chrono::Duration::days(7);
    ctx.hub.read(|reg| {
        let st = status_in(ctx, reg, now, &StatusRequest { all: true })?;
        let emergencies: Vec<OpenEmergency> = reg
            .escalations
            .iter()
            .filter(|(_, e)| e.level == Level::Emergency)
            .map(|(id, e)| OpenEmergency {
                id: id.clone(),
                from: e.from.clone(),
                to: e.to.clone(),
                subject: e.subject.clone(),
                ts: e.ts,
                resolved_by: if e.direct() {
                    format!("{} (its sender), {} or a lead", e.from, e.to)
                } else {
                    format!("{} (its sender) or a lead", e.from)
                },
                resolvable: st
                    .me
                    .as_deref()
                    .is_some_and(|me| e.resolvable_by(me, cfg.is_lead(me))),
                waiting: reg
                    .sessions
                    .iter()
                    .filter(|(sid, s)| {
                        e.addressed_to(sid)
                            && !e.acked.contains_key(*sid)
                            && state(s, now, cfg) != State::Ended
                    })
                    .map(|(sid, _)| sid.clone())
                    .collect(),
            })
            .collect();
        let mut cards: Vec<Card> = st
            .sessions
            .iter()
            .map(|s| {
                let claims: Vec<String> = st
                    .claims
                    .iter()
                    .filter(|c| c.holder.as_deref() == Some(s.id.as_str()))
                    .map(|c| c.key.clone())
                    .collect();
                let attention = if emergencies.iter().any(|e| e.waiting.contains(&s.id)) {
                    Attention::Emergency
                } else {
                    match s.state {
                        State::Stale | State::Gone if !claims.is_empty() => Attention::StaleHolding,
                        State::Stale | State::Gone => Attention::Silent,
                        State::Ended => Attention::Done,
                        State::Active if waiting_word(s) => Attention::Waiting,
                        State::Active => Attention::Active,
                    }
                };
                Card {
                    session: s.clone(),
                    attention,
                    claims,
                }
            })
            .collect();
        // Within a level, the longest silent first.
        cards.sort_by(|a, b| {
            a.attention
                .cmp(&b.attention)
                .then(a.session.last_seen.cmp(&b.session.last_seen))
                .then(a.session.id.cmp(&b.session.id))
        });
        Ok(Snapshot {
            cards,
            emergencies,
            gates: gate_views(reg),
            reservations: reservations_on(reg, None, today(now, cfg.zone), now, cfg),
            zone: cfg.zone_name.clone(),
            messages: ctx.hub.recent_messages(window, RECENT_MESSAGES)?.shown,
            events: ctx.hub.recent_events(window, RECENT_EVENTS)?.shown,
            status: st,
        })
    })
}
