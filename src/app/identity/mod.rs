//! Which session is acting. In order: `--session`, `COORD_SESSION`, the
//! agent tool's own session id, then the process that `coord start` was
//! bound to. The first that is present decides alone: an agent id is never
//! second-guessed by the process tree, and the process tree never falls
//! back to a process further up.
//!
//! The process rule: at `start` a session is bound to one *anchor*, the
//! caller's nearest long-lived process: counting the calling process itself
//! (bash execs the last command of `bash -c 'a && b'`, so `b`'s parent is
//! the agent), and skipping transient wrappers: a shell running `-c` or a
//! script, a subshell fork (a shell whose parent is the same shell with the
//! same arguments), and `env`, `timeout`, `nohup`, `xargs`, `time`, `nice`,
//! `ionice`, `stdbuf`, `setsid`, `taskset`, `git` (hooks and aliases). A
//! later command belongs to the session bound to *its own* anchor and to no
//! other; when the anchor exits the binding is void, and nothing inherits
//! it. There is never a shared "current session": two sessions in one
//! folder stay two.

mod procs;

use serde::Serialize;

use crate::core::clock::Time;
use crate::core::config::Config;
use crate::core::error::{not_found, usage, Result};
use crate::core::model::{Binding, Bindings, Proc, Registry};
use crate::core::rules::{state, validate, State};
use crate::core::text::command_line;

/// The per-session variables agent tools give the commands they run, most
/// specific first: coord's own (for any tool or wrapper), Claude Code's,
/// Codex's.
pub const AGENT_VARS: [&str; 3] = ["COORD_AGENT_ID", "CLAUDE_CODE_SESSION_ID", "CODEX_THREAD_ID"];

/// Wrappers that run a command and end with it: never an anchor.
const WRAPPERS: &[&str] = &[
    "env", "timeout", "nohup", "xargs", "time", "nice", "ionice", "stdbuf", "setsid", "taskset", "git",
];
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish", "tcsh", "csh", "busybox",
];

/// What the door knows about identity: `--session`, `COORD_SESSION`, and
/// the agent tool's own session id (the variable and its value).
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub flag: Option<String>,
    pub env: Option<String>,
    /// Every agent variable that is set (variable, value), the one that
    /// identifies the caller first: an agent may name no other session
    /// through any of them.
    pub agents: Vec<(String, String)>,
    /// The caller is this process itself (the MCP server, whose sessions
    /// belong to its connection), not the process that launched it.
    pub own_process: bool,
}

/// The longest agent id coord keeps (tools use UUIDs: 36 characters).
pub const MAX_AGENT_ID: usize = 128;

/// An agent id is short and plain: letters, digits, `-`, `_`, `.`, `:`.
pub fn check_agent_id(variable: &str, value: &str) -> Result<()> {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if value.len() <= MAX_AGENT_ID && plain {
        return Ok(());
    }
    Err(usage(format!(
        "{variable} holds no agent id coord accepts ({} characters; at most {MAX_AGENT_ID} letters, digits, '-', '_', '.' or ':'); unset it, or set it to the agent's own session id",
        value.chars().count()
    )))
}

impl Hints {
    /// The agent id that identifies the caller, if any.
    pub fn agent(&self) -> Option<&(String, String)> {
        self.agents.first()
    }

    /// Whether the session was named outright (`--session`, `COORD_SESSION`).
    pub fn named(&self) -> bool {
        self.flag.is_some() || self.env.is_some()
    }
}

/// How the acting session was found.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum How {
    /// `--session`
    Flag,
    /// `COORD_SESSION`
    Env,
    /// The agent tool's session id, in this variable.
    Agent { variable: String },
    /// The long-lived process the session was started from.
    Anchor { pid: u32, process: String },
}

impl How {
    /// The short form the journal keeps: `flag`, `env`, `agent:VARIABLE`,
    /// `anchor:PROCESS`.
    pub fn tag(&self) -> String {
        match self {
            How::Flag => "flag".to_string(),
            How::Env => "env".to_string(),
            How::Agent { variable } => format!("agent:{variable}"),
            How::Anchor { process, .. } => format!("anchor:{process}"),
        }
    }

