//! Which session is acting. In order: `--session`, `COORD_SESSION`, the agent
//! tool's own session id recorded at `start` (Claude Code exports
//! `CLAUDE_CODE_SESSION_ID` to the shells it runs), then the process ancestry
//! recorded at `start`. Agent tools run each command in a fresh shell, so an
//! `export` does not persist; what persists is the agent process itself, an
//! ancestor of every shell it spawns.
//!
//! Ancestry rule: a session's *anchor* is the nearest process recorded at its
//! `start` that is still alive (same pid and start time). A command belongs
//! to the session whose anchor is its nearest ancestor. The shell that ran
//! `coord start` dies with its command, so the anchor becomes the agent
//! process (or, for a human, their terminal's shell). There is never a
//! shared "current session" file: two sessions in one folder stay two.

use std::collections::HashMap;

use crate::core::clock::Time;
use crate::core::config::Config;
use crate::core::error::{not_found, CoordError};
use crate::core::model::{Binding, Bindings, Proc, Registry};
use crate::core::rules::{state, validate, State};

/// How many ancestors `start` records: enough to pass the transient shell an
/// agent wraps each command in and reach the agent itself.
pub const RECORDED_DEPTH: usize = 4;
/// How far up a command looks for an anchor.
const SEARCH_DEPTH: usize = 24;

/// What the door knows about identity: `--session`, `COORD_SESSION`, and
/// the agent tool's own session id (read by the CLI from the environment).
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub flag: Option<String>,
    pub env: Option<String>,
    pub agent: Option<String>,
}

impl Hints {
    /// Only an identity not named outright is looked up in the bindings.
    pub fn needs_bindings(&self) -> bool {
        self.flag.is_none() && self.env.is_none()
    }
}

/// The binding `start` records for the calling process.
pub fn binding_for_caller(hints: &Hints) -> Binding {
    Binding {
        agent: hints.agent.clone(),
        procs: ancestry(RECORDED_DEPTH),
        boot: boot_id(),
        extra: Default::default(),
    }
}

/// Find the acting session, or say why not (exit 4 / 2).
pub fn resolve(
    reg: &Registry,
    bindings: &Bindings,
    hints: &Hints,
    now: Time,
    cfg: &Config,
) -> Result<String, CoordError> {
    if let Some((id, how)) = hints
        .flag
        .as_ref()
        .map(|id| (id, "--session"))
        .or_else(|| hints.env.as_ref().map(|id| (id, "COORD_SESSION")))
    {
        validate::session_id(id)?;
        return match reg.sessions.get(id.as_str()).map(|s| state(s, now, cfg)) {
            None => Err(not_found(format!("no session {id:?} in this hub (from {how})"))
                .hint(format!("start it with `coord start --name {id}`"))),
            Some(State::Ended) => Err(not_found(format!("session {id} has ended (from {how})"))
                .hint(format!("resume it with `coord start --name {id} --resume`"))),
            Some(_) => Ok(id.clone()),
        };
    }
    let usable = |id: &str| {
        reg.sessions
            .get(id)
            .is_some_and(|s| state(s, now, cfg) != State::Ended)
    };
    if let Some(agent) = &hints.agent {
        let mut matches: Vec<&String> = bindings
            .sessions
            .iter()
            .filter(|(id, b)| b.agent.as_deref() == Some(agent) && usable(id))
            .map(|(id, _)| id)
            .collect();
        // `start` rebinds an agent id to the newest session; keep the newest.
        matches.sort_by_key(|id| std::cmp::Reverse(reg.sessions[id.as_str()].started));
        if let Some(id) = matches.first() {
            return Ok((*id).clone());
        }
    }
    let chain = ancestry(SEARCH_DEPTH);
    let boot = boot_id();
    let mut best: Vec<(usize, &String)> = Vec::new();
    for (id, b) in &bindings.sessions {
        if !usable(id) || b.procs.is_empty() {
            continue;
        }
        if let Some(depth) = anchor_depth(b, &chain, boot.as_deref(), alive) {
            match best.first() {
                Some((d, _)) if depth > *d => {}
                Some((d, _)) if depth == *d => best.push((depth, id)),
                _ => best = vec![(depth, id)],
            }
        }
    }
    match best.as_slice() {
        [(_, id)] => Ok((*id).clone()),
        [] => Err(not_found("no session is registered for this shell or agent")
            .hint("run `coord start --name NAME`, or pass --session ID (or set COORD_SESSION)")),
        many => {
            let names: Vec<&str> = many.iter().map(|(_, id)| id.as_str()).collect();
            Err(not_found(format!(
                "{} sessions match this process ({})",
                names.len(),
                names.join(", ")
            ))
            .hint("pass --session ID (or set COORD_SESSION) to say which"))
        }
    }
}

