//! The application core: one function per use case, each over a per-call
//! [`Ctx`] (the open hub, the clock, what is known about identity), taking a
//! plain request and returning a typed, serialisable report or a
//! [`CoordError`]. Nothing here prints or reads the environment: the CLI,
//! hooks, the MCP server and the dashboard are adapters that build a `Ctx`,
//! call, and render.
//!
//! Things a session must see whatever it ran (unacknowledged emergencies,
//! warnings about torn log lines) are gathered as [`Notices`], data that
//! every door takes with [`Ctx::take_notices`] after a call, failed or not.

pub mod ack;
pub mod brief;
pub mod claim;
pub mod claims;
pub mod codex_trust;
pub mod dashboard;
pub mod doctor;
pub mod heartbeat;
pub mod hook;
pub mod identity;
pub mod inbox;
pub mod init;
pub mod install;
pub mod install_agent;
pub mod kpi;
pub mod log;
pub mod plan;
pub mod prime;
pub mod prune;
pub mod release;
pub mod renew;
pub mod send;
pub mod start;
pub mod status;
pub mod stop;
pub mod sync;
pub mod views;
pub mod whoami;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::path::PathBuf;

use serde::Serialize;

use crate::core::clock::{Clock, Time};
use crate::core::error::Result;
use crate::core::ids::IdSource;
use crate::core::model::{Actor, Bindings, Registry};
use crate::core::rules::{claims as claim_rules, messages, Effects};
use crate::core::text::{command_line, sanitize};
use crate::store::{self, Hub, Tx};

pub use identity::{Hints, How};

/// Where to look for the hub: `--hub`, `COORD_HUB`, and the folder to walk
/// up from, as the door found them.
#[derive(Debug, Clone, Default)]
pub struct Location {
    pub flag: Option<PathBuf>,
    pub env: Option<String>,
    pub cwd: PathBuf,
}

impl Location {
    pub fn find(&self) -> Result<PathBuf> {
        store::locate(self.flag.as_deref(), self.env.as_deref(), &self.cwd, false)
    }
}

/// How to open a context.
#[derive(Debug, Clone)]
pub struct Options {
    pub clock: Clock,
    pub hints: Hints,
    pub ids: IdSource,
    /// Open even with broken settings (for `doctor`).
    pub lenient: bool,
    /// This machine's name, for sessions and the journal.
    pub machine: String,
}

/// An emergency the acting session has not acknowledged.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Emergency {
    pub id: String,
    pub from: String,
    pub subject: String,
    /// Whether the acting session may resolve it (its sender, a lead, the
    /// one addressee of a direct one); the others acknowledge it.
    pub resolvable: bool,
}

impl Emergency {
    /// The one sentence every door shows: what, from whom, and the
    /// commands this session may run to settle it (hub fields sanitised,
    /// the commands quoted).
    pub fn describe(&self) -> String {
        let resolve = if self.resolvable {
            format!(
                " (or `{}` once it is dealt with)",
                command_line(&["ack", &self.id, "--resolve"])
            )
        } else {
            format!("; {} or a lead resolves it", sanitize(&self.from, false))
        };
        format!(
            "EMERGENCY {} from {}: {}; acknowledge with `{}`{resolve}",
            sanitize(&self.id, false),
            sanitize(&self.from, false),
            sanitize(&self.subject, false),
            command_line(&["ack", &self.id]),
        )
    }
}

/// A deadlined claim of the acting session that ends soon.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ending {
    pub key: String,
    pub seconds_left: i64,
}

/// What a session must see after any call, whatever its outcome.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Notices {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emergencies: Vec<Emergency>,
    /// Its claims with a deadline within 10 minutes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ending: Vec<Ending>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The context one call runs in.
