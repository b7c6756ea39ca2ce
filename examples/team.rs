//! A scripted day of a five-session team on a scratch hub, printing what each
//! session runs and sees. Time is pinned with COORD_NOW and ids are seeded
//! with COORD_ID_SEED, so the hub it leaves is the same byte for byte on
//! every run: `docs/sample-hub/` in this repository is that hub.
//!
//!     cargo run --release --example team                  # a hub in the temp folder
//!     cargo run --release --example team -- --out DIR     # the hub in DIR
//!
//! Either way the hub is kept, and the last lines say where it is, how to
//! read its briefing and how to remove it.

use std::path::PathBuf;

fn main() {
    let out = match parse_out() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("error: {msg}");
            std::process::exit(2);
        }
    };
    let scratch = out.is_none();
    let hub = out.unwrap_or_else(|| std::env::temp_dir().join(format!("coord-team-{}", std::process::id())));
    if hub.join("REGISTRY.json").exists() {
        eprintln!(
            "error: {} already holds a hub; the day starts from an empty folder, so remove it first",
            hub.display()
        );
        std::process::exit(2);
    }
    // Absolute: the hooks find the hub from the agent's folder.
    let hub = std::path::absolute(&hub).unwrap_or(hub);
    let day = Day { hub: hub.clone() };
    // Identity comes from -s on every call; nothing from the caller's shell.
    std::env::remove_var("COORD_SESSION");
    for agent in ["COORD_AGENT_ID", "CLAUDE_CODE_SESSION_ID", "CODEX_THREAD_ID"] {
        std::env::remove_var(agent);
    }
    std::env::set_var("COORD_TESTING", "1");
    // One laptop for the whole day, whatever machine replays it.
    std::env::set_var("COORD_MACHINE", "laptop");
    std::env::set_var("COORD_ID_SEED", "team-day");
    day.script();
    // The hub is kept, so that what the day printed can be looked at.
    let dir = coord::core::text::shell_quote(&hub.display().to_string());
    println!("\nthe hub is in {}", hub.display());
    println!("read the briefing: cat {dir}/CURRENT_STATE.md");
    println!("look around: coord --hub {dir} status, or coord --hub {dir} log");
    if scratch {
        println!("remove it: rm -r {dir} (pass `-- --out DIR` to choose where it goes)");
    }
}

fn parse_out() -> Result<Option<PathBuf>, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, dir] if flag == "--out" => Ok(Some(PathBuf::from(dir))),
        _ => Err("usage: team [--out DIR]".into()),
    }
}

struct Day {
    hub: PathBuf,
}

impl Day {
    /// Run one coord command as `who` at `time` (HH:MM), printing it first.
    fn run(&self, time: &str, who: Option<&str>, args: &[&str]) -> i32 {
        std::env::set_var("COORD_NOW", format!("2026-03-02T{time}:00Z"));
        // Quoted as coord quotes every command line it prints.
        let shown = coord::core::text::command_line(args);
        let actor = who.map(|w| format!("[{w}] ")).unwrap_or_default();
        println!("\n{time} {actor}$ {shown}");
        let mut argv = vec![
            "coord".to_string(),
            "--hub".to_string(),
            self.hub.display().to_string(),
        ];
        if let Some(w) = who {
            argv.push("-s".into());
            argv.push(w.into());
        }
        argv.extend(args.iter().map(|a| a.to_string()));
        // Each session of the day is its own agent: `start` runs under that
        // agent's id, as Claude Code or Codex would give it.
        let name = args
            .iter()
            .position(|a| *a == "--name")
            .and_then(|i| args.get(i + 1));
        if let (None, Some("start"), Some(name)) = (who, args.first().copied(), name) {
            std::env::set_var("COORD_AGENT_ID", format!("team-{name}"));
        }
        let (code, out) = coord::cli::run_captured(argv.into_iter().map(Into::into));
        std::env::remove_var("COORD_AGENT_ID");
        // What the session sees: its stdout, then its stderr (status lines,
        // warnings, errors) marked with `!`.
        print!("{}", out.stdout);
        for line in out.stderr.lines() {
            println!("! {line}");
        }
        if code != 0 {
            println!("(exit {code})");
        }
        code
    }

