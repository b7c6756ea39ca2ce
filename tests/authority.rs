//! Authority that holds, tried as an agent that wants its way would: a live
//! session belongs to its binding, lead rights are granted by the settings,
//! and an agent names no other session whatever variables it sets. Each
//! agent runs in a process of its own (a long-lived shell), as it does for
//! real.

use crate::support::*;

/// alice, started by the agent `aaa` in its own process, holding a claim.
fn alice_live(hub: &Hub) -> Shell {
    let mut aaa = Shell::on(hub, &[("CLAUDE_CODE_SESSION_ID", "aaa")]);
    aaa.run("coord start --name alice").ok();
    aaa.run("coord claim task api").ok();
    aaa
}

#[test]
fn a_live_session_is_not_taken_by_another_agent() {
    let hub = Hub::new();
    let mut aaa = alice_live(&hub);
    let before = hub.snapshot();
    let out = hub
        .call(&["start", "--name", "alice", "--resume"])
        .env("CLAUDE_CODE_SESSION_ID", "ccc")
        .run()
        .code(3)
        .one_error_line();
    assert!(out.stderr.contains("session alice is live"), "{}", out.stderr);
    assert!(out.stderr.contains("held by another agent"), "{}", out.stderr);
    // ccc has no session yet: it is told to start one to ask, and is not
    // offered --replace, which only a lead may use.
    assert!(out.stderr.contains("coord send alice"), "{}", out.stderr);
    assert!(!out.stderr.contains("--replace"), "{}", out.stderr);
    assert_eq!(hub.snapshot(), before, "nothing written");
    // --replace is a lead's: refused for ccc as well.
    hub.call(&["start", "--name", "alice", "--replace"])
        .env("CLAUDE_CODE_SESSION_ID", "ccc")
        .run()
        .code(3);
    assert_eq!(hub.snapshot(), before);
    // alice's agent is still alice and still holds its claim.
    assert_eq!(
        aaa.run("coord whoami").ok().stdout.split_whitespace().next(),
        Some("alice")
    );
    assert_eq!(hub.registry()["claims"]["task:api"]["holder"], "alice");
    // The holder's end frees it: after `coord stop`, ccc may resume alice.
    aaa.run("coord stop").ok();
    hub.call(&["start", "--name", "alice", "--resume"])
        .env("CLAUDE_CODE_SESSION_ID", "ccc")
        .run()
        .ok();
}

#[test]
fn a_dead_binding_frees_the_session() {
    let hub = Hub::new();
    let aaa = alice_live(&hub);
    aaa.exit();
    // The agent's process is gone: its binding is dead, alice may be taken back.
    let out = hub
        .call(&["start", "--name", "alice", "--resume"])
        .env("CLAUDE_CODE_SESSION_ID", "ccc")
        .run()
        .ok();
    assert!(out.stdout.contains("alice"), "{}", out.stdout);
    assert_eq!(hub.events_of("session.resumed").len(), 1);
}

#[test]
fn only_a_lead_granted_by_the_settings_takes_over_and_it_is_journaled() {
    let hub = Hub::new();
    let mut aaa = alice_live(&hub);
    // boss calls itself lead: a label, no right.
    hub.start_role("boss", "lead");
    let out = hub
        .call(&["start", "--name", "alice", "--replace"])
        .as_("boss")
        .run()
        .code(3)
        .one_error_line();
    assert!(!out.stderr.contains("--replace"), "{}", out.stderr);
    // Granted by the settings the repository's owners control.
    hub.settings("[roles]\nlead = [\"boss\"]\n");
    let out = hub
        .call(&["start", "--name", "alice", "--resume"])
        .as_("boss")
        .run()
        .code(3)
        .one_error_line();
    assert!(
        out.stderr.contains("coord start --name alice --replace"),
        "{}",
        out.stderr
    );
    hub.call(&["start", "--name", "alice", "--replace"])
        .as_("boss")
        .run()
        .ok();
    let taken = hub.events_of("session.taken_over");
    assert_eq!(taken.len(), 1);
    assert!(
        taken[0]["text"].as_str().unwrap().contains("by the lead boss"),
        "{}",
        taken[0]
    );
    // alice's old agent no longer acts as alice.
    aaa.run("coord whoami").code(4);
}

#[test]
fn an_agent_names_no_other_session_whatever_variables_it_sets() {
    let hub = Hub::new();
    let _aaa = alice_live(&hub);
    let mut bob = Shell::on(&hub, &[("CLAUDE_CODE_SESSION_ID", "bbb")]);
    bob.run("coord start --name bob").ok();
    for line in [
        "coord -s alice whoami",
        "COORD_AGENT_ID=zzz coord -s alice whoami",
        "CLAUDE_CODE_SESSION_ID= coord -s alice whoami",
        "COORD_SESSION=alice CLAUDE_CODE_SESSION_ID= coord whoami",
        "env -u CLAUDE_CODE_SESSION_ID coord -s alice release task api",
    ] {
        let out = bob.run(line);
        assert_eq!(out.code, 4, "{line}: {out:?}");
        assert!(
            out.stderr.contains("this agent is session bob"),
            "{line}: {}",
            out.stderr
        );
    }
    assert_eq!(hub.registry()["claims"]["task:api"]["holder"], "alice");
    // Its own name is fine.
    bob.run("coord -s bob whoami").ok();
    // Holding a claim of its own, bob is told alice is held, and is not
    // offered a --replace it could not use.
    bob.run("coord claim task web").ok();
    let out = bob.run("coord start --name alice");
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("held by another agent"), "{}", out.stderr);
    assert!(out.stderr.contains("coord send alice"), "{}", out.stderr);
    assert!(!out.stderr.contains("--replace"), "{}", out.stderr);
}

#[test]
fn agent_ids_are_short_and_plain_and_an_empty_one_is_unset() {
    let hub = Hub::new();
    let before = hub.snapshot();
    let long = "a".repeat(8 << 20);
    for id in [long.as_str(), "abc\u{1b}[2J", "a b"] {
        let payload =
            serde_json::json!({"session_id": id, "cwd": hub.repo(), "hook_event_name": "SessionStart"});
        let out = hub
            .call(&["hook", "session-start"])
            .stdin(payload.to_string())
            .run()
            .ok();
        assert!(
            out.stdout.contains("could not register"),
            "{}",
            &out.stdout[..out.stdout.len().min(300)]
        );
        assert!(
            out.stdout.len() < 1000,
            "the id is not echoed back: {} bytes",
            out.stdout.len()
        );
        assert_eq!(hub.snapshot(), before, "nothing written");
    }
    let out = hub
        .call(&["whoami"])
        .env("CODEX_THREAD_ID", "x".repeat(200))
        .run()
        .code(2)
        .one_error_line();
    assert!(out.stderr.contains("CODEX_THREAD_ID"), "{}", out.stderr);
    // Empty is unset: the next variable (or the process) decides.
    let out = hub
        .call(&["start", "--name", "dana", "--json"])
        .env("COORD_AGENT_ID", "")
        .env("CLAUDE_CODE_SESSION_ID", "ddd")
        .run()
        .ok();
    assert_eq!(out.json()["bound"], true);
    let bindings = hub.read(".bindings.json");
    assert!(bindings.contains("CLAUDE_CODE_SESSION_ID=ddd"), "{bindings}");
}
