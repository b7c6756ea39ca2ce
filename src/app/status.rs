//! Who is here, what they are doing, what is claimed, and what needs
//! attention. Read-only, under the shared lock; each call reads the clock
//! afresh, so a watching door sees time pass.

use serde::Serialize;

use super::inbox::unread_count;
use super::plan::{summary, PlanSummary};
use super::views::{held_claims, sessions, ClaimView, SessionView};
use super::Ctx;
use crate::core::clock::Time;
use crate::core::error::Result;
use crate::core::model::Registry;
use crate::core::rules::{claims, messages, Alert, State};

#[derive(Debug, Clone, Default)]
pub struct StatusRequest {
    /// Include ended sessions.
    pub all: bool,
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub now: Time,
    /// The acting session, when one is found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub me: Option<String>,
    /// Unread messages for `me`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<usize>,
    /// Live sessions (all of them with `all`).
    pub sessions: Vec<SessionView>,
    /// Gone and ended sessions left out of `sessions` (see `all`).
    pub gone: usize,
    pub ended: usize,
    pub claims: Vec<ClaimView>,
    pub alerts: Vec<Alert>,
    /// Milestones, ready tasks, gates, today's reservations, open handoffs.
    #[serde(skip_serializing_if = "PlanSummary::is_empty")]
    pub plan: PlanSummary,
}

/// Every alert for `me` (or for anyone): open escalations, claims, the
/// conflict radar, settings this clone overrides.
pub fn alerts(ctx: &Ctx, reg: &Registry, now: Time, me: Option<&str>) -> Vec<Alert> {
    let cfg = &ctx.hub.config;
    let reader = me.map(|m| (m, cfg.is_lead(m)));
    let mut alerts = messages::escalation_alerts(reg, now, reader);
    alerts.extend(claims::claim_alerts(reg, now, cfg));
    alerts.extend(crate::core::rules::radar::overlap_alerts(reg, now, cfg));
    if !cfg.overrides.is_empty() {
        alerts.push(Alert {
            kind: "settings_override",
            target: None,
            text: format!(
                "this clone's hub coord.toml sets {} other than the team's coord.toml",
                cfg.overrides.join(", ")
            ),
        });
    }
    alerts
}

pub fn status(ctx: &Ctx, req: &StatusRequest) -> Result<StatusReport> {
    let now = ctx.now();
    ctx.hub.read(|reg| status_in(ctx, reg, now, req))
}

/// Status from a registry already read (the dashboard's snapshot reads it
/// once for everything it shows).
pub fn status_in(ctx: &Ctx, reg: &Registry, now: Time, req: &StatusRequest) -> Result<StatusReport> {
    let hub = &ctx.hub;
    let cfg = &hub.config;
    // Status works for anyone; a found session adds its unread count. A
    // session named outright must exist, though.
    let me = ctx.me_if_any(reg, now)?;
    let unread = match &me {
        Some(id) => Some(unread_count(hub, reg, id)?),
        None => None,
    };
    let alerts = alerts(ctx, reg, now, me.as_deref());
    // Gone and ended sessions collapse to counts: status must not grow
    // with everyone who ever worked here.
    let (shown, hidden): (Vec<_>, Vec<_>) = sessions(reg, now, cfg, true)
        .into_iter()
        .partition(|s| req.all || s.state.is_live());
    let count = |st: State| hidden.iter().filter(|s| s.state == st).count();
    Ok(StatusReport {
        now,
        me,
        unread,
        gone: count(State::Gone),
        ended: count(State::Ended),
        sessions: shown,
        claims: held_claims(reg, now, cfg),
        alerts,
        plan: summary(reg, now, cfg),
    })
}
