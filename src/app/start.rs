//! Register this session and bind it to the calling agent or shell, so later
//! commands find it without flags. Safe to repeat: a caller already bound to
//! a live session gets that session back.

use serde::Serialize;

use super::identity::{self, Caller};
use super::views::SessionView;
use super::Ctx;
use crate::core::clock::ago;
use crate::core::error::{conflict, hub, CoordError, Result};
use crate::core::model::Session;
use crate::core::rules::{claims, live_holder, state, touch, validate, Effects};
use crate::core::text::command_line;
use crate::store::Tx;

#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub name: Option<String>,
    pub role: Option<String>,
    pub focus: Option<String>,
    /// Take over NAME even though it is live.
    pub resume: bool,
    /// End the session this caller is bound to (releasing its claims) and
    /// start NAME instead.
    pub replace: bool,
}

#[derive(Debug, Serialize)]
pub struct StartReport {
    pub session: SessionView,
    /// An existing session was taken back (by `--resume`, or because this
    /// caller was already bound to it).
    pub resumed: bool,
    pub export: String,
    /// Whether later commands from this caller find the session by
    /// themselves (false: pass --session).
    pub bound: bool,
    /// The session this caller was bound to before and that `--replace` ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
}

/// An agent's session-start when its agent is bound to a live session here
/// (after `/clear`, a compaction, a restart): taken back on the hot path,
/// as `start` would (`session.resumed`, the binding refreshed), with one
/// pulse line and no registry write. `None`: `start` decides.
pub fn quick_resume(ctx: &Ctx, role: Option<&str>) -> Result<Option<String>> {
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    let caller = Caller::detect_full(&ctx.hints);
    ctx.hub.quick(now, |q| {
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        let s = &line.session;
        let same = state(s, now, cfg).is_live()
            && s.machine.as_deref() == Some(ctx.machine.as_str())
            && role.is_none_or(|r| s.role.as_deref() == Some(r))
            && matches!(how, crate::app::How::Agent { .. });
        if !same {
            return Ok(None);
        }
        let mut bindings = ctx.hub.bindings()?;
        let before = bindings.clone();
        caller.bind(&mut bindings, &me);
        let mut fx = Effects::default();
        fx.event("session.resumed", &me, None, format!("{me} resumed"));
        q.commit(fx, ctx.actor(&me, &how), now)?;
        if bindings != before {
            ctx.hub.write_bindings(&bindings)?;
        }
        Ok(Some(me))
    })
}

