//! Say what this session is doing. A heartbeat that names an action starts a
//! new activity (fields not given are cleared); one without an action
//! updates only the fields given, or just says "still here".

use serde::Serialize;

use super::views::SessionView;
use super::Ctx;
use crate::core::error::{hub, Result};
use crate::core::rules::{validate, Effects};
use crate::store::Tx;

#[derive(Debug, Clone, Default)]
pub struct HeartbeatRequest {
    pub action: Option<String>,
    pub target: Option<String>,
    pub phase: Option<String>,
    /// As typed: `40` or `40%`.
    pub progress: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HeartbeatReport {
    pub session: SessionView,
}

pub fn heartbeat(ctx: &Ctx, req: &HeartbeatRequest) -> Result<HeartbeatReport> {
    let progress = validated(req)?;
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
    let before = (
        s.action.clone(),
        s.target.clone(),
        s.phase.clone(),
        s.progress,
        s.note.clone(),
    );
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
    let changed = before
        != (
            s.action.clone(),
            s.target.clone(),
            s.phase.clone(),
            s.progress,
            s.note.clone(),
        );
    if changed {
        // Written anyway: with the time it was said.
        s.last_seen = now;
    }
    ctx.touch(&mut tx.reg, me, now);
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
        fx.event("session.heartbeat", me, None, format!("{me}: {}", view.doing()));
        tx.apply(fx);
    }
    Ok(view)
}
