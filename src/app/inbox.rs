//! This session's unread messages, then marked read. With `wait`, an empty
//! inbox waits for a message to arrive (real time: it waits for other
//! processes, not for the pinned clock).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Ctx;
use crate::core::error::{timeout, usage, Result};
use crate::core::model::{Cursor, Message, Registry};
use crate::store::Hub;

#[derive(Debug, Clone, Default)]
pub struct InboxRequest {
    /// Read messages too (scans the whole log).
    pub all: bool,
    /// Mark nothing read.
    pub peek: bool,
    pub limit: Option<usize>,
    /// A duration as typed.
    pub wait: Option<String>,
    /// A heartbeat made in the same transaction (the agent hooks: one
    /// write for the sign of life, the activity and the read cursor).
    pub activity: Option<super::heartbeat::HeartbeatRequest>,
}

#[derive(Debug, Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub message: Message,
    pub unread: bool,
}

#[derive(Debug, Serialize)]
pub struct InboxReport {
    pub session: String,
    pub messages: Vec<Item>,
    /// Unread messages left after this read (because of `limit` or `peek`).
    pub remaining: usize,
}

/// How many messages `me` has not read.
pub fn unread_count(hub: &Hub, reg: &Registry, me: &str) -> Result<usize> {
    hub.unread_count(reg, me)
}