/// A new session on the hot path: a name no session here has (given, or
/// generated), for a caller bound to no live session; one pulse line
/// holding the new record and `session.started`, the binding written. `None`:
/// the full path (a name in use, a resume, a takeover, a switch, a hub near
/// its session limit).
fn quick_new(ctx: &Ctx, req: &StartRequest, caller: &Caller) -> Result<Option<StartReport>> {
    use crate::store::pulse::Quick;
    if req.replace || req.resume {
        return Ok(None);
    }
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.quick(now, |q: &Quick| {
        if q.digest.head.sessions + q.started() + 1 >= cfg.max_sessions {
            return Ok(None);
        }
        let mut bindings = ctx.hub.bindings()?;
        let live = |id: &str| {
            q.session(id)
                .is_some_and(|d| state(&d.session, now, cfg).is_live())
        };
        if caller.bound(&bindings).is_some_and(live) {
            return Ok(None);
        }
        let id = match &req.name {
            Some(n) if q.session(n).is_some() => return Ok(None),
            Some(n) => n.clone(),
            None => q.readable_name(now),
        };
        let mut s = Session::new(now);
        s.machine = Some(ctx.machine.clone());
        s.role = req.role.clone();
        s.focus = req.focus.clone();
        // A new session starts reading messages from now on.
        s.cursor = ctx.hub.end_of_messages()?;
        let role = req
            .role
            .as_deref()
            .map(|r| format!(" as {r}"))
            .unwrap_or_default();
        let mut fx = Effects::default();
        fx.event("session.started", &id, None, format!("{id} started{role}"));
        let how = caller
            .how()
            .map(|h| h.tag())
            .unwrap_or_else(|| "none".to_string());
        let actor = crate::core::model::Actor {
            how,
            machine: ctx.machine.clone(),
            session: id.clone(),
        };
        let view = SessionView::new(&id, &s, now, cfg);
        q.commit_records(fx, actor, now, now, Default::default(), Some(s))?;
        let bound = caller.bind(&mut bindings, &id);
        ctx.hub.write_bindings(&bindings)?;
        Ok(Some(StartReport {
            session: view,
            resumed: false,
            export: format!("export COORD_SESSION={id}"),
            bound,
            replaced: None,
        }))
    })
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
    let caller = Caller::detect_full(&ctx.hints);
    let cfg = &ctx.hub.config;
    if let Some(report) = quick_new(ctx, req, &caller)? {
        return Ok(report);
    }
    let (id, resumed, replaced, bound, view) = ctx.mutate(|tx| {
        let now = tx.now;
        let mine = caller.bound(tx.bindings()?).map(str::to_string).filter(|b| {
            tx.reg
                .sessions
                .get(b)
                .is_some_and(|s| state(s, now, cfg).is_live())
        });
        // A live session that someone else holds: only its holder's end,
        // its binding's death, or a lead's --replace frees it.
        let held_by = match &req.name {
            Some(n) if mine.as_deref() != Some(n.as_str()) => held_elsewhere(tx, &caller, n, &ctx.machine)?,
            _ => None,
        };
        let lead = match &held_by {
            Some(_) => acting_lead(ctx, tx),
            None => None,
        };
        // Held by someone else and not a lead's takeover: refused before
        // anything else is said (no hint this caller cannot use).
        if let (Some(holder), Some(n)) = (&held_by, &req.name) {
            if !(req.replace && lead.is_some()) {
                let seen = tx.reg.sessions.get(n).map(|s| ago(s.last_seen, now)).unwrap_or_default();
                let has_session = caller_has_session(tx, &caller, now, cfg)?;
                return Err(held_error(n, holder, seen, lead.is_some(), has_session));
            }
        }
        let mut fx = Effects::default();
        let mut replaced = None;
        let (id, again) = match (&req.name, mine) {
            // The same agent or shell starting again: the same session.
            (None, Some(b)) => (b, true),
            (Some(n), Some(b)) if *n == b => (b, true),
            (Some(n), Some(b)) => {
                let held: Vec<String> = claims::held_by(&tx.reg, &b)
                    .into_iter()
                    .filter(|k| live_holder(&tx.reg.claims[k], &tx.reg, now, cfg).is_some())
                    .collect();
                if req.replace && held_by.is_none() {
                    claims::end_session(&mut tx.reg, &b, now, &mut fx);
                    replaced = Some(b);
                } else if !held.is_empty() && !req.replace {
                    return Err(conflict(format!(
                        "this agent or shell is already session {b}, which holds {}",
                        held.join(", ")
                    ))
                    .hint(format!(
                        "run `coord stop` first, or `{}` to end {b} and release its claims",
                        command_line(&["start", "--name", n, "--replace"])
                    )));
                }
                (n.clone(), false)
            }
            (Some(n), None) => (n.clone(), false),
            (None, None) => (tx.readable_name(), false),
        };
        let existing = tx
            .reg
            .sessions
            .get(&id)
            .map(|s| (state(s, now, cfg), s.last_seen));
        let resumed = match existing {
            _ if again => true,
            Some(_) if held_by.is_some() => {
                // A lead's takeover (anything else was refused above).
                let holder = held_by.clone().unwrap_or_default();
                let lead = lead.clone().unwrap_or_default();
                tx.bindings_mut()?.sessions.remove(&id);
                fx.event(
                    "session.taken_over",
                    &id,
                    None,
                    format!("{id} taken over from {holder} by the lead {lead}"),
                );
                true
            }
            Some((st, seen)) if st.is_live() && !req.resume => {
                return Err(conflict(format!(
                    "session {id} is already live (last seen {})",
                    ago(seen, now)
                ))
                .hint(format!(
                    "pick another --name, or run `{}` if that session is you",
                    command_line(&["start", "--name", &id, "--resume"])
                )));
            }
            Some((st, _)) => req.resume || st.is_live(),
            None => false,
        };
        if resumed {
            let s = tx
                .reg
                .sessions
                .get_mut(&id)
                .ok_or_else(|| hub(format!("session {id} vanished from the registry")))?;
            s.ended = None;
            s.machine = Some(ctx.machine.clone());
            if req.role.is_some() {
                s.role = req.role.clone();
            }
            if req.focus.is_some() {
                s.focus = req.focus.clone();
            }
            touch(&mut tx.reg, &id, now);
            fx.event("session.resumed", &id, None, format!("{id} resumed"));
        } else {
            if !tx.reg.sessions.contains_key(&id) && tx.reg.sessions.len() >= cfg.max_sessions {
                return Err(hub(format!(
                    "the hub already holds {} sessions, its limit (limits.sessions in coord.toml)",
                    tx.reg.sessions.len()
                ))
                .hint("resume a session of yours with `coord start --name NAME --resume`, or raise limits.sessions"));
            }
            let mut s = Session::new(now);
            s.machine = Some(ctx.machine.clone());
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
        let how = caller
            .how()
            .map(|h| h.tag())
            .unwrap_or_else(|| "none".to_string());
        tx.set_actor(crate::core::model::Actor {
            how,
            machine: ctx.machine.clone(),
            session: id.clone(),
        });
        let bound = bind(tx, &caller, &id, replaced.as_deref())?;
        let view = SessionView::new(&id, &tx.reg.sessions[&id], now, cfg);
        Ok((id, resumed, replaced, bound, view))
    })?;
    Ok(StartReport {
        session: view,
        resumed,
        export: format!("export COORD_SESSION={id}"),
        bound,
        replaced,
    })
}

/// Who holds live session `name`, when it is not this caller: a binding
/// here whose agent or process still runs, or another machine.
fn held_elsewhere(tx: &mut Tx, caller: &Caller, name: &str, machine: &str) -> Result<Option<String>> {
    let now = tx.now;
    let cfg = &tx.hub.config;
    let Some(session) = tx.reg.sessions.get(name) else {
        return Ok(None);
    };
    if !state(session, now, cfg).is_live() {
        return Ok(None);
    }
    let elsewhere = session.machine.clone().filter(|m| m != machine);
    Ok(match tx.bindings()?.sessions.get(name) {
        Some(b) if caller.owns(b) || caller.anchored_as(b) => None,
        Some(b) => identity::holder(b, caller.boot.as_deref()),
        None => elsewhere.map(|m| format!("a session on machine {m}")),
    })
}

/// The acting session, when it has lead rights (`roles.lead`).
fn acting_lead(ctx: &Ctx, tx: &mut Tx) -> Option<String> {
    let bindings = tx.bindings().ok()?.clone();
    let (me, _) = identity::resolve(&tx.reg, &bindings, &ctx.hints, tx.now, &ctx.hub.config).ok()?;
    ctx.hub.config.is_lead(&me).then_some(me)
}

/// Whether this caller is already bound to a live session (it can message).
fn caller_has_session(
    tx: &mut Tx,
    caller: &Caller,
    now: crate::core::clock::Time,
    cfg: &crate::core::config::Config,
) -> Result<bool> {
    let bound = caller.bound(tx.bindings()?).map(str::to_string);
    Ok(bound.is_some_and(|b| {
        tx.reg
            .sessions
            .get(&b)
            .is_some_and(|s| state(s, now, cfg).is_live())
    }))
}

/// The refusal of a live session held by someone else, with the next step
/// this caller may take.
fn held_error(id: &str, holder: &str, seen: String, lead: bool, has_session: bool) -> CoordError {
    let ask = command_line(&["send", id, &format!("may I take over {id}?")]);
    let hint = if lead {
        format!(
            "take it over with `{}` (journaled), or ask its holder with `{ask}`",
            command_line(&["start", "--name", id, "--replace"])
        )
    } else if has_session {
        format!("ask its holder with `{ask}`, or pick another --name")
    } else {
        format!("pick another --name; to ask its holder, start a session of your own and run `{ask}`")
    };
    conflict(format!(
        "session {id} is live (last seen {seen}) and held by {holder}; a live session belongs to whoever holds it"
    ))
    .hint(hint)
}

/// Record how this machine recognises `id` from now on; a replaced session
/// loses every binding it had.
fn bind(tx: &mut Tx, caller: &Caller, id: &str, replaced: Option<&str>) -> Result<bool> {
    let bindings = tx.bindings_mut()?;
    if let Some(old) = replaced {
        bindings.sessions.remove(old);
    }
    Ok(caller.bind(bindings, id))
}
