//! What an agent needs at the start of its work, and again after its
//! context was cleared: the team's protocol as commands to run, and the live
//! facts that concern it (who it is, what it holds, what waits for it).
//! Read-only; built from the same report as `status`.

use serde::Serialize;

use super::views::{ClaimView, SessionView};
use super::Ctx;
use crate::core::error::Result;
use crate::core::rules::Alert;

/// Alerts shown at most; the rest are counted (`coord status` lists them).
pub const MAX_ALERTS: usize = 5;

/// The rules of the team, one command each. Fixed text: an agent reads it
/// once per context, so it stays short.
pub const PROTOCOL: &[&str] = &[
    "Claim before you edit: `coord claim file PATH` (globs work) or `coord claim task NAME`. Exit 3 means someone holds it: ask them with `coord send NAME TEXT` or take other work.",
    "Say what you are doing when it changes: `coord heartbeat ACTION TARGET`.",
    "Between steps read `coord inbox`; acknowledge urgent messages with `coord ack ID`.",
    "Release as you finish: `coord release TYPE NAME` (or `--all`); `coord stop` when you are done.",
    "Every error names the command to run next. `coord status --short` shows the team.",
];

#[derive(Debug, Serialize)]
pub struct PrimeReport {
    /// The acting session; absent when this caller has none yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub me: Option<SessionView>,
    /// Unread messages for `me`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<usize>,
    /// The claims `me` holds.
    pub claims: Vec<ClaimView>,
    /// Open escalations and stale claims, most urgent first, at most
    /// `MAX_ALERTS`.
    pub alerts: Vec<Alert>,
    /// Alerts left out of `alerts`.
    pub more_alerts: usize,
    /// Sessions that are active or stale.
    pub live_sessions: usize,
    /// Claims held by other sessions.
    pub held_by_others: usize,
    pub protocol: &'static [&'static str],
    /// Plan tasks ready for `me` (its role, or no role), best first, at
    /// most `MAX_READY`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ready: Vec<String>,
}

/// Ready tasks named in the primer.
pub const MAX_READY: usize = 3;

pub fn prime(ctx: &Ctx) -> Result<PrimeReport> {
    let now = ctx.now();
    ctx.hub.read(|reg| {
        let me = ctx.me_if_any(reg, now)?;
        prime_in(ctx, reg, now, me.as_deref())
    })
}

/// The primer of session `me`, which this process has just started or
/// taken back (the agent's session-start): who it is need not be worked out
/// again.
pub fn prime_started(ctx: &Ctx, me: &str) -> Result<PrimeReport> {
    let now = ctx.now();
    ctx.hub.read(|reg| prime_in(ctx, reg, now, Some(me)))
}

/// What `status` would say, but only what the primer shows: the claims of
/// others are counted, not each described (the agent's session-start runs
/// this on every start and after every `/clear`).
fn prime_in(
    ctx: &Ctx,
    reg: &crate::core::model::Registry,
    now: crate::core::clock::Time,
    me: Option<&str>,
) -> Result<PrimeReport> {
    let cfg = &ctx.hub.config;
    let unread = match me {
        Some(id) => Some(super::inbox::unread_count(&ctx.hub, reg, id)?),
        None => None,
    };
    let mine = |holder: Option<&str>| me.is_some() && holder == me;
    let mut claims = Vec::new();
    let mut held_by_others = 0;
    for (k, c) in reg.claims.iter().filter(|(_, c)| c.holder.is_some()) {
        if mine(c.holder.as_deref()) {
            claims.push(ClaimView::new(k, c, reg, now, cfg));
        } else {
            held_by_others += 1;
        }
    }
    // A reservation on now is a live claim of its resource.
    for v in super::plan::reservation_claims(reg, now, cfg) {
        if mine(v.holder.as_deref()) {
            claims.push(v);
        } else {
            held_by_others += 1;
        }
    }
    let mut alerts = super::status::alerts(ctx, reg, now, me);
    let more_alerts = alerts.len().saturating_sub(MAX_ALERTS);
    alerts.truncate(MAX_ALERTS);
    let live: Vec<SessionView> = super::views::sessions(reg, now, cfg, true)
        .into_iter()
        .filter(|s| s.state.is_live())
        .collect();
    let me_view = live.iter().find(|s| Some(s.id.as_str()) == me).cloned();
    let my_role = me_view.as_ref().and_then(|s| s.role.clone());
    let ready = super::plan::summary(reg, now, cfg)
        .ready
        .iter()
        .filter(|t| t.role.is_none() || t.role == my_role)
        .take(MAX_READY)
        .map(|t| t.id.clone())
        .collect();
    Ok(PrimeReport {
        ready,
        me: me_view,
        unread,
        live_sessions: live.len(),
        held_by_others,
        claims,
        alerts,
        more_alerts,
        protocol: PROTOCOL,
    })
}