    /// `process bash, pid 123`, `agent id in CLAUDE_CODE_SESSION_ID`.
    pub fn short(&self) -> String {
        match self {
            How::Anchor { pid, process } => format!("process {process}, pid {pid}"),
            How::Agent { variable } => format!("agent id in {variable}"),
            other => other.describe(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            How::Flag => "--session".to_string(),
            How::Env => "COORD_SESSION".to_string(),
            How::Agent { variable } => format!("the agent id in {variable}"),
            How::Anchor { pid, process } => format!("the process it was started from ({process}, pid {pid})"),
        }
    }
}

/// A process as the table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    pub pid: u32,
    pub start: u64,
    pub ppid: u32,
    /// The kernel's short name for it (`bash`, `node`, `claude`).
    pub name: String,
    pub argv: Vec<String>,
}

impl ProcInfo {
    pub fn proc(&self) -> Proc {
        Proc {
            pid: self.pid,
            start: self.start,
        }
    }

    fn is_shell(&self) -> bool {
        SHELLS.contains(&self.program())
    }

    /// The program's name: the kernel's, or argv[0] without its path and a
    /// login shell's leading `-`.
    fn program(&self) -> &str {
        if !self.name.is_empty() {
            return &self.name;
        }
        let argv0 = self.argv.first().map(String::as_str).unwrap_or("");
        argv0.rsplit('/').next().unwrap_or(argv0).trim_start_matches('-')
    }
}

/// Whether a shell's arguments make it run a command and end: `-c` (in any
/// option cluster: `-lc`, `-ec`), `--command`, or a script operand.
fn shell_runs_and_ends(argv: &[String]) -> bool {
    let mut options = true;
    for arg in argv.iter().skip(1) {
        if options && arg == "--" {
            options = false;
            continue;
        }
        if options && arg.starts_with("--") {
            if arg == "--command" {
                return true;
            }
            continue;
        }
        if options && (arg.starts_with('-') || arg.starts_with('+')) && arg.len() > 1 {
            if arg.starts_with('-') && arg[1..].contains('c') {
                return true;
            }
            continue;
        }
        // An operand: a script file.
        return true;
    }
    false
}

/// A process that runs a command for someone else and ends with it.
pub fn is_transient(p: &ProcInfo, parent: Option<&ProcInfo>) -> bool {
    if WRAPPERS.contains(&p.program()) {
        return true;
    }
    if !p.is_shell() {
        return false;
    }
    if shell_runs_and_ends(&p.argv) {
        return true;
    }
    // A subshell `( ... )` or pipeline part: a fork of its parent shell.
    parent.is_some_and(|q| q.is_shell() && q.program() == p.program() && q.argv == p.argv)
}

/// The nearest long-lived process from `first` (the caller) upward.
pub fn find_anchor(first: u32, lookup: impl Fn(u32) -> Option<ProcInfo>) -> Option<ProcInfo> {
    let mut current = lookup(first)?;
    for _ in 0..64 {
        let parent = if current.ppid > 1 {
            lookup(current.ppid)
        } else {
            None
        };
        if !is_transient(&current, parent.as_ref()) {
            return Some(current);
        }
        current = parent?;
    }
    None
}

/// The caller as this machine sees it: its agent id, or else its anchor.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub agent: Option<(String, String)>,
    pub anchor: Option<ProcInfo>,
    pub boot: Option<String>,
}

impl Caller {
    /// Look at the process table only when no agent id decides.
    pub fn detect(hints: &Hints) -> Caller {
        Caller::detect_with(hints, hints.agent().is_none() || hints.own_process)
    }

    /// The caller with its anchor even when an agent id decides: `start`
    /// records the agent's process, so that its binding is known to end
    /// when the agent does, and an agent that unsets its variable is still
    /// known by its process.
    pub fn detect_full(hints: &Hints) -> Caller {
        Caller::detect_with(hints, true)
    }

    fn detect_with(hints: &Hints, anchor: bool) -> Caller {
        let anchor = match (anchor, hints.own_process) {
            (false, _) => None,
            (true, true) => procs::info(std::process::id()),
            (true, false) => find_anchor(std::os::unix::process::parent_id(), procs::info),
        };
        Caller {
            agent: hints.agent().cloned(),
            anchor,
            boot: procs::boot_id(),
        }
    }

    fn agent_key(&self) -> Option<String> {
        self.agent.as_ref().map(|(var, value)| format!("{var}={value}"))
    }

