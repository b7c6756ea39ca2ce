//! Pure rules over plain data, with `now` passed in. No I/O, so every rule
//! is unit-tested without a disk. Liveness lives here; the claim lifecycle
//! in [`claims`], messages and escalations in [`messages`]. A rule that
//! changes the state returns what else happened (journal entries, messages
//! from coord) as [`Effects`], which the storage layer writes with the state.

pub mod claims;
pub mod glob;
pub mod merge;
pub mod messages;
pub mod plan;
pub mod radar;
pub mod reads;
pub mod validate;

use serde::Serialize;

use crate::core::clock::Time;
use crate::core::config::Config;
use crate::core::model::{Claim, Level, Message, Registry, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Active,
    Stale,
    Gone,
    Ended,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Stale => "stale",
            State::Gone => "gone",
            State::Ended => "ended",
        }
    }

    /// Active or stale: still counts as a member of the team.
    pub fn is_live(self) -> bool {
        matches!(self, State::Active | State::Stale)
    }
}

pub fn state(s: &Session, now: Time, cfg: &Config) -> State {
    if s.ended.is_some() {
        return State::Ended;
    }
    let idle = now - s.last_seen;
    if idle >= cfg.gone_after {
        State::Gone
    } else if idle >= cfg.stale_after {
        State::Stale
    } else {
        State::Active
    }
}

/// The session holding `claim` right now: set, not expired, and live.
pub fn live_holder<'a>(claim: &'a Claim, reg: &Registry, now: Time, cfg: &Config) -> Option<&'a str> {
    let holder = claim.holder.as_deref()?;
    if claim.expires.is_some_and(|e| e <= now) {
        return None;
    }
    let session = reg.sessions.get(holder)?;
    state(session, now, cfg).is_live().then_some(holder)
}

/// A sign of life from `me`.
pub fn touch(reg: &mut Registry, me: &str, now: Time) {
    if let Some(s) = reg.sessions.get_mut(me) {
        s.last_seen = now;
    }
}

/// A journal entry a rule asks for; its id is minted when it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// A fixed id (the same on every machine); minted when `None`.
    pub id: Option<String>,
    pub kind: &'static str,
    pub session: Option<String>,
    pub target: Option<String>,
    pub text: String,
    pub token: Option<u64>,
}

/// A message from coord itself to one session; its id is minted when written.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// A fixed id (the same on every machine); minted when `None`.
    pub id: Option<String>,
    pub to: String,
    pub level: Level,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Event(EventDraft),
    Notice(Notice),
    /// A message complete with its id (a session's own `send`).
    Message(Message),
    /// A journal entry complete with its id and time (the same bytes on
    /// every machine that writes it).
    Journal(crate::core::model::Event),
}

/// What happened besides the change to the registry, in order: ids are
/// minted in this order, so a seeded run writes the same bytes every time.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects(pub Vec<Effect>);

impl Effects {
    pub fn event(
        &mut self,
        kind: &'static str,
        session: &str,
        target: Option<&str>,
        text: String,
    ) -> &mut EventDraft {
        self.0.push(Effect::Event(EventDraft {
            id: None,
            kind,
            session: Some(session.to_string()),
            target: target.map(str::to_string),
            text,
            token: None,
        }));
        match self.0.last_mut() {
            Some(Effect::Event(e)) => e,
            // Just pushed an event.
            _ => unreachable!(),
        }
    }

    pub fn notice(&mut self, to: &str, level: Level, subject: String, body: String) {
        self.0.push(Effect::Notice(Notice {
            id: None,
            to: to.to_string(),
            level,
            subject,
            body,
        }));
    }

    pub fn message(&mut self, message: Message) {
        self.0.push(Effect::Message(message));
    }

    pub fn events(&self) -> impl Iterator<Item = &EventDraft> {
        self.0.iter().filter_map(|e| match e {
            Effect::Event(d) => Some(d),
            _ => None,
        })
    }

    pub fn notices(&self) -> impl Iterator<Item = &Notice> {
        self.0.iter().filter_map(|e| match e {
            Effect::Notice(n) => Some(n),
            _ => None,
        })
    }
}

/// Something a human lead should look at first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub text: String,
}

/// Plain data for the rules' unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::core::clock::{parse_time, Time};
    use crate::core::model::{Claim, Registry, Session};

    /// A time on 2026-01-01, `HH:MM:SS`.
    pub fn t(s: &str) -> Time {
        parse_time(&format!("2026-01-01T{s}Z")).expect("a test time")
    }

    /// Sessions `(id, last seen)` and claims `(type, name, holder, expires)`.
    pub fn reg_with(sessions: &[(&str, &str)], claims: &[(&str, &str, &str, &str)]) -> Registry {
        let mut reg = Registry::new();
        for (id, seen) in sessions {
            reg.sessions.insert(id.to_string(), Session::new(t(seen)));
        }
        for (kind, name, holder, expires) in claims {
            reg.claims.insert(
                Claim::key(kind, name),
                Claim {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    holder: Some(holder.to_string()),
                    since: Some(t("09:00:00")),
                    expires: Some(t(expires)),
                    for_secs: None,
                    released: None,
                    lost_on_sync: Vec::new(),
                    rank_token: None,
                    note: None,
                    token: 1,
                    extra: Default::default(),
                },
            );
        }
        reg
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{reg_with, t};
    use super::*;
    use crate::core::rules::claims::{lapsed, LapseReason};

    #[test]
    fn liveness_thresholds() {
        let cfg = Config::default();
        let s = Session::new(t("10:00:00"));
        assert_eq!(state(&s, t("10:29:59"), &cfg), State::Active);
        assert_eq!(state(&s, t("10:30:00"), &cfg), State::Stale);
        assert_eq!(state(&s, t("11:59:59"), &cfg), State::Stale);
        assert_eq!(state(&s, t("12:00:00"), &cfg), State::Gone);
        let mut ended = s.clone();
        ended.ended = Some(t("10:05:00"));
        assert_eq!(state(&ended, t("10:06:00"), &cfg), State::Ended);
    }

    #[test]
    fn holders_expire_and_lapse() {
        let cfg = Config::default();
        let reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "07:00:00")],
            &[
                ("task", "a", "alice", "11:00:00"),
                ("task", "b", "bob", "13:00:00"),
                ("task", "c", "zed", "13:00:00"),
            ],
        );
        let now = t("10:30:00");
        assert_eq!(live_holder(&reg.claims["task:a"], &reg, now, &cfg), Some("alice"));
        assert_eq!(
            live_holder(&reg.claims["task:a"], &reg, t("11:00:00"), &cfg),
            None
        );
        assert_eq!(live_holder(&reg.claims["task:b"], &reg, now, &cfg), None);
        let lapses = lapsed(&reg, now, &cfg);
        assert_eq!(lapses.len(), 2);
        assert_eq!(lapses[0].reason, LapseReason::HolderGone);
        assert_eq!(lapses[1].reason, LapseReason::HolderUnknown);
        let later = lapsed(&reg, t("11:00:00"), &cfg);
        assert!(later
            .iter()
            .any(|l| l.key == "task:a" && l.reason == LapseReason::Expired));
    }
}
