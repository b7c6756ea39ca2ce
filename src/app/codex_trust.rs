//! Whether Codex will run coord's hooks in this clone, asked of Codex
//! itself. Codex runs a project's hooks only when the project is trusted,
//! and each hook only when its exact definition was trusted (by a hash
//! Codex keeps in `CODEX_HOME/config.toml`, keyed by the absolute path of
//! `.codex/hooks.json`, the event and the handler's place); an untrusted
//! hook is skipped without a word. coord never computes that hash: it asks
//! `codex app-server` (`config/read`, `hooks/list`), and, when the person
//! asks for it (`coord install codex --trust`), hands the hashes Codex
//! reported back to it (`config/batchWrite`), then lists again to check.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::core::error::{failure, Result};

/// How long Codex may take to answer one request.
const PATIENCE: Duration = Duration::from_secs(30);

/// What Codex says of coord's hooks in one work tree.
#[derive(Debug, Serialize)]
pub struct CodexTrust {
    /// The work tree's top, the project Codex trusts or not.
    pub project: PathBuf,
    /// Codex trusts the project (else it loads none of its `.codex/`).
    pub project_trusted: bool,
    /// coord's hooks as Codex lists them (none when the project is not
    /// trusted: Codex does not read them then).
    pub hooks: Vec<HookTrust>,
    /// Codex will run every coord hook installed here.
    pub ready: bool,
}

#[derive(Debug, Serialize)]
pub struct HookTrust {
    /// Codex's name for the event (`preToolUse`).
    pub event: String,
    /// trusted, untrusted, modified (trusted once, changed since) or managed.
    pub status: String,
    #[serde(skip)]
    key: String,
    #[serde(skip)]
    hash: String,
}

impl CodexTrust {
    /// One line for a person: what Codex will do, and what is left to do.
    pub fn summary(&self, expected: usize) -> String {
        if !self.project_trusted {
            return format!(
                "Codex does not trust {} yet, so it runs none of its hooks",
                self.project.display()
            );
        }
        let waiting: Vec<&str> = self
            .hooks
            .iter()
            .filter(|h| !runs(h))
            .map(|h| h.event.as_str())
            .collect();
        if self.hooks.len() < expected {
            return format!(
                "Codex lists {} of coord's {expected} hooks here; run `coord install codex` again",
                self.hooks.len()
            );
        }
        if waiting.is_empty() {
            format!("Codex will run coord's {} hooks here", self.hooks.len())
        } else {
            format!(
                "Codex will skip coord's hooks for {} until they are trusted (new or changed since trusted)",
                waiting.join(", ")
            )
        }
    }
}

fn runs(h: &HookTrust) -> bool {
    h.status == "trusted" || h.status == "managed"
}

/// The Codex program: `COORD_CODEX` when set (a path; set and empty: do
/// not ask Codex), else `codex` on PATH.
pub fn program() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COORD_CODEX") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("codex"))
        .find(|p| p.is_file())
}

/// Ask Codex about coord's hooks in `hooks_file` (the work tree's
/// `.codex/hooks.json`); with `trust`, first trust the project and coord's
/// hooks as Codex lists them.
pub fn check(codex: &Path, top: &Path, hooks_file: &Path, trust: bool) -> Result<CodexTrust> {
    let mut server = AppServer::start(codex)?;
    let top_s = top.to_string_lossy().to_string();
    let mut state = server.state(&top_s, hooks_file)?;
    if trust && !state.ready {
        if !state.project_trusted {
            server.call(
                "config/batchWrite",
                json!({"edits": [{"keyPath": "projects", "mergeStrategy": "upsert",
                    "value": {top_s.clone(): {"trust_level": "trusted"}}}]}),
            )?;
            state = server.state(&top_s, hooks_file)?;
        }
        let entries: serde_json::Map<String, Value> = state
            .hooks
            .iter()
            .filter(|h| !runs(h))
            .map(|h| (h.key.clone(), json!({"trusted_hash": h.hash})))
            .collect();
        if !entries.is_empty() {
            server.call(
                "config/batchWrite",
                json!({"edits": [{"keyPath": "hooks.state", "mergeStrategy": "upsert", "value": entries}]}),
            )?;
        }
        // Never say it is done without asking again.
        state = server.state(&top_s, hooks_file)?;
    }
    Ok(state)
}

/// `codex app-server`: JSON-RPC, one message a line, on its stdin and stdout.
struct AppServer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next: u64,
}

impl AppServer {
    fn start(codex: &Path) -> Result<AppServer> {
        let mut child = Command::new(codex)
            .arg("app-server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| failure(format!("cannot run {} app-server: {e}", codex.display())))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| failure("codex app-server has no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| failure("codex app-server has no stdout"))?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = AppServer {
            child,
            stdin,
            lines,
            next: 0,
        };
        server.call(
            "initialize",
            json!({"clientInfo": {"name": "coord", "version": env!("CARGO_PKG_VERSION")}}),
        )?;
        server.send(&json!({"method": "initialized"}))?;
        Ok(server)
    }

    fn send(&mut self, msg: &Value) -> Result<()> {
        writeln!(self.stdin, "{msg}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| failure(format!("codex app-server stopped answering: {e}")))
    }

    /// One request and its answer (notifications on the way are ignored).
    fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"id": id, "method": method, "params": params}))?;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).map_err(|_| {
                failure(format!(
                    "codex app-server did not answer {method} within {} s",
                    PATIENCE.as_secs()
                ))
            })?;
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if msg.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(err) = msg.get("error") {
                let text = err.get("message").and_then(Value::as_str).unwrap_or("an error");
                return Err(failure(format!(
                    "codex app-server refused {method}: {}",
                    crate::core::text::sanitize(text, false)
                )));
            }
            return Ok(msg.get("result").cloned().unwrap_or(Value::Null));
        }
    }

    fn state(&mut self, top: &str, hooks_file: &Path) -> Result<CodexTrust> {
        let config = self.call("config/read", json!({"cwd": top}))?;
        let project_trusted = config
            .pointer("/config/projects")
            .and_then(|p| p.get(top))
            .and_then(|p| p.get("trust_level"))
            .and_then(Value::as_str)
            == Some("trusted");
        let list = self.call("hooks/list", json!({"cwds": [top]}))?;
        let mut hooks = Vec::new();
        for entry in list.get("data").and_then(Value::as_array).into_iter().flatten() {
            for h in entry.get("hooks").and_then(Value::as_array).into_iter().flatten() {
                let field = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let ours = Path::new(&field("sourcePath")) == hooks_file
                    && super::install_agent::is_ours(&field("command"));
                if ours {
                    hooks.push(HookTrust {
                        event: field("eventName"),
                        status: field("trustStatus"),
                        key: field("key"),
                        hash: field("currentHash"),
                    });
                }
            }
        }
        let expected = super::install_agent::codex_events();
        let ready = project_trusted && hooks.len() >= expected && hooks.iter().all(runs);
        Ok(CodexTrust {
            project: PathBuf::from(top),
            project_trusted,
            hooks,
            ready,
        })
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
