//! A message to a session, to every live session with a role, or to
//! everyone: one whole line appended to MESSAGES.jsonl under the lock.

use serde::Serialize;

use super::Ctx;
use crate::core::error::{not_found, usage, Result};
use crate::core::model::{Level, Message};
use crate::core::rules::messages::{self, check_message_id};
use crate::core::rules::{touch, validate, Effects};

#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// A session id, `@role` or `broadcast`.
    pub to: String,
    pub subject: String,
    pub body: String,
    /// As typed; `None` is info.
    pub level: Option<String>,
    pub reply_to: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SendReport {
    pub message: Message,
}

pub fn send(ctx: &Ctx, req: &SendRequest) -> Result<SendReport> {
    let cfg = &ctx.hub.config;
    validate::text("subject", &req.subject, validate::MAX_TEXT)?;
    let level_text = req.level.as_deref().unwrap_or("info");
    let level = Level::parse(level_text).ok_or_else(|| {
        usage(format!(
            "level {:?} is not one of info, warning, error, critical, emergency",
            crate::core::text::clip(level_text, 40)
        ))
    })?;
    validate::body(&req.body, cfg.max_body)?;
    if let Some(r) = &req.reply_to {
        check_message_id(r)?;
    }
    if !(req.to == "broadcast" || req.to.starts_with('@')) {
        validate::session_id(&req.to)?;
    } else if let Some(role) = req.to.strip_prefix('@') {
        validate::text("role", role, validate::MAX_TEXT)?;
    }
    if let Some(message) = quick(ctx, req, level)? {
        return Ok(SendReport { message });
    }
    let message = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let id = tx.mint('m');
        let hub = tx.hub;
        let queued = |r: &str| tx_has(hub, r);
        let (message, fx) = compose(ctx, &mut tx.reg, &me, req, level, id, tx.now, &queued)?;
        tx.apply(fx);
        Ok(message)
    })?;
    Ok(SendReport { message })
}

fn tx_has(hub: &crate::store::Hub, id: &str) -> Result<bool> {
    Ok(hub.find_message(id)?.is_some())
}

/// The message `me` sends, checked against `reg` (which holds `me` and a
/// direct recipient), and what delivering it does; `exists` says whether a
/// message id is in the log (for `--reply-to`).
#[allow(clippy::too_many_arguments)]
fn compose(
    ctx: &Ctx,
    reg: &mut crate::core::model::Registry,
    me: &str,
    req: &SendRequest,
    level: Level,
    id: String,
    now: crate::core::clock::Time,
    exists: &dyn Fn(&str) -> Result<bool>,
) -> Result<(Message, Effects)> {
    let cfg = &ctx.hub.config;
    let recipients = messages::recipients(reg, me, &req.to, now, cfg)?;
    if let Some(s) = reg.sessions.get(&req.to) {
        let st = crate::core::rules::state(s, now, cfg);
        if matches!(
            st,
            crate::core::rules::State::Gone | crate::core::rules::State::Ended
        ) {
            ctx.warn(format!(
                "{} is {} (last seen {}); the message waits in its inbox",
                req.to,
                st.as_str(),
                crate::core::clock::ago(s.last_seen, now)
            ));
        }
    }
    if let Some(r) = &req.reply_to {
        if !exists(r)? {
            return Err(not_found(format!("no message {r} to reply to"))
                .hint("check the id with `coord inbox --all`"));
        }
    }
    touch(reg, me, now);
    let message = Message {
        id,
        ts: now,
        from: me.to_string(),
        to: req.to.clone(),
        recipients,
        level,
        subject: req.subject.clone(),
        body: req.body.clone(),
        reply_to: req.reply_to.clone(),
        extra: Default::default(),
    };
    let mut fx = Effects::default();
    messages::deliver(reg, message.clone(), &mut fx);
    Ok((message, fx))
}

/// A message on the hot path: to one session found in the digest, or to
/// everyone, at a level that opens no escalation (those change the
/// registry); appended to the log, with one pulse line for the journal and
/// the sender's sign of life. `None`: the full path.
fn quick(ctx: &Ctx, req: &SendRequest, level: Level) -> Result<Option<Message>> {
    if level.escalates() || req.to.starts_with('@') {
        return Ok(None);
    }
    let now = ctx.now();
    ctx.hub.quick(now, |q| {
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        let mut reg = q.registry_for(&me, &line.session);
        if req.to != "broadcast" && req.to != me {
            // Unknown here: the full path says so, with the closest name.
            let Some(d) = q.session(&req.to) else {
                return Ok(None);
            };
            reg.sessions.insert(req.to.clone(), d.session);
        }
        let id = q.mint('m', now);
        let hub = q.hub;
        let (message, fx) = compose(ctx, &mut reg, &me, req, level, id, now, &|r| tx_has(hub, r))?;
        q.commit(fx, ctx.actor(&me, &how), now)?;
        Ok(Some(message))
    })
}
