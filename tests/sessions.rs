//! Sessions: start, stop, identity, liveness, heartbeat, status.

use crate::support::*;

#[test]
fn start_takes_a_name_or_generates_a_readable_one() {
    let hub = Hub::new();
    let out = hub
        .run(&["start", "--name", "alice", "--role", "backend", "--focus", "auth"])
        .ok();
    assert_eq!(out.stdout, "alice\n");
    let reg = hub.registry();
    assert_eq!(reg["sessions"]["alice"]["role"], "backend");
    assert_eq!(reg["sessions"]["alice"]["focus"], "auth");
    // Another agent (this process is alice's by now: a second `start` here
    // would give alice back).
    let out = hub.call(&["start"]).env("COORD_AGENT_ID", "other").run().ok();
    let id = out.stdout.trim();
    let parts: Vec<&str> = id.split('-').collect();
    assert!(
        parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()),
        "readable id: {id}"
    );
    assert!(hub.registry()["sessions"][id].is_object());
    assert_eq!(hub.events_of("session.started").len(), 2);
}

#[test]
fn start_export_prints_a_shell_line() {
    let hub = Hub::new();
    let out = hub.run(&["start", "--name", "alice", "--export"]).ok();
    assert_eq!(out.stdout, "export COORD_SESSION=alice\n");
    let out = hub.run(&["start", "--name", "bob", "--json"]).ok();
    assert_eq!(out.json()["export"], "export COORD_SESSION=bob");
    assert_eq!(out.json()["schema"], 1);
}

#[test]
fn a_live_name_is_refused_unless_resumed() {
    let mut hub = Hub::new();
    hub.start("alice");
    let before = hub.snapshot();
    let out = hub.run(&["start", "--name", "alice"]).code(3).one_error_line();
    assert!(out.stderr.contains("--resume"), "{}", out.stderr);
    assert_eq!(hub.snapshot(), before);
    hub.at("2026-03-02T09:10:00Z");
    hub.run(&["start", "--name", "alice", "--resume", "--role", "lead"])
        .ok();
    let reg = hub.registry();
    assert_eq!(reg["sessions"]["alice"]["role"], "lead");
    assert_eq!(
        reg["sessions"]["alice"]["started"], T0,
        "resume keeps the session"
    );
    assert_eq!(hub.events_of("session.resumed").len(), 1);
    // A gone name may be taken afresh.
    hub.at("2026-03-02T12:00:00Z");
    hub.run(&["start", "--name", "alice"]).ok();
    assert_eq!(
        hub.registry()["sessions"]["alice"]["started"],
        "2026-03-02T12:00:00Z"
    );
}

#[test]
fn stop_ends_the_session_and_releases_its_claims() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "a"]).ok();
    hub.as_("alice", &["claim", "file", "src/**"]).ok();
    let out = hub.as_("alice", &["stop", "--json"]).ok();
    assert_eq!(out.json()["released"].as_array().unwrap().len(), 2);
    assert!(hub.registry()["sessions"]["alice"]["ended"].is_string());
    hub.as_("bob", &["claim", "task", "a"]).ok();
    hub.as_("bob", &["claim", "file", "src/x.rs"]).ok();
    // An ended session cannot act until resumed.
    let out = hub.as_("alice", &["heartbeat"]).code(4).one_error_line();
    assert!(out.stderr.contains("--resume"), "{}", out.stderr);
    // Status hides ended sessions unless --all.
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(hub.run(&["status", "--json"]).ok().json()), vec!["bob"]);
    assert_eq!(
        ids(hub.run(&["status", "--all", "--json"]).ok().json()),
        vec!["bob", "alice"]
    );
}

#[test]
fn identity_order_flag_then_env() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    let mut c = hub.cmd(&["heartbeat", "coding"]);
    c.env("COORD_SESSION", "bob");
    assert!(run(c).ok().stdout.starts_with("bob:"));
    let mut c = hub.cmd(&["-s", "alice", "heartbeat", "coding"]);
    c.env("COORD_SESSION", "bob");
    assert!(run(c).ok().stdout.starts_with("alice:"));
    // Unknown ids are not found (4); malformed ones are usage errors (2).
    hub.as_("nobody", &["heartbeat"]).code(4).one_error_line();
    hub.as_("Not Valid", &["heartbeat"]).code(2).one_error_line();
}

