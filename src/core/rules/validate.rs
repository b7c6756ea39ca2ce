//! What counts as acceptable input (SPEC section 6). Every function here is
//! pure and returns a sentence that says what is wrong and what to do, so the
//! command can refuse before it writes anything.

use crate::core::error::{usage, CoordError};

/// Names, roles, subjects, claim names, heartbeat fields: at most this many
/// characters.
pub const MAX_TEXT: usize = 200;
/// Notes may be a little longer than a name.
pub const MAX_NOTE: usize = 1_000;
/// Names nobody may take: they mean something to `send` and to readers.
pub const RESERVED: &[&str] = &["coord", "broadcast", "all", "everyone"];

/// A session id: `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn session_id(id: &str) -> Result<(), CoordError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
        && !id.bytes().any(|b| b.is_ascii_uppercase());
    if !ok {
        return Err(usage(format!(
            "session id {:?} is not valid: use 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            crate::core::text::clip(id, 80)
        )));
    }
    Ok(())
}

/// A name that may be taken by `start --name`: a valid id that is not reserved.
pub fn new_session_name(id: &str) -> Result<(), CoordError> {
    session_id(id)?;
    if RESERVED.contains(&id) {
        return Err(usage(format!(
            "session name {id:?} is reserved; pick another name with --name"
        )));
    }
    Ok(())
}

/// One line of user text: not empty (unless `allow_empty`), no control
/// characters, at most `max` characters.
pub fn text(what: &str, value: &str, max: usize) -> Result<(), CoordError> {
    if value.trim().is_empty() {
        return Err(usage(format!("{what} is empty; give some text")));
    }
    no_controls(what, value)?;
    let n = value.chars().count();
    if n > max {
        return Err(usage(format!(
            "{what} is {n} characters long, over the limit of {max}; shorten it"
        )));
    }
    Ok(())
}

/// Single-line fields refuse controls, format characters (bidi overrides,
/// zero-width characters) and line separators: they hide what text says.
pub fn no_controls(what: &str, value: &str) -> Result<(), CoordError> {
    if let Some(c) = value.chars().find(|c| crate::core::text::is_unsafe_char(*c)) {
        let kind = if c.is_control() { "control" } else { "invisible" };
        return Err(usage(format!(
            "{what} contains the {kind} character U+{:04X}; remove it (only message bodies may hold newlines and tabs)",
            c as u32
        )));
    }
    Ok(())
}

/// A task, service or resource name must be written in one script: a name
/// mixing, say, Latin and Cyrillic letters is how a look-alike is made.
pub fn single_script(what: &str, value: &str) -> Result<(), CoordError> {
    use unicode_security::MixedScript;
    if !value.is_single_script() {
        return Err(usage(format!(
            "{what} {:?} mixes letters of different scripts (a look-alike of another name); write it in one script",
            crate::core::text::clip(value, 80)
        )));
    }
    Ok(())
}

/// Leading or trailing spaces make two names that look the same differ.
pub fn no_padding(what: &str, value: &str) -> Result<(), CoordError> {
    if value.trim() != value {
        return Err(usage(format!(
            "{what} {:?} starts or ends with spaces; remove them",
            crate::core::text::clip(value, 80)
        )));
    }
    Ok(())
}

/// A message body: any text (newlines and tabs welcome) up to `max_bytes`.
/// Other control characters are allowed too: the body is data, and every
/// printer sanitises it before it reaches a terminal.
pub fn body(value: &str, max_bytes: usize) -> Result<(), CoordError> {
    if value.len() > max_bytes {
        return Err(usage(format!(
            "message body is {} bytes, over the limit of {max_bytes}; shorten it or raise messages.max_body in coord.toml",
            value.len()
        )));
    }
    Ok(())
}

/// A claim type: one lowercase word.
/// Ids of tasks, milestones, gates and resources: a short plain word.
pub fn plain_id(what: &str, id: &str) -> Result<(), CoordError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !id.starts_with(['-', '.']);
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "{what} {id:?} is not an id coord accepts; use 1 to 64 letters, digits, '.', '_' or '-' (not first)"
        )))
    }
}

pub fn claim_type(t: &str) -> Result<(), CoordError> {
    let ok = !t.is_empty()
        && t.len() <= 32
        && t.as_bytes()[0].is_ascii_lowercase()
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(usage(format!(
            "claim type {:?} is not a word; use a short lowercase word such as task, service, file or resource",
            crate::core::text::clip(t, 40)
        )));
    }
    Ok(())
}

/// Progress as typed: `40`, `40%`, `0`..`100`.
pub fn progress(text: &str) -> Result<u8, CoordError> {
    let digits = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    match digits.parse::<u32>() {
        Ok(n) if n <= 100 => Ok(n as u8),
        _ => Err(usage(format!(
            "progress {:?} is not a whole number from 0 to 100; write it like 40 or 40%",
            crate::core::text::clip(text, 40)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["a", "alice", "bob-2", "x.y_z", "0abc", &"a".repeat(64)] {
            assert!(session_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "Alice", "a b", "a/b", "é", &"a".repeat(65), ".x"] {
            assert!(session_id(bad).is_err(), "{bad}");
        }
        assert!(new_session_name("coord").is_err());
        assert!(new_session_name("broadcast").is_err());
    }

    #[test]
    fn texts() {
        assert!(text("subject", "hello", 200).is_ok());
        assert!(text("subject", "", 200).is_err());
        assert!(text("subject", "   ", 200).is_err());
        assert!(text("subject", "a\nb", 200).is_err());
        assert!(text("subject", "a\u{1b}[31m", 200).is_err());
        assert!(text("subject", &"x".repeat(201), 200).is_err());
        assert!(text("subject", &"é".repeat(200), 200).is_ok());
        for hidden in ["a\u{202e}b", "a\u{200b}b", "a\u{2028}b", "a\u{feff}", "a\u{9b}b"] {
            assert!(text("subject", hidden, 200).is_err(), "{hidden:?}");
        }
        assert!(single_script("claim name", "auth-api").is_ok());
        assert!(
            single_script("claim name", "\u{430}uth-api").is_err(),
            "Cyrillic a in Latin"
        );
        assert!(
            single_script("claim name", "\u{43f}\u{440}\u{43e}\u{434}").is_ok(),
            "all Cyrillic"
        );
        assert!(body("a\nb\tc", 10).is_ok());
        assert!(body(&"x".repeat(11), 10).is_err());
    }

    #[test]
    fn progress_values() {
        assert_eq!(progress("0").ok(), Some(0));
        assert_eq!(progress("50%").ok(), Some(50));
        assert_eq!(progress("100").ok(), Some(100));
        for bad in ["101", "-1", "50.5", "", "half", "%"] {
            assert!(progress(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn claim_types() {
        assert!(claim_type("task").is_ok());
        assert!(claim_type("db-slot").is_ok());
        for bad in ["", "Task", "two words", "a:b", "9x"] {
            assert!(claim_type(bad).is_err(), "{bad}");
        }
    }
}