    fn binding(&self) -> Binding {
        Binding {
            agent: self.agent_key(),
            anchor: self.anchor.as_ref().map(ProcInfo::proc),
            boot: self.boot.clone(),
            extra: Default::default(),
        }
    }

    pub fn how(&self) -> Option<How> {
        if let Some((var, _)) = &self.agent {
            return Some(How::Agent {
                variable: var.clone(),
            });
        }
        self.anchor.as_ref().map(|a| How::Anchor {
            pid: a.pid,
            process: a.program().to_string(),
        })
    }

    /// Whether `b` is this caller's binding: the same agent id, or (without
    /// one) the same anchor on the same boot.
    pub fn owns(&self, b: &Binding) -> bool {
        if let Some(key) = self.agent_key() {
            return b.agent.as_deref() == Some(key.as_str());
        }
        // An agent's binding is its id's: its process only tells when it ends.
        b.agent.is_none() && self.anchored_as(b)
    }

    /// Whether binding `b` was made from this caller's anchor (on this boot).
    pub fn anchored_as(&self, b: &Binding) -> bool {
        match (&self.anchor, &b.anchor) {
            (Some(mine), Some(theirs)) => mine.proc() == *theirs && (b.boot.is_none() || b.boot == self.boot),
            _ => false,
        }
    }

    /// The session bound to this caller, if any.
    pub fn bound<'b>(&self, bindings: &'b Bindings) -> Option<&'b str> {
        bindings
            .sessions
            .iter()
            .find(|(_, b)| self.owns(b))
            .map(|(id, _)| id.as_str())
    }

    /// Bind `id` to this caller, taking the binding away from any other
    /// session that had it. Returns whether there was anything to bind to.
    pub fn bind(&self, bindings: &mut Bindings, id: &str) -> bool {
        bindings.sessions.retain(|other, b| other != id && !self.owns(b));
        let binding = self.binding();
        let some = binding.agent.is_some() || binding.anchor.is_some();
        if some {
            bindings.sessions.insert(id.to_string(), binding);
        }
        some
    }
}

/// What holds binding `b`, while it still holds: its agent (whose process,
/// when one was seen at `start`, still runs) or its process. `None` once
/// that process is gone or the machine rebooted: the binding is dead.
pub fn holder(b: &Binding, boot: Option<&str>) -> Option<String> {
    let process = match b.anchor {
        Some(p) if b.boot.is_none() || b.boot.as_deref() == boot => {
            Some(procs::info(p.pid).filter(|i| i.start == p.start)?)
        }
        Some(_) => return None,
        None => None,
    };
    let agent = b.agent.as_deref().map(|a| a.split('=').next().unwrap_or(a));
    Some(match (agent, process) {
        (Some(variable), _) => format!("another agent (its id in {variable})"),
        (None, Some(p)) => format!("another process ({}, pid {})", p.program(), p.pid),
        (None, None) => "another caller".to_string(),
    })
}

/// The live session an agent caller is, when it is not `named`: the one
/// bound to any agent variable it sets, or else to the agent process it
/// runs under (an agent that empties its variable is still that process).
/// Returns the session and how it was known.
fn agent_self(
    roster: &dyn Roster,
    bindings: &Bindings,
    hints: &Hints,
    named: &str,
) -> Option<(String, String)> {
    let live = |id: &str| roster.state_of(id).is_some_and(State::is_live);
    let mut any_bound = false;
    for (variable, value) in &hints.agents {
        let key = format!("{variable}={value}");
        let bound = bindings
            .sessions
            .iter()
            .find(|(id, b)| b.agent.as_deref() == Some(key.as_str()) && live(id));
        if let Some((id, _)) = bound {
            if id != named {
                return Some((id.clone(), variable.clone()));
            }
            any_bound = true;
        }
    }
    if any_bound || bindings.sessions.values().all(|b| b.agent.is_none()) {
        return None;
    }
    // No variable names a live agent session: the process decides. A
    // process that runs an agent's session may not act as a live session
    // that another agent or process holds. (A named session bound nowhere
    // here is held by no one here: no need to read the process table.)
    let theirs = bindings.sessions.get(named)?;
    let caller = Caller::detect_full(&Hints {
        own_process: hints.own_process,
        ..Hints::default()
    });
    let (agent, _) = bindings
        .sessions
        .iter()
        .find(|(id, b)| b.agent.is_some() && caller.anchored_as(b) && live(id))?;
    if !live(named) || caller.anchored_as(theirs) {
        return None;
    }
    holder(theirs, caller.boot.as_deref())?;
    let process = caller.how().map(|h| h.short()).unwrap_or_default();
    Some((agent.clone(), process))
}

