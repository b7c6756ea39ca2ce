//! `coord hook pre-tool-use` fed payloads of the documented shape (Claude
//! Code and Codex): the decision JSON, and the hub left as it was.

use serde_json::json;

use crate::support::*;

/// bob and alice as Claude Code sessions; alice holds src/**.
fn team() -> Hub {
    let hub = Hub::new();
    for (name, id) in [("alice", "c-alice"), ("bob", "c-bob")] {
        hub.call(&["start", "--name", name])
            .env("CLAUDE_CODE_SESSION_ID", id)
            .run()
            .ok();
    }
    hub.as_("alice", &["claim", "file", "src/**"]).ok();
    hub
}

/// The hook's answer to `payload`: its stdout, parsed when not empty.
fn hook(hub: &Hub, args: &[&str], payload: serde_json::Value) -> Option<serde_json::Value> {
    let mut all = vec!["hook", "pre-tool-use"];
    all.extend_from_slice(args);
    let out = hub.call(&all).stdin(payload.to_string()).run().ok();
    let text = out.stdout.trim();
    (!text.is_empty()).then(|| serde_json::from_str(text).expect("one JSON object"))
}

fn edit(hub: &Hub, session: &str, path: &str) -> serde_json::Value {
    json!({
        "session_id": session,
        "cwd": hub.repo(),
        "hook_event_name": "PreToolUse",
        "tool_name": "Edit",
        "tool_input": {"file_path": hub.repo().join(path), "old_string": "a", "new_string": "b"},
    })
}

fn reason(v: &serde_json::Value) -> String {
    let o = &v["hookSpecificOutput"];
    assert_eq!(o["hookEventName"], "PreToolUse");
    assert_eq!(o["permissionDecision"], "deny");
    o["permissionDecisionReason"].as_str().unwrap().to_string()
}

#[test]
fn an_edit_inside_another_sessions_claim_is_denied_naming_holder_and_the_line_to_ask() {
    let hub = team();
    let before = hub.snapshot();
    let denied = hook(&hub, &[], edit(&hub, "c-bob", "src/login.rs")).expect("a decision");
    let why = reason(&denied);
    assert!(
        why.contains("src/login.rs is claimed by alice (file:src/**, alice last seen just now)"),
        "{why}"
    );
    assert!(why.contains("coord send alice"), "{why}");
    // The holder, and anyone on a free file: no objection, no output.
    assert_eq!(hook(&hub, &[], edit(&hub, "c-alice", "src/login.rs")), None);
    assert_eq!(hook(&hub, &[], edit(&hub, "c-bob", "README.md")), None);
    assert_eq!(hub.snapshot(), before, "the hook only reads");
}

#[test]
fn a_codex_apply_patch_is_read_for_its_paths() {
    let hub = team();
    hub.call(&["start", "--name", "cody"])
        .env("CODEX_THREAD_ID", "t-cody")
        .run()
        .ok();
    let patch = "*** Begin Patch\n*** Update File: src/auth.rs\n@@\n-a\n+b\n*** End Patch\n";
    let payload = json!({
        "session_id": "t-cody",
        "cwd": hub.repo(),
        "hook_event_name": "PreToolUse",
        "tool_name": "apply_patch",
        "tool_input": {"command": ["apply_patch", patch]},
    });
    let denied = hook(&hub, &["--agent", "codex"], payload).expect("a decision");
    assert!(reason(&denied).contains("src/auth.rs is claimed by alice"));
}

#[test]
fn an_open_emergency_stops_every_tool_but_coord() {
    let hub = team();
    let sent = hub
        .as_(
            "alice",
            &["send", "bob", "--level", "emergency", "prod is down", "--json"],
        )
        .ok()
        .json();
    let id = sent["message"]["id"].as_str().unwrap().to_string();
    let read = json!({
        "session_id": "c-bob", "cwd": hub.repo(), "hook_event_name": "PreToolUse",
        "tool_name": "Read", "tool_input": {"file_path": hub.repo().join("README.md")},
    });
    let why = reason(&hook(&hub, &[], read.clone()).expect("denied"));
    assert!(why.contains("EMERGENCY") && why.contains("prod is down"), "{why}");
    assert!(why.contains(&format!("coord ack {id}")), "{why}");
    let bash = |cmd: &str| {
        json!({
            "session_id": "c-bob", "cwd": hub.repo(), "hook_event_name": "PreToolUse",
            "tool_name": "Bash", "tool_input": {"command": cmd},
        })
    };
    assert_eq!(hook(&hub, &[], bash(&format!("coord ack {id}"))), None);
    assert!(hook(&hub, &[], bash(&format!("coord ack {id}; rm -rf ."))).is_some());
    // alice, who sent it, is not stopped; bob is free once he acknowledges.
    assert_eq!(hook(&hub, &[], edit(&hub, "c-alice", "src/x.rs")), None);
    hub.as_("bob", &["ack", &id]).ok();
    assert_eq!(hook(&hub, &[], read), None);
}