pub fn inbox(ctx: &Ctx, req: &InboxRequest) -> Result<InboxReport> {
    let deadline = crate::core::clock::deadline(req.wait.as_deref())?;
    if req.limit == Some(0) {
        return Err(usage(
            "--limit 0 shows nothing; give 1 or more, or leave it out for all",
        ));
    }
    let progress = match &req.activity {
        Some(a) => super::heartbeat::validated(a)?,
        None => None,
    };
    let hub = &ctx.hub;
    // A plain read (the hooks' on every prompt and tool call): the hot path.
    if !req.peek && !req.all && deadline.is_none() {
        if let Some(report) = quick(ctx, req, progress)? {
            return Ok(report);
        }
    }
    loop {
        let seen = hub.messages_version();
        let report = if req.peek {
            hub.read(|reg| {
                let me = ctx.me_read(reg, ctx.now())?;
                Ok(read_with_cursor(hub, reg, &me, req)?.0)
            })?
        } else {
            ctx.mutate(|tx| {
                let me = ctx.me_tx(tx)?;
                let (report, cursor) = read_with_cursor(hub, &tx.reg, &me, req)?;
                ctx.touch(&mut tx.reg, &me, tx.now);
                if let Some(activity) = &req.activity {
                    super::heartbeat::apply(ctx, tx, &me, activity, progress)?;
                }
                if let Some(s) = tx.reg.sessions.get_mut(&me) {
                    if let Some(c) = cursor {
                        s.cursor = Some(c);
                    }
                    // Messages shown are read, wherever the merge put them.
                    s.pending
                        .retain(|id| !report.messages.iter().any(|m| m.unread && &m.message.id == id));
                }
                // When each message was first read: `coord kpi` measures
                // the time to read from these.
                let mut fx = crate::core::rules::Effects::default();
                for m in report.messages.iter().filter(|m| m.unread) {
                    fx.event(
                        "message.read",
                        &me,
                        Some(&m.message.id),
                        format!("{me} read {}", m.message.id),
                    );
                }
                tx.apply(fx);
                Ok(report)
            })?
        };
        let got_some = report.messages.iter().any(|m| m.unread);
        match deadline {
            Some(d) if !got_some => {
                if Instant::now() >= d {
                    return Err(timeout(format!(
                        "no message arrived for {} within {}",
                        report.session,
                        req.wait.as_deref().unwrap_or("")
                    ))
                    .hint("run `coord inbox --wait 5m` again to keep waiting"));
                }
                while hub.messages_version() == seen && Instant::now() < d {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            _ => return Ok(report),
        }
    }
}

/// A read on the hot path: the session's cursor and pending list from the
/// digest and the pulse, the unread lines from the log past the cursor, and
/// one pulse line for the new cursor, what was read, the activity and the
/// sign of life (nothing at all when nothing changed). `None`: the full path.
fn quick(ctx: &Ctx, req: &InboxRequest, progress: Option<u8>) -> Result<Option<InboxReport>> {
    use crate::store::pulse::{Activity, Pulse};
    let now = ctx.now();
    ctx.hub.quick(now, |q| {
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        let mut s = line.session;
        let reg = q.registry_for(&me, &s);
        let (report, cursor) = read_with_cursor(&ctx.hub, &reg, &me, req)?;
        let changed = match &req.activity {
            Some(a) => super::heartbeat::set_activity(&mut s, a, progress),
            None => false,
        };
        // The conflict radar: an edit recorded (at most once a minute per
        // file); when the session starts on a file someone else may have
        // edited, the full path decides and tells them.
        let edit = req
            .activity
            .as_ref()
            .and_then(|a| a.edited.clone())
            .filter(|p| crate::core::rules::radar::worth_recording(&s, p, now));
        if let Some(path) = &edit {
            if crate::core::rules::radar::starts(&s, path, now, &ctx.hub.config)
                && q.editor_ids(path).iter().any(|id| *id != me)
            {
                return Ok(None);
            }
            crate::core::rules::radar::record(&mut s, path, now);
        }
        let recent = ctx
            .beat_every
            .is_some_and(|every| s.last_seen <= now && now - s.last_seen < every);
        let shown: Vec<&Message> = report
            .messages
            .iter()
            .filter(|m| m.unread)
            .map(|m| &m.message)
            .collect();
        let read: Vec<String> = s
            .pending
            .iter()
            .filter(|id| shown.iter().any(|m| &m.id == *id))
            .cloned()
            .collect();
        let cursor = cursor.filter(|c| s.cursor.as_ref() != Some(c));
        if !changed && recent && cursor.is_none() && shown.is_empty() && edit.is_none() {
            return Ok(Some(report));
        }
        let mut events = Vec::new();
        if changed || !recent || edit.is_some() {
            s.last_seen = now;
        }
        if changed {
            let view = super::views::SessionView::new(&me, &s, now, &ctx.hub.config);
            let text = super::heartbeat::heartbeat_text(&me, &view);
            events.push(super::heartbeat::quick_event(
                ctx,
                q,
                &me,
                &how,
                "session.heartbeat",
                None,
                text,
                now,
            ));
        }
        for m in &shown {
            let text = format!("{me} read {}", m.id);
            events.push(super::heartbeat::quick_event(
                ctx,
                q,
                &me,
                &how,
                "message.read",
                Some(&m.id),
                text,
                now,
            ));
        }
        q.append(&Pulse {
            activity: changed.then(|| Activity::of(&s)),
            cursor,
            edit,
            events,
            read,
            ..Pulse::new(q.base.clone(), me.clone(), s.last_seen)
        })?;
        Ok(Some(report))
    })
}

fn read_with_cursor(
    hub: &Hub,
    reg: &Registry,
    me: &str,
    req: &InboxRequest,
) -> Result<(InboxReport, Option<Cursor>)> {
    let pending = hub.unread(reg, me)?;
    let total = pending.items.len();
    let take = req.limit.unwrap_or(usize::MAX).min(total);
    // All unread shown: read up to the end; else up to the last one shown.
    let cursor = if take == total {
        pending.end.clone()
    } else {
        Some(pending.items[take - 1].1.clone())
    };
    let remaining = if req.peek { total } else { total - take };
    let messages: Vec<Item> = if req.all {
        let unread_ids: std::collections::HashSet<String> =
            pending.items.iter().map(|(m, _)| m.id.clone()).collect();
        let all = hub.messages_involving(me)?;
        let skip = all.len().saturating_sub(req.limit.unwrap_or(usize::MAX));
        all.into_iter()
            .skip(skip)
            .map(|message| Item {
                unread: unread_ids.contains(&message.id),
                message,
            })
            .collect()
    } else {
        pending
            .items
            .into_iter()
            .take(take)
            .map(|(message, _)| Item {
                message,
                unread: true,
            })
            .collect()
    };
    let report = InboxReport {
        session: me.to_string(),
        messages,
        remaining,
    };
    Ok((report, cursor))
}
