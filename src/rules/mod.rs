//! Pure rules over plain data, with `now` passed in: liveness, who holds a
//! claim, what conflicts, what has lapsed, what deserves an alert. No I/O,
//! so every rule is unit-tested without a disk.

pub mod glob;
pub mod validate;

use serde::Serialize;

use crate::clock::{short_duration, Time};
use crate::config::Config;
use crate::model::{Claim, Registry, Session};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LapseReason {
    Expired,
    HolderGone,
    HolderEnded,
    HolderUnknown,
}

impl LapseReason {
    pub fn describe(&self) -> &'static str {
        match self {
            LapseReason::Expired => "it expired",
            LapseReason::HolderGone => "its holder went silent past liveness.gone_after",
            LapseReason::HolderEnded => "its holder ended",
            LapseReason::HolderUnknown => "its holder is not a known session",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapse {
    pub key: String,
    pub holder: String,
    pub reason: LapseReason,
}

/// Claims that still name a holder but are free by the rules.
pub fn lapsed(reg: &Registry, now: Time, cfg: &Config) -> Vec<Lapse> {
    reg.claims
        .iter()
        .filter_map(|(key, c)| {
            let holder = c.holder.as_deref()?;
            let reason = match reg.sessions.get(holder).map(|s| state(s, now, cfg)) {
                None => LapseReason::HolderUnknown,
                Some(State::Ended) => LapseReason::HolderEnded,
                Some(State::Gone) => LapseReason::HolderGone,
                _ if c.expires.is_some_and(|e| e <= now) => LapseReason::Expired,
                _ => return None,
            };
            Some(Lapse {
                key: key.clone(),
                holder: holder.to_string(),
                reason,
            })
        })
        .collect()
}

/// Keys of claims held live by someone other than `me` that stop `me` from
/// taking `kind:name`: the same claim, or for files an overlapping glob.
pub fn conflicts(reg: &Registry, kind: &str, name: &str, me: &str, now: Time, cfg: &Config) -> Vec<String> {
    let key = Claim::key(kind, name);
    let mut out = Vec::new();
    if let Some(c) = reg.claims.get(&key) {
        if live_holder(c, reg, now, cfg).is_some_and(|h| h != me) {
            out.push(key.clone());
        }
    }
    if kind == "file" {
        for (k, c) in &reg.claims {
            if *k != key
                && c.kind == "file"
                && live_holder(c, reg, now, cfg).is_some_and(|h| h != me)
                && glob::overlap(&c.name, name)
            {
                out.push(k.clone());
            }
        }
    }
    out
}

/// Something a human lead should look at first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub text: String,
}

/// Alerts about sessions and claims (messages add their own in `brief`):
/// stale sessions holding claims, silent sessions, expired or orphaned
/// claims, overlapping file claims held by different sessions.
pub fn claim_alerts(reg: &Registry, now: Time, cfg: &Config) -> Vec<Alert> {
    let mut out = Vec::new();
    for (id, s) in &reg.sessions {
        if state(s, now, cfg) != State::Stale {
            continue;
        }
        let held: Vec<&str> = reg
            .claims
            .iter()
            .filter(|(_, c)| c.holder.as_deref() == Some(id) && live_holder(c, reg, now, cfg).is_some())
            .map(|(k, _)| k.as_str())
            .collect();
        let silent = short_duration(now - s.last_seen);
        let text = if held.is_empty() {
            format!("{id} has been silent for {silent}")
        } else {
            format!("{id} has been silent for {silent} and holds {}", held.join(", "))
        };
        let kind = if held.is_empty() {
            "silent_session"
        } else {
            "stale_holder"
        };
        out.push(Alert {
            kind,
            target: Some(id.clone()),
            text,
        });
    }
    for lapse in lapsed(reg, now, cfg) {
        let kind = if lapse.reason == LapseReason::Expired {
            "expired_claim"
        } else {
            "orphaned_claim"
        };
        out.push(Alert {
            kind,
            target: Some(lapse.key.clone()),
            text: format!(
                "{} held by {} is free: {}",
                lapse.key,
                lapse.holder,
                lapse.reason.describe()
            ),
        });
    }
    // Sorted by literal prefix, a prefix comes right before its extensions,
    // so only the run of claims that extend each prefix can overlap it.
    let mut files: Vec<(&str, &String, &Claim, &str)> = reg
        .claims
        .iter()
        .filter(|(_, c)| c.kind == "file")
        .filter_map(|(k, c)| live_holder(c, reg, now, cfg).map(|h| (glob::literal_prefix(&c.name), k, c, h)))
        .collect();
    files.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
    let mut pairs = Vec::new();
    for (i, (pa, ka, a, ha)) in files.iter().enumerate() {
        for (_, kb, b, hb) in files[i + 1..].iter().take_while(|f| f.0.starts_with(pa)) {
            if ha != hb && glob::overlap(&a.name, &b.name) {
                // Report each pair once, in key order, whatever the prefix order.
                pairs.push(if ka <= kb {
                    (*ka, *ha, *kb, *hb)
                } else {
                    (*kb, *hb, *ka, *ha)
                });
            }
        }
    }
    pairs.sort();
    for (ka, ha, kb, hb) in pairs {
        out.push(Alert {
            kind: "overlapping_claims",
            target: Some(ka.clone()),
            text: format!("{ka} ({ha}) overlaps {kb} ({hb})"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_time;

    fn t(s: &str) -> Time {
        parse_time(&format!("2026-01-01T{s}Z")).unwrap()
    }

    fn reg_with(sessions: &[(&str, &str)], claims: &[(&str, &str, &str, &str)]) -> Registry {
        let mut reg = Registry::new();
        for (id, seen) in sessions {
            let mut s = Session::new(t(seen));
            s.last_seen = t(seen);
            reg.sessions.insert(id.to_string(), s);
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
                    note: None,
                    token: 1,
                    extra: Default::default(),
                },
            );
        }
        reg
    }

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

    #[test]
    fn conflicts_by_key_and_by_glob() {
        let cfg = Config::default();
        let reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "10:00:00")],
            &[
                ("task", "auth", "alice", "12:00:00"),
                ("file", "src/**", "alice", "12:00:00"),
            ],
        );
        let now = t("10:10:00");
        assert_eq!(
            conflicts(&reg, "task", "auth", "bob", now, &cfg),
            vec!["task:auth"]
        );
        assert!(conflicts(&reg, "task", "auth", "alice", now, &cfg).is_empty());
        assert!(conflicts(&reg, "task", "other", "bob", now, &cfg).is_empty());
        assert_eq!(
            conflicts(&reg, "file", "src/main.rs", "bob", now, &cfg),
            vec!["file:src/**"]
        );
        assert!(conflicts(&reg, "file", "docs/x.md", "bob", now, &cfg).is_empty());
        // A type other than file never overlaps by glob.
        assert!(conflicts(&reg, "service", "src/main.rs", "bob", now, &cfg).is_empty());
        // After expiry nothing conflicts.
        assert!(conflicts(&reg, "task", "auth", "bob", t("12:00:00"), &cfg).is_empty());
    }

    #[test]
    fn alerts_name_stale_holders_and_overlaps() {
        let cfg = Config::default();
        let mut reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "10:40:00")],
            &[
                ("file", "src/**", "alice", "12:00:00"),
                ("file", "src/a.rs", "bob", "12:00:00"),
            ],
        );
        reg.claims.get_mut("file:src/a.rs").unwrap().expires = Some(t("12:00:00"));
        let alerts = claim_alerts(&reg, t("10:45:00"), &cfg);
        let kinds: Vec<&str> = alerts.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, vec!["stale_holder", "overlapping_claims"]);
        assert!(alerts[0]
            .text
            .contains("alice has been silent for 45m and holds file:src/**"));
    }
}