#[test]
fn the_hub_comes_from_the_payload_and_failures_never_pass_silently() {
    let hub = team();
    // COORD_HUB names the hub, but the payload's folder has none: the
    // payload wins, and outside a coord repository there is nothing to deny.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut payload = edit(&hub, "c-bob", "src/login.rs");
    payload["cwd"] = json!(elsewhere.path());
    payload["tool_input"]["file_path"] = json!(elsewhere.path().join("src/login.rs"));
    assert_eq!(hook(&hub, &[], payload), None);
    // A payload coord cannot read is denied with the reason, exit 0.
    let out = hub.call(&["hook", "pre-tool-use"]).stdin("not json").run().ok();
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert!(reason(&v).contains("not JSON"), "{v}");
    let out = hub
        .call(&["hook", "pre-tool-use"])
        .stdin(json!({"cwd": hub.repo()}).to_string())
        .run()
        .ok();
    assert!(out.stdout.contains("no session_id"), "{}", out.stdout);
}

#[test]
fn require_claim_denies_edits_to_files_the_session_has_not_claimed() {
    let hub = team();
    assert_eq!(
        hook(&hub, &[], edit(&hub, "c-bob", "README.md")),
        None,
        "off by default"
    );
    hub.settings("[hooks]\nrequire_claim = true\n");
    let why = reason(&hook(&hub, &[], edit(&hub, "c-bob", "README.md")).expect("denied"));
    assert!(why.contains("README.md is not claimed by you"), "{why}");
    assert!(why.contains("coord claim file README.md"), "{why}");
    hub.as_("bob", &["claim", "file", "README.md"]).ok();
    assert_eq!(hook(&hub, &[], edit(&hub, "c-bob", "README.md")), None);
    // Reads need no claim; an agent with no session is told to start.
    let read = json!({
        "session_id": "c-bob", "cwd": hub.repo(), "hook_event_name": "PreToolUse",
        "tool_name": "Read", "tool_input": {"file_path": hub.repo().join("src/x.rs")},
    });
    assert_eq!(hook(&hub, &[], read), None);
    let why = reason(&hook(&hub, &[], edit(&hub, "c-nobody", "notes.md")).expect("denied"));
    assert!(why.contains("coord start --name NAME"), "{why}");
}

