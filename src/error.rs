//! Error kinds that decide the exit code, and the hint that names the next
//! command. Deep code returns `anyhow::Error`; code that knows *why* a thing
//! failed wraps a [`CoordError`] so the edge (`lib::run`) can pick the code.

use std::fmt;

/// The documented exit codes (SPEC section 5). Agents branch on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: something we did not expect (I/O failure outside the hub, a bug).
    Failure,
    /// 2: the command line or a value on it is wrong.
    Usage,
    /// 3: a claim is held by someone else, or a name is taken.
    Conflict,
    /// 4: no such session, claim, message or recipient.
    NotFound,
    /// 5: no hub, or a hub file is unreadable or corrupt.
    Hub,
    /// 6: gave up waiting (the lock, `--wait`).
    Timeout,
}

impl Kind {
    pub fn code(self) -> i32 {
        match self {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::Conflict => 3,
            Kind::NotFound => 4,
            Kind::Hub => 5,
            Kind::Timeout => 6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Usage => "usage",
            Kind::Conflict => "conflict",
            Kind::NotFound => "not_found",
            Kind::Hub => "hub",
            Kind::Timeout => "timeout",
        }
    }
}

/// An error whose cause we understand: a kind, one sentence, and optionally
/// the command that gets the user unstuck plus machine-readable details for
/// `--json`.
#[derive(Debug)]
pub struct CoordError {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    pub details: Option<serde_json::Value>,
}

impl CoordError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        CoordError {
            kind,
            message: message.into(),
            hint: None,
            details: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl fmt::Display for CoordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.hint {
            Some(hint) => write!(f, "{}; {}", self.message, hint),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CoordError {}

/// Shorthands so call sites read as the sentence they produce.
pub fn usage(message: impl Into<String>) -> CoordError {
    CoordError::new(Kind::Usage, message)
}
pub fn conflict(message: impl Into<String>) -> CoordError {
    CoordError::new(Kind::Conflict, message)
}
pub fn not_found(message: impl Into<String>) -> CoordError {
    CoordError::new(Kind::NotFound, message)
}
pub fn hub(message: impl Into<String>) -> CoordError {
    CoordError::new(Kind::Hub, message)
}
pub fn timeout(message: impl Into<String>) -> CoordError {
    CoordError::new(Kind::Timeout, message)
}

/// The kind of an error anywhere in an anyhow chain; `Failure` if none.
pub fn kind_of(err: &anyhow::Error) -> Kind {
    err.chain()
        .find_map(|e| e.downcast_ref::<CoordError>())
        .map(|e| e.kind)
        .unwrap_or(Kind::Failure)
}

/// The `CoordError` in a chain, if any.
pub fn find(err: &anyhow::Error) -> Option<&CoordError> {
    err.chain().find_map(|e| e.downcast_ref::<CoordError>())
}
