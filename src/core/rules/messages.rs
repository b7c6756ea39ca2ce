//! Message rules over plain state: who a `send` reaches, what opens an
//! escalation, what acknowledging does, which alerts open escalations raise,
//! and what a message id looks like.

use super::{state, Alert, Effects};
use crate::core::clock::{ago, Time};
use crate::core::config::Config;
use crate::core::error::{conflict, not_found, usage, CoordError, Result};
use crate::core::model::{Escalation, Level, Message, Registry};
use crate::core::rules::validate;
use crate::core::text::command_line;

/// Who a `send` reaches: a session id, every live session with a role
/// (`@role`), or everyone (`broadcast`, stored as no recipient list).
pub fn recipients(
    reg: &Registry,
    me: &str,
    to: &str,
    now: Time,
    cfg: &Config,
) -> Result<Option<Vec<String>>> {
    if to == "broadcast" {
        return Ok(None);
    }
    if let Some(role) = to.strip_prefix('@') {
        let list: Vec<String> = reg
            .sessions
            .iter()
            .filter(|(id, s)| {
                s.role.as_deref() == Some(role) && id.as_str() != me && state(s, now, cfg).is_live()
            })
            .map(|(id, _)| id.clone())
            .collect();
        if list.is_empty() {
            return Err(
                not_found(format!("no live session other than you has the role {role:?}"))
                    .hint("see who is here with `coord status`, or send to a session id or broadcast"),
            );
        }
        return Ok(Some(list));
    }
    validate::session_id(to)?;
    if !reg.sessions.contains_key(to) {
        let near = crate::core::text::closest(to, reg.sessions.keys().map(String::as_str));
        let e = not_found(format!("no session {to:?} in this hub"));
        let e = match near {
            Some(n) => e.hint(format!("did you mean {n}?")),
            None => e,
        };
        return Err(e.hint("see who is here with `coord status`; TO is a session id, @role or broadcast"));
    }
    Ok(Some(vec![to.to_string()]))
}

/// Record `message` (its id already minted) and, for critical and
/// emergency, open an escalation.
pub fn deliver(reg: &mut Registry, message: Message, fx: &mut Effects) {
    if message.level.escalates() {
        reg.escalations.insert(
            message.id.clone(),
            Escalation {
                level: message.level,
                from: message.from.clone(),
                to: message.to.clone(),
                subject: message.subject.clone(),
                ts: message.ts,
                recipients: message.recipients.clone(),
                acked: Default::default(),
                extra: Default::default(),
            },
        );
    }
    let text = format!(
        "{} -> {} ({}): {}",
        message.from,
        message.to,
        message.level.as_str(),
        message.subject
    );
    fx.event("message.sent", &message.from, Some(&message.id), text);
    fx.message(message);
}

/// What acknowledging an open escalation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// Acknowledged by `me`; still open for others (an emergency).
    Noted,
    /// Closed for everyone (resolved, or a critical acknowledged).
    Closed,
}

/// Acknowledge escalation `id` for `me`; `None` when no escalation has that
/// id (it may be an ordinary message, found in the log by the caller).
pub fn ack_escalation(
    reg: &mut Registry,
    me: &str,
    id: &str,
    resolve: bool,
    lead: bool,
    now: Time,
    fx: &mut Effects,
) -> Option<Result<Acked>> {
    let e = reg.escalations.get_mut(id)?;
    if resolve && !e.resolvable_by(me, lead) {
        // No hint: the way out is not to resolve what is not yours.
        let what = if e.direct() {
            "only its sender, its addressee or a lead (roles.lead in the team's coord.toml) may resolve it"
        } else {
            "one sent to many is resolved by its sender or a lead (roles.lead in the team's coord.toml); its recipients acknowledge it"
        };
        let err = if e.addressed_to(me) {
            conflict(format!("you ({me}) may not resolve {id}: {what}"))
                .hint(format!("acknowledge it with `{}`", command_line(&["ack", id])))
        } else {
            not_found(format!("escalation {id} is not addressed to you ({me}); {what}"))
        };
        return Some(Err(err));
    }
    if !e.addressed_to(me) && e.from != me && !resolve {
        return Some(Err(not_found(format!(
            "escalation {id} is not addressed to you ({me}); only its sender and recipients acknowledge it"
        ))));
    }
    e.acked.insert(me.to_string(), now);
    let level = e.level;
    let subject = e.subject.clone();
    if resolve || level == Level::Critical {
        reg.escalations.remove(id);
        let how = if resolve { "resolved" } else { "acknowledged" };
        fx.event(
            "escalation.closed",
            me,
            Some(id),
            format!("{} {id} {how} by {me}: {subject}", level.as_str()),
        );
        Some(Ok(Acked::Closed))
    } else {
        fx.event(
            "message.acked",
            me,
            Some(id),
            format!("{id} acknowledged by {me}"),
        );
        Some(Ok(Acked::Noted))
    }
}