#[test]
fn session_start_registers_once_primes_and_tells_the_shells() {
    const LATER: &str = "2026-03-02T09:30:00Z";
    let hub = Hub::new();
    let env_file = hub.repo().join("claude-env");
    let payload = |source: &str| {
        json!({"session_id": "c-new", "cwd": hub.repo(), "hook_event_name": "SessionStart", "source": source})
            .to_string()
    };
    let run = |source: &str| {
        let out = hub
            .call(&["hook", "session-start", "--role", "backend"])
            .env("CLAUDE_ENV_FILE", &env_file)
            .stdin(payload(source))
            .run()
            .ok();
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
        assert_eq!(v["hookSpecificOutput"]["hookEventName"], "SessionStart");
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = run("startup");
    assert!(first.contains(", role backend (active)."), "{first}");
    assert!(first.contains("coord claim file PATH"), "{first}");
    let id = hub.registry()["sessions"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert!(first.contains(&format!("You are session {id},")), "{first}");
    let exported = std::fs::read_to_string(&env_file).unwrap();
    assert_eq!(exported, format!("export COORD_SESSION={id}\n"));
    // The agent's shells carry the same id: they are that session.
    let me = hub
        .call(&["whoami"])
        .env("CLAUDE_CODE_SESSION_ID", "c-new")
        .run()
        .ok();
    assert_eq!(me.stdout.trim(), id);
    // After /clear or compaction: the same session, primed again, taken
    // back on the hot path: the registry file is not rewritten, the
    // journal still says it resumed.
    let file = std::fs::read(hub.dir.join("REGISTRY.json")).unwrap();
    let out = hub
        .call(&["hook", "session-start", "--role", "backend"])
        .at(LATER)
        .stdin(payload("clear"))
        .run()
        .ok();
    let again = out.stdout;
    assert!(again.contains(&format!("You are session {id},")), "{again}");
    assert_eq!(hub.registry()["sessions"][&id]["last_seen"], LATER);
    assert_eq!(hub.registry()["sessions"].as_object().unwrap().len(), 1);
    assert_eq!(std::fs::read(hub.dir.join("REGISTRY.json")).unwrap(), file);
    let log = hub.run(&["log", "--kind", "session"]).ok();
    assert!(log.stdout.contains("session.resumed"), "{}", log.stdout);
    // Another role: start decides (and records it).
    hub.call(&["hook", "session-start", "--role", "frontend"])
        .stdin(payload("resume"))
        .run()
        .ok();
    assert_eq!(hub.registry()["sessions"][&id]["role"], "frontend");
}

#[test]
fn session_start_outside_a_coord_repository_says_nothing() {
    let hub = Hub::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = hub
        .call(&["hook", "session-start"])
        .stdin(json!({"session_id": "c-x", "cwd": elsewhere.path()}).to_string())
        .run()
        .ok();
    assert_eq!(out.stdout, "");
    assert!(hub.registry()["sessions"].as_object().unwrap().is_empty());
}

fn event(hub: &Hub, name: &str, session: &str, at: &str, extra: serde_json::Value) -> String {
    let mut payload = json!({"session_id": session, "cwd": hub.repo(), "hook_event_name": name});
    if let serde_json::Value::Object(more) = extra {
        payload.as_object_mut().unwrap().extend(more);
    }
    let kebab = match name {
        "UserPromptSubmit" => "user-prompt-submit",
        "PostToolUse" => "post-tool-use",
        "Stop" => "stop",
        _ => "session-end",
    };
    let out = hub
        .call(&["hook", kebab])
        .at(at)
        .stdin(payload.to_string())
        .run()
        .ok();
    out.stdout
}

#[test]
fn prompts_and_tool_uses_are_signs_of_life_and_bring_each_new_message_once() {
    let hub = team();
    let t1 = "2026-03-02T09:20:00Z";
    assert_eq!(
        event(&hub, "UserPromptSubmit", "c-bob", t1, json!({"prompt": "go"})),
        ""
    );
    assert_eq!(
        hub.registry()["sessions"]["bob"]["last_seen"],
        t1,
        "a sign of life"
    );
    hub.as_("alice", &["send", "bob", "lunch?"]).ok();
    hub.as_(
        "alice",
        &[
            "send",
            "bob",
            "--level",
            "critical",
            "schema changed",
            "Rebase before you push.",
        ],
    )
    .ok();
    let edit = json!({"tool_name": "Edit", "tool_input": {"file_path": hub.repo().join("README.md")}});
    let out = event(&hub, "PostToolUse", "c-bob", "2026-03-02T09:30:00Z", edit.clone());
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PostToolUse");
    let text = v["hookSpecificOutput"]["additionalContext"].as_str().unwrap();
    assert!(
        text.starts_with("coord: 2 new messages for you:\n[critical]"),
        "{text}"
    );
    assert!(text.contains("Rebase before you push."), "{text}");
    assert!(text.contains("acknowledge: `coord ack m-"), "{text}");
    assert!(text.contains("[info]") && text.contains("lunch?"), "{text}");
    let bob = &hub.registry()["sessions"]["bob"];
    assert_eq!(bob["action"], "editing");
    assert_eq!(bob["target"], "README.md");
    // Each message once: the next events bring nothing.
    assert_eq!(
        event(&hub, "PostToolUse", "c-bob", "2026-03-02T09:31:00Z", edit),
        ""
    );
    assert_eq!(
        event(
            &hub,
            "UserPromptSubmit",
            "c-bob",
            "2026-03-02T09:32:00Z",
            json!({})
        ),
        ""
    );
}

#[test]
fn stop_and_session_end_are_quiet_signs_of_life_and_strangers_change_nothing() {
    let hub = team();
    let t = "2026-03-02T09:40:00Z";
    assert_eq!(event(&hub, "Stop", "c-bob", t, json!({})), "");
    assert_eq!(hub.registry()["sessions"]["bob"]["last_seen"], t);
    assert_eq!(
        event(
            &hub,
            "SessionEnd",
            "c-bob",
            "2026-03-02T09:41:00Z",
            json!({"reason": "clear"})
        ),
        ""
    );
    assert!(
        hub.registry()["sessions"]["bob"].get("ended").is_none(),
        "not ended by /clear"
    );
    let before = hub.snapshot();
    for name in ["UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd"] {
        assert_eq!(event(&hub, name, "c-stranger", t, json!({})), "", "{name}");
    }
    assert_eq!(
        hub.snapshot(),
        before,
        "an agent without a session changes nothing"
    );
}

#[test]
fn a_sign_of_life_within_ten_seconds_of_the_last_writes_nothing() {
    let hub = team();
    let t1 = "2026-03-02T09:20:00Z";
    event(&hub, "UserPromptSubmit", "c-bob", t1, json!({"prompt": "go"}));
    let after_first = hub.snapshot();
    // 9 seconds later: the same activity, nothing new: the hub is untouched.
    let read = json!({"tool_name": "Read", "tool_input": {"file_path": hub.repo().join("README.md")}});
    event(&hub, "PostToolUse", "c-bob", "2026-03-02T09:20:09Z", read.clone());
    event(&hub, "Stop", "c-bob", "2026-03-02T09:20:09Z", json!({}));
    assert_eq!(hub.snapshot(), after_first, "no rewrite within 10 s");
    // A new activity is written at once, whatever the time.
    let edit = json!({"tool_name": "Edit", "tool_input": {"file_path": hub.repo().join("README.md")}});
    event(&hub, "PostToolUse", "c-bob", "2026-03-02T09:20:09Z", edit);
    assert_eq!(hub.registry()["sessions"]["bob"]["target"], "README.md");
    assert_eq!(
        hub.registry()["sessions"]["bob"]["last_seen"],
        "2026-03-02T09:20:09Z"
    );
    // 10 seconds after the last written one: a sign of life again.
    event(&hub, "PostToolUse", "c-bob", "2026-03-02T09:20:19Z", read);
    assert_eq!(
        hub.registry()["sessions"]["bob"]["last_seen"],
        "2026-03-02T09:20:19Z"
    );
    // The CLI's own heartbeat is never skipped.
    hub.call(&["heartbeat"])
        .as_("bob")
        .at("2026-03-02T09:20:20Z")
        .run()
        .ok();
    assert_eq!(
        hub.registry()["sessions"]["bob"]["last_seen"],
        "2026-03-02T09:20:20Z"
    );
}

#[test]
fn the_quick_form_of_a_hook_answers_as_the_full_parse_does() {
    let hub = team();
    let payload = edit(&hub, "c-bob", "src/login.rs").to_string();
    // `coord hook EVENT --agent A` is read without clap; `-q` before it goes
    // through clap. Same answer.
    let quick = hub
        .call(&["hook", "pre-tool-use", "--agent", "claude"])
        .stdin(payload.clone())
        .run()
        .ok();
    let full = hub
        .call(&["-q", "hook", "pre-tool-use", "--agent", "claude"])
        .stdin(payload)
        .run()
        .ok();
    assert!(
        quick.stdout.contains("\"permissionDecision\":\"deny\""),
        "{}",
        quick.stdout
    );
    assert_eq!(quick.stdout, full.stdout);
    // Anything the quick form does not know is clap's to refuse.
    let bad = hub
        .call(&["hook", "pre-tool-use", "--agent", "vim"])
        .stdin("{}")
        .run()
        .code(2)
        .one_error_line();
    assert!(bad.stderr.contains("vim"), "{}", bad.stderr);
    hub.call(&["hook", "no-such-event"])
        .stdin("{}")
        .run()
        .code(2)
        .one_error_line();
    let help = hub.call(&["hook", "--help"]).run().ok();
    assert!(help.stdout.contains("pre-tool-use"), "{}", help.stdout);
}

/// A pre-tool-use payload from `session` in folder `cwd`.
fn call(session: &str, cwd: &std::path::Path, tool: &str, input: serde_json::Value) -> serde_json::Value {
    json!({
        "session_id": session, "cwd": cwd, "hook_event_name": "PreToolUse",
        "tool_name": tool, "tool_input": input,
    })
}

#[test]
fn a_claim_is_judged_on_the_file_a_path_really_names() {
    let hub = team();
    let repo = hub.repo();
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("src/login.rs"), "fn main() {}\n").unwrap();
    std::os::unix::fs::symlink(repo.join("src/login.rs"), repo.join("link.rs")).unwrap();
    std::os::unix::fs::symlink("src", repo.join("code")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let proc_root = std::path::Path::new("/proc/self/root").join(repo.strip_prefix("/").unwrap());
    let patch = "*** Begin Patch\n*** Update File: src/login.rs\n@@\n-a\n+b\n*** End Patch\n";
    let cases = [
        (
            "a link to the file",
            call(
                "c-bob",
                &repo,
                "Write",
                json!({"file_path": "link.rs", "content": "x"}),
            ),
        ),
        (
            "a link to its folder",
            call(
                "c-bob",
                &repo,
                "Edit",
                json!({"file_path": repo.join("code/login.rs")}),
            ),
        ),
        (
            "a new file through a linked folder",
            call("c-bob", &repo, "Write", json!({"file_path": "code/new.rs"})),
        ),
        (
            "/proc/self/root",
            call(
                "c-bob",
                &repo,
                "Write",
                json!({"file_path": proc_root.join("src/login.rs")}),
            ),
        ),
        (
            "a cwd outside any hub",
            call(
                "c-bob",
                elsewhere.path(),
                "Write",
                json!({"file_path": repo.join("src/login.rs")}),
            ),
        ),
        (
            "apply_patch through Bash",
            call(
                "c-bob",
                &repo,
                "Bash",
                json!({"command": format!("apply_patch <<'EOF'\n{patch}EOF\n")}),
            ),
        ),
        (
            "apply_patch through Codex's shell",
            call(
                "c-bob",
                &repo,
                "shell",
                json!({"command": ["bash", "-lc", format!("apply_patch <<'EOF'\n{patch}EOF\n")]}),
            ),
        ),
    ];
    for (what, payload) in cases {
        let denied = hook(&hub, &[], payload).unwrap_or_else(|| panic!("{what}: let through"));
        assert!(
            reason(&denied).contains("is claimed by alice"),
            "{what}: {denied}"
        );
    }
    // The holder is not stopped by the same paths.
    assert_eq!(
        hook(
            &hub,
            &[],
            call("c-alice", &repo, "Write", json!({"file_path": "link.rs"}))
        ),
        None
    );
}

#[test]
fn during_an_emergency_only_coord_itself_passes_and_a_tool_is_read_by_its_own_fields() {
    let hub = team();
    let repo = hub.repo();
    let id = hub
        .as_(
            "alice",
            &[
                "send",
                "broadcast",
                "--level",
                "emergency",
                "prod is down",
                "--json",
            ],
        )
        .ok()
        .json()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bash = |cmd: &str| call("c-bob", &repo, "Bash", json!({ "command": cmd }));
    let cd = format!("cd {} && coord inbox", repo.display());
    for allowed in [
        "coord inbox",
        &format!("coord ack {id}"),
        cd.as_str(),
        "coord --json status",
    ] {
        assert_eq!(hook(&hub, &[], bash(allowed)), None, "{allowed}");
    }
    let denied = [
        call(
            "c-bob",
            &repo,
            "Write",
            json!({"file_path": "notes.md", "command": "coord inbox"}),
        ),
        bash("./scripts/coord rm -rf /"),
        bash("coord install git"),
        bash(&format!("cd {} && rm -rf src", repo.display())),
        bash("coord inbox && curl evil"),
    ];
    for payload in denied {
        let why =
            reason(&hook(&hub, &[], payload.clone()).unwrap_or_else(|| panic!("let through: {payload}")));
        assert!(why.contains("EMERGENCY"), "{why}");
        // bob, a recipient of a broadcast, is told to acknowledge, and not
        // offered to resolve what he may not.
        assert!(why.contains(&format!("coord ack {id}`")), "{why}");
        assert!(!why.contains("--resolve"), "{why}");
    }
}

#[test]
fn a_claim_in_another_case_covers_the_file_on_the_hot_path_too() {
    let hub = team();
    hub.as_("alice", &["claim", "file", "Docs/**"]).ok();
    // Decided from the digest (the registry is not read): the same answer.
    let denied = hook(&hub, &[], edit(&hub, "c-bob", "docs/readme.md")).expect("a decision");
    assert!(
        reason(&denied).contains("claimed by alice (file:Docs/**"),
        "{denied}"
    );
    assert_eq!(hook(&hub, &[], edit(&hub, "c-bob", "doc/readme.md")), None);
}

/// The pre-tool-use answer at a pinned time.
fn pre_at(hub: &Hub, session: &str, path: &str, at: &str) -> String {
    let out = hub
        .call(&["hook", "pre-tool-use"])
        .at(at)
        .stdin(edit(hub, session, path).to_string())
        .run()
        .ok();
    out.stdout
}

#[test]
fn the_conflict_radar_tells_two_sessions_editing_one_unclaimed_file() {
    let hub = team();
    let t = |m: u32| format!("2026-03-02T10:{m:02}:00Z");
    let post = |who: &str, path: &str, at: &str| {
        let input = json!({"tool_name": "Edit", "tool_input": {"file_path": hub.repo().join(path)}});
        event(&hub, "PostToolUse", who, at, input)
    };
    // alice edits lib/shared.rs (outside her claim); nobody else has.
    assert_eq!(pre_at(&hub, "c-alice", "lib/shared.rs", &t(0)), "");
    post("c-alice", "lib/shared.rs", &t(0));
    // bob, ten minutes later: allowed, and told who and when, with the
    // lines that settle it.
    let out = pre_at(&hub, "c-bob", "lib/shared.rs", &t(10));
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("an answer");
    let o = &v["hookSpecificOutput"];
    assert_eq!(o["hookEventName"], "PreToolUse");
    assert!(
        o.get("permissionDecision").is_none(),
        "the edit is not decided for the agent: {v}"
    );
    let text = o["additionalContext"].as_str().unwrap();
    assert!(
        text.contains("lib/shared.rs was also edited by alice (10m ago)"),
        "{text}"
    );
    assert!(text.contains("`coord claim file lib/shared.rs`"), "{text}");
    assert!(text.contains("`coord send alice"), "{text}");
    // bob's edit lands: one notice each, one journal entry.
    post("c-bob", "lib/shared.rs", &t(10));
    let inbox = hub.call(&["inbox"]).as_("bob").at(&t(11)).run().ok();
    assert!(
        inbox.stdout.contains("overlapping edits of lib/shared.rs"),
        "{}",
        inbox.stdout
    );
    let inbox = hub.call(&["inbox"]).as_("alice").at(&t(11)).run().ok();
    assert!(
        inbox.stdout.contains("overlapping edits of lib/shared.rs"),
        "{}",
        inbox.stdout
    );
    assert!(inbox.stdout.contains("bob"), "{}", inbox.stdout);
    // Repeated edits in the same episode tell nobody again.
    post("c-alice", "lib/shared.rs", &t(12));
    post("c-bob", "lib/shared.rs", &t(13));
    let kpi = hub.call(&["kpi", "--json"]).at(&t(14)).run().ok();
    let k: serde_json::Value = serde_json::from_str(&kpi.stdout).unwrap();
    assert_eq!(k["overlaps"], 1, "{}", kpi.stdout);
    // status and the briefing show it until a claim covers it.
    let status = hub.call(&["status"]).at(&t(14)).run().ok();
    assert!(
        status.stdout.contains("overlapping edits of lib/shared.rs"),
        "{}",
        status.stdout
    );
    let brief = hub.call(&["brief"]).at(&t(14)).run().ok();
    let page = std::fs::read_to_string(brief.stdout.trim()).unwrap();
    assert!(page.contains("overlapping edits of lib/shared.rs"), "{page}");
    hub.call(&["claim", "file", "lib/shared.rs"])
        .as_("bob")
        .at(&t(15))
        .run()
        .ok();
    let status = hub.call(&["status"]).at(&t(15)).run().ok();
    assert!(!status.stdout.contains("overlapping edits"), "{}", status.stdout);
    hub.call(&["release", "file", "lib/shared.rs"])
        .as_("bob")
        .at(&t(16))
        .run()
        .ok();
    let status = hub.call(&["status"]).at(&t(16)).run().ok();
    assert!(status.stdout.contains("overlapping edits"), "{}", status.stdout);
    // ... or until the window (30 minutes) passes.
    let late = "2026-03-02T10:45:00Z";
    let status = hub.call(&["status"]).at(late).run().ok();
    assert!(!status.stdout.contains("overlapping edits"), "{}", status.stdout);
    assert_eq!(pre_at(&hub, "c-bob", "lib/shared.rs", late), "");
}
