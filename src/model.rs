//! The records the hub stores. Maps are keyed by stable ids (session id,
//! `type:name`, message id) so a later record-by-record git merge can join
//! two machines' files; every record keeps fields it does not know
//! (`extra`), so an older coord never drops what a newer one wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Time;

pub const SCHEMA: u32 = 1;
/// The sender of messages that coord itself writes (lapses, force-takes).
pub const SYSTEM: &str = "coord";

type Extra = BTreeMap<String, Value>;

/// REGISTRY.json: the current state.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Registry {
    pub schema: u32,
    #[serde(default)]
    pub sessions: BTreeMap<String, Session>,
    /// Keyed by `type:name`. A released claim stays, holder-less, so its
    /// fencing token keeps growing when it is taken again.
    #[serde(default)]
    pub claims: BTreeMap<String, Claim>,
    /// Open `critical` and `emergency` messages, keyed by message id, so every
    /// command can show them without reading the message log.
    #[serde(default)]
    pub escalations: BTreeMap<String, Escalation>,
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub started: Time,
    pub last_seen: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How far this session has read MESSAGES.jsonl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Session {
    pub fn new(now: Time) -> Self {
        Session {
            started: now,
            last_seen: now,
            ended: None,
            role: None,
            focus: None,
            action: None,
            target: None,
            phase: None,
            progress: None,
            note: None,
            cursor: None,
            extra: Extra::new(),
        }
    }
}

/// A read position in MESSAGES.jsonl: everything before `offset` has been
/// seen. The line that ends at `offset` (its length and id) is checked on use,
/// so a log rewritten by a git merge is noticed and the position found again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    pub offset: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub len: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<Time>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claim {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// When the current holder took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Grows by one at every acquisition by a new holder; never reused.
    pub token: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Claim {
    pub fn key(kind: &str, name: &str) -> String {
        format!("{kind}:{name}")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Escalation {
    pub level: Level,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub ts: Time,
    /// `None` for a broadcast: everyone but the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    /// Who acknowledged it, and when.
    #[serde(default)]
    pub acked: BTreeMap<String, Time>,
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Message {
    pub id: String,
    pub ts: Time,
    pub from: String,
    /// As the sender wrote it: a session id, `@role` or `broadcast`.
    pub to: String,
    /// Who it was delivered to; absent for a broadcast (everyone but `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    pub level: Level,
    pub subject: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
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

/// One line of EVENTS.jsonl: what happened, to what, in a sentence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub ts: Time,
    /// `session.started`, `claim.taken`, `claim.lapsed`, `message.sent`, ...
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The claim key, message id or session the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
    pub text: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Serialise with keys in sorted order (serde_json's map is a BTreeMap), so
/// files diff and merge well whatever order the structs declare.
pub fn sorted_json<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(v) => v.to_string(),
        Err(e) => unreachable_json(e),
    }
}

pub fn sorted_json_pretty<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value).and_then(|v| serde_json::to_string_pretty(&v)) {
        Ok(s) => s,
        Err(e) => unreachable_json(e),
    }
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
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Bindings {
    #[serde(default)]
    pub sessions: BTreeMap<String, Binding>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Binding {
    /// The agent tool's own session id (Claude Code's CLAUDE_CODE_SESSION_ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Ancestors of the `coord start` process, nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procs: Vec<Proc>,
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