/// What identity needs to know of the sessions: each one's state now, and
/// their names (for "did you mean"). The registry is one; the hot path's
/// digest is another.
pub trait Roster {
    fn state_of(&self, id: &str) -> Option<State>;
    fn names(&self) -> Vec<String>;
}

struct RegRoster<'a> {
    reg: &'a Registry,
    now: Time,
    cfg: &'a Config,
}

impl Roster for RegRoster<'_> {
    fn state_of(&self, id: &str) -> Option<State> {
        self.reg.sessions.get(id).map(|s| state(s, self.now, self.cfg))
    }

    fn names(&self) -> Vec<String> {
        self.reg.sessions.keys().cloned().collect()
    }
}

/// Find the acting session, or say why not (exit 4 / 2). Never names
/// another session as one to use.
pub fn resolve(
    reg: &Registry,
    bindings: &Bindings,
    hints: &Hints,
    now: Time,
    cfg: &Config,
) -> Result<(String, How)> {
    resolve_in(&RegRoster { reg, now, cfg }, bindings, hints)
}

/// `resolve` over any roster.
pub fn resolve_in(roster: &dyn Roster, bindings: &Bindings, hints: &Hints) -> Result<(String, How)> {
    let named = hints
        .flag
        .as_ref()
        .map(|id| (id, How::Flag))
        .or_else(|| hints.env.as_ref().map(|id| (id, How::Env)));
    if let Some((id, how)) = named {
        validate::session_id(id)?;
        let from = how.describe();
        // An agent bound to a live session acts as that session only: a
        // confused or injected agent cannot borrow another's name.
        if let Some((mine, by)) = agent_self(roster, bindings, hints, id) {
            return Err(not_found(format!(
                "this agent is session {mine} (by {by}) and cannot act as {id} (from {from})"
            )));
        }
        return match roster.state_of(id) {
            None => {
                let e = not_found(format!("no session {id:?} in this hub (from {from})"));
                let names = roster.names();
                let e = match crate::core::text::closest(id, names.iter().map(String::as_str)) {
                    Some(n) => e.hint(format!("did you mean {n}?")),
                    None => e,
                };
                Err(e.hint(format!(
                    "start it with `{}`",
                    command_line(&["start", "--name", id])
                )))
            }
            Some(State::Ended) => Err(not_found(format!("session {id} has ended (from {from})")).hint(
                format!(
                    "resume it with `{}`",
                    command_line(&["start", "--name", id, "--resume"])
                ),
            )),
            Some(_) => Ok((id.clone(), how)),
        };
    }
    let caller = Caller::detect(hints);
    let Some(how) = caller.how() else {
        return Err(not_found(
            "no session is bound here: no agent id, and no long-lived process above this command",
        )
        .hint("run `coord start --name NAME`, or pass --session ID"));
    };
    let Some(id) = caller.bound(bindings) else {
        return Err(not_found(format!(
            "no session is bound to this agent or shell ({})",
            how.short()
        ))
        .hint("run `coord start --name NAME` to start one"));
    };
    match roster.state_of(id) {
        Some(State::Ended) | None => Err(
            not_found(format!("the session bound here ({id}) has ended")).hint(format!(
                "run `{}` to take it back, or `coord start --name NAME` for a new one",
                command_line(&["start", "--name", id, "--resume"])
            )),
        ),
        Some(_) => Ok((id.to_string(), how)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32, ppid: u32, name: &str, argv: &[&str]) -> ProcInfo {
        ProcInfo {
            pid,
            start: pid as u64 * 10,
            ppid,
            name: name.to_string(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn anchor_in(table: &[ProcInfo], first: u32) -> Option<u32> {
        find_anchor(first, |pid| table.iter().find(|q| q.pid == pid).cloned()).map(|a| a.pid)
    }

    #[test]
    fn wrappers_and_command_shells_are_skipped() {
        let table = [
            p(10, 1, "tmux: server", &["tmux"]),
            p(20, 10, "bash", &["-bash"]),
            p(30, 20, "node", &["node", "/usr/bin/claude"]),
            p(
                40,
                30,
                "bash",
                &["/bin/bash", "-c", "-l", "coord start && coord heartbeat"],
            ),
            p(41, 30, "bash", &["bash", "-lc", "timeout 5 coord inbox"]),
            p(42, 41, "timeout", &["timeout", "5", "coord", "inbox"]),
            p(43, 30, "sh", &["sh", "./deploy.sh"]),
            p(44, 43, "env", &["env", "A=1", "coord"]),
            p(50, 20, "bash", &["-bash"]),
            p(60, 20, "git", &["git", "commit"]),
            p(61, 60, "sh", &["/bin/sh", ".git/hooks/pre-commit"]),
        ];
        // The agent's shells, wrappers and scripts all lead to the agent.
        for caller in [40, 41, 42, 43, 44, 30] {
            assert_eq!(anchor_in(&table, caller), Some(30), "from {caller}");
        }
        // A human's interactive shell is the anchor; its subshell fork is not.
        assert_eq!(anchor_in(&table, 20), Some(20));
        assert_eq!(anchor_in(&table, 50), Some(20), "a subshell fork of -bash");
        // A git hook run from the human's shell belongs to that shell.
        assert_eq!(anchor_in(&table, 61), Some(20));
        // Nothing long-lived above: no anchor.
        let lone = [p(5, 1, "bash", &["bash", "-c", "coord x"])];
        assert_eq!(anchor_in(&lone, 5), None);
    }

    #[test]
    fn shell_arguments() {
        let runs =
            |args: &[&str]| shell_runs_and_ends(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        assert!(runs(&["bash", "-c", "x"]));
        assert!(runs(&["bash", "-lc", "x"]));
        assert!(runs(&["sh", "-ec", "x"]));
        assert!(runs(&["fish", "--command", "x"]));
        assert!(runs(&["bash", "script.sh"]));
        assert!(runs(&["bash", "--", "script.sh"]));
        assert!(!runs(&["bash"]));
        assert!(!runs(&["-bash"]));
        assert!(!runs(&["bash", "-i"]));
        assert!(!runs(&["zsh", "-l"]));
        assert!(!runs(&["bash", "--login", "--norc"]));
    }

    fn caller_at(pid: u32, start: u64) -> Caller {
        Caller {
            agent: None,
            anchor: Some(p(pid, 1, "node", &["node"])).map(|mut a| {
                a.start = start;
                a
            }),
            boot: Some("b1".into()),
        }
    }

    #[test]
    fn a_binding_is_one_caller_and_moves_whole() {
        let mut bindings = Bindings::default();
        let agent = caller_at(30, 300);
        assert!(agent.bind(&mut bindings, "alice"));
        assert_eq!(agent.bound(&bindings), Some("alice"));
        // A reused pid (another start time) is another process.
        assert_eq!(caller_at(30, 999).bound(&bindings), None);
        // Another boot: never the same process.
        let mut other_boot = caller_at(30, 300);
        other_boot.boot = Some("b2".into());
        assert_eq!(other_boot.bound(&bindings), None);
        // Binding another session to the same caller moves the binding.
        agent.bind(&mut bindings, "bob");
        assert_eq!(agent.bound(&bindings), Some("bob"));
        assert!(!bindings.sessions.contains_key("alice"));
        // An agent id is its own key, whatever the process.
        let claude = Caller {
            agent: Some(("CLAUDE_CODE_SESSION_ID".into(), "abc".into())),
            anchor: None,
            boot: None,
        };
        assert_eq!(claude.bound(&bindings), None);
        claude.bind(&mut bindings, "carol");
        assert_eq!(claude.bound(&bindings), Some("carol"));
        assert_eq!(agent.bound(&bindings), Some("bob"));
    }

    #[test]
    fn own_process_table_is_readable() {
        let me = procs::info(std::process::id()).expect("this process");
        assert_eq!(me.pid, std::process::id());
        assert!(!me.argv.is_empty());
        let parent = procs::info(me.ppid).expect("the parent");
        assert_eq!(parent.pid, me.ppid);
    }
}
