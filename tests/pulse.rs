//! Signs of life kept apart from the registry (store::pulse): a heartbeat
//! or a plain inbox read writes one line of `.pulse.jsonl`, every reader
//! sees it at once, the next write of the registry folds it, and a fold cut
//! short by a crash neither loses nor repeats a journal entry.

use crate::support::*;

fn ino(hub: &Hub) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(hub.dir.join("REGISTRY.json")).unwrap().ino()
}

#[test]
fn a_sign_of_life_writes_one_pulse_line_and_every_reader_sees_it() {
    let mut hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "api"]).ok();
    let registry = hub.read("REGISTRY.json");
    let before = ino(&hub);
    let lines = hub.read(".pulse.jsonl").lines().count();
    hub.at("2026-03-02T09:05:00Z");
    hub.as_("alice", &["heartbeat", "coding", "api"]).ok();
    hub.as_("bob", &["inbox"]).ok();
    // The registry file is untouched; the pulse holds the two signs of life.
    assert_eq!(hub.read("REGISTRY.json"), registry);
    assert_eq!(ino(&hub), before);
    assert_eq!(hub.read(".pulse.jsonl").lines().count(), lines + 2);
    // Every reader sees them.
    let status = hub.as_("bob", &["--json", "status"]).ok().json();
    let alice = status["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(alice["action"], "coding", "{alice}");
    assert_eq!(alice["last_seen"], "2026-03-02T09:05:00Z");
    let log = hub.run(&["log", "--kind", "session"]).ok().stdout;
    assert!(log.contains("alice: coding api"), "{log}");
    // The next transaction (here `brief`, which writes the briefing) folds
    // it: the pulse empties, the registry has the activity and the claim,
    // the journal has the entry once.
    hub.run(&["brief"]).ok();
    assert_eq!(hub.read(".pulse.jsonl"), "");
    let reg: serde_json::Value = serde_json::from_str(&hub.read("REGISTRY.json")).unwrap();
    assert_eq!(reg["sessions"]["alice"]["action"], "coding");
    assert_eq!(reg["sessions"]["alice"]["last_seen"], "2026-03-02T09:05:00Z");
    assert_eq!(reg["claims"]["task:api"]["holder"], "alice");
    let journal = hub.read("EVENTS.jsonl");
    assert_eq!(journal.matches("alice: coding api").count(), 1, "{journal}");
}

#[test]
fn a_fold_cut_short_neither_loses_nor_repeats_an_entry() {
    let hub = Hub::new();
    hub.start("alice");
    hub.as_("alice", &["heartbeat", "coding"]).ok();
    let pulse = hub.read(".pulse.jsonl");
    assert!(pulse.contains("alice: coding"), "{pulse}");
    // A fold that wrote the registry and the journal, then died before
    // emptying the pulse: its line names a registry that is gone.
    hub.run(&["brief"]).ok();
    std::fs::write(hub.dir.join(".pulse.jsonl"), &pulse).unwrap();
    hub.run(&["brief"]).ok();
    assert_eq!(hub.read("EVENTS.jsonl").matches("alice: coding").count(), 1);
    // One that wrote the registry and died before the journal: the entry
    // is journaled by the next fold, once.
    hub.as_("alice", &["heartbeat", "testing"]).ok();
    let pulse = hub.read(".pulse.jsonl");
    hub.run(&["brief"]).ok();
    let journal: String = hub
        .read("EVENTS.jsonl")
        .lines()
        .filter(|l| !l.contains("alice: testing"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(hub.dir.join("EVENTS.jsonl"), journal).unwrap();
    std::fs::write(hub.dir.join(".pulse.jsonl"), &pulse).unwrap();
    hub.run(&["brief"]).ok();
    assert_eq!(hub.read("EVENTS.jsonl").matches("alice: testing").count(), 1);
    // Its state is not applied twice over newer state.
    let reg: serde_json::Value = serde_json::from_str(&hub.read("REGISTRY.json")).unwrap();
    assert_eq!(reg["sessions"]["alice"]["action"], "testing");
    hub.run(&["doctor"]).ok();
}

#[test]
fn a_hand_edited_registry_is_read_afresh_not_through_a_stale_digest() {
    let hub = Hub::new();
    hub.start("alice");
    hub.as_("alice", &["heartbeat", "coding"]).ok();
    hub.as_("alice", &["claim", "task", "a"]).ok();
    // Someone ends alice by hand: the digest no longer matches the file,
    // so the next heartbeat takes the full path and sees it.
    let text = hub.read("REGISTRY.json");
    let ended = text.replacen(
        "\"last_seen\"",
        "\"ended\": \"2026-03-02T09:00:00Z\",\n      \"last_seen\"",
        1,
    );
    std::fs::write(hub.dir.join("REGISTRY.json"), ended).unwrap();
    let out = hub.as_("alice", &["heartbeat"]).code(4);
    assert!(out.stderr.contains("has ended"), "{}", out.stderr);
}

#[test]
fn a_claim_that_lapses_is_swept_by_the_next_sign_of_life() {
    let mut hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "api", "--for", "30m"]).ok();
    hub.as_("bob", &["heartbeat", "reading"]).ok();
    // Past the deadline, bob's heartbeat is the next change: it sweeps, as
    // any full write does, and alice is told.
    hub.at("2026-03-02T09:31:00Z");
    hub.as_("bob", &["heartbeat"]).ok();
    assert_eq!(hub.events_of("claim.lapsed").len(), 1);
    let inbox = hub.as_("alice", &["inbox"]).ok().stdout;
    assert!(inbox.contains("your claim task:api lapsed"), "{inbox}");
}

