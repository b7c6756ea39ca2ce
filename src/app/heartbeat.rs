//! Say what this session is doing. A heartbeat that names an action starts a
//! new activity (fields not given are cleared); one without an action
//! updates only the fields given, or just says "still here".

use serde::Serialize;

use super::views::SessionView;
use super::Ctx;
use crate::core::error::{hub, Result};
use crate::core::model::{Event, Level, Session};
use crate::core::rules::{radar, validate, Effects};
use crate::store::pulse::{Activity, Pulse, Quick};
use crate::store::Tx;

#[derive(Debug, Clone, Default)]
pub struct HeartbeatRequest {
    pub action: Option<String>,
    pub target: Option<String>,
    pub phase: Option<String>,
    /// As typed: `40` or `40%`.
    pub progress: Option<String>,
    pub note: Option<String>,
    /// A file the session just edited (the hooks': the conflict radar's
    /// record, relative to the work tree's top).
    pub edited: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HeartbeatReport {
    pub session: SessionView,
}

pub fn heartbeat(ctx: &Ctx, req: &HeartbeatRequest) -> Result<HeartbeatReport> {
    let progress = validated(req)?;
    if let Some(report) = quick(ctx, req, progress)? {
        return Ok(report);
    }
    let session = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        apply(ctx, tx, &me, req, progress)
    })?;
    Ok(HeartbeatReport { session })
}

/// Check a heartbeat's fields; its progress as a number.
pub(crate) fn validated(req: &HeartbeatRequest) -> Result<Option<u8>> {
    for (what, value) in [
        ("action", &req.action),
        ("target", &req.target),
        ("phase", &req.phase),
    ] {
        if let Some(v) = value {
            validate::text(what, v, validate::MAX_TEXT)?;
        }
    }
    if let Some(n) = &req.note {
        validate::text("note", n, validate::MAX_NOTE)?;
    }
    req.progress.as_deref().map(validate::progress).transpose()
}

/// Set what the heartbeat says on `s`; whether what the session says it
/// does changed. An action starts a new activity (fields not given are
/// cleared); without one only the fields given change.
pub(crate) fn set_activity(s: &mut Session, req: &HeartbeatRequest, progress: Option<u8>) -> bool {
    let before = Activity::of(s);
    if req.action.is_some() {
        s.action = req.action.clone();
        s.target = req.target.clone();
        s.phase = req.phase.clone();
        s.progress = progress;
        s.note = req.note.clone();
    } else {
        if req.target.is_some() {
            s.target = req.target.clone();
        }
        if req.phase.is_some() {
            s.phase = req.phase.clone();
        }
        if progress.is_some() {
            s.progress = progress;
        }
        if req.note.is_some() {
            s.note = req.note.clone();
        }
    }
    before != Activity::of(s)
}

/// The conflict radar, when `me` starts editing `path`: if other live
/// sessions edited it within the window and nobody of them holds it, each
/// of them and `me` get one notice, and the journal an `edits.overlap`.
fn overlap_notices(tx: &mut Tx, me: &str, path: &str) {
    let cfg = &tx.hub.config;
    let others = radar::others_on(&tx.reg, me, path, tx.now, cfg);
    if others.is_empty() {
        return;
    }
    let mut fx = Effects::default();
    let subject = format!("overlapping edits of {path}");
    let body = radar::tell(path, &others, tx.now);
    fx.notice(me, Level::Warning, subject.clone(), body);
    for e in &others {
        let mine = [radar::Editor {
            session: me.to_string(),
            path: path.to_string(),
            at: tx.now,
        }];
        fx.notice(
            &e.session,
            Level::Warning,
            subject.clone(),
            radar::tell(path, &mine, tx.now),
        );
    }
    let who: Vec<&str> = others.iter().map(|e| e.session.as_str()).collect();
    fx.event(
        "edits.overlap",
        me,
        Some(path),
        format!("{me} and {} edited {path}, which nobody holds", who.join(", ")),
    );
    tx.apply(fx);
}

/// The journal entry of an activity change.
pub(crate) fn heartbeat_text(me: &str, view: &SessionView) -> String {
    format!("{me}: {}", view.doing())
}

/// The heartbeat on the hot path: one pulse line (or nothing, for a sign
/// of life within `beat_every` of the last that changes nothing), no
/// registry read or written. `None`: take the full path.
fn quick(ctx: &Ctx, req: &HeartbeatRequest, progress: Option<u8>) -> Result<Option<HeartbeatReport>> {
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.quick(now, |q| {
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        let mut s = line.session;
        let changed = set_activity(&mut s, req, progress);
        let recent = ctx
            .beat_every
            .is_some_and(|every| s.last_seen <= now && now - s.last_seen < every);
        let view = if changed || !recent {
            s.last_seen = now;
            let view = SessionView::new(&me, &s, now, cfg);
            let events = if changed {
                vec![quick_event(
                    ctx,
                    q,
                    &me,
                    &how,
                    "session.heartbeat",
                    None,
                    heartbeat_text(&me, &view),
                    now,
                )]
            } else {
                Vec::new()
            };
            q.append(&Pulse {
                activity: changed.then(|| Activity::of(&s)),
                events,
                ..Pulse::new(q.base.clone(), me.clone(), now)
            })?;
            view
        } else {
            SessionView::new(&me, &s, now, cfg)
        };
        Ok(Some(HeartbeatReport { session: view }))
    })
}

/// A journal entry made on the hot path, as a transaction would make it:
/// minted id, the actor, the pinned-clock mark.
#[allow(clippy::too_many_arguments)]
pub(crate) fn quick_event(
    ctx: &Ctx,
    q: &Quick,
    me: &str,
    how: &super::How,
    kind: &'static str,
    target: Option<&str>,
    text: String,
    now: crate::core::clock::Time,
) -> Event {
    let mut fx = Effects::default();
    fx.event(kind, me, target, text);
    q.records(fx, &ctx.actor(me, how), now).events.remove(0)
}

/// The heartbeat inside a transaction (the hooks join it to an inbox read):
/// a sign of life, the new activity, journaled only when it changed.
pub(crate) fn apply(
    ctx: &Ctx,
    tx: &mut Tx,
    me: &str,
    req: &HeartbeatRequest,
    progress: Option<u8>,
) -> Result<SessionView> {
    let cfg = &ctx.hub.config;
    let now = tx.now;
    let s = tx
        .reg
        .sessions
        .get_mut(me)
        .ok_or_else(|| hub(format!("session {me} vanished from the registry")))?;
    let changed = set_activity(s, req, progress);
    if changed {
        // Written anyway: with the time it was said.
        s.last_seen = now;
    }
    let edited = req.edited.as_deref();
    let starts = edited.is_some_and(|p| radar::starts(s, p, now, cfg));
    if let Some(path) = edited.filter(|p| radar::worth_recording(s, p, now)) {
        radar::record(s, path, now);
    }
    ctx.touch(&mut tx.reg, me, now);
    if let (Some(path), true) = (edited, starts) {
        overlap_notices(tx, me, path);
    }
    let s = tx
        .reg
        .sessions
        .get(me)
        .ok_or_else(|| hub(format!("session {me} vanished from the registry")))?;
    let view = SessionView::new(me, s, now, cfg);
    // Only a heartbeat that changes what the session says it does is
    // journaled: "still here" is last_seen in the registry, and at 200
    // sessions every 5 minutes it was most of the journal.
    if changed {
        let mut fx = Effects::default();
        fx.event("session.heartbeat", me, None, heartbeat_text(me, &view));
        tx.apply(fx);
    }
    Ok(view)
}
