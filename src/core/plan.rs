//! The plan's records, kept in REGISTRY.json under `plan` (so a change to a
//! task and to its claim is one transaction, and git merges them with the
//! same record rules): tasks with dependencies, milestones, GO/NO-GO gates,
//! time-window reservations and handoffs. Fields are declared in
//! alphabetical order (sorted keys on disk); unknown fields are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::clock::Time;
use crate::core::model::Extra;

fn no(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gates: BTreeMap<String, Gate>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub handoffs: BTreeMap<String, Handoff>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub milestones: BTreeMap<String, Milestone>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reservations: BTreeMap<String, Reservation>,
    /// Reservations that overlapped an earlier one on another machine and
    /// lost when the hubs merged: kept (never taken back), and no longer
    /// held. Each maps to the reservation it lost to and the record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lost_reservations: BTreeMap<String, LostReservation>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tasks: BTreeMap<String, Task>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.gates.is_empty()
            && self.handoffs.is_empty()
            && self.milestones.is_empty()
            && self.reservations.is_empty()
            && self.tasks.is_empty()
            && self.extra.is_empty()
    }

    /// Whether any record carries fields this coord does not know.
    pub fn has_unknown(&self) -> bool {
        !self.extra.is_empty()
            || self.gates.values().any(|r| !r.extra.is_empty())
            || self.handoffs.values().any(|r| !r.extra.is_empty())
            || self.milestones.values().any(|r| !r.extra.is_empty())
            || self.reservations.values().any(|r| !r.extra.is_empty())
            || self.tasks.values().any(|r| !r.extra.is_empty())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Open,
    Done,
    Dropped,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Done => "done",
            TaskState::Dropped => "dropped",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Task {
    /// What must be done first: task ids, and `gate:NAME` for a gate that
    /// must be GO.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// The session that added it.
    pub by: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub created: Time,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub done: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When its last blocker cleared (kept when it is done, for lead time).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub ready: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub state: TaskState,
    pub title: String,
    /// The last change: merges keep the record changed last.
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub updated: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Task {
    /// An open task with nothing but its title, added by `by` at `now`.
    pub fn new(by: &str, title: &str, now: Time) -> Task {
        Task {
            after: Vec::new(),
            by: by.to_string(),
            created: now,
            done: None,
            milestone: None,
            note: None,
            ready: None,
            role: None,
            state: TaskState::Open,
            title: title.to_string(),
            updated: now,
            extra: Extra::new(),
        }
    }
}

/// A plan record's last change: merges keep the later one.
pub trait Updated {
    fn updated(&self) -> Time;
}

macro_rules! updated {
    ($($t:ty),*) => {$(impl Updated for $t {
        fn updated(&self) -> Time {
            self.updated
        }
    })*};
}
updated!(Task, Milestone, Gate, Reservation, Handoff);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Milestone {
    pub by: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub created: Time,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    pub title: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub updated: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::core::clock::stamp::serialize_opt"
    )]
    pub at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default)]
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub at: Time,
    pub by: String,
    /// Decided by someone other than the owner, with --force.
    #[serde(default, skip_serializing_if = "no")]
    pub forced: bool,
    pub go: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Gate {
    pub by: String,
    #[serde(default)]
    pub checks: Vec<Check>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub created: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// A role or a session id: who decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub updated: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Gate {
    pub fn is_go(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.go)
    }

    pub fn state(&self) -> &'static str {
        match &self.decision {
            Some(d) if d.go => "go",
            Some(_) => "no-go",
            None => "open",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reservation {
    /// Gates that must be GO before it may be used (`gate:NAME`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub created: Time,
    /// `YYYY-MM-DD` in the hub's time zone; absent: every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `HH:MM` in the hub's time zone.
    pub from: String,
    pub holder: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub resource: String,
    /// `HH:MM`, after `from` (`24:00` for the end of the day).
    pub to: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub updated: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A reservation that lost to an earlier overlapping one in a merge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LostReservation {
    /// The id of the reservation it lost to.
    pub lost_to: String,
    pub reservation: Reservation,
}

impl Reservation {
    /// A reservation without a date holds its window every day.
    pub fn every_day(&self) -> bool {
        self.date.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Handoff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Who took it: an offer with a taker is accepted.
    pub accepted_by: Option<String>,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub created: Time,
    /// After this the offer lapses: the claim stays with the giver.
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub expires: Time,
    pub from: String,
    /// The claim offered, `type:name`.
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A session id, or `@role`.
    pub to: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub updated: Time,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Handoff {
    /// offered, accepted, or lapsed (an offer past its time).
    pub fn status(&self, now: Time) -> &'static str {
        match &self.accepted_by {
            Some(_) => "accepted",
            None if now >= self.expires => "lapsed",
            None => "offered",
        }
    }
}