#[test]
fn a_direct_message_is_sent_without_rewriting_the_registry() {
    let mut hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "api"]).ok();
    let before = ino(&hub);
    hub.at("2026-03-02T09:05:00Z");
    let id = hub.as_("alice", &["send", "bob", "lunch?"]).ok().stdout;
    let broadcast = hub.as_("bob", &["send", "broadcast", "back at 2"]).ok().stdout;
    assert_eq!(ino(&hub), before, "the registry was rewritten");
    // The message is in the log, its journal entry and the sender's sign of
    // life in the pulse: every reader sees all three.
    let inbox = hub.as_("bob", &["inbox"]).ok().stdout;
    assert!(inbox.contains("lunch?") && inbox.contains(id.trim()), "{inbox}");
    assert!(hub.as_("alice", &["inbox"]).ok().stdout.contains("back at 2"));
    let sent = hub.events_of("message.sent");
    assert!(sent.iter().any(|e| e["target"] == id.trim()), "{sent:?}");
    assert!(sent.iter().any(|e| e["target"] == broadcast.trim()), "{sent:?}");
    assert_eq!(
        hub.registry()["sessions"]["alice"]["last_seen"],
        "2026-03-02T09:05:00Z"
    );
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(page.contains("alice -> bob (info): lunch?"), "{page}");
    // An emergency opens an escalation, a registry change: the full path.
    hub.as_("alice", &["send", "bob", "fire", "--level", "emergency"])
        .ok();
    assert_ne!(ino(&hub), before);
    assert_eq!(hub.events_of("message.sent").len(), 3);
}