    /// What Claude Code runs on an event in `project`: `coord hook EVENT`
    /// with the payload on stdin, as agent `agent`; `tool` edits `file`.
    fn hook(&self, time: &str, event: &str, agent: &str, project: &std::path::Path, file: Option<&str>) {
        std::env::set_var("COORD_NOW", format!("2026-03-02T{time}:00Z"));
        let name = match event {
            "session-start" => "SessionStart",
            "pre-tool-use" => "PreToolUse",
            _ => "PostToolUse",
        };
        let mut payload = serde_json::json!({"session_id": agent, "cwd": project, "hook_event_name": name});
        if let Some(f) = file {
            payload["tool_name"] = "Edit".into();
            payload["tool_input"] = serde_json::json!({"file_path": project.join(f)});
        }
        println!(
            "\n{time} [{agent}: Claude Code] hook {event}{}",
            file.map(|f| format!(" (Edit {f})")).unwrap_or_default()
        );
        let argv = [
            "coord",
            "--hub",
            &self.hub.display().to_string(),
            "hook",
            event,
            "--agent",
            "claude",
        ];
        let (_, out) = coord::cli::run_captured_with_input(
            argv.iter().map(Into::into),
            payload.to_string().into_bytes(),
        );
        // The hook's answer is JSON for the agent; show what it tells it.
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_default();
        if let Some(text) = v["hookSpecificOutput"]["additionalContext"].as_str() {
            let first = text.lines().next().unwrap_or("");
            println!("(to the agent) {first}");
        }
    }

    /// Routine heartbeats: a real team sends one every 5-10 minutes.
    fn beat(&self, time: &str, who: &[&str]) {
        for w in who {
            self.run(time, Some(w), &["heartbeat"]);
        }
    }

    /// The id of the newest message, as a session would read it off `send`.
    fn last_message_id(&self) -> String {
        let log = std::fs::read_to_string(self.hub.join("MESSAGES.jsonl")).unwrap_or_default();
        let last = log.lines().last().unwrap_or("{}");
        let value: serde_json::Value = serde_json::from_str(last).unwrap_or_default();
        value["id"].as_str().unwrap_or("").to_string()
    }

    /// The newest handoff offer, as its receiver reads it off its inbox.
    fn last_handoff_id(&self) -> String {
        let text = std::fs::read_to_string(self.hub.join("REGISTRY.json")).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let handoffs = value["plan"]["handoffs"].as_object().cloned().unwrap_or_default();
        handoffs
            .iter()
            .max_by_key(|(_, h)| h["created"].as_str().unwrap_or("").to_string())
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    }