#[test]
fn the_agents_session_id_recorded_at_start_finds_the_session() {
    let hub = Hub::new();
    for (agent, name) in [("claude-aaa", "alice"), ("claude-bbb", "bob")] {
        let mut c = hub.cmd(&["start", "--name", name]);
        c.env("CLAUDE_CODE_SESSION_ID", agent);
        run(c).ok();
    }
    for (agent, name) in [("claude-aaa", "alice"), ("claude-bbb", "bob")] {
        let mut c = hub.cmd(&["heartbeat", "working"]);
        c.env("CLAUDE_CODE_SESSION_ID", agent);
        let out = run(c).ok();
        assert!(
            out.stdout.starts_with(&format!("{name}:")),
            "{agent} -> {}",
            out.stdout
        );
    }
    // The bindings are machine-local, never in the shared registry.
    assert!(!hub.read("REGISTRY.json").contains("claude-aaa"));
    assert!(hub.read(".bindings.json").contains("claude-aaa"));
}

#[test]
fn no_session_found_says_how_to_fix_it() {
    let hub = Hub::new();
    hub.start("alice"); // started by the test process itself, not by the next shell
    let mut c = std::process::Command::new("sh");
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COORD_HUB", &hub.dir)
        .env("COORD_NOW", &hub.now)
        .env("COORD_TESTING", "1")
        .arg("-c")
        .arg(format!("exec sh -c '\"{BIN}\" claim task x; echo rc=$?'"));
    // The test process is an ancestor of this shell, so give it a session of
    // its own first and then stop it: no live binding must remain.
    hub.as_("alice", &["stop"]).ok();
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(String::from_utf8_lossy(&out.stdout).contains("rc=4"), "{stderr}");
    assert!(stderr.contains("coord start --name"), "{stderr}");
}

#[test]
fn liveness_moves_with_the_clock_and_any_mutation_refreshes_it() {
    let mut hub = Hub::new();
    hub.start("alice");
    // --all: gone sessions are otherwise only counted.
    let state =
        |hub: &Hub| hub.run(&["status", "--all", "--json"]).ok().json()["sessions"][0]["state"].clone();
    hub.at("2026-03-02T09:29:00Z");
    assert_eq!(state(&hub), "active");
    hub.at("2026-03-02T09:30:00Z");
    assert_eq!(state(&hub), "stale");
    hub.as_("alice", &["claim", "task", "t"]).ok();
    assert_eq!(state(&hub), "active", "a claim is a sign of life");
    hub.at("2026-03-02T11:30:00Z");
    assert_eq!(state(&hub), "gone");
    // Reading status is not a sign of life.
    assert_eq!(
        hub.registry()["sessions"]["alice"]["last_seen"],
        "2026-03-02T09:30:00Z"
    );
}

#[test]
fn heartbeat_positional_and_flag_forms() {
    let hub = Hub::new();
    hub.start("alice");
    let out = hub
        .as_("alice", &["heartbeat", "implementing", "auth", "build", "50%"])
        .ok();
    assert_eq!(out.stdout, "alice: implementing auth (build, 50%)\n");
    let s = &hub.registry()["sessions"]["alice"];
    assert_eq!(
        (
            s["action"].as_str(),
            s["target"].as_str(),
            s["phase"].as_str(),
            s["progress"].as_u64()
        ),
        (Some("implementing"), Some("auth"), Some("build"), Some(50))
    );
    // Without an action: only the fields given change.
    hub.as_(
        "alice",
        &["heartbeat", "--progress", "70", "--note", "tests pass"],
    )
    .ok();
    let s = &hub.registry()["sessions"]["alice"];
    assert_eq!(s["action"], "implementing");
    assert_eq!(s["progress"], 70);
    assert_eq!(s["note"], "tests pass");
    // A new action starts a new activity: old fields are cleared.
    hub.as_(
        "alice",
        &["heartbeat", "--action", "reviewing", "--target", "PR 12"],
    )
    .ok();
    let s = &hub.registry()["sessions"]["alice"];
    assert_eq!(s["action"], "reviewing");
    assert_eq!(s["target"], "PR 12");
    assert!(s.get("progress").is_none() && s.get("phase").is_none() && s.get("note").is_none());
    assert_eq!(hub.events_of("session.heartbeat").len(), 3);
}