/// The depth in `chain` (the caller's ancestors, nearest first) of the
/// binding's anchor: its nearest recorded process that is still alive.
pub fn anchor_depth(
    binding: &Binding,
    chain: &[Proc],
    boot: Option<&str>,
    is_alive: impl Fn(&Proc) -> bool,
) -> Option<usize> {
    if binding.boot.is_some() && binding.boot.as_deref() != boot {
        return None;
    }
    let index: HashMap<Proc, usize> = chain.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    // Cheap exit: no recorded process is an ancestor of the caller.
    if !binding.procs.iter().any(|p| index.contains_key(p)) {
        return None;
    }
    for p in &binding.procs {
        if let Some(depth) = index.get(p) {
            return Some(*depth);
        }
        if is_alive(p) {
            return None;
        }
    }
    None
}

/// Sessions whose ancestry binding a new `start` from `chain` replaces: those
/// anchored at the starting shell or the process right above it (the same
/// agent starting again), so two sessions never share an anchor.
pub fn superseded(bindings: &Bindings, chain: &[Proc], boot: Option<&str>) -> Vec<String> {
    bindings
        .sessions
        .iter()
        .filter(|(_, b)| anchor_depth(b, chain, boot, alive).is_some_and(|d| d <= 1))
        .map(|(id, _)| id.clone())
        .collect()
}

// ---- process ancestry, per platform ---------------------------------------

/// The calling process's ancestors, nearest first, without pid 0 and 1.
pub fn ancestry(depth: usize) -> Vec<Proc> {
    let mut out = Vec::new();
    let mut pid = std::os::unix::process::parent_id();
    while pid > 1 && out.len() < depth {
        match proc_info(pid) {
            Some((start, parent)) => {
                out.push(Proc { pid, start });
                pid = parent;
            }
            None => break,
        }
    }
    out
}

/// The process still runs and is the same one (not a reused pid).
pub fn alive(p: &Proc) -> bool {
    proc_info(p.pid).is_some_and(|(start, _)| start == p.start)
}

/// (start time, parent pid) of a process.
#[cfg(target_os = "linux")]
fn proc_info(pid: u32) -> Option<(u64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 4 is the parent pid, field 22 the start time (after "pid (comm)").
    let parent = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((start, parent))
}

#[cfg(target_os = "macos")]
fn proc_info(pid: u32) -> Option<(u64, u32)> {
    // SAFETY: proc_pidinfo writes at most `size` bytes into `info`, a plain
    // C struct for which all-zero bytes are a valid value.
    unsafe {
        let mut info: libc::proc_bsdinfo = std::mem::zeroed();
        let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
        let n = libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDTBSDINFO,
            0,
            &mut info as *mut libc::proc_bsdinfo as *mut libc::c_void,
            size,
        );
        if n != size {
            return None;
        }
        let start = info.pbi_start_tvsec * 1_000_000 + info.pbi_start_tvusec;
        Some((start, info.pbi_ppid))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn proc_info(pid: u32) -> Option<(u64, u32)> {
    // No portable way to walk further: only the direct parent is known, and
    // only while it is our parent.
    (pid == std::os::unix::process::parent_id()).then_some((0, 0))
}

/// Linux's per-boot id; elsewhere start times are absolute and need none.
fn boot_id() -> Option<String> {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32) -> Proc {
        Proc {
            pid,
            start: pid as u64 * 10,
        }
    }

    fn binding(procs: &[u32]) -> Binding {
        Binding {
            procs: procs.iter().map(|&n| p(n)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn anchor_is_the_nearest_living_recorded_process() {
        // `start` ran in shell 100 under agent 50 under terminal 10.
        let b = binding(&[100, 50, 10]);
        let alive_set = [50u32, 10, 60];
        let is_alive = |q: &Proc| alive_set.contains(&q.pid);
        // A later command: fresh shell 200 under the same agent 50.
        assert_eq!(anchor_depth(&b, &[p(200), p(50), p(10)], None, is_alive), Some(1));
        // Another agent 60 in the same terminal: agent 50 still lives, so no.
        assert_eq!(anchor_depth(&b, &[p(300), p(60), p(10)], None, is_alive), None);
        // Once agent 50 has exited, its terminal is the anchor.
        let only_terminal = |q: &Proc| q.pid == 10;
        assert_eq!(
            anchor_depth(&b, &[p(300), p(60), p(10)], None, only_terminal),
            Some(2)
        );
        // A reused pid (different start time) never matches.
        let reused = Proc { pid: 50, start: 1 };
        assert_eq!(anchor_depth(&b, &[p(200), reused], None, |_| false), None);
    }

    #[test]
    fn other_boots_never_match() {
        let mut b = binding(&[100]);
        b.boot = Some("boot-a".into());
        assert_eq!(anchor_depth(&b, &[p(100)], Some("boot-a"), |_| true), Some(0));
        assert_eq!(anchor_depth(&b, &[p(100)], Some("boot-b"), |_| true), None);
    }

    #[test]
    fn own_ancestry_is_readable() {
        let chain = ancestry(SEARCH_DEPTH);
        assert!(!chain.is_empty());
        assert!(chain.iter().all(alive));
    }
}
