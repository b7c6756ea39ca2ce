//! Register this session and bind it to the calling agent or shell, so later
//! commands find it without flags.

use serde::Serialize;

use super::identity::{self, binding_for_caller};
use super::views::SessionView;
use super::Ctx;
use crate::core::clock::ago;
use crate::core::error::{conflict, hub, Result};
use crate::core::model::Session;
use crate::core::rules::{state, touch, validate, Effects};
use crate::store::Tx;

#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub name: Option<String>,
    pub role: Option<String>,
    pub focus: Option<String>,
    pub resume: bool,
}

#[derive(Debug, Serialize)]
pub struct StartReport {
    pub session: SessionView,
    pub resumed: bool,
    pub export: String,
}

pub fn start(ctx: &Ctx, req: &StartRequest) -> Result<StartReport> {
    if let Some(name) = &req.name {
        validate::new_session_name(name)?;
    }
    if let Some(role) = &req.role {
        validate::text("role", role, validate::MAX_TEXT)?;
    }
    if let Some(focus) = &req.focus {
        validate::text("focus", focus, validate::MAX_TEXT)?;
    }
    let cfg = &ctx.hub.config;
    let (id, resumed, view) = ctx.mutate(|tx| {
        let id = match &req.name {
            Some(n) => n.clone(),
            None => tx.readable_name(),
        };
        let now = tx.now;
        let existing = tx
            .reg
            .sessions
            .get(&id)
            .map(|s| (state(s, now, cfg), s.last_seen));
        let resumed = match existing {
            Some((st, seen)) if st.is_live() && !req.resume => {
                return Err(conflict(format!(
                    "session {id} is already live (last seen {})",
                    ago(seen, now)
                ))
                .hint(format!(
                    "pick another --name, or run `coord start --name {id} --resume` if that session is you"
                )));
            }
            Some((st, _)) => req.resume || st.is_live(),
            None => false,
        };
        let mut fx = Effects::default();
        if resumed {
            let s = tx
                .reg
                .sessions
                .get_mut(&id)
                .ok_or_else(|| hub(format!("session {id} vanished from the registry")))?;
            s.ended = None;
            if req.role.is_some() {
                s.role = req.role.clone();
            }
            if req.focus.is_some() {
                s.focus = req.focus.clone();
            }
            touch(&mut tx.reg, &id, now);
            fx.event("session.resumed", &id, None, format!("{id} resumed"));
        } else {
            let mut s = Session::new(now);
            s.role = req.role.clone();
            s.focus = req.focus.clone();
            // A new session starts reading messages from now on.
            s.cursor = tx.hub.end_of_messages()?;
            tx.reg.sessions.insert(id.clone(), s);
            let role = req
                .role
                .as_deref()
                .map(|r| format!(" as {r}"))
                .unwrap_or_default();
            fx.event("session.started", &id, None, format!("{id} started{role}"));
        }
        tx.apply(fx);
        bind(ctx, tx, &id)?;
        let view = SessionView::new(&id, &tx.reg.sessions[&id], now, cfg);
        Ok((id, resumed, view))
    })?;
    Ok(StartReport {
        session: view,
        resumed,
        export: format!("export COORD_SESSION={id}"),
    })
}

/// Record how this machine recognises `id` from now on, taking the binding
/// away from any session this same agent or shell started before.
fn bind(ctx: &Ctx, tx: &mut Tx, id: &str) -> Result<()> {
    let binding = binding_for_caller(&ctx.hints);
    let bindings = tx.bindings_mut()?;
    for other in identity::superseded(bindings, &binding.procs, binding.boot.as_deref()) {
        if let Some(b) = bindings.sessions.get_mut(&other) {
            b.procs.clear();
        }
    }
    if let Some(agent) = &binding.agent {
        for b in bindings.sessions.values_mut() {
            if b.agent.as_ref() == Some(agent) {
                b.agent = None;
            }
        }
    }
    bindings
        .sessions
        .retain(|_, b| b.agent.is_some() || !b.procs.is_empty());
    bindings.sessions.insert(id.to_string(), binding);
    Ok(())
}
