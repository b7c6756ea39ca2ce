//! A transaction: lock, read, let the caller change the state, write what
//! changed. The registry is replaced atomically, new log lines are appended
//! in one write each, and the machine-local bindings are written back when
//! they were touched. If the caller fails, nothing is written.

use crate::core::clock::Time;
use crate::core::config::Durability;
use crate::core::error::Result;
use crate::core::ids::fnv1a;
use crate::core::model::{
    sorted_json, sorted_json_pretty, Actor, Bindings, Event, Message, Registry, SYSTEM,
};
use crate::core::rules::{Effect, Effects};

use super::{fsio, Hub, BINDINGS, EVENTS, MESSAGES, REGISTRY, STATE};

/// How the journal marks an entry made under a pinned clock.
pub const PINNED: &str = "pinned";

/// The registry as read under the exclusive lock, plus the log lines and
/// local bindings the caller wants written with it.
pub struct Tx<'h> {
    pub hub: &'h Hub,
    pub now: Time,
    pub reg: Registry,
    messages: Vec<Message>,
    events: Vec<Event>,
    /// Complete entries, written as they are (no actor stamped on them).
    journal: Vec<Event>,
    bindings: Option<Bindings>,
    bindings_dirty: bool,
    briefing: Option<String>,
    actor: Option<Actor>,
    salt: u64,
    minted: u64,
    /// The pulse applied to `reg`: folded by this transaction's commit.
    pulse: super::pulse::Pending,
}

impl Hub {
    /// Lock, read, let `f` change the state, and write what changed; if `f`
    /// fails, nothing is written.
    pub fn transact<T>(&self, now: Time, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        let lock = self.lock(true)?;
        let (reg, original, pulse) = self.load_registry_pending()?;
        let mut tx = Tx {
            hub: self,
            now,
            reg,
            messages: Vec::new(),
            events: Vec::new(),
            journal: Vec::new(),
            bindings: None,
            bindings_dirty: false,
            briefing: None,
            actor: None,
            // Only seeded ids need a salt from the hub; the OS needs none.
            salt: if self.ids.is_seeded() { self.salt() } else { 0 },
            minted: 0,
            pulse,
        };
        let out = f(&mut tx)?;
        tx.commit(&original)?;
        drop(lock);
        Ok(out)
    }

    /// A number that differs for every transaction on this hub: the files'
    /// lengths. Seeds deterministic ids.
    pub(super) fn salt(&self) -> u64 {
        let len = |n| std::fs::metadata(self.path(n)).map(|m| m.len()).unwrap_or(0);
        len(MESSAGES).rotate_left(32) ^ len(EVENTS) ^ len(REGISTRY).rotate_left(16)
    }
}

