//! `coord ack`: acknowledge a message. Acknowledging a critical message
//! closes it; an emergency stays open (and on everyone else's screen) until
//! someone runs `ack ID --resolve`.

use serde::Serialize;

use super::send::check_message_id;
use crate::ctx::Ctx;
use crate::error::not_found;
use crate::model::Level;
use crate::ops::{find_message, mutate, touch};
use crate::render::{print_json, write_stdout};

/// Acknowledge a message; --resolve closes an escalation for everyone
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The message id (from `coord inbox` or the emergency banner)
    pub id: String,
    /// Close the escalation or emergency for everyone
    #[arg(long)]
    pub resolve: bool,
}

#[derive(Serialize)]
struct Report {
    id: String,
    session: String,
    acknowledged: bool,
    /// The escalation is closed (resolved, or a critical acknowledged).
    closed: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    check_message_id(&args.id)?;
    let id = args.id.clone();
    let report = mutate(ctx, |tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let mut closed = false;
        if let Some(e) = tx.reg.escalations.get_mut(&id) {
            let mine = e.addressed_to(&me) || e.from == me;
            if !mine && !args.resolve {
                return Err(
                    not_found(format!("escalation {id} is not addressed to you ({me})"))
                        .hint(format!("to close it for everyone run `coord ack {id} --resolve`"))
                        .into(),
                );
            }
            e.acked.insert(me.clone(), now);
            let level = e.level;
            let subject = e.subject.clone();
            if args.resolve || level == Level::Critical {
                tx.reg.escalations.remove(&id);
                closed = true;
                let how = if args.resolve { "resolved" } else { "acknowledged" };
                tx.event(
                    "escalation.closed",
                    Some(&me),
                    Some(&id),
                    format!("{} {id} {how} by {me}: {subject}", level.as_str()),
                );
            } else {
                tx.event(
                    "message.acked",
                    Some(&me),
                    Some(&id),
                    format!("{id} acknowledged by {me}"),
                );
            }
        } else {
            let m = find_message(tx, &id)?.ok_or_else(|| {
                not_found(format!("no message {id} in this hub"))
                    .hint("check the id with `coord inbox --all`")
            })?;
            if !(m.addressed_to(&me) || m.from == me) {
                return Err(not_found(format!("message {id} is not addressed to you ({me})"))
                    .hint("acknowledge only messages in your inbox; see `coord inbox --all`")
                    .into());
            }
            tx.event(
                "message.acked",
                Some(&me),
                Some(&id),
                format!("{id} acknowledged by {me}"),
            );
        }
        touch(tx, &me);
        Ok(Report {
            id: id.clone(),
            session: me,
            acknowledged: true,
            closed,
        })
    })?;
    ctx.clear_banner(&report.id);
    if ctx.out.json {
        return print_json(&report);
    }
    let what = if report.closed {
        "closed for everyone"
    } else {
        "acknowledged"
    };
    write_stdout(&format!("{} {what}\n", report.id))
}
