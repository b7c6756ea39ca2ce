//! The records the hub stores. Maps are keyed by stable ids (session id,
//! `type:name`, message id) so a later record-by-record git merge can join
//! two machines' files; every record keeps fields it does not know
//! (`extra`), so an older coord never drops what a newer one wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::clock::stamp::{OptStamp, Stamp};
use crate::core::clock::Time;
pub use crate::core::plan::Plan;

pub const SCHEMA: u32 = 1;
/// The sender of messages that coord itself writes (lapses, force-takes).
pub const SYSTEM: &str = "coord";

pub type Extra = BTreeMap<String, Value>;

/// REGISTRY.json: the current state.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Registry {
    /// Keyed by `type:name`. A released claim stays, holder-less, so its
    /// fencing token keeps growing when it is taken again.
    #[serde(default)]
    pub claims: BTreeMap<String, Claim>,
    /// Open `critical` and `emergency` messages, keyed by message id, so every
    /// command can show them without reading the message log.
    #[serde(default)]
    pub escalations: BTreeMap<String, Escalation>,
    /// The last fencing token of claims forgotten by `coord prune`, by key:
    /// a claim taken again starts above it, so tokens still only grow.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub floors: BTreeMap<String, u64>,
    /// Tasks, milestones, gates, reservations and handoffs.
    #[serde(default, skip_serializing_if = "Plan::is_empty")]
    pub plan: Plan,
    pub schema: u32,
    #[serde(default)]
    pub sessions: BTreeMap<String, Session>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Registry {
    pub fn new() -> Self {
        Registry {
            schema: SCHEMA,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Session {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// How far this session has read MESSAGES.jsonl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// The files it edited lately (relative to the work tree's top), each
    /// with the time of its last recorded edit (a canonical stamp): what
    /// the conflict radar compares (rules::radar).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub edits: BTreeMap<String, String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub ended: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub last_seen: Time,
    /// The machine it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Unread messages that a merge placed before the cursor (they came
    /// from another machine with older times): shown by the next inbox.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub started: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Session {
    pub fn new(now: Time) -> Self {
        Session {
            started: now,
            last_seen: now,
            machine: None,
            pending: Vec::new(),
            ended: None,
            role: None,
            focus: None,
            action: None,
            target: None,
            phase: None,
            progress: None,
            note: None,
            cursor: None,
            edits: BTreeMap::new(),
            extra: Extra::new(),
        }
    }
}

impl Session {
    /// The free-text fields a session writes about itself.
    pub fn text_fields(&self) -> [&Option<String>; 7] {
        [
            &self.role,
            &self.focus,
            &self.action,
            &self.target,
            &self.phase,
            &self.note,
            &self.machine,
        ]
    }

    pub fn text_fields_mut(&mut self) -> [&mut Option<String>; 7] {
        [
            &mut self.role,
            &mut self.focus,
            &mut self.action,
            &mut self.target,
            &mut self.phase,
            &mut self.note,
            &mut self.machine,
        ]
    }
}

/// A read position in MESSAGES.jsonl: everything before `offset` has been
/// seen. The line that ends at `offset` (its length and id) is checked on use,
/// so a log rewritten by a git merge is noticed and the position found again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub len: u64,
    pub offset: u64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub ts: Option<Time>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Claim {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub expires: Option<Time>,
    /// The length of a deadlined claim, in seconds, for `coord renew`.
    /// Absent for a lease (a claim that lasts while its holder is live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Holders that lost this claim when a merge found two (each is told
    /// once by the next change on any machine, then the entry goes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_on_sync: Vec<LostHolder>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The token the holder had when a merge gave it this claim over another
    /// holder (its token was then raised above both): merges rank by this,
    /// so winning once does not make it lose to the next newcomer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_token: Option<u64>,
    /// When it was last released (or lapsed): `coord prune` forgets released
    /// claims by this.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub released: Option<Time>,
    /// When the current holder took it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub since: Option<Time>,
    /// Grows by one at every acquisition by a new holder; never reused.
    pub token: u64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A holder a merge took a claim from, and the token it had.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct LostHolder {
    pub holder: String,
    pub token: u64,
    /// When the holder took the claim it lost: the loss's message is dated
    /// by it, so it is the same on every machine whichever merge found it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub since: Option<Time>,
    /// The holder has been sent its message (on some machine).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub told: bool,
}

impl Claim {
    pub fn key(kind: &str, name: &str) -> String {
        format!("{kind}:{name}")
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Escalation {
    /// Who acknowledged it, and when.
    #[serde(default)]
    pub acked: BTreeMap<String, Time>,
    pub from: String,
    pub level: Level,
    /// `None` for a broadcast: everyone but the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    pub subject: String,
    pub to: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub ts: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Escalation {
    pub fn addressed_to(&self, session: &str) -> bool {
        match &self.recipients {
            Some(list) => list.iter().any(|r| r == session),
            None => self.from != session,
        }
    }

    /// Sent to one session by name (not broadcast, not a role).
    pub fn direct(&self) -> bool {
        self.to != "broadcast" && !self.to.starts_with('@')
    }

    /// Who may close it for everyone: its sender, a lead, and the one
    /// addressee of a direct one. The recipients of one sent to many only
    /// acknowledge it: those it stops cannot lift it.
    pub fn resolvable_by(&self, session: &str, lead: bool) -> bool {
        self.from == session || lead || (self.direct() && self.addressed_to(session))
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
    Critical,
    Emergency,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Emergency => "emergency",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.to_ascii_lowercase().as_str() {
            "info" => Level::Info,
            "warning" | "warn" => Level::Warning,
            "error" => Level::Error,
            "critical" => Level::Critical,
            "emergency" => Level::Emergency,
            _ => return None,
        })
    }

    /// Critical and emergency messages are tracked until acknowledged.
    pub fn escalates(self) -> bool {
        self >= Level::Critical
    }
}

/// One line of MESSAGES.jsonl.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Message {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    pub from: String,
    pub id: String,
    pub level: Level,
    /// Who it was delivered to; absent for a broadcast (everyone but `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub subject: String,
    /// As the sender wrote it: a session id, `@role` or `broadcast`.
    pub to: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub ts: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    pub fn addressed_to(&self, session: &str) -> bool {
        match &self.recipients {
            Some(list) => list.iter().any(|r| r == session),
            None => self.to == "broadcast" && self.from != session,
        }
    }
}

/// Who made a change, and how coord knew it was them: the journal's answer
/// to "who did this?".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Actor {
    /// How the acting session was found: `flag` (--session), `env`
    /// (COORD_SESSION), `agent:VARIABLE`, `anchor:PROCESS`, or `none`.
    pub how: String,
    /// The machine the command ran on.
    pub machine: String,
    /// The acting session.
    pub session: String,
}

/// One line of EVENTS.jsonl: what happened, to what, in a sentence.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    /// Who made the change (absent in journals written before coord kept it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
    /// `pinned` when made under a pinned clock (`COORD_NOW`, tests and
    /// demos): its time, and any lapse it swept, is not the real one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    pub id: String,
    /// `session.started`, `claim.taken`, `claim.lapsed`, `message.sent`, ...
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The claim key, message id or session the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub ts: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Deserialise a record field by field, putting unknown keys straight into
/// `extra`. serde's `#[serde(flatten)]` would first buffer every record whole
/// and then deserialise it again: that was a third of a command's time on a
/// hub with 1,000 claims. `req` fields must be present; `opt` ones default.
macro_rules! next {
    ($map:ident) => {
        $map.next_value()?
    };
    ($map:ident, $wrap:ident) => {
        $map.next_value::<$wrap>()?.0
    };
}

/// A record's key, borrowed from the input when it can be (a key without
/// escapes, the usual case): no allocation for each field of each record.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

macro_rules! record {
    ($ty:ident { $(req $rf:ident: $rn:literal $(as $rt:ident)?,)* $(opt $of:ident: $on:literal $(as $ot:ident)?,)* }) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($ty), " record (a JSON object)"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        $(let mut $rf = None;)*
                        $(let mut $of = Default::default();)*
                        let mut extra = Extra::new();
                        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                            match key.as_ref() {
                                $($rn => $rf = Some(next!(map $(, $rt)?)),)*
                                $($on => $of = next!(map $(, $ot)?),)*
                                _ => {
                                    let value: Value = map.next_value()?;
                                    extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok($ty {
                            $($rf: $rf.ok_or_else(|| serde::de::Error::missing_field($rn))?,)*
                            $($of,)*
                            extra,
                        })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

record!(Registry {
    req schema: "schema",
    opt claims: "claims", opt escalations: "escalations", opt floors: "floors", opt plan: "plan",
    opt sessions: "sessions",
});
record!(Session {
    req last_seen: "last_seen" as Stamp, req started: "started" as Stamp,
    opt action: "action", opt cursor: "cursor", opt edits: "edits", opt ended: "ended" as OptStamp, opt focus: "focus",
    opt machine: "machine", opt note: "note", opt pending: "pending",
    opt phase: "phase", opt progress: "progress", opt role: "role", opt target: "target",
});
record!(Claim {
    req name: "name", req token: "token", req kind: "type",
    opt expires: "expires" as OptStamp, opt for_secs: "for_secs", opt holder: "holder",
    opt lost_on_sync: "lost_on_sync", opt note: "note", opt rank_token: "rank_token",
    opt released: "released" as OptStamp, opt since: "since" as OptStamp,
});
record!(Escalation {
    req from: "from", req level: "level", req subject: "subject", req to: "to", req ts: "ts" as Stamp,
    opt acked: "acked", opt recipients: "recipients",
});
record!(Message {
    req from: "from", req id: "id", req level: "level", req subject: "subject", req to: "to", req ts: "ts" as Stamp,
    opt body: "body", opt recipients: "recipients", opt reply_to: "reply_to",
});
record!(Event {
    req id: "id", req kind: "kind", req text: "text", req ts: "ts" as Stamp,
    opt by: "by", opt clock: "clock", opt session: "session", opt target: "target", opt token: "token",
});
record!(Bindings { opt sessions: "sessions", });
record!(Binding { opt agent: "agent", opt anchor: "anchor", opt boot: "boot", });

/// A record that may carry fields this coord does not know (kept in
/// `extra`). Every struct here declares its fields in alphabetical order, so
/// without unknown fields serde writes sorted keys directly; with them, the
/// slower route through `serde_json::Value` (whose map is sorted) is taken.
pub trait Record: Serialize {
    fn has_unknown(&self) -> bool;
}

impl Record for Registry {
    fn has_unknown(&self) -> bool {
        !self.extra.is_empty()
            || self.sessions.values().any(|s| !s.extra.is_empty())
            || self.claims.values().any(|c| !c.extra.is_empty())
            || self.escalations.values().any(|e| !e.extra.is_empty())
            || self.plan.has_unknown()
    }
}

impl Record for Message {
    fn has_unknown(&self) -> bool {
        !self.extra.is_empty()
    }
}

impl Record for Event {
    fn has_unknown(&self) -> bool {
        !self.extra.is_empty()
    }
}

impl Record for Bindings {
    fn has_unknown(&self) -> bool {
        !self.extra.is_empty() || self.sessions.values().any(|b| !b.extra.is_empty())
    }
}

/// Serialise with keys in sorted order, so files diff and merge well.
pub fn sorted_json<T: Record>(value: &T) -> String {
    let out = if value.has_unknown() {
        serde_json::to_value(value).map(|v| v.to_string())
    } else {
        serde_json::to_string(value)
    };
    out.unwrap_or_else(unreachable_json)
}

pub fn sorted_json_pretty<T: Record>(value: &T) -> String {
    let out = if value.has_unknown() {
        serde_json::to_value(value).and_then(|v| serde_json::to_string_pretty(&v))
    } else {
        serde_json::to_string_pretty(value)
    };
    out.unwrap_or_else(unreachable_json)
}

#[cold]
fn unreachable_json(e: serde_json::Error) -> String {
    // Our records are maps with string keys: serialising cannot fail. Keep a
    // visible trace instead of panicking if that ever changes.
    format!("{{\"error\":{:?}}}", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_unknown_fields_kept() {
        let text = r#"{"zeta":1,"schema":1,"sessions":{},"claims":{},"alpha":{"x":2}}"#;
        let reg: Registry = serde_json::from_str(text).unwrap();
        assert_eq!(reg.extra.len(), 2);
        let out = sorted_json(&reg);
        assert_eq!(
            out,
            r#"{"alpha":{"x":2},"claims":{},"escalations":{},"schema":1,"sessions":{},"zeta":1}"#
        );
    }

    /// The fast path (declared field order) and the slow path (through a
    /// sorted `Value`) must give the same bytes for every record type.
    #[test]
    fn direct_serialisation_is_sorted() {
        let t = crate::core::clock::parse_time("2026-01-01T09:00:00Z").unwrap();
        let mut reg = Registry::new();
        let mut s = Session::new(t);
        for f in s.text_fields_mut() {
            *f = Some("x".into());
        }
        s.ended = Some(t);
        s.progress = Some(5);
        s.cursor = Some(Cursor {
            offset: 1,
            id: Some("m".into()),
            len: 2,
            ts: Some(t),
        });
        reg.sessions.insert("a".into(), s);
        reg.claims.insert(
            "task:x".into(),
            Claim {
                kind: "task".into(),
                name: "x".into(),
                holder: Some("a".into()),
                since: Some(t),
                expires: Some(t),
                for_secs: None,
                released: None,
                lost_on_sync: Vec::new(),
                rank_token: None,
                note: Some("n".into()),
                token: 3,
                extra: Extra::new(),
            },
        );
        let mut acked = BTreeMap::new();
        acked.insert("a".to_string(), t);
        reg.escalations.insert(
            "m-1".into(),
            Escalation {
                level: Level::Emergency,
                from: "a".into(),
                to: "broadcast".into(),
                subject: "s".into(),
                ts: t,
                recipients: Some(vec!["b".into()]),
                acked,
                extra: Extra::new(),
            },
        );
        let slow = serde_json::to_string_pretty(&serde_json::to_value(&reg).unwrap()).unwrap();
        assert_eq!(sorted_json_pretty(&reg), slow);
        let m = Message {
            id: "m".into(),
            ts: t,
            from: "a".into(),
            to: "b".into(),
            recipients: Some(vec!["b".into()]),
            level: Level::Info,
            subject: "s".into(),
            body: "b".into(),
            reply_to: Some("r".into()),
            extra: Extra::new(),
        };
        assert_eq!(sorted_json(&m), serde_json::to_value(&m).unwrap().to_string());
        let e = Event {
            by: Some(Actor {
                how: "flag".into(),
                machine: "m".into(),
                session: "a".into(),
            }),
            clock: Some("pinned".into()),
            id: "e".into(),
            ts: t,
            kind: "k".into(),
            session: Some("a".into()),
            target: Some("t".into()),
            token: Some(1),
            text: "x".into(),
            extra: Extra::new(),
        };
        assert_eq!(sorted_json(&e), serde_json::to_value(&e).unwrap().to_string());
        let mut b = Bindings::default();
        b.sessions.insert(
            "a".into(),
            Binding {
                agent: Some("x".into()),
                anchor: Some(Proc { pid: 1, start: 2 }),
                boot: Some("b".into()),
                extra: Extra::new(),
            },
        );
        assert_eq!(
            sorted_json_pretty(&b),
            serde_json::to_string_pretty(&serde_json::to_value(&b).unwrap()).unwrap()
        );
    }

    #[test]
    fn levels_order() {
        assert!(Level::Emergency > Level::Critical);
        assert!(Level::Critical.escalates());
        assert!(!Level::Error.escalates());
        assert_eq!(Level::parse("WARN"), Some(Level::Warning));
        assert_eq!(Level::parse("loud"), None);
    }
}

/// `.bindings.json`: how this machine recognises a session from a fresh
/// shell. Process ids mean nothing on another machine, so this file is never
/// committed (the hub's .gitignore lists it).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Bindings {
    #[serde(default)]
    pub sessions: BTreeMap<String, Binding>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Binding {
    /// The agent tool's own session id, as `VARIABLE=value`
    /// (`CLAUDE_CODE_SESSION_ID=...`): decides alone when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The caller's nearest long-lived process at `start`: the agent, or a
    /// human's interactive shell. Void once that process is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Proc>,
    /// Linux boot id: process ids from another boot never match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A process, identified by pid and start time so a reused pid never matches.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct Proc {
    pub pid: u32,
    pub start: u64,
}
