//! The shapes reports carry: one struct per record as users see it, shared
//! by the text printers, `--json`, the briefing and every other door.

use serde::Serialize;

use crate::core::clock::Time;
use crate::core::config::Config;
use crate::core::model::{Claim, Registry, Session};
use crate::core::rules::{live_holder, state, State};

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub started: Time,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub last_seen: Time,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub ended: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SessionView {
    pub fn new(id: &str, s: &Session, now: Time, cfg: &Config) -> SessionView {
        SessionView {
            id: id.to_string(),
            state: state(s, now, cfg),
            role: s.role.clone(),
            focus: s.focus.clone(),
            machine: s.machine.clone(),
            started: s.started,
            last_seen: s.last_seen,
            ended: s.ended,
            action: s.action.clone(),
            target: s.target.clone(),
            phase: s.phase.clone(),
            progress: s.progress,
            note: s.note.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimView {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub since: Option<Time>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub expires: Option<Time>,
    /// Seconds until it expires (negative once past); absent when free.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<i64>,
    /// Whether the holder still holds it by the rules (not expired, holder live).
    pub live: bool,
    pub token: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ClaimView {
    pub fn new(key: &str, c: &Claim, reg: &Registry, now: Time, cfg: &Config) -> ClaimView {
        ClaimView {
            key: key.to_string(),
            kind: c.kind.clone(),
            name: c.name.clone(),
            holder: c.holder.clone(),
            since: c.since,
            expires: c.expires,
            seconds_left: c.holder.as_ref().and(c.expires).map(|e| (e - now).num_seconds()),
            live: live_holder(c, reg, now, cfg).is_some(),
            token: c.token,
            note: c.note.clone(),
        }
    }
}

impl ClaimView {
    /// "1h20m" while held; "lease" for a claim held while its holder is
    /// live; "lapsed" when the holder went away; "expired" after.
    pub fn left(&self) -> String {
        if self.expires.is_none() {
            return if self.live { "lease" } else { "lapsed" }.to_string();
        }
        match self.seconds_left {
            Some(secs) if secs > 0 && self.live => {
                crate::core::clock::short_duration(chrono::Duration::seconds(secs))
            }
            Some(secs) if secs > 0 => "lapsed".to_string(),
            _ => "expired".to_string(),
        }
    }
}

/// Sessions to show: ended ones only with `all`; live first, then by id.
pub fn sessions(reg: &Registry, now: Time, cfg: &Config, all: bool) -> Vec<SessionView> {
    let mut v: Vec<SessionView> = reg
        .sessions
        .iter()
        .map(|(id, s)| SessionView::new(id, s, now, cfg))
        .filter(|s| all || s.state != State::Ended)
        .collect();
    v.sort_by(|a, b| a.state.cmp(&b.state).then_with(|| a.id.cmp(&b.id)));
    v
}

/// Claims that name a holder (held, or lapsed but not yet swept).
pub fn held_claims(reg: &Registry, now: Time, cfg: &Config) -> Vec<ClaimView> {
    reg.claims
        .iter()
        .filter(|(_, c)| c.holder.is_some())
        .map(|(k, c)| ClaimView::new(k, c, reg, now, cfg))
        // A reservation on now is a live claim of its resource.
        .chain(super::plan::reservation_claims(reg, now, cfg))
        .collect()
}

impl SessionView {
    /// "implementing auth (build, 40%)", or nothing when nothing is set.
    pub fn doing(&self) -> String {
        let mut out = String::new();
        if let Some(a) = &self.action {
            out.push_str(a);
        }
        if let Some(t) = &self.target {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(t);
        }
        let mut extra = Vec::new();
        if let Some(p) = &self.phase {
            extra.push(p.clone());
        }
        if let Some(p) = self.progress {
            extra.push(format!("{p}%"));
        }
        if !extra.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&format!("({})", extra.join(", ")));
        }
        if let Some(n) = &self.note {
            out.push_str(&format!(" - {n}"));
        }
        out
    }
}