#[test]
fn bad_progress_is_refused_and_nothing_is_written() {
    let hub = Hub::new();
    hub.start("alice");
    let before = hub.snapshot();
    for bad in ["101", "-5", "half", "50.5%"] {
        let out = hub
            .as_("alice", &["heartbeat", "--progress", bad])
            .code(2)
            .one_error_line();
        assert!(out.stderr.contains("0 to 100"), "{}", out.stderr);
    }
    hub.as_("alice", &["heartbeat", "a", "b", "c", "200"]).code(2);
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn status_shows_sessions_claims_and_alerts_in_stable_text() {
    let mut hub = Hub::new();
    hub.start_role("alice", "backend");
    hub.start_role("bob", "frontend");
    hub.as_("alice", &["heartbeat", "implementing", "auth", "build", "40"])
        .ok();
    hub.as_("alice", &["claim", "task", "auth", "--for", "90m"]).ok();
    hub.at("2026-03-02T09:45:00Z");
    hub.as_("bob", &["heartbeat"]).ok();
    let out = hub.as_("bob", &["status"]).ok();
    // Off a terminal: one line per session with what it holds, no padding.
    let expected = "\
sessions: 2 live
bob (you) active [frontend]
alice stale 45m ago [backend]: implementing auth (build, 40%); holds task:auth (45m left)
inbox: 0 unread for bob
alerts: 1
  stale_holder: alice has been silent for 45m and holds task:auth
";
    assert_eq!(out.stdout, expected);
    assert!(!out.stdout.contains('\u{1b}'), "no colour off a terminal");
    let out = hub.as_("bob", &["status", "--short"]).ok();
    assert_eq!(
        out.stdout,
        "bob (you)\nalice stale 45m ago: implementing auth (build, 40%); holds task:auth (45m left)\n\
         alerts: stale_holder: alice has been silent for 45m and holds task:auth\n\
         inbox: 0 unread\n"
    );
}

#[test]
fn status_json_has_a_schema_and_stable_shape() {
    let hub = Hub::new();
    hub.start("alice");
    hub.as_("alice", &["claim", "task", "t", "--for", "1h"]).ok();
    let v = hub.as_("alice", &["status", "--json"]).ok().json();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["me"], "alice");
    assert_eq!(v["unread"], 0);
    assert_eq!(v["claims"][0]["key"], "task:t");
    assert_eq!(v["claims"][0]["seconds_left"], 3600);
    assert_eq!(v["claims"][0]["token"], 1);
    assert_eq!(v["claims"][0]["live"], true);
    assert!(v["alerts"].as_array().unwrap().is_empty());
}

#[test]
fn status_watch_redraws_until_stopped() {
    use std::io::{BufRead, BufReader};
    let hub = Hub::new();
    hub.start("alice");
    let mut child = hub
        .cmd(&["status", "--watch", "--interval", "50ms", "--short"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut frames = 0;
    let mut line = String::new();
    while frames < 3 {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line == "--\n" {
            frames += 1;
        } else {
            assert!(line.starts_with("alice"), "{line:?}");
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(frames, 3);
}

#[test]
fn every_command_speaks_json_with_a_schema() {
    let hub = Hub::new();
    let j = |args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = hub.run(&all);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert_eq!(out.json()["schema"], 1, "{args:?}");
        out.json()
    };
    j(&["init"]);
    j(&["start", "--name", "alice"]);
    j(&["start", "--name", "bob"]);
    j(&["-s", "alice", "heartbeat", "x"]);
    j(&["-s", "alice", "claim", "task", "t"]);
    j(&["-s", "alice", "release", "task", "t"]);
    let sent = j(&["-s", "alice", "send", "bob", "hi"]);
    let id = sent["message"]["id"].as_str().unwrap().to_string();
    j(&["-s", "bob", "inbox"]);
    j(&["-s", "bob", "ack", &id]);
    j(&["brief"]);
    j(&["status"]);
    j(&["doctor"]);
    j(&["-s", "bob", "stop"]);
    // Errors too: JSON on stdout with the code, as well as the line on stderr.
    let out = hub.run(&["--json", "-s", "nobody", "heartbeat"]).code(4);
    assert_eq!(out.json()["error"]["code"], 4);
    assert_eq!(out.json()["error"]["kind"], "not_found");
}
