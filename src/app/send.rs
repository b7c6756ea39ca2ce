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
    let message = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let recipients = messages::recipients(&tx.reg, &me, &req.to, tx.now, cfg)?;
        if let Some(s) = tx.reg.sessions.get(&req.to) {
            let st = crate::core::rules::state(s, tx.now, cfg);
            if matches!(
                st,
                crate::core::rules::State::Gone | crate::core::rules::State::Ended
            ) {
                ctx.warn(format!(
                    "{} is {} (last seen {}); the message waits in its inbox",
                    req.to,
                    st.as_str(),
                    crate::core::clock::ago(s.last_seen, tx.now)
                ));
            }
        }
        if let Some(r) = &req.reply_to {
            if tx.find_message(r)?.is_none() {
                return Err(not_found(format!("no message {r} to reply to"))
                    .hint("check the id with `coord inbox --all`"));
            }
        }
        touch(&mut tx.reg, &me, tx.now);
        let message = Message {
            id: tx.mint('m'),
            ts: tx.now,
            from: me,
            to: req.to.clone(),
            recipients,
            level,
            subject: req.subject.clone(),
            body: req.body.clone(),
            reply_to: req.reply_to.clone(),
            extra: Default::default(),
        };
        let mut fx = Effects::default();
        messages::deliver(&mut tx.reg, message.clone(), &mut fx);
        tx.apply(fx);
        Ok(message)
    })?;
    Ok(SendReport { message })
}
