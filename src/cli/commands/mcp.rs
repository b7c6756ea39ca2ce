//! `coord mcp`: coord as an MCP server on stdio, built on the official SDK
//! (`rmcp`). Each tool is the CLI command of the same name run in-process
//! with a captured console: the same checks, the same errors and hints, the
//! same JSON (as structured content) and the same short text. The server
//! holds the session: `start` binds it, and every later call acts as it.
//! Nothing but the protocol reaches stdout.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use serde::Deserialize;

use crate::cli::ui::Ui;
use crate::core::error::{failure, Result};

/// Serve coord's tools over MCP on stdin/stdout (one server per agent session)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which tools to offer: all of them, or the four an agent needs most
    /// (claim, release, inbox, send) to save context
    #[arg(long, value_enum, default_value = "full")]
    pub tools: Profile,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// start, whoami, status, claim, release, heartbeat, send, inbox, ack, brief, prime
    Full,
    /// claim, release, inbox, send
    Minimal,
}

/// How the bindings name an MCP connection's agent id.
pub const MCP_VARIABLE: &str = "COORD_MCP";

/// The tools of the minimal profile.
pub const MINIMAL: &[&str] = &["claim", "release", "inbox", "send"];

pub fn run(_ui: &Ui, hub: Option<PathBuf>, session: Option<String>, args: &Args) -> Result<()> {
    // The sessions this server starts belong to this connection: its own
    // agent id, anchored to this process, never the shell that launched it
    // nor an agent variable it inherited.
    let mut bytes = [0u8; 8];
    crate::core::ids::os_random_bytes(&mut bytes)
        .map_err(|e| failure(format!("cannot read /dev/urandom for this server's id: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    crate::cli::env::set_own_agent(MCP_VARIABLE, format!("mcp-{}-{hex}", std::process::id()));
    let server = Server::new(hub, session, args.tools);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failure(format!("cannot start the MCP server: {e}")))?;
    runtime.block_on(async {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| failure(format!("the MCP client did not complete the handshake: {e}")))?;
        service
            .waiting()
            .await
            .map_err(|e| failure(format!("the MCP server stopped: {e}")))?;
        Ok(())
    })
}

#[derive(Clone)]
pub struct Server {
    tool_router: ToolRouter<Self>,
    hub: Option<PathBuf>,
    /// The session this server acts as, once known (`--session`, or bound by
    /// the `start` tool).
    session: Arc<Mutex<Option<String>>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct StartParams {
    /// A readable name (default: generated)
    pub name: Option<String>,
    pub role: Option<String>,
    /// What the session is working on
    pub focus: Option<String>,
    /// Take back a session of that name that has ended or that nobody
    /// holds any more (a live one held by another agent is refused)
    #[serde(default)]
    pub resume: bool,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct StatusParams {
    /// Include ended sessions
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ClaimParams {
    /// task, file, service, resource...
    #[serde(rename = "type")]
    pub kind: String,
    /// For file: a glob relative to the repository root
    pub name: String,
    /// A hard deadline: 90m, 2h (default: while the session is live)
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub note: Option<String>,
    /// Take it from its holder (they are told)
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ReleaseParams {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    /// Release every claim of the session
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct HeartbeatParams {
    /// editing, testing, reviewing...
    pub action: Option<String>,
    pub target: Option<String>,
    pub phase: Option<String>,
    /// 0-100
    pub progress: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SendParams {
    /// A session id or name, @role, or broadcast
    pub to: String,
    pub subject: String,
    pub body: Option<String>,
    /// info, warning, critical, emergency
    pub level: Option<String>,
    /// The message id this answers
    pub reply_to: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct InboxParams {
    /// Read ones too
    #[serde(default)]
    pub all: bool,
    /// Do not mark as read
    #[serde(default)]
    pub peek: bool,
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AckParams {
    /// The message id
    pub id: String,
    /// Also mark the emergency resolved
    #[serde(default)]
    pub resolve: bool,
}

/// `--flag=VALUE` when the value is set (one word: a value that starts
/// with a hyphen stays a value).
fn opt(argv: &mut Vec<String>, flag: &str, value: &Option<impl ToString>) {
    if let Some(v) = value {
        argv.push(format!("{flag}={}", v.to_string()));
    }
}

/// `--flag` when set.
fn switch(argv: &mut Vec<String>, flag: &str, on: bool) {
    if on {
        argv.push(flag.to_string());
    }
}

#[tool_router]
impl Server {
    pub fn new(hub: Option<PathBuf>, session: Option<String>, profile: Profile) -> Self {
        // The profile's tools, their schemas without the `$schema` line
        // (the same in every tool: bytes of context for nothing).
        let mut tool_router = ToolRouter::new();
        for mut route in Self::tool_router() {
            if profile == Profile::Minimal && !MINIMAL.contains(&route.name()) {
                continue;
            }
            let mut schema = (*route.attr.input_schema).clone();
            schema.remove("$schema");
            route.attr.input_schema = Arc::new(schema);
            tool_router.add_route(route);
        }
        Server {
            tool_router,
            hub,
            session: Arc::new(Mutex::new(session)),
        }
    }

    /// Run `coord ARGS` in-process as this server's session.
    fn call(&self, args: Vec<String>) -> CallToolResult {
        let session = self.session.lock().map(|s| s.clone()).unwrap_or_default();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out) = crate::cli::run_as(self.hub.as_deref(), session.as_deref(), &args);
        let text = out.text();
        if code != 0 {
            let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
            r.structured_content =
                Some(serde_json::json!({ "error": out.stderr.trim_end(), "exit_code": code }));
            return r;
        }
        let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
        r.structured_content = out.structured;
        r
    }

    #[tool(
        description = "Register this agent as a coord session, or take back its own; call once first. Later calls act as it."
    )]
    fn start(&self, Parameters(p): Parameters<StartParams>) -> CallToolResult {
        let mut argv = vec!["start".to_string()];
        opt(&mut argv, "--name", &p.name);
        opt(&mut argv, "--role", &p.role);
        opt(&mut argv, "--focus", &p.focus);
        switch(&mut argv, "--resume", p.resume);
        let result = self.call(argv);
        let id = result
            .structured_content
            .as_ref()
            .and_then(|v| v["session"]["id"].as_str())
            .map(str::to_string);
        if let (Some(id), Ok(mut held)) = (id, self.session.lock()) {
            *held = Some(id);
        }
        result
    }

    #[tool(description = "Which session this server acts as.")]
    fn whoami(&self) -> CallToolResult {
        self.call(vec!["whoami".into()])
    }

    #[tool(description = "The team: sessions, what they do, claims, alerts.")]
    fn status(&self, Parameters(p): Parameters<StatusParams>) -> CallToolResult {
        let mut argv = vec!["status".to_string()];
        switch(&mut argv, "--all", p.all);
        self.call(argv)
    }

    #[tool(
        description = "Claim work before touching it (type task|file|service|resource, name). Fails naming the holder if held."
    )]
    fn claim(&self, Parameters(p): Parameters<ClaimParams>) -> CallToolResult {
        let mut argv = vec!["claim".to_string()];
        opt(&mut argv, "--for", &p.for_);
        opt(&mut argv, "--note", &p.note);
        switch(&mut argv, "--force", p.force);
        argv.extend(["--".to_string(), p.kind, p.name]);
        self.call(argv)
    }

    #[tool(description = "Release a claim (type, name), or all of them.")]
    fn release(&self, Parameters(p): Parameters<ReleaseParams>) -> CallToolResult {
        let mut argv = vec!["release".to_string()];
        switch(&mut argv, "--all", p.all);
        if !p.all {
            argv.push("--".to_string());
            argv.extend(p.kind);
            argv.extend(p.name);
        }
        self.call(argv)
    }

    #[tool(description = "A sign of life, with what the session is doing.")]
    fn heartbeat(&self, Parameters(p): Parameters<HeartbeatParams>) -> CallToolResult {
        let mut argv = vec!["heartbeat".to_string()];
        opt(&mut argv, "--action", &p.action);
        opt(&mut argv, "--target", &p.target);
        opt(&mut argv, "--phase", &p.phase);
        opt(&mut argv, "--progress", &p.progress);
        opt(&mut argv, "--note", &p.note);
        self.call(argv)
    }

    #[tool(description = "Message a session, @role or broadcast.")]
    fn send(&self, Parameters(p): Parameters<SendParams>) -> CallToolResult {
        let mut argv = vec!["send".to_string()];
        opt(&mut argv, "--level", &p.level);
        opt(&mut argv, "--reply-to", &p.reply_to);
        argv.extend(["--".to_string(), p.to, p.subject]);
        argv.extend(p.body);
        self.call(argv)
    }

    #[tool(description = "Messages for this session; marks them read.")]
    fn inbox(&self, Parameters(p): Parameters<InboxParams>) -> CallToolResult {
        let mut argv = vec!["inbox".to_string()];
        switch(&mut argv, "--all", p.all);
        switch(&mut argv, "--peek", p.peek);
        opt(&mut argv, "--limit", &p.limit);
        self.call(argv)
    }

    #[tool(description = "Acknowledge a critical or emergency message (resolve: close the emergency).")]
    fn ack(&self, Parameters(p): Parameters<AckParams>) -> CallToolResult {
        let mut argv = vec!["ack".to_string()];
        switch(&mut argv, "--resolve", p.resolve);
        argv.extend(["--".to_string(), p.id]);
        self.call(argv)
    }

    #[tool(description = "The team briefing (CURRENT_STATE.md) as Markdown.")]
    fn brief(&self) -> CallToolResult {
        self.call(vec!["brief".into(), "--stdout".into()])
    }

    #[tool(description = "The protocol to follow, with this session's live facts.")]
    fn prime(&self) -> CallToolResult {
        self.call(vec!["prime".into()])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("coord", env!("CARGO_PKG_VERSION")))
            .with_instructions(
            "coord coordinates the sessions working on this repository. Call start once, claim before editing, read inbox, release when done.",
        )
    }
}