#[test]
fn a_claim_and_its_release_are_hot_path_records_every_reader_and_every_check_sees() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "file", "src/a.rs"]).ok();
    let before = ino(&hub);
    // Claims, releases and conflicts on the hot path: the registry file
    // is not rewritten.
    hub.as_("alice", &["claim", "task", "api", "--for", "1h"]).ok();
    hub.as_("bob", &["claim", "file", "src/b/**"]).ok();
    let out = hub.as_("bob", &["claim", "task", "API"]).code(3).one_error_line();
    assert!(out.stderr.contains("held by alice"), "{}", out.stderr);
    hub.as_("bob", &["claim", "file", "src/*.rs"]).code(3);
    hub.as_("alice", &["release", "task", "api"]).ok();
    hub.as_("bob", &["claim", "task", "api"]).ok();
    assert_eq!(ino(&hub), before, "the registry was rewritten");
    let reg = hub.registry();
    assert_eq!(reg["claims"]["task:api"]["holder"], "bob");
    assert_eq!(reg["claims"]["task:api"]["token"], 2, "the token grew");
    assert_eq!(reg["claims"]["file:src/b/**"]["holder"], "bob");
    // The agent hook sees a claim taken on the hot path.
    let payload = serde_json::json!({
        "session_id": "c-alice", "cwd": hub.repo(), "hook_event_name": "PreToolUse",
        "tool_name": "Edit", "tool_input": {"file_path": hub.repo().join("src/b/x.rs")},
    });
    hub.call(&["start", "--name", "carol"])
        .env("CLAUDE_CODE_SESSION_ID", "c-alice")
        .run()
        .ok();
    let out = hub
        .call(&["hook", "pre-tool-use"])
        .stdin(payload.to_string())
        .run()
        .ok();
    assert!(out.stdout.contains("claimed by bob"), "{}", out.stdout);
    // Every reader agrees with the full path, which folds it.
    let status = hub.run(&["claims"]).ok().stdout;
    assert!(status.contains("task:api") && status.contains("bob"), "{status}");
    hub.run(&["brief"]).ok();
    assert_ne!(ino(&hub), before);
    assert_eq!(hub.read(".pulse.jsonl"), "");
    let reg: serde_json::Value = serde_json::from_str(&hub.read("REGISTRY.json")).unwrap();
    assert_eq!(reg["claims"]["task:api"]["holder"], "bob");
    assert_eq!(hub.events_of("claim.refused").len(), 2);
}

#[test]
fn a_claim_in_the_pulse_survives_a_registry_replaced_by_hand() {
    let hub = Hub::new();
    hub.start("alice");
    let saved = hub.read("REGISTRY.json");
    hub.as_("alice", &["claim", "task", "api"]).ok();
    // The registry replaced under the pulse (a hand edit, a checkout of a
    // tracked hub): the pulse's record is merged back, not dropped.
    std::fs::write(hub.dir.join("REGISTRY.json"), &saved).unwrap();
    hub.run(&["brief"]).ok();
    let reg: serde_json::Value = serde_json::from_str(&hub.read("REGISTRY.json")).unwrap();
    assert_eq!(reg["claims"]["task:api"]["holder"], "alice", "{reg}");
    // Folded once, it is not applied twice: a later release stands.
    hub.as_("alice", &["release", "task", "api"]).ok();
    hub.run(&["brief"]).ok();
    assert!(hub.registry()["claims"]["task:api"].get("holder").is_none());
}

#[test]
fn a_new_session_starts_on_the_hot_path_and_a_name_in_use_still_goes_through_start() {
    let hub = Hub::new();
    hub.start("alice");
    let before = ino(&hub);
    hub.call(&["start", "--name", "bob", "--role", "web"])
        .env("COORD_AGENT_ID", "agent-bob")
        .run()
        .ok();
    let out = hub.call(&["start"]).env("COORD_AGENT_ID", "agent-new").run().ok();
    assert_eq!(ino(&hub), before, "the registry was rewritten");
    let named = out.stdout.split_whitespace().nth(1).unwrap_or("").to_string();
    let reg = hub.registry();
    assert_eq!(reg["sessions"]["bob"]["role"], "web");
    assert!(reg["sessions"].as_object().unwrap().len() == 3, "{reg}");
    // The binding is written: bob's agent is bob.
    let me = hub
        .call(&["whoami"])
        .env("COORD_AGENT_ID", "agent-bob")
        .run()
        .ok();
    assert_eq!(me.stdout.trim(), "bob");
    assert!(hub
        .events_of("session.started")
        .iter()
        .any(|e| e["session"] == "bob"));
    // A name in use: the full path refuses it as before.
    hub.call(&["start", "--name", "bob"])
        .env("COORD_AGENT_ID", "agent-other")
        .run()
        .code(3);
    // The new session is there for every reader, and after the fold.
    hub.run(&["brief"]).ok();
    let reg: serde_json::Value = serde_json::from_str(&hub.read("REGISTRY.json")).unwrap();
    assert!(reg["sessions"]["bob"].is_object());
    assert!(reg["sessions"].as_object().unwrap().len() == 3, "{named} {reg}");
}
