//! `coord hook EVENT`: the agent tools' hooks (Claude Code and Codex share
//! one contract: JSON on stdin with `session_id`, `cwd`, `hook_event_name`,
//! `tool_name`, `tool_input`; a decision as `hookSpecificOutput` JSON on
//! stdout). The hub is found from the payload's `cwd` and the session from
//! its `session_id`, never from variables that may be wrong in worktrees.
//! Cursor sends `conversation_id` and `workspace_roots` instead, and takes
//! `permission` and `additional_context` back.

use std::path::{Path, PathBuf};

use crate::app::heartbeat::{heartbeat, HeartbeatRequest};
use crate::app::hook::{pre_tool_use, relative, resolve, tool_call, Decision};
use crate::app::identity::check_agent_id;
use crate::app::inbox::{inbox, InboxRequest};
use crate::app::prime::prime_started;
use crate::app::start::{start, StartRequest};
use crate::app::{Ctx, Hints, Location};
use crate::cli::commands::prime::text as prime_text;
use crate::cli::ui::Ui;
use crate::core::error::{usage, CoordError, Kind, Result};
use crate::core::model::Level;
use crate::core::text::{clip, command_line, sanitize, shell_quote};

/// Answer an agent tool's hook (reads the hook JSON on stdin)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent tool's hook event this answers
    #[arg(value_enum)]
    pub event: Event,
    /// Which tool runs the hook: its session (Cursor: conversation) id is the agent id
    #[arg(long, value_enum, default_value = "claude")]
    pub agent: AgentTool,
    /// session-start: the role of a session it registers (default: none)
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
}