/// Acknowledge an ordinary message `m` (found in the log) for `me`.
pub fn ack_message(m: &Message, me: &str, fx: &mut Effects) -> Result<()> {
    if !(m.addressed_to(me) || m.from == me) {
        return Err(
            not_found(format!("message {} is not addressed to you ({me})", m.id))
                .hint("acknowledge only messages in your inbox; see `coord inbox --all`"),
        );
    }
    fx.event(
        "message.acked",
        me,
        Some(&m.id),
        format!("{} acknowledged by {me}", m.id),
    );
    Ok(())
}

/// Emergencies addressed to `me` that `me` has not acknowledged, oldest
/// first by id: what every command of that session must show.
pub fn open_emergencies<'r>(reg: &'r Registry, me: &str) -> Vec<(&'r String, &'r Escalation)> {
    reg.escalations
        .iter()
        .filter(|(_, e)| e.level == Level::Emergency && e.addressed_to(me) && !e.acked.contains_key(me))
        .collect()
}

/// Open escalations, emergencies first, as alerts. Each names the command
/// that settles it only when `reader` (a session, and whether it is a
/// lead) may run it; for no one in particular (the briefing) it says who
/// may.
pub fn escalation_alerts(reg: &Registry, now: Time, reader: Option<(&str, bool)>) -> Vec<Alert> {
    let mut list: Vec<_> = reg.escalations.iter().collect();
    list.sort_by(|a, b| {
        b.1.level
            .cmp(&a.1.level)
            .then(a.1.ts.cmp(&b.1.ts))
            .then(a.0.cmp(b.0))
    });
    list.into_iter()
        .map(|(id, e)| {
            let kind = match e.level {
                Level::Emergency => "emergency",
                _ => "critical",
            };
            let close = settle(id, e, reader);
            let acked = if e.acked.is_empty() {
                "not acknowledged".to_string()
            } else {
                format!(
                    "acknowledged by {}",
                    e.acked.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            Alert {
                kind,
                target: Some(id.clone()),
                text: format!(
                    "{id} from {} to {} {}: {} ({acked}; {close})",
                    e.from,
                    e.to,
                    ago(e.ts, now),
                    e.subject
                ),
            }
        })
        .collect()
}

/// How an open escalation is settled, as `reader` may do it.
fn settle(id: &str, e: &Escalation, reader: Option<(&str, bool)>) -> String {
    let critical = e.level != Level::Emergency;
    let who = if e.direct() {
        format!("resolved by {} (its sender), {} or a lead", e.from, e.to)
    } else {
        format!("resolved by {} (its sender) or a lead", e.from)
    };
    match reader {
        Some((me, lead)) if !critical && e.resolvable_by(me, lead) => {
            format!("resolve with: {}", command_line(&["ack", id, "--resolve"]))
        }
        Some((me, _)) if e.addressed_to(me) && !e.acked.contains_key(me) => {
            let also = if critical {
                String::new()
            } else {
                format!("; {who}")
            };
            format!("acknowledge with: {}{also}", command_line(&["ack", id]))
        }
        _ if critical => "closed when a recipient acknowledges it".to_string(),
        _ => who,
    }
}

/// Message ids as coord mints them: `m-` and base32.
pub fn check_message_id(id: &str) -> Result<(), CoordError> {
    let ok = id.len() <= 64
        && id.len() > 2
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "{:?} is not a message id; ids look like m-0t5ka1c-4xk2p9qa (see `coord inbox --all`)",
            crate::core::text::clip(id, 80)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::parse_time;
    use crate::core::model::Session;

    fn t(s: &str) -> Time {
        parse_time(&format!("2026-01-01T{s}Z")).unwrap()
    }

    fn team() -> Registry {
        let mut reg = Registry::new();
        for (id, role) in [("alice", "backend"), ("bob", "backend"), ("carol", "ops")] {
            let mut s = Session::new(t("09:00:00"));
            s.role = Some(role.into());
            reg.sessions.insert(id.into(), s);
        }
        reg
    }

    fn msg(id: &str, level: Level, to: &str, recipients: Option<Vec<String>>) -> Message {
        Message {
            id: id.into(),
            ts: t("09:05:00"),
            from: "carol".into(),
            to: to.into(),
            recipients,
            level,
            subject: "s".into(),
            body: String::new(),
            reply_to: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn recipients_by_id_role_and_broadcast() {
        let cfg = Config::default();
        let reg = team();
        let now = t("09:10:00");
        assert_eq!(recipients(&reg, "carol", "broadcast", now, &cfg).unwrap(), None);
        assert_eq!(
            recipients(&reg, "alice", "@backend", now, &cfg).unwrap(),
            Some(vec!["bob".to_string()])
        );
        assert!(recipients(&reg, "carol", "@nobody", now, &cfg).is_err());
        assert!(recipients(&reg, "carol", "zed", now, &cfg).is_err());
        // Gone sessions are not reached by role.
        assert!(recipients(&reg, "alice", "@backend", t("12:00:00"), &cfg).is_err());
    }

    #[test]
    fn emergencies_stay_open_until_resolved() {
        let mut reg = team();
        let mut fx = Effects::default();
        deliver(&mut reg, msg("m-1", Level::Emergency, "broadcast", None), &mut fx);
        assert_eq!(open_emergencies(&reg, "alice").len(), 1);
        assert!(open_emergencies(&reg, "carol").is_empty(), "not to the sender");
        let r = ack_escalation(&mut reg, "alice", "m-1", false, false, t("09:06:00"), &mut fx);
        assert_eq!(r, Some(Ok(Acked::Noted)));
        assert!(open_emergencies(&reg, "alice").is_empty());
        assert_eq!(open_emergencies(&reg, "bob").len(), 1);
        assert_eq!(escalation_alerts(&reg, t("09:07:00"), None).len(), 1);
        // Those a broadcast stops cannot lift it; its sender or a lead can.
        let r = ack_escalation(&mut reg, "bob", "m-1", true, false, t("09:08:00"), &mut fx);
        assert!(matches!(r, Some(Err(_))), "a recipient of a broadcast");
        let bob = escalation_alerts(&reg, t("09:08:00"), Some(("bob", false)));
        assert!(
            bob[0].text.contains("acknowledge with: coord ack m-1;"),
            "{}",
            bob[0].text
        );
        assert!(!bob[0].text.contains("--resolve"), "{}", bob[0].text);
        let lead = escalation_alerts(&reg, t("09:08:00"), Some(("bob", true)));
        assert!(
            lead[0].text.contains("coord ack m-1 --resolve"),
            "{}",
            lead[0].text
        );
        let r = ack_escalation(&mut reg, "bob", "m-1", true, true, t("09:08:00"), &mut fx);
        assert_eq!(r, Some(Ok(Acked::Closed)), "a lead");
        assert!(reg.escalations.is_empty());
        assert!(ack_escalation(&mut reg, "bob", "m-1", true, true, t("09:08:00"), &mut fx).is_none());
        // A direct one: its one addressee may resolve it too.
        deliver(
            &mut reg,
            msg("m-3", Level::Emergency, "alice", Some(vec!["alice".into()])),
            &mut fx,
        );
        let r = ack_escalation(&mut reg, "bob", "m-3", true, false, t("09:09:00"), &mut fx);
        assert!(matches!(r, Some(Err(_))), "not bob's");
        let r = ack_escalation(&mut reg, "alice", "m-3", true, false, t("09:09:00"), &mut fx);
        assert_eq!(r, Some(Ok(Acked::Closed)));
    }

    #[test]
    fn a_critical_closes_when_acknowledged() {
        let mut reg = team();
        let mut fx = Effects::default();
        let m = msg("m-2", Level::Critical, "alice", Some(vec!["alice".into()]));
        deliver(&mut reg, m, &mut fx);
        let r = ack_escalation(&mut reg, "bob", "m-2", false, false, t("09:06:00"), &mut fx);
        assert!(matches!(r, Some(Err(_))), "not bob's to acknowledge");
        let r = ack_escalation(&mut reg, "alice", "m-2", false, false, t("09:06:00"), &mut fx);
        assert_eq!(r, Some(Ok(Acked::Closed)));
    }

    #[test]
    fn message_ids() {
        assert!(check_message_id("m-0t5ka1c-4xk2p9qa").is_ok());
        assert!(check_message_id("M-1").is_err());
        assert!(check_message_id("m").is_err());
    }
}