pub struct Ctx {
    pub hub: Hub,
    pub clock: Clock,
    pub hints: Hints,
    pub machine: String,
    /// Write a plain sign of life at most this often (the agent hooks, which
    /// fire on every tool call): one within it changes nothing, so the
    /// registry is not rewritten. `None`: every one is written.
    pub beat_every: Option<chrono::Duration>,
    emergencies: RefCell<Vec<Emergency>>,
    ending: RefCell<Vec<Ending>>,
    how: RefCell<Option<How>>,
    /// The acting session, once resolved.
    me: RefCell<Option<String>>,
    warnings: RefCell<Vec<String>>,
}

impl Ctx {
    /// Find and open the hub.
    pub fn open(location: &Location, opts: Options) -> Result<Ctx> {
        let dir = location.find()?;
        let hub = if opts.lenient {
            Hub::open_lenient(&dir, opts.ids)?
        } else {
            Hub::open(&dir, opts.ids)?
        };
        let mut ctx = Ctx::new(hub, opts.clock, opts.hints);
        ctx.machine = opts.machine;
        Ok(ctx)
    }

    pub fn new(mut hub: Hub, clock: Clock, hints: Hints) -> Ctx {
        hub.pinned_clock = matches!(clock, Clock::Fixed(_));
        Ctx {
            hub,
            clock,
            hints,
            machine: "local".to_string(),
            beat_every: None,
            emergencies: RefCell::new(Vec::new()),
            ending: RefCell::new(Vec::new()),
            how: RefCell::new(None),
            me: RefCell::new(None),
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// The present, read afresh (unless the clock is pinned).
    pub fn now(&self) -> Time {
        self.clock.now()
    }

    /// Emergencies and warnings gathered by the last call.
    pub fn take_notices(&self) -> Notices {
        Notices {
            emergencies: std::mem::take(&mut self.emergencies.borrow_mut()),
            ending: std::mem::take(&mut self.ending.borrow_mut()),
            warnings: std::mem::take(&mut *self.warnings.borrow_mut())
                .into_iter()
                .chain(self.hub.take_warnings())
                .collect(),
        }
    }

    /// Every mutation: lock, read, sweep lapsed claims, run `f`, write. The
    /// transaction's time is read when the lock is held.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        self.hub.transact(self.now(), |tx| {
            let mut fx = Effects::default();
            let cfg = &self.hub.config;
            claim_rules::sweep(&mut tx.reg, tx.now, cfg, &mut fx);
            if cfg.prune_auto {
                claim_rules::prune(&mut tx.reg, tx.now - cfg.prune_older_than, tx.now, cfg, &mut fx);
            }
            tx.apply(fx);
            let out = f(tx)?;
            // What ends soon, after this change (a renewal or release
            // settles it).
            if let Some(me) = self.me.borrow().as_deref() {
                self.note_ending(&tx.reg, me, tx.now);
            }
            Ok(out)
        })
    }

    /// The acting session inside a transaction.
    pub fn me_tx(&self, tx: &mut Tx) -> Result<String> {
        let bindings = tx.bindings()?.clone();
        let me = self.me_in(&tx.reg, &bindings, tx.now)?;
        if let Some(how) = self.how() {
            tx.set_actor(self.actor(&me, &how));
        }
        Ok(me)
    }

    /// The journal's record of who acts, and how that was known.
    pub fn actor(&self, session: &str, how: &How) -> Actor {
        Actor {
            how: how.tag(),
            machine: self.machine.clone(),
            session: session.to_string(),
        }
    }

    /// The acting session when there is one, for calls that work for
    /// anyone (status, the guard); a session named outright must exist.
    pub fn me_if_any(&self, reg: &Registry, now: Time) -> Result<Option<String>> {
        match self.me_read(reg, now) {
            Ok(me) => Ok(Some(me)),
            Err(e) if self.hints.named() => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Emergencies addressed to the session found by the last resolution
    /// and not acknowledged by it.
    pub fn open_emergencies(&self) -> Vec<Emergency> {
        self.emergencies.borrow().clone()
    }

    /// A sign of life from `me`, unless it gave one less than `beat_every`
    /// ago.
    pub fn touch(&self, reg: &mut Registry, me: &str, now: Time) {
        let recent = |s: &crate::core::model::Session| {
            self.beat_every
                .is_some_and(|every| s.last_seen <= now && now - s.last_seen < every)
        };
        if !reg.sessions.get(me).is_some_and(recent) {
            crate::core::rules::touch(reg, me, now);
        }
    }

    /// The acting session for a read-only call (under the shared lock).
    pub fn me_read(&self, reg: &Registry, now: Time) -> Result<String> {
        let bindings = self.hub.bindings()?;
        self.me_in(reg, &bindings, now)
    }

    fn me_in(&self, reg: &Registry, bindings: &Bindings, now: Time) -> Result<String> {
        let (me, how) = identity::resolve(reg, bindings, &self.hints, now, &self.hub.config)?;
        *self.how.borrow_mut() = Some(how);
        self.note_emergencies(reg, &me);
        self.note_ending(reg, &me, now);
        *self.me.borrow_mut() = Some(me.clone());
        Ok(me)
    }

    /// The acting session on the hot path (the digest and the pulse, no
    /// registry), with the notices every call gathers. `None` whenever the
    /// full path should answer instead (a session not found, ended, or
    /// anything else that is an error there: it says it properly).
    pub fn quick_me(
        &self,
        q: &store::pulse::Quick,
        now: Time,
    ) -> Option<(String, How, store::pulse::DigestSession)> {
        struct QuickRoster<'a, 'h> {
            q: &'a store::pulse::Quick<'h>,
            now: Time,
            cfg: &'a crate::core::config::Config,
        }
        impl identity::Roster for QuickRoster<'_, '_> {
            fn state_of(&self, id: &str) -> Option<crate::core::rules::State> {
                self.q
                    .session(id)
                    .map(|d| crate::core::rules::state(&d.session, self.now, self.cfg))
            }
            fn names(&self) -> Vec<String> {
                Vec::new()
            }
        }
        let bindings = self.hub.bindings().ok()?;
        let roster = QuickRoster {
            q,
            now,
            cfg: &self.hub.config,
        };
        let (me, how) = identity::resolve_in(&roster, &bindings, &self.hints).ok()?;
        let line = q.session(&me)?;
        *self.how.borrow_mut() = Some(how.clone());
        self.note_emergencies(&q.registry_for(&me, &line.session), &me);
        let soon = chrono::Duration::minutes(10);
        *self.ending.borrow_mut() = line
            .deadlines
            .iter()
            .filter(|(_, at)| *at > now && *at - now <= soon)
            .map(|(key, at)| Ending {
                key: key.clone(),
                seconds_left: (*at - now).num_seconds(),
            })
            .collect();
        *self.me.borrow_mut() = Some(me.clone());
        Some((me, how, line))
    }

    /// The emergencies addressed to `me` it has not acknowledged, each
    /// saying whether `me` may resolve it.
    fn note_emergencies(&self, reg: &Registry, me: &str) {
        *self.emergencies.borrow_mut() = messages::open_emergencies(reg, me)
            .into_iter()
            .map(|(id, e)| Emergency {
                id: id.clone(),
                from: e.from.clone(),
                subject: e.subject.clone(),
                resolvable: e.resolvable_by(me, self.hub.config.is_lead(me)),
            })
            .collect();
    }

    fn note_ending(&self, reg: &Registry, me: &str, now: Time) {
        *self.ending.borrow_mut() = claim_rules::ending_soon(reg, me, now, chrono::Duration::minutes(10))
            .into_iter()
            .map(|(key, at)| Ending {
                key,
                seconds_left: (at - now).num_seconds(),
            })
            .collect();
    }

    /// A warning for the caller (shown after the call, whatever happens).
    pub fn warn(&self, text: String) {
        self.warnings.borrow_mut().push(text);
    }

    /// How the acting session was found by the last resolution.
    pub fn how(&self) -> Option<How> {
        self.how.borrow().clone()
    }

    /// Forget an emergency notice (the call just acknowledged it).
    fn forget_emergency(&self, id: &str) {
        self.emergencies.borrow_mut().retain(|e| e.id != id);
    }
}