/// What the hook tells the agent tool.
enum Answer {
    Nothing,
    Deny(String),
    /// Text added to the agent's context.
    Context(String),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Event {
    /// Before a tool runs: deny writes into others' claims, and everything but coord during an emergency
    PreToolUse,
    /// A session starts, resumes, or its context was cleared or compacted: register or take back its coord session, and prime it
    SessionStart,
    /// The user sent a prompt: a sign of life, and new messages into the context
    UserPromptSubmit,
    /// A tool ran: a sign of life (the file edited becomes the activity), and new messages into the context
    PostToolUse,
    /// The agent finished its turn: a sign of life
    Stop,
    /// The agent session ends: a last sign of life (the coord session stays, as after /clear)
    SessionEnd,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Event::PreToolUse => "PreToolUse",
            Event::SessionStart => "SessionStart",
            Event::UserPromptSubmit => "UserPromptSubmit",
            Event::PostToolUse => "PostToolUse",
            Event::Stop => "Stop",
            Event::SessionEnd => "SessionEnd",
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum AgentTool {
    Claude,
    Codex,
    Cursor,
}

impl AgentTool {
    /// The variable the tool sets in its shells to the same session id.
    fn variable(self) -> &'static str {
        match self {
            AgentTool::Claude => "CLAUDE_CODE_SESSION_ID",
            AgentTool::Codex => "CODEX_THREAD_ID",
            // Cursor sets no such variable in its shells; the name only
            // labels the binding.
            AgentTool::Cursor => "CURSOR_CONVERSATION_ID",
        }
    }
}

/// The hooks fire on every tool call; a sign of life less than this many
/// seconds after the last one changes nothing and writes nothing. Liveness
/// is judged in minutes (`liveness.stale_after`), so nothing is lost.
const BEAT_EVERY_SECONDS: i64 = 10;

/// `coord [--hub DIR] hook EVENT [--agent A] [--role R]` as the installed
/// hooks write it, read without clap: building the command tree of every
/// subcommand is a third of a bare start-up, and the hooks run on every
/// tool call. Values are parsed by the same `ValueEnum`s clap uses; anything
/// else (help, other options, a bad value) returns `None` and goes through
/// clap as usual, so errors read the same.
pub fn quick_args(argv: &[std::ffi::OsString]) -> Option<(Option<PathBuf>, Args)> {
    use clap::ValueEnum;
    let words: Vec<&str> = argv.iter().skip(1).map(|a| a.to_str()).collect::<Option<_>>()?;
    let mut hub = None;
    let mut rest = words.as_slice();
    if let ["--hub", dir, tail @ ..] = rest {
        hub = Some(PathBuf::from(dir));
        rest = tail;
    }
    let ["hook", event, tail @ ..] = rest else {
        return None;
    };
    let mut tail: &[&str] = tail;
    let mut args = Args {
        event: Event::from_str(event, false).ok()?,
        agent: AgentTool::Claude,
        role: None,
    };
    while let [flag, value, more @ ..] = tail {
        let flag: &str = flag;
        match flag {
            "--agent" => args.agent = AgentTool::from_str(value, false).ok()?,
            "--role" if !value.starts_with('-') => args.role = Some(value.to_string()),
            _ => return None,
        }
        tail = more;
    }
    tail.is_empty().then_some((hub, args))
}

/// The largest payload read (an apply_patch of a big file fits).
const MAX_PAYLOAD: u64 = 16 << 20;

pub fn run(ui: &Ui, hub_flag: Option<PathBuf>, args: &Args) -> Result<()> {
    let answer = match decide(hub_flag, args) {
        Ok(a) => a,
        // A hook that fails must not let the call through by accident: the
        // agent is told why, and what to run.
        // The next step depends on what failed: the payload (the hook's
        // set-up), or the hub.
        Err(e) => match args.event {
            Event::PreToolUse => {
                Answer::Deny(format!("coord could not check this call: {e}; {}", next_step(&e)))
            }
            Event::SessionStart => Answer::Context(format!(
                "coord could not register this session: {e}; {}, then `coord start --name NAME`",
                next_step(&e)
            )),
            Event::UserPromptSubmit | Event::PostToolUse => Answer::Context(format!(
                "coord could not read your messages: {e}; run `coord inbox`"
            )),
            // Nothing to tell an agent that has finished.
            Event::Stop | Event::SessionEnd => Answer::Nothing,
        },
    };
    let out = match (answer, args.agent) {
        (Answer::Nothing, _) => return Ok(()),
        (Answer::Deny(reason), AgentTool::Cursor) => serde_json::json!({
            "permission": "deny",
            "user_message": reason,
            "agent_message": reason,
        }),
        (Answer::Context(text), AgentTool::Cursor) => serde_json::json!({ "additional_context": text }),
        (Answer::Deny(reason), tool) => serde_json::json!({ "hookSpecificOutput": {
            "hookEventName": args.event.name(),
            "permissionDecision": "deny",
            // Codex goes on with ". Command: ..." after the reason: one
            // period, not two.
            "permissionDecisionReason": match tool {
                AgentTool::Codex => reason.trim_end_matches('.').to_string(),
                _ => reason,
            },
        }}),
        (Answer::Context(text), _) => serde_json::json!({ "hookSpecificOutput": {
            "hookEventName": args.event.name(),
            "additionalContext": text,
        }}),
    };
    ui.out(&format!("{out}\n"))
}

/// What to do when a hook fails: a payload it cannot read is the hook's
/// set-up (`doctor` checks the hub, not the payload); anything else, the hub.
fn next_step(e: &CoordError) -> &'static str {
    if e.kind == Kind::Usage {
        "the agent tool's hook set-up is wrong: rewrite it with `coord install claude` (or codex, cursor)"
    } else {
        "run `coord doctor`"
    }
}

