//! `coord start`: register this session and bind it to the calling agent or
//! shell, so later commands find it without flags.

use serde::Serialize;

use super::views::SessionView;
use crate::clock::ago;
use crate::ctx::Ctx;
use crate::error::conflict;
use crate::identity::{self, binding_for_caller};
use crate::model::{Cursor, Message, Session};
use crate::ops::{mutate, touch};
use crate::render::{print_json, write_stdout};
use crate::rules::{state, validate};
use crate::store::{Tx, MESSAGES};

/// Register this session and print its id
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Session id to take (default: a generated one such as quiet-otter)
    #[arg(long)]
    pub name: Option<String>,
    /// What this session does, e.g. backend, reviewer (others can message @ROLE)
    #[arg(long)]
    pub role: Option<String>,
    /// What it is working on, in a few words
    #[arg(long)]
    pub focus: Option<String>,
    /// Take over NAME even though it is live (it is you, in a new process)
    #[arg(long)]
    pub resume: bool,
    /// Print `export COORD_SESSION=ID` for shells that keep variables
    #[arg(long)]
    pub export: bool,
}

#[derive(Serialize)]
struct Report {
    session: SessionView,
    resumed: bool,
    export: String,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    if let Some(name) = &args.name {
        validate::new_session_name(name)?;
    }
    if let Some(role) = &args.role {
        validate::text("role", role, validate::MAX_TEXT)?;
    }
    if let Some(focus) = &args.focus {
        validate::text("focus", focus, validate::MAX_TEXT)?;
    }
    let cfg = &ctx.hub().config;
    let (id, resumed, view) = mutate(ctx, |tx| {
        let id = match &args.name {
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
            Some((st, seen)) if st.is_live() && !args.resume => {
                return Err(conflict(format!(
                    "session {id} is already live (last seen {})",
                    ago(seen, now)
                ))
                .hint(format!(
                    "pick another --name, or run `coord start --name {id} --resume` if that session is you"
                ))
                .into());
            }
            Some((st, _)) => args.resume || st.is_live(),
            None => false,
        };
        if resumed {
            let s = tx
                .reg
                .sessions
                .get_mut(&id)
                .ok_or_else(|| anyhow::anyhow!("session vanished"))?;
            s.ended = None;
            if args.role.is_some() {
                s.role = args.role.clone();
            }
            if args.focus.is_some() {
                s.focus = args.focus.clone();
            }
            touch(tx, &id);
            tx.event("session.resumed", Some(&id), None, format!("{id} resumed"));
        } else {
            let mut s = Session::new(now);
            s.role = args.role.clone();
            s.focus = args.focus.clone();
            s.cursor = end_of_log(tx)?;
            tx.reg.sessions.insert(id.clone(), s);
            let role = args
                .role
                .as_deref()
                .map(|r| format!(" as {r}"))
                .unwrap_or_default();
            tx.event("session.started", Some(&id), None, format!("{id} started{role}"));
        }
        bind(ctx, tx, &id)?;
        let view = SessionView::new(&id, &tx.reg.sessions[&id], now, cfg);
        Ok((id, resumed, view))
    })?;
    let export = format!("export COORD_SESSION={id}");
    if ctx.out.json {
        return print_json(&Report {
            session: view,
            resumed,
            export,
        });
    }
    let verb = if resumed { "resumed" } else { "started" };
    ctx.out.status(&format!(
        "{verb} session {id}; commands from this agent or shell now act as {id} (or pass -s {id}); next: `coord claim task NAME`"
    ));
    let line = if args.export { export } else { id };
    write_stdout(&format!("{line}\n"))
}

/// A new session starts reading messages from now on.
fn end_of_log(tx: &Tx) -> anyhow::Result<Option<Cursor>> {
    let hub = tx.hub;
    let mut cursor = None;
    hub.rev_lines(MESSAGES, |offset, line| {
        let m: Message = hub.parse_line(MESSAGES, offset, line)?;
        cursor = Some(Cursor {
            offset: offset + line.len() as u64 + 1,
            id: Some(m.id),
            len: line.len() as u64 + 1,
            ts: Some(m.ts),
        });
        Ok(std::ops::ControlFlow::Break(()))
    })?;
    Ok(cursor)
}

/// Record how this machine recognises `id` from now on, taking the binding
/// away from any session this same agent or shell started before.
fn bind(ctx: &Ctx, tx: &mut Tx, id: &str) -> anyhow::Result<()> {
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
