//! The one error currency: a kind that decides the exit code, one sentence
//! that says what is wrong (naming the file when a file is involved), hints
//! that name the next command, kept apart from the message, and details for
//! machines. Every fallible function below the CLI returns [`Result`].

use std::fmt;
use std::path::Path;

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

/// An error whose cause we understand.
#[derive(Debug, Clone, PartialEq)]
pub struct CoordError {
    pub kind: Kind,
    pub message: String,
    /// What to do next, most useful first; each names a command where one helps.
    pub hints: Vec<String>,
    pub details: Option<serde_json::Value>,
}

pub type Result<T, E = CoordError> = std::result::Result<T, E>;

impl CoordError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        CoordError {
            kind,
            message: message.into(),
            hints: Vec::new(),
            details: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// An I/O failure on a hub file: a hub error naming the file.
    pub fn io(what: &str, path: &Path, e: std::io::Error) -> Self {
        hub(format!("cannot {what} {}: {e}", path.display()))
    }

    /// The hints as one clause: `a; b`.
    pub fn hint_text(&self) -> Option<String> {
        (!self.hints.is_empty()).then(|| self.hints.join("; "))
    }
}

impl fmt::Display for CoordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for hint in &self.hints {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CoordError {}

/// Shorthands so call sites read as the sentence they produce.
pub fn failure(message: impl Into<String>) -> CoordError {
    CoordError::new(Kind::Failure, message)
}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_stay_apart_from_the_message() {
        let e = conflict("task:x is held by alice")
            .hint("ask with `coord send alice hi`")
            .hint("or wait");
        assert_eq!(e.message, "task:x is held by alice");
        assert_eq!(e.hints.len(), 2);
        assert_eq!(
            e.to_string(),
            "task:x is held by alice; ask with `coord send alice hi`; or wait"
        );
        assert_eq!(e.kind.code(), 3);
        let io = CoordError::io(
            "read",
            Path::new("/h/REGISTRY.json"),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(io.kind, Kind::Hub);
        assert!(io.message.contains("/h/REGISTRY.json"));
    }
}