fn decide(hub_flag: Option<PathBuf>, args: &Args) -> Result<Answer> {
    let text = crate::cli::read_input(MAX_PAYLOAD)
        .map_err(|e| usage(format!("cannot read the hook payload on stdin: {e}")))?;
    let payload: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "the hook payload is not JSON ({e}); coord hook reads what the agent tool sends"
        ))
    })?;
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let first_root = payload
        .get("workspace_roots")
        .and_then(|r| r.get(0))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty());
    let cwd = PathBuf::from(
        field("cwd")
            .or(first_root)
            .ok_or_else(|| usage("the hook payload has no cwd (nor workspace_roots)"))?,
    );
    let session = match args.agent {
        AgentTool::Cursor => field("conversation_id").or_else(|| field("session_id")),
        _ => field("session_id"),
    }
    .ok_or_else(|| usage("the hook payload has no session_id (Cursor: conversation_id)"))?;
    let variable = args.agent.variable();
    let agent = (variable.to_string(), session.to_string());
    let open = |hub: &Path| -> Result<Ctx> {
        check_agent_id(&format!("the payload's session id ({variable})"), session)?;
        let mut opts = crate::cli::env::options(None, false)?;
        opts.hints = Hints {
            agents: vec![agent.clone()],
            ..Hints::default()
        };
        let location = Location {
            flag: Some(hub.to_path_buf()),
            env: None,
            cwd: hub.to_path_buf(),
        };
        let mut ctx = Ctx::open(&location, opts)?;
        ctx.beat_every = Some(chrono::Duration::seconds(BEAT_EVERY_SECONDS));
        Ok(ctx)
    };
    let cwd = resolve(&cwd);
    let hub_of = |dir: &Path| {
        Location {
            flag: hub_flag.clone(),
            env: None,
            cwd: dir.to_path_buf(),
        }
        .find()
        .ok()
        .map(|h| resolve(&h))
    };
    let cwd_hub = hub_of(&cwd);
    if let Event::PreToolUse = args.event {
        let tool = field("tool_name").unwrap_or("");
        let input = payload.get("tool_input").cloned().unwrap_or_default();
        let call = tool_call(tool, &input, &cwd);
        // Each file is judged by the hub of the repository it is in, and
        // the call by the hub of its folder (an emergency stops it there).
        let mut hubs: Vec<(PathBuf, Vec<String>)> = cwd_hub.iter().map(|h| (h.clone(), Vec::new())).collect();
        for file in &call.files {
            let dir = file.parent().unwrap_or(file);
            let Some(hub) = hub_of(dir) else { continue };
            let Some(path) = relative(file, &top_of(dir, &hub)) else {
                continue;
            };
            match hubs.iter_mut().find(|(h, _)| *h == hub) {
                Some((_, paths)) => paths.push(path),
                None => hubs.push((hub, vec![path])),
            }
        }
        let mut notes = Vec::new();
        for (hub, paths) in hubs {
            match pre_tool_use(&open(&hub)?, call.coord_only, &paths)? {
                Decision::Deny { reason } => return Ok(Answer::Deny(reason)),
                Decision::Note { context } => notes.push(context),
                Decision::Pass => {}
            }
        }
        return Ok(if notes.is_empty() {
            Answer::Nothing
        } else {
            Answer::Context(notes.join("\n"))
        });
    }
    // Not a coord repository: nothing to record.
    let Some(hub_dir) = cwd_hub else {
        return Ok(Answer::Nothing);
    };
    let ctx = open(&hub_dir)?;
    let top = top_of(&cwd, &hub_dir);
    match args.event {
        Event::PreToolUse => Ok(Answer::Nothing),
        Event::SessionStart => session_start(&ctx, args),
        // Cursor cannot add to the context before a prompt: a sign of life
        // only, and the messages wait for the next tool call.
        Event::UserPromptSubmit if matches!(args.agent, AgentTool::Cursor) => {
            let _ = unregistered(heartbeat(&ctx, &HeartbeatRequest::default()))?;
            Ok(Answer::Nothing)
        }
        Event::UserPromptSubmit | Event::PostToolUse => {
            let mut activity = None;
            if matches!(args.event, Event::PostToolUse) {
                let input = payload.get("tool_input").cloned().unwrap_or_default();
                activity = tool_call(field("tool_name").unwrap_or(""), &input, &cwd)
                    .files
                    .iter()
                    .find_map(|f| relative(f, &top));
            }
            news(&ctx, activity)
        }
        Event::Stop | Event::SessionEnd => {
            let _ = unregistered(heartbeat(&ctx, &HeartbeatRequest::default()))?;
            Ok(Answer::Nothing)
        }
    }
}

