//! Everything coord takes from the environment, read once, here and nowhere
//! else: the current folder, `COORD_HUB`, `COORD_SESSION`, the agent tool's
//! session id (`COORD_AGENT_ID`, `CLAUDE_CODE_SESSION_ID`, `CODEX_THREAD_ID`,
//! the first set wins), and the test-only `COORD_NOW` and `COORD_ID_SEED`
//! (honoured only with the test switch, never named in any message, so a
//! blocked agent following coord's words cannot move time to make a live
//! claim lapse; every journal entry made under a pinned clock is marked).

use std::path::PathBuf;

use crate::app::identity::{check_agent_id, AGENT_VARS};
use crate::app::{Hints, Location, Options};
use crate::core::clock::{parse_time, whole_seconds, Clock};
use crate::core::error::{failure, usage, Result};
use crate::core::ids::IdSource;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The file an agent tool reads variables for its shells from
/// (`CLAUDE_ENV_FILE`, else `CODEX_ENV_FILE`), when it set one.
pub fn agent_env_file() -> Option<PathBuf> {
    var("CLAUDE_ENV_FILE")
        .or_else(|| var("CODEX_ENV_FILE"))
        .map(PathBuf::from)
}

/// `COORD_GUARD=off`: let this commit through unchecked.
pub fn guard_off() -> bool {
    var("COORD_GUARD").is_some_and(|v| v.eq_ignore_ascii_case("off"))
}

/// Where to look for the hub.
pub fn location(flag: Option<PathBuf>) -> Result<Location> {
    let cwd = std::env::current_dir().map_err(|e| failure(format!("cannot read the current folder: {e}")))?;
    Ok(Location {
        flag,
        env: var("COORD_HUB"),
        cwd,
    })
}

/// The MCP server's own agent id: the sessions it starts belong to its
/// connection, never to the shell that launched it (see `coord mcp`).
static OWN_AGENT: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Make every later call of this process act as the agent `value` of
/// `variable`, whatever the environment says, with this process as its
/// anchor.
pub fn set_own_agent(variable: &str, value: String) {
    let _ = OWN_AGENT.set((variable.to_string(), value));
}

/// The agent ids the caller carries: this process's own (the MCP server),
/// else every agent variable that is set and not empty, most specific
/// first. Each must be a plain, short id.
fn agent_hints(session: Option<String>) -> Result<Hints> {
    if let Some(own) = OWN_AGENT.get() {
        return Ok(Hints {
            flag: session,
            env: None,
            agents: vec![own.clone()],
            own_process: true,
        });
    }
    let mut agents = Vec::new();
    for name in AGENT_VARS {
        if let Some(value) = var(name) {
            check_agent_id(name, &value)?;
            agents.push((name.to_string(), value));
        }
    }
    Ok(Hints {
        flag: session,
        env: var("COORD_SESSION"),
        agents,
        own_process: false,
    })
}

/// How to open the hub: the clock, identity hints and the id source.
pub fn options(session: Option<String>, lenient: bool) -> Result<Options> {
    Ok(Options {
        clock: clock()?,
        hints: agent_hints(session)?,
        ids: IdSource::new(testing_only("COORD_ID_SEED")?.as_deref()),
        lenient,
        machine: machine(),
    })
}

/// This machine's name: `COORD_MACHINE`, else the host name. Kept to a
/// short plain word, since it is written into shared files.
fn machine() -> String {
    let name = var("COORD_MACHINE").unwrap_or_else(hostname);
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(64)
        .collect();
    if clean.is_empty() {
        "local".to_string()
    } else {
        clean
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The clock: pinned by `COORD_NOW` in tests, the system's otherwise.
pub fn clock() -> Result<Clock> {
    let Some(text) = testing_only("COORD_NOW")? else {
        return Ok(Clock::System);
    };
    let t = parse_time(text.trim()).ok_or_else(|| {
        usage(format!(
            "COORD_NOW={text:?} is not an RFC 3339 time; set it like COORD_NOW=2026-01-01T09:00:00Z or unset it"
        ))
    })?;
    Ok(Clock::Fixed(whole_seconds(t)))
}

/// A variable only tests may set: refused unless `COORD_TESTING=1`. The
/// refusal does not say how to enable it: an agent following coord's words
/// never moves time.
fn testing_only(name: &str) -> Result<Option<String>> {
    let Some(value) = var(name) else { return Ok(None) };
    if std::env::var("COORD_TESTING").as_deref() != Ok("1") {
        return Err(usage(format!(
            "{name} is set, and coord does not take it outside its own tests; unset {name} and run the command again"
        )));
    }
    Ok(Some(value))
}
