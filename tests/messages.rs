//! Messages: delivery, read state, waiting, acknowledgements, escalations.

use crate::support::*;

fn team() -> Hub {
    let hub = Hub::new();
    hub.start_role("alice", "backend");
    hub.start_role("bob", "frontend");
    hub.start_role("carol", "backend");
    hub
}

fn subjects(out: &Out) -> Vec<String> {
    out.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn direct_messages_reach_only_their_recipient() {
    let hub = team();
    let sent = hub
        .as_("alice", &["--json", "send", "bob", "hello bob", "the body"])
        .ok()
        .json();
    let id = sent["message"]["id"].as_str().unwrap();
    assert!(id.starts_with("m-"));
    assert_eq!(sent["message"]["recipients"][0], "bob");
    let inbox = hub.as_("bob", &["inbox"]).ok();
    assert!(
        inbox.stdout.starts_with(&format!(
            "{id} 2026-03-02T09:00:00Z alice -> bob [info] hello bob\n    the body\n"
        )),
        "{}",
        inbox.stdout
    );
    assert_eq!(
        subjects(&hub.as_("carol", &["--json", "inbox"]).ok()),
        Vec::<String>::new()
    );
    assert_eq!(
        subjects(&hub.as_("alice", &["--json", "inbox"]).ok()),
        Vec::<String>::new()
    );
    assert_eq!(hub.events_of("message.sent").len(), 1);
}

#[test]
fn broadcasts_reach_everyone_but_the_sender_once() {
    let hub = team();
    hub.as_("alice", &["send", "broadcast", "build green"]).ok();
    for who in ["bob", "carol"] {
        assert_eq!(
            subjects(&hub.as_(who, &["--json", "inbox"]).ok()),
            vec!["build green"]
        );
        assert!(
            subjects(&hub.as_(who, &["--json", "inbox"]).ok()).is_empty(),
            "read once"
        );
    }
    assert!(subjects(&hub.as_("alice", &["--json", "inbox"]).ok()).is_empty());
}

#[test]
fn role_messages_reach_every_live_session_with_the_role() {
    let mut hub = team();
    let v = hub
        .as_("bob", &["--json", "send", "@backend", "review please"])
        .ok()
        .json();
    assert_eq!(v["message"]["recipients"], serde_json::json!(["alice", "carol"]));
    assert_eq!(
        subjects(&hub.as_("alice", &["--json", "inbox"]).ok()),
        vec!["review please"]
    );
    assert_eq!(
        subjects(&hub.as_("carol", &["--json", "inbox"]).ok()),
        vec!["review please"]
    );
    assert!(subjects(&hub.as_("bob", &["--json", "inbox"]).ok()).is_empty());
    // The sender is not its own recipient; gone sessions are not recipients.
    let v = hub
        .as_("alice", &["--json", "send", "@backend", "just carol"])
        .ok()
        .json();
    assert_eq!(v["message"]["recipients"], serde_json::json!(["carol"]));
    hub.at("2026-03-02T11:30:00Z");
    hub.as_("bob", &["heartbeat"]).ok();
    let before = hub.snapshot();
    let out = hub
        .as_("bob", &["send", "@backend", "anyone?"])
        .code(4)
        .one_error_line();
    assert!(out.stderr.contains("backend"), "{}", out.stderr);
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn unknown_recipients_are_refused_and_nothing_is_written() {
    let hub = team();
    let before = hub.snapshot();
    hub.as_("alice", &["send", "zed", "hi"]).code(4).one_error_line();
    hub.as_("alice", &["send", "@nobody", "hi"])
        .code(4)
        .one_error_line();
    hub.as_("alice", &["send", "Not-An-Id", "hi"])
        .code(2)
        .one_error_line();
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn the_body_can_come_from_stdin_and_limits_hold() {
    let hub = team();
    let v = hub
        .call(&["--json", "send", "bob", "log excerpt", "-"])
        .as_("alice")
        .stdin("line one\nline two\n")
        .run()
        .ok()
        .json();
    assert_eq!(v["message"]["body"], "line one\nline two\n");

    hub.settings("[messages]\nmax_body = 10\n");
    let before = hub.snapshot();
    let out = hub
        .as_("alice", &["send", "bob", "s", "eleven chars"])
        .code(2)
        .one_error_line();
    assert!(out.stderr.contains("max_body"), "{}", out.stderr);
    hub.as_("alice", &["send", "bob", "", "x"])
        .code(2)
        .one_error_line();
    hub.as_("alice", &["send", "bob", "two\nlines"])
        .code(2)
        .one_error_line();
    hub.as_("alice", &["send", "bob", &"s".repeat(201)])
        .code(2)
        .one_error_line();
    hub.as_("alice", &["send", "bob", "s", "--level", "loud"])
        .code(2)
        .one_error_line();
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn peek_limit_and_all() {
    let hub = team();
    for i in 1..=5 {
        hub.as_("alice", &["send", "bob", &format!("m{i}")]).ok();
    }
    assert_eq!(
        subjects(&hub.as_("bob", &["--json", "inbox", "--peek"]).ok()).len(),
        5
    );
    let first = hub.as_("bob", &["--json", "inbox", "--limit", "2"]).ok();
    assert_eq!(subjects(&first), vec!["m1", "m2"]);
    assert_eq!(first.json()["remaining"], 3);
    let text = hub.as_("bob", &["inbox", "--limit", "1"]).ok();
    assert!(text.stderr.contains("2 more unread"), "{}", text.stderr);
    assert_eq!(
        subjects(&hub.as_("bob", &["--json", "inbox"]).ok()),
        vec!["m4", "m5"]
    );
    assert!(subjects(&hub.as_("bob", &["--json", "inbox"]).ok()).is_empty());
    let all = hub.as_("bob", &["--json", "inbox", "--all"]).ok().json();
    assert_eq!(all["messages"].as_array().unwrap().len(), 5);
    assert!(all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["unread"] == false));
    hub.as_("alice", &["send", "bob", "m6"]).ok();
    let all = hub.as_("bob", &["inbox", "--all", "--peek", "--limit", "2"]).ok();
    assert!(all.stdout.contains("* m-"), "unread marked: {}", all.stdout);
    assert_eq!(
        all.stdout
            .lines()
            .filter(|l| l.starts_with("m-") || l.starts_with("* m-"))
            .count(),
        2
    );
}

#[test]
fn inbox_wait_times_out_with_exit_6() {
    let hub = team();
    let out = hub
        .as_("bob", &["inbox", "--wait", "200ms"])
        .code(6)
        .one_error_line();
    assert!(out.stderr.contains("no message arrived"), "{}", out.stderr);
}

#[test]
fn inbox_wait_returns_when_a_message_arrives() {
    let hub = team();
    let waiter = hub
        .cmd(&["-s", "bob", "--json", "inbox", "--wait", "30s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    hub.as_("alice", &["send", "bob", "you there?"]).ok();
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"][0]["subject"], "you there?");
}

#[test]
fn the_inbox_reads_from_its_cursor_not_the_whole_log() {
    let hub = team();
    hub.as_("alice", &["send", "bob", "old"]).ok();
    hub.as_("bob", &["inbox"]).ok();
    // Damage a line before bob's cursor: a reader that rescanned the whole
    // log would fail on it; bob's inbox never reads it.
    let log = hub.dir.join("MESSAGES.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let damaged = text.replacen("\"subject\":\"old\"", "\"subject\":\"OLD\"", 1);
    std::fs::write(&log, damaged).unwrap();
    hub.as_("alice", &["send", "bob", "new"]).ok();
    assert_eq!(subjects(&hub.as_("bob", &["--json", "inbox"]).ok()), vec!["new"]);
}

#[test]
fn a_rewritten_log_is_noticed_and_the_cursor_found_again() {
    let hub = team();
    hub.as_("alice", &["send", "bob", "one"]).ok();
    hub.as_("alice", &["send", "bob", "two"]).ok();
    hub.as_("bob", &["inbox"]).ok();
    hub.as_("alice", &["send", "bob", "three"]).ok();
    // A git union merge: another machine's line lands in the middle, and the
    // lines shift under bob's byte offset.
    let log = hub.dir.join("MESSAGES.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let remote = r#"{"from":"carol","id":"m-remote1-aaaaaaaa","level":"info","recipients":["bob"],"subject":"from the other machine","to":"bob","ts":"2026-03-02T09:00:00Z"}"#;
    lines.insert(0, remote.to_string());
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    // bob sees "three" (new) but not "one"/"two" again; the remote line sits
    // before the cursor line, so it counts as already passed.
    assert_eq!(
        subjects(&hub.as_("bob", &["--json", "inbox"]).ok()),
        vec!["three"]
    );
    // Appended after the cursor, a remote line is new.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(
        &remote
            .replace("remote1", "remote2")
            .replace("other machine", "second merge"),
    );
    text.push('\n');
    std::fs::write(&log, text).unwrap();
    assert_eq!(
        subjects(&hub.as_("bob", &["--json", "inbox"]).ok()),
        vec!["from the second merge"]
    );
}

#[test]
fn ids_are_unique_across_clones_appending_offline() {
    let hub = team();
    let copy = tempfile::tempdir().unwrap();
    let other = copy.path().join("coordination");
    std::fs::create_dir_all(&other).unwrap();
    for (name, bytes) in hub.snapshot() {
        std::fs::write(other.join(name), bytes).unwrap();
    }
    let mut ids = std::collections::HashSet::new();
    for i in 0..20 {
        let a = hub
            .as_("alice", &["--json", "send", "bob", &format!("a{i}")])
            .ok()
            .json();
        let b = hub
            .call(&["--json", "send", "bob", &format!("b{i}")])
            .as_("alice")
            .env("COORD_HUB", &other)
            .run()
            .ok()
            .json();
        assert!(ids.insert(a["message"]["id"].as_str().unwrap().to_string()));
        assert!(ids.insert(b["message"]["id"].as_str().unwrap().to_string()));
    }
}

#[test]
fn ack_checks_the_message_and_journals_it() {
    let hub = team();
    let id = hub
        .as_("alice", &["--json", "send", "bob", "please ack"])
        .ok()
        .json()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    hub.as_("carol", &["ack", &id]).code(4).one_error_line();
    hub.as_("bob", &["ack", "m-nothere-00000000"])
        .code(4)
        .one_error_line();
    hub.as_("bob", &["ack", "not an id"]).code(2).one_error_line();
    assert_eq!(
        hub.as_("bob", &["ack", &id]).ok().stdout,
        format!("{id} acknowledged\n")
    );
    let acks = hub.events_of("message.acked");
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0]["session"], "bob");
    // --reply-to names an existing message.
    hub.as_("bob", &["send", "alice", "done", "--reply-to", &id]).ok();
    assert_eq!(
        hub.lines("MESSAGES.jsonl").last().unwrap()["reply_to"],
        id.as_str()
    );
    hub.as_(
        "bob",
        &["send", "alice", "done", "--reply-to", "m-nothere-00000000"],
    )
    .code(4);
}

#[test]
fn an_emergency_shows_on_every_command_until_acknowledged_or_resolved() {
    let hub = team();
    let id = hub
        .as_(
            "alice",
            &[
                "--json",
                "send",
                "broadcast",
                "stop deploys",
                "--level",
                "emergency",
            ],
        )
        .ok()
        .json()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let banner = format!("EMERGENCY {id} from alice: stop deploys");
    for args in [
        &["heartbeat"][..],
        &["status"],
        &["claim", "task", "t"],
        &["release", "task", "t"],
        &["inbox", "--peek"],
    ] {
        let out = hub.as_("bob", args).ok();
        assert!(out.stderr.contains(&banner), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("coord ack {id}")), "{}", out.stderr);
    }
    // Even a failing command shows it.
    let out = hub.as_("bob", &["release", "task", "nothing"]).code(4);
    assert!(out.stderr.contains(&banner));
    // Not to the sender.
    assert!(!hub.as_("alice", &["heartbeat"]).ok().stderr.contains("EMERGENCY"));
    // bob acknowledges: gone for bob, still there for carol, still an alert.
    hub.as_("bob", &["ack", &id]).ok();
    assert!(!hub.as_("bob", &["heartbeat"]).ok().stderr.contains("EMERGENCY"));
    assert!(hub.as_("carol", &["heartbeat"]).ok().stderr.contains(&banner));
    let alerts = hub.run(&["status", "--json"]).ok().json()["alerts"].clone();
    assert_eq!(alerts[0]["kind"], "emergency");
    // An acknowledged escalation does not come back through the inbox.
    assert!(!hub.as_("bob", &["inbox"]).ok().stdout.contains("stop deploys"));
    // carol, stopped by it, is not offered to lift it and may not.
    let out = hub.as_("carol", &["heartbeat"]).ok();
    assert!(!out.stderr.contains("--resolve"), "{}", out.stderr);
    let out = hub.as_("carol", &["ack", &id, "--resolve"]).code(3);
    assert!(out.stderr.contains(&format!("coord ack {id}`")), "{}", out.stderr);
    // Resolved by alice, who sent it: closed for everyone.
    assert_eq!(
        hub.as_("alice", &["ack", &id, "--resolve"]).ok().stdout,
        format!("{id} closed for everyone\n")
    );
    for who in ["alice", "bob", "carol"] {
        assert!(!hub.as_(who, &["heartbeat"]).ok().stderr.contains("EMERGENCY"));
    }
    assert!(hub.run(&["status", "--json"]).ok().json()["alerts"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(hub.events_of("escalation.closed").len(), 1);
}

#[test]
fn a_critical_message_stays_an_alert_until_acknowledged() {
    let hub = team();
    let id = hub
        .as_(
            "bob",
            &[
                "--json",
                "send",
                "alice",
                "migration failed",
                "--level",
                "critical",
            ],
        )
        .ok()
        .json()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !hub.as_("alice", &["heartbeat"]).ok().stderr.contains("EMERGENCY"),
        "critical is no banner"
    );
    let alerts = hub.run(&["status", "--json"]).ok().json()["alerts"].clone();
    assert_eq!(alerts[0]["kind"], "critical");
    hub.run(&["brief"]).ok();
    assert!(hub.read("CURRENT_STATE.md").contains("**CRITICAL**"));
    hub.as_("alice", &["ack", &id]).ok();
    assert!(hub.run(&["status", "--json"]).ok().json()["alerts"]
        .as_array()
        .unwrap()
        .is_empty());
    hub.run(&["brief"]).ok();
    assert!(!hub.read("CURRENT_STATE.md").contains("**CRITICAL**"));
}