/// An agent without a coord session gets nothing from these events (its
/// session-start hook registers it); other errors are errors.
fn unregistered<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == Kind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A sign of life (the file being edited as the activity), then the
/// messages that arrived since the last look, each shown once: reading them
/// here moves the session's cursor as `coord inbox` does. Most urgent first,
/// bodies cut short; nothing at all when nothing is new.
fn news(ctx: &Ctx, editing: Option<String>) -> Result<Answer> {
    let req = InboxRequest {
        limit: Some(NEWS_LIMIT),
        activity: editing.map(|path| HeartbeatRequest {
            action: Some("editing".to_string()),
            target: Some(path.clone()),
            edited: Some(path),
            ..HeartbeatRequest::default()
        }),
        ..InboxRequest::default()
    };
    let Some(report) = unregistered(inbox(ctx, &req))? else {
        return Ok(Answer::Nothing);
    };
    let mut new: Vec<_> = report
        .messages
        .iter()
        .filter(|m| m.unread)
        .map(|m| &m.message)
        .collect();
    if new.is_empty() {
        return Ok(Answer::Nothing);
    }
    new.sort_by(|a, b| b.level.cmp(&a.level).then(a.ts.cmp(&b.ts)));
    let mut text = format!(
        "coord: {} new message{} for you:\n",
        new.len(),
        if new.len() == 1 { "" } else { "s" }
    );
    for m in new {
        text.push_str(&format!(
            "[{}] {} from {}: {}\n",
            m.level.as_str(),
            sanitize(&m.id, false),
            sanitize(&m.from, false),
            sanitize(&m.subject, false)
        ));
        let body = sanitize(&m.body, false);
        if !body.is_empty() {
            text.push_str(&format!("    {}\n", clip(&body, NEWS_BODY)));
        }
        if m.level >= Level::Critical {
            text.push_str(&format!("    acknowledge: `{}`\n", command_line(&["ack", &m.id])));
        }
    }
    if report.remaining > 0 {
        text.push_str(&format!("{} more unread: run `coord inbox`\n", report.remaining));
    }
    Ok(Answer::Context(text))
}

/// Messages put into the context per event, and characters of each body.
const NEWS_LIMIT: usize = 10;
const NEWS_BODY: usize = 300;

/// Register the agent's session, or take back the one bound to its id
/// (again after `/clear` and compaction: same session), tell its shells
/// who they are, and prime it.
fn session_start(ctx: &Ctx, args: &Args) -> Result<Answer> {
    let id = match crate::app::start::quick_resume(ctx, args.role.as_deref())? {
        Some(id) => id,
        None => {
            start(
                ctx,
                &StartRequest {
                    role: args.role.clone(),
                    ..StartRequest::default()
                },
            )?
            .session
            .id
        }
    };
    if let Some(file) = crate::cli::env::agent_env_file() {
        let line = format!("export COORD_SESSION={}\n", shell_quote(&id));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&file)
            .map_err(|e| CoordError::io("write", &file, e))?;
        std::io::Write::write_all(&mut f, line.as_bytes()).map_err(|e| CoordError::io("write", &file, e))?;
    }
    Ok(Answer::Context(prime_text(&prime_started(ctx, &id)?)))
}

/// The top of the work tree `dir` is in (the folder holding `.git` at or
/// above it, found without running git), else the folder holding the hub;
/// resolved, as the files are.
fn top_of(dir: &Path, hub: &Path) -> PathBuf {
    let top = dir
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or_else(|| hub.parent().unwrap_or(dir));
    resolve(top)
}