    fn script(&self) {
        let r = |t, w, a: &[&str]| self.run(t, w, a);
        r("08:50", None, &["init"]);
        r(
            "08:55",
            None,
            &[
                "start",
                "--name",
                "lead",
                "--role",
                "lead",
                "--focus",
                "release 2.4",
            ],
        );
        r(
            "09:00",
            None,
            &[
                "start", "--name", "alice", "--role", "backend", "--focus", "auth API",
            ],
        );
        r(
            "09:00",
            None,
            &[
                "start",
                "--name",
                "bob",
                "--role",
                "frontend",
                "--focus",
                "login page",
            ],
        );
        r("09:01", None, &["start", "--name", "carol", "--role", "reviewer"]);
        r(
            "09:01",
            None,
            &[
                "start",
                "--name",
                "dave",
                "--role",
                "backend",
                "--focus",
                "migrations",
            ],
        );
        // The lead lays out the release as a plan: a milestone, tasks with
        // dependencies, a GO/NO-GO gate before staging, and staging slots.
        r(
            "09:01",
            Some("lead"),
            &[
                "milestone",
                "add",
                "r24",
                "--title",
                "Release 2.4",
                "--due",
                "2026-03-06",
            ],
        );
        for (id, title, after, role) in [
            ("auth-api", "Token refresh API", "", "backend"),
            ("login-page", "Login page", "", "frontend"),
            ("migration-0042", "Sessions table migration", "", "backend"),
            ("e2e", "End-to-end tests", "auth-api,login-page", "reviewer"),
            ("release", "Ship 2.4", "e2e,migration-0042,gate:staging", "lead"),
        ] {
            let mut args = vec![
                "task",
                "add",
                id,
                "--title",
                title,
                "--milestone",
                "r24",
                "--role",
                role,
            ];
            if !after.is_empty() {
                args.extend(["--after", after]);
            }
            if id == "release" {
                r(
                    "09:01",
                    Some("lead"),
                    &[
                        "gate",
                        "add",
                        "staging",
                        "--check",
                        "e2e green",
                        "--check",
                        "migration 0042 applied",
                        "--owner",
                        "lead",
                    ],
                );
            }
            r("09:01", Some("lead"), &args);
        }
        r(
            "09:01",
            Some("lead"),
            &["reserve", "staging", "15:00-16:00", "--note", "release rehearsal"],
        );
        r(
            "09:01",
            Some("dave"),
            &["reserve", "staging", "16:00-17:00", "--note", "migration retry"],
        );
        r("09:01", Some("bob"), &["reserve", "staging", "15:30-16:30"]);
        r("09:02", Some("carol"), &["ready", "--mine"]);
        r("09:02", Some("carol"), &["claim", "task", "e2e"]);
        r(
            "09:02",
            Some("alice"),
            &[
                "claim",
                "task",
                "auth-api",
                "--for",
                "3h",
                "--note",
                "token refresh",
            ],
        );
        r(
            "09:02",
            Some("alice"),
            &["heartbeat", "implementing", "auth-api", "design", "10%"],
        );
        r(
            "09:03",
            Some("bob"),
            &["claim", "file", "web/src/login/**", "--for", "6h"],
        );
        r(
            "09:03",
            Some("dave"),
            &["claim", "service", "staging-db", "--for", "2h"],
        );
        r("09:05", Some("dave"), &["claim", "task", "auth-api"]);
        r(
            "09:06",
            Some("dave"),
            &[
                "send",
                "alice",
                "may I take task:auth-api?",
                "I can do the refresh tokens.",
            ],
        );
        r("09:10", Some("alice"), &["inbox"]);
        r(
            "09:11",
            Some("alice"),
            &["send", "dave", "not yet", "Keep it until noon, then it is yours."],
        );
        r(
            "09:30",
            Some("carol"),
            &[
                "send",
                "@backend",
                "review checklist",
                "Every endpoint needs a test.\nNo unwrap on I/O.",
            ],
        );
        r(
            "10:00",
            Some("alice"),
            &[
                "heartbeat",
                "--action",
                "implementing",
                "--target",
                "auth-api",
                "--phase",
                "build",
                "--progress",
                "45",
            ],
        );
        r(
            "10:00",
            Some("bob"),
            &["heartbeat", "styling", "login form", "build", "60"],
        );
        r(
            "10:05",
            Some("dave"),
            &["heartbeat", "writing", "migration 0042", "test", "30%"],
        );
        r("10:06", Some("carol"), &["heartbeat", "reviewing", "PR 311"]);
        r("10:10", Some("lead"), &["status"]);
        self.beat("10:40", &["lead", "bob", "carol", "dave"]);
        r("10:45", Some("dave"), &["release", "service", "staging-db"]);
        r(
            "11:00",
            Some("bob"),
            &[
                "send",
                "broadcast",
                "web build is green",
                "main at 4f2c1e0 passes all checks.",
            ],
        );
        r("11:05", Some("dave"), &["inbox"]);
        self.beat("11:30", &["lead", "bob", "carol", "dave"]);
        // alice hands the API over before her claim runs out.
        r(
            "11:50",
            Some("alice"),
            &[
                "handoff",
                "task",
                "auth-api",
                "--to",
                "dave",
                "--note",
                "refresh tokens are yours",
            ],
        );
        let offer = self.last_handoff_id();
        r("11:52", Some("dave"), &["accept", &offer]);
        r(
            "12:10",
            Some("dave"),
            &["claim", "task", "auth-api", "--for", "2h"],
        );
        r(
            "12:10",
            Some("dave"),
            &["heartbeat", "implementing", "auth-api", "build", "50"],
        );
        self.beat("12:40", &["lead", "bob", "carol", "dave"]);
        r(
            "13:00",
            Some("lead"),
            &[
                "send",
                "broadcast",
                "prod is down: stop all deploys",
                "--level",
                "emergency",
            ],
        );
        let emergency = self.last_message_id();
        r(
            "13:02",
            Some("bob"),
            &["heartbeat", "pausing", "deploys", "blocked"],
        );
        r("13:03", Some("bob"), &["ack", &emergency]);
        r("13:04", Some("dave"), &["status", "--short"]);
        r("13:40", Some("lead"), &["ack", &emergency, "--resolve"]);
        r(
            "13:41",
            Some("lead"),
            &[
                "send",
                "broadcast",
                "prod is back; deploys may resume",
                "--level",
                "warning",
            ],
        );
        r(
            "13:50",
            Some("dave"),
            &[
                "claim",
                "task",
                "auth-api",
                "--for",
                "2h",
                "--note",
                "retrying after the outage",
            ],
        );
        r(
            "14:00",
            Some("carol"),
            &["claim", "file", "web/src/login/form.tsx", "--for", "1h"],
        );
        r(
            "14:01",
            Some("carol"),
            &[
                "claim",
                "file",
                "web/src/login/form.tsx",
                "--for",
                "1h",
                "--force",
                "--note",
                "hotfix for the outage",
            ],
        );
        r("14:05", Some("bob"), &["inbox"]);
        r(
            "14:30",
            Some("dave"),
            &[
                "send",
                "lead",
                "migration 0042 failed on staging",
                "--level",
                "critical",
            ],
        );
        let critical = self.last_message_id();
        r("14:35", Some("lead"), &["inbox"]);
        r("14:36", Some("lead"), &["ack", &critical]);
        r(
            "14:37",
            Some("lead"),
            &[
                "send",
                "dave",
                "re: migration 0042",
                "Roll it back; we retry tomorrow.",
                "--reply-to",
                &critical,
            ],
        );
        r("14:50", Some("carol"), &["release", "--all"]);
        self.beat("15:00", &["lead", "carol", "dave"]);
        r(
            "15:05",
            Some("dave"),
            &["claim", "resource", "staging", "--for", "30m"],
        );
        r("15:06", Some("lead"), &["reservations"]);
        r("15:30", None, &["start", "--name", "alice", "--resume"]);
        r("15:31", Some("alice"), &["inbox"]);
        // Two Claude Code agents join through their hooks, as `coord
        // install claude` wires them, and both edit README.md, which nobody
        // claimed: the conflict radar tells the second before its edit, and
        // both afterwards.
        let project = std::env::temp_dir().join(format!("coord-team-project-{}", std::process::id()));
        let _ = std::fs::create_dir_all(project.join(".git"));
        self.hook("15:40", "session-start", "claude-docs-1", &project, None);
        self.hook("15:41", "session-start", "claude-docs-2", &project, None);
        self.hook(
            "15:45",
            "post-tool-use",
            "claude-docs-1",
            &project,
            Some("README.md"),
        );
        self.hook(
            "15:50",
            "pre-tool-use",
            "claude-docs-2",
            &project,
            Some("README.md"),
        );
        self.hook(
            "15:50",
            "post-tool-use",
            "claude-docs-2",
            &project,
            Some("README.md"),
        );
        r("15:52", Some("lead"), &["status", "--short"]);
        let _ = std::fs::remove_dir_all(&project);
        self.beat("16:30", &["lead", "alice", "carol", "dave"]);
        r(
            "17:10",
            Some("alice"),
            &["claim", "task", "auth-api-docs", "--for", "2h"],
        );
        r(
            "17:15",
            Some("dave"),
            &["heartbeat", "testing", "auth-api", "test", "90"],
        );
        r("17:16", Some("dave"), &["task", "done", "auth-api"]);
        r("17:18", Some("bob"), &["task", "done", "login-page"]);
        r("17:20", Some("bob"), &["stop"]);
        r(
            "17:22",
            Some("lead"),
            &["gate", "tick", "staging", "2", "--note", "applied at 16:40"],
        );
        r(
            "17:23",
            Some("lead"),
            &[
                "gate",
                "decide",
                "staging",
                "no-go",
                "--note",
                "e2e not green yet",
            ],
        );
        r("17:25", Some("lead"), &["tasks"]);
        r("17:26", Some("lead"), &["kpi", "--since", "1d"]);
        r("17:30", Some("lead"), &["status"]);
        r("17:30", Some("lead"), &["brief"]);
    }
}
