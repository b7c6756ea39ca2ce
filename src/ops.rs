//! Hub operations that several commands share, all inside a transaction:
//! the lapse sweep every mutation starts with, refreshing a session's
//! last_seen, delivering a message, and releasing a claim.

use crate::clock::{format_time, short_duration};
use crate::ctx::Ctx;
use crate::error::{not_found, CoordError};
use crate::model::{Escalation, Level, Message, SYSTEM};
use crate::rules::{self, lapsed};
use crate::store::{Tx, MESSAGES};

/// Every mutation: lock, sweep lapsed claims, run `f`, write.
pub fn mutate<T>(ctx: &Ctx, f: impl FnOnce(&mut Tx) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let hub = ctx.hub();
    hub.transact(ctx.now, |tx| {
        sweep(tx);
        f(tx)
    })
}

/// Free every claim that has lapsed (expired, or its holder gone or ended),
/// journal it, and tell the holder.
pub fn sweep(tx: &mut Tx) {
    let hub = tx.hub;
    for lapse in lapsed(&tx.reg, tx.now, &hub.config) {
        let why = lapse.reason.describe();
        release(
            tx,
            &lapse.key,
            &lapse.holder,
            "claim.lapsed",
            &format!("lapsed for {}: {why}", lapse.holder),
        );
        if tx.reg.sessions.contains_key(&lapse.holder) {
            system_message(
                tx,
                &lapse.holder,
                Level::Warning,
                format!("your claim {} lapsed", lapse.key),
                format!(
                    "{} is free again because {why}. Claim it again with `coord claim {}` if you still need it.",
                    lapse.key,
                    claim_args(&lapse.key)
                ),
            );
        }
    }
}

/// `task:auth` -> `task auth` (quoted when the name has spaces).
pub fn claim_args(key: &str) -> String {
    let (kind, name) = key.split_once(':').unwrap_or(("task", key));
    if name.chars().any(|c| c.is_whitespace() || "\"'$`\\*?".contains(c)) {
        format!("{kind} '{}'", name.replace('\'', "'\\''"))
    } else {
        format!("{kind} {name}")
    }
}

/// A sign of life from `me`.
pub fn touch(tx: &mut Tx, me: &str) {
    let now = tx.now;
    if let Some(s) = tx.reg.sessions.get_mut(me) {
        s.last_seen = now;
    }
}

/// A message from coord itself to one session.
pub fn system_message(tx: &mut Tx, to: &str, level: Level, subject: String, body: String) {
    let id = tx.mint('m');
    let message = Message {
        id,
        ts: tx.now,
        from: SYSTEM.to_string(),
        to: to.to_string(),
        recipients: Some(vec![to.to_string()]),
        level,
        subject,
        body,
        reply_to: None,
        extra: Default::default(),
    };
    tx.push_message(message);
}

/// Who a `send` reaches: a session id, every live session with a role
/// (`@role`), or everyone (`broadcast`, stored as no recipient list).
pub fn recipients(ctx: &Ctx, tx: &Tx, me: &str, to: &str) -> Result<Option<Vec<String>>, CoordError> {
    if to == "broadcast" {
        return Ok(None);
    }
    if let Some(role) = to.strip_prefix('@') {
        let list: Vec<String> = tx
            .reg
            .sessions
            .iter()
            .filter(|(id, s)| s.role.as_deref() == Some(role) && id.as_str() != me && ctx.live(&tx.reg, id))
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
    rules::validate::session_id(to)?;
    if !tx.reg.sessions.contains_key(to) {
        return Err(not_found(format!("no session {to:?} in this hub"))
            .hint("see who is here with `coord status`; TO is a session id, @role or broadcast"));
    }
    Ok(Some(vec![to.to_string()]))
}

/// Queue `message` and, for critical and emergency, open an escalation.
pub fn deliver(tx: &mut Tx, message: Message) {
    if message.level.escalates() {
        tx.reg.escalations.insert(
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
    tx.event(
        "message.sent",
        Some(&message.from.clone()),
        Some(&message.id.clone()),
        text,
    );
    tx.push_message(message);
}

/// Release `key` held by `holder`; journal it with `kind` and `why`.
pub fn release(tx: &mut Tx, key: &str, holder: &str, kind: &str, why: &str) {
    let token = match tx.reg.claims.get_mut(key) {
        Some(c) => {
            c.holder = None;
            c.since = None;
            c.expires = None;
            c.token
        }
        None => return,
    };
    tx.event(kind, Some(holder), Some(key), format!("{key} {why}"))
        .token = Some(token);
}

/// Find a message by id, newest first (acks and replies are about recent
/// messages, so this usually reads only the end of the log).
pub fn find_message(tx: &Tx, id: &str) -> anyhow::Result<Option<Message>> {
    let hub = tx.hub;
    let needle = format!("\"id\":\"{id}\"");
    let mut found = None;
    hub.rev_lines(MESSAGES, |offset, line| {
        if contains(line, needle.as_bytes()) {
            let m: Message = hub.parse_line(MESSAGES, offset, line)?;
            if m.id == id {
                found = Some(m);
                return Ok(std::ops::ControlFlow::Break(()));
            }
        }
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    if found.is_none() {
        found = tx.queued_messages().iter().find(|m| m.id == id).cloned();
    }
    Ok(found)
}

/// Whether `hay` holds `needle`. Log lines are UTF-8, so std's string
/// search (vectorised for short needles) does the work; anything else falls
/// back to a plain scan.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return false;
    }
    match (std::str::from_utf8(hay), std::str::from_utf8(needle)) {
        (Ok(h), Ok(n)) => h.contains(n),
        _ => hay.windows(needle.len()).any(|w| w == needle),
    }
}

/// "since 09:12 UTC (1h28m left)" for conflict messages.
pub fn held_phrase(
    since: Option<crate::clock::Time>,
    expires: Option<crate::clock::Time>,
    now: crate::clock::Time,
) -> String {
    let since = since
        .map(|t| format!("since {}", format_time(t)))
        .unwrap_or_default();
    let left = expires
        .map(|e| format!(" ({} left)", short_duration(e - now)))
        .unwrap_or_default();
    format!("{since}{left}")
}
