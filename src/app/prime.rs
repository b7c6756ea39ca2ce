//! What an agent needs at the start of its work, and again after its
//! context was cleared: the team's protocol as commands to run, and the live
//! facts that concern it (who it is, what it holds, what waits for it).
//! Read-only; built from the same report as `status`.

use serde::Serialize;

use super::status::{status, StatusRequest};
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
    let st = status(ctx, &StatusRequest::default())?;
    let me = st.me.as_deref();
    let (claims, others): (Vec<_>, Vec<_>) = st
        .claims
        .into_iter()
        .partition(|c| me.is_some() && c.holder.as_deref() == me);
    let more_alerts = st.alerts.len().saturating_sub(MAX_ALERTS);
    let mut alerts = st.alerts;
    alerts.truncate(MAX_ALERTS);
    let my_role = st
        .sessions
        .iter()
        .find(|s| Some(s.id.as_str()) == me)
        .and_then(|s| s.role.clone());
    let ready = st
        .plan
        .ready
        .iter()
        .filter(|t| t.role.is_none() || t.role == my_role)
        .take(MAX_READY)
        .map(|t| t.id.clone())
        .collect();
    Ok(PrimeReport {
        ready,
        me: st.sessions.iter().find(|s| Some(s.id.as_str()) == me).cloned(),
        unread: st.unread,
        live_sessions: st.sessions.iter().filter(|s| s.state.is_live()).count(),
        held_by_others: others.len(),
        claims,
        alerts,
        more_alerts,
        protocol: PROTOCOL,
    })
}