impl Tx<'_> {
    /// A fresh id, unique across machines (repeatable when seeded).
    pub fn mint(&mut self, prefix: char) -> String {
        self.minted += 1;
        let salt = self.salt ^ fnv1a(&[prefix as u8]) ^ self.minted.wrapping_mul(0x9e37_79b9);
        self.hub.ids.mint(prefix, self.now, salt)
    }

    /// A readable session id not taken in the registry.
    pub fn readable_name(&mut self) -> String {
        self.minted += 1;
        let reg = &self.reg;
        crate::core::ids::readable_name(&self.hub.ids, self.salt ^ self.minted, |n| {
            reg.sessions.contains_key(n)
        })
    }

    /// Queue what a rule decided: journal entries and messages, minting ids
    /// in order. Written when the transaction commits.
    pub fn apply(&mut self, fx: Effects) {
        let now = self.now;
        // Ids are minted in the order the effects come.
        let out = materialize(fx, now, &mut |prefix| self.mint(prefix));
        self.events.extend(out.events);
        self.messages.extend(out.messages);
        self.journal.extend(out.journal);
    }

    /// A message by id: in the log (newest first) or queued in this transaction.
    pub fn find_message(&self, id: &str) -> Result<Option<Message>> {
        if let Some(m) = self.hub.find_message(id)? {
            return Ok(Some(m));
        }
        Ok(self.messages.iter().find(|m| m.id == id).cloned())
    }

    /// The machine-local bindings, loaded on first use; marked to be
    /// written back at commit.
    pub fn bindings_mut(&mut self) -> Result<&mut Bindings> {
        if self.bindings.is_none() {
            self.bindings = Some(self.hub.bindings()?);
        }
        self.bindings_dirty = true;
        Ok(self.bindings.get_or_insert_with(Bindings::default))
    }

    /// The bindings, read-only (loaded on first use).
    pub fn bindings(&mut self) -> Result<&Bindings> {
        if self.bindings.is_none() {
            self.bindings = Some(self.hub.bindings()?);
        }
        Ok(self.bindings.get_or_insert_with(Bindings::default))
    }

    /// Who is making this change: recorded on every journal entry it writes,
    /// including lapses it sweeps on the way.
    pub fn set_actor(&mut self, actor: Actor) {
        self.actor = Some(actor);
    }

    /// Replace CURRENT_STATE.md with `text` at commit.
    pub fn write_briefing(&mut self, text: String) {
        self.briefing = Some(text);
    }

    fn commit(mut self, original: &[u8]) -> Result<()> {
        let hub = self.hub;
        if let Some(actor) = &self.actor {
            for e in self.events.iter_mut().filter(|e| e.by.is_none()) {
                e.by = Some(actor.clone());
            }
        }
        if hub.pinned_clock {
            for e in &mut self.events {
                e.clock = Some(PINNED.to_string());
            }
        }
        // Folding the pulse: the registry is written first (a new base, so
        // the pulse's lines no longer apply), then their journal entries,
        // then the pulse is emptied (see store::pulse).
        let fold = self.pulse.lines > 0;
        let text = sorted_json_pretty(&self.reg) + "\n";
        let wrote = fold || text.as_bytes() != original;
        if wrote {
            hub.write_atomic(REGISTRY, text.as_bytes())?;
        }
        let lines: Vec<String> = self.messages.iter().map(sorted_json).collect();
        hub.append(MESSAGES, &lines)?;
        let pulsed = if fold {
            hub.settle_pulse(&self.pulse)?
        } else {
            Vec::new()
        };
        let lines: Vec<String> = pulsed
            .iter()
            .chain(&self.journal)
            .chain(&self.events)
            .map(sorted_json)
            .collect();
        hub.append(EVENTS, &lines)?;
        if fold {
            hub.clear_pulse()?;
        }
        if wrote || hub.digest_stale() {
            hub.write_digest(&self.reg)?;
        }
        if let Some(text) = &self.briefing {
            hub.write_atomic(STATE, text.as_bytes())?;
        }
        if let (true, Some(b)) = (self.bindings_dirty, &self.bindings) {
            hub.write_bindings(b)?;
        }
        Ok(())
    }
}

impl Hub {
    /// Replace the machine-local bindings (the exclusive lock is held by
    /// the caller). Atomic but not fsynced: machine-local and rebuilt by
    /// `coord start --resume`, it is not worth a second durable write on
    /// every start and stop.
    pub fn write_bindings(&self, b: &Bindings) -> Result<()> {
        let text = sorted_json_pretty(b) + "\n";
        fsio::write_atomic_mode(
            &self.dir,
            BINDINGS,
            text.as_bytes(),
            Durability::None,
            fsio::PRIVATE,
        )
    }
}

/// What a rule decided, as records: new journal entries (no actor yet),
/// messages, and complete journal entries written as they are.
#[derive(Default)]
pub struct Materialized {
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    pub journal: Vec<Event>,
}

/// Turn effects into records at `now`, minting ids in order with `mint`:
/// what a transaction writes at commit, and what the hot path appends.
pub fn materialize(fx: Effects, now: Time, mint: &mut dyn FnMut(char) -> String) -> Materialized {
    let mut out = Materialized::default();
    for effect in fx.0 {
        match effect {
            Effect::Event(d) => {
                let id = d.id.unwrap_or_else(|| mint('e'));
                out.events.push(Event {
                    by: None,
                    clock: None,
                    id,
                    ts: now,
                    kind: d.kind.to_string(),
                    session: d.session,
                    target: d.target,
                    token: d.token,
                    text: d.text,
                    extra: Default::default(),
                });
            }
            Effect::Notice(n) => {
                let id = n.id.unwrap_or_else(|| mint('m'));
                out.messages.push(Message {
                    id,
                    ts: now,
                    from: SYSTEM.to_string(),
                    to: n.to.clone(),
                    recipients: Some(vec![n.to]),
                    level: n.level,
                    subject: n.subject,
                    body: n.body,
                    reply_to: None,
                    extra: Default::default(),
                });
            }
            Effect::Message(m) => out.messages.push(m),
            Effect::Journal(e) => out.journal.push(e),
        }
    }
    out
}
