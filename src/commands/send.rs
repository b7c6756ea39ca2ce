//! `coord send`: a message to a session, to every live session with a role,
//! or to everyone. One whole line appended to MESSAGES.jsonl under the lock.

use std::io::Read;

use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::{not_found, usage};
use crate::model::{Level, Message};
use crate::ops::{deliver, find_message, mutate, recipients, touch};
use crate::render::{print_json, write_stdout};
use crate::rules::validate;

/// Message a session, @role or broadcast
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A session id, @ROLE (every live session with that role) or broadcast
    pub to: String,
    /// One line, up to 200 characters
    #[arg(allow_hyphen_values = true)]
    pub subject: String,
    /// The body; `-` reads it from stdin
    #[arg(allow_hyphen_values = true)]
    pub body: Option<String>,
    /// info, warning, error, critical (tracked until acknowledged) or emergency (shown on every command until resolved)
    #[arg(long, default_value = "info")]
    pub level: String,
    /// The id of the message this answers
    #[arg(long, value_name = "ID")]
    pub reply_to: Option<String>,
}

#[derive(Serialize)]
struct Report {
    message: Message,
}

/// Message ids as coord mints them: `m-` and base32.
pub fn check_message_id(id: &str) -> Result<(), crate::error::CoordError> {
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
            crate::render::clip(id, 80)
        )))
    }
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let cfg = &ctx.hub().config;
    validate::text("subject", &args.subject, validate::MAX_TEXT)?;
    let level = Level::parse(&args.level).ok_or_else(|| {
        usage(format!(
            "level {:?} is not one of info, warning, error, critical, emergency",
            crate::render::clip(&args.level, 40)
        ))
    })?;
    let body = match args.body.as_deref() {
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(cfg.max_body as u64 + 1)
                .read_to_end(&mut buf)?;
            String::from_utf8(buf).map_err(|_| usage("the body on stdin is not UTF-8 text; send text"))?
        }
        Some(b) => b.to_string(),
        None => String::new(),
    };
    validate::body(&body, cfg.max_body)?;
    if let Some(r) = &args.reply_to {
        check_message_id(r)?;
    }
    if !(args.to == "broadcast" || args.to.starts_with('@')) {
        validate::session_id(&args.to)?;
    } else if let Some(role) = args.to.strip_prefix('@') {
        validate::text("role", role, validate::MAX_TEXT)?;
    }
    let message = mutate(ctx, |tx| {
        let me = ctx.me_tx(tx)?;
        let recipients = recipients(ctx, tx, &me, &args.to)?;
        if let Some(r) = &args.reply_to {
            if find_message(tx, r)?.is_none() {
                return Err(not_found(format!("no message {r} to reply to"))
                    .hint("check the id with `coord inbox --all`")
                    .into());
            }
        }
        touch(tx, &me);
        let message = Message {
            id: tx.mint('m'),
            ts: tx.now,
            from: me,
            to: args.to.clone(),
            recipients,
            level,
            subject: args.subject.clone(),
            body: body.clone(),
            reply_to: args.reply_to.clone(),
            extra: Default::default(),
        };
        deliver(tx, message.clone());
        Ok(message)
    })?;
    if ctx.out.json {
        return print_json(&Report { message });
    }
    let who = match &message.recipients {
        None => "everyone".to_string(),
        Some(list) => list.join(", "),
    };
    ctx.out
        .status(&format!("sent {} to {who}", message.level.as_str()));
    write_stdout(&format!("{}\n", message.id))
}
