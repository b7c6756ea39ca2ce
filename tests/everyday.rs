//! Everyday use at scale: small output, a hub that stays small, the
//! mistakes agents make caught, and the conventions users expect.

use crate::support::*;

/// Bytes on both streams.
fn size(out: &Out) -> usize {
    out.stdout.len() + out.stderr.len()
}

#[test]
fn one_agent_cycle_stays_under_a_kilobyte_at_twelve_sessions() {
    let hub = Hub::new();
    for i in 1..=12 {
        let name = format!("s{i:02}");
        hub.start_role(&name, "backend");
        hub.as_(
            &name,
            &[
                "heartbeat",
                "implementing",
                &format!("feature-{i}"),
                "build",
                "40",
            ],
        )
        .ok();
        hub.as_(&name, &["claim", "task", &format!("feature-{i}")]).ok();
    }
    hub.as_("s02", &["send", "s01", "ping"]).ok();
    // The cycle an agent runs between steps: the short status (no plan
    // block), a claim, a heartbeat, the inbox.
    let cycle = [
        hub.as_("s01", &["status", "--short"]).ok(),
        hub.as_("s01", &["claim", "task", "feature-1-tests"]).ok(),
        hub.as_("s01", &["heartbeat", "testing", "feature-1", "test", "80"])
            .ok(),
        hub.as_("s01", &["inbox"]).ok(),
    ];
    assert!(!cycle[0].stdout.contains("plan:"), "{}", cycle[0].stdout);
    let total: usize = cycle.iter().map(size).sum();
    // 2.5 KB at first, 1,237 bytes before the terse short form.
    assert!(
        total < 1024,
        "status --short, claim, heartbeat, inbox printed {total} bytes"
    );
}

#[test]
fn status_does_not_grow_with_gone_and_ended_sessions() {
    let mut hub = Hub::new();
    hub.start("here");
    let before = hub.as_("here", &["status"]).ok().stdout.len();
    for i in 0..30 {
        hub.start(&format!("old{i}"));
    }
    for i in 0..10 {
        hub.as_(&format!("old{i}"), &["stop"]).ok();
    }
    hub.at("2026-03-02T12:00:00Z");
    hub.as_("here", &["heartbeat"]).ok();
    let out = hub.as_("here", &["status"]).ok().stdout;
    assert!(
        out.contains("20 gone, 10 ended (`coord status --all` lists them)"),
        "{out}"
    );
    assert!(out.len() < before + 80, "{} -> {}: {out}", before, out.len());
    let all = hub.as_("here", &["status", "--all"]).ok().stdout;
    assert!(all.contains("old29 gone") && all.contains("old0 ended"), "{all}");
    let v = hub.as_("here", &["--json", "status"]).ok().json();
    assert_eq!((v["gone"].as_u64(), v["ended"].as_u64()), (Some(20), Some(10)));
}

#[test]
fn status_names_a_few_claims_of_sessions_it_does_not_list_and_counts_the_rest() {
    // A team of 2,000 gone sessions holding 10,000 claims printed all of
    // them on one line (340 KB) until the next change swept them.
    let mut hub = Hub::new();
    hub.start("here");
    hub.start("old");
    for i in 0..12 {
        hub.as_("old", &["claim", "task", &format!("t{i:02}"), "--for", "1d"])
            .ok();
    }
    hub.at("2026-03-02T12:00:00Z");
    let out = hub.as_("here", &["status"]).ok().stdout;
    let line = out
        .lines()
        .find(|l| l.starts_with("other claims: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("task:t09") && !line.contains("task:t10"), "{line}");
    assert!(
        line.ends_with(" and 2 more (`coord claims` lists them)"),
        "{line}"
    );
    let v = hub.as_("here", &["--json", "status"]).ok().json();
    assert!(v["claims"].as_array().is_some_and(|c| c.len() >= 12), "{v}");
}

#[test]
fn json_is_one_line_off_a_terminal_unless_pretty_is_asked_for() {
    let hub = Hub::new();
    hub.start("alice");
    let out = hub.as_("alice", &["--json", "status"]).ok();
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let out = hub.as_("alice", &["--json=pretty", "status"]).ok();
    assert!(out.stdout.lines().count() > 5);
    assert_eq!(out.json()["me"], "alice");
    hub.as_("alice", &["--json=loud", "status"]).code(2);
}

#[test]
fn the_unread_count_in_status_is_what_the_inbox_shows() {
    let hub = Hub::new();
    hub.start_role("amy", "ops");
    hub.start_role("bob", "ops");
    hub.start("cat");
    hub.as_("bob", &["send", "broadcast", "all hands"]).ok();
    hub.as_("bob", &["send", "@ops", "ops only"]).ok();
    hub.as_("cat", &["send", "amy", "direct"]).ok();
    hub.as_("amy", &["send", "broadcast", "from amy herself"]).ok();
    hub.as_("cat", &["send", "bob", "not for amy, mentions \"amy\""])
        .ok();
    let id = hub
        .as_(
            "bob",
            &["--json", "send", "broadcast", "stop", "--level", "emergency"],
        )
        .ok()
        .json()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A hand-written line in another key order: parsed, not judged by bytes.
    let mut log = hub.read("MESSAGES.jsonl");
    log.push_str(r#"{"ts":"2026-03-02T09:00:00Z","to":"amy","subject":"odd order","level":"info","id":"m-odd","from":"cat","recipients":["amy"]}"#);
    log.push('\n');
    std::fs::write(hub.dir.join("MESSAGES.jsonl"), log).unwrap();
    let check = |who: &str| {
        let status = hub.as_(who, &["--json", "status"]).ok().json()["unread"]
            .as_u64()
            .unwrap();
        let inbox = hub.as_(who, &["--json", "inbox", "--peek"]).ok().json()["messages"]
            .as_array()
            .unwrap()
            .len() as u64;
        assert_eq!(status, inbox, "{who}");
        status
    };
    assert_eq!(check("amy"), 5);
    hub.as_("amy", &["ack", &id]).ok();
    assert_eq!(check("amy"), 4, "an acknowledged emergency is not unread");
    check("bob");
    check("cat");
}

#[test]
fn mistakes_agents_make_are_caught_with_the_fix() {
    let mut hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    let out = hub.as_("alice", &["claim", "task"]).code(2).one_error_line();
    assert!(
        out.stderr.contains("missing NAME; usage: coord claim"),
        "{}",
        out.stderr
    );
    // The key form coord prints everywhere is accepted.
    assert_eq!(
        hub.as_("alice", &["claim", "task:auth-api"]).ok().stdout,
        "taken task:auth-api while you are live (token 1)\n"
    );
    hub.as_("alice", &["release", "task:auth-api"]).ok();
    let out = hub
        .as_("alice", &["claim", "auth-api", "task"])
        .code(2)
        .one_error_line();
    assert!(
        out.stderr.contains("did you mean `coord claim task auth-api`?"),
        "{}",
        out.stderr
    );
    // A mistyped option is refused, not stored as text.
    let before = hub.snapshot();
    for args in [
        &["send", "bob", "--body", "text"][..],
        &["heartbeat", "--status", "working"],
    ] {
        let out = hub.as_("alice", args).code(2).one_error_line();
        assert!(
            out.stderr.contains("unknown option --"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(hub.snapshot(), before);
    // Text that starts with -- still goes through after a bare --.
    hub.as_("alice", &["send", "--", "bob", "--body is what I meant"])
        .ok();
    let out = hub
        .as_("alice", &["claim", "task", "x", "--for", "90"])
        .code(2)
        .one_error_line();
    assert!(out.stderr.contains("no unit; write 90m"), "{}", out.stderr);
    hub.as_("nobody", &["status"]).code(4);
    let out = hub.as_("alice", &["send", "bbo", "hi"]).code(4).one_error_line();
    assert!(out.stderr.contains("did you mean bob?"), "{}", out.stderr);
    let out = hub.as_("alcie", &["heartbeat"]).code(4).one_error_line();
    assert!(out.stderr.contains("did you mean alice?"), "{}", out.stderr);
    // Sending to a session gone for days warns.
    hub.at("2026-03-05T09:00:00Z");
    let out = hub.as_("alice", &["send", "bob", "are you there?"]).ok();
    assert!(
        out.stderr.contains("bob is gone (last seen 3d ago)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_broken_registry_names_doctor_and_doctor_says_what_can_be_done() {
    let hub = Hub::new();
    hub.run(&["start", "--name", "alice"]).ok();
    std::fs::write(hub.dir.join("REGISTRY.json"), "{ broken").unwrap();
    let out = hub.run(&["status"]).code(5).one_error_line();
    assert!(
        out.stderr.contains("REGISTRY.json line 1 is corrupt") && out.stderr.contains("`coord doctor`"),
        "{}",
        out.stderr
    );
    // No sync and no backup yet: doctor says so and what a human can do.
    let out = hub.run(&["doctor", "--fix"]).code(5);
    assert!(out.stdout.contains("no good copy is kept here"), "{}", out.stdout);
    assert_eq!(
        std::fs::read_to_string(hub.dir.join("REGISTRY.json")).unwrap(),
        "{ broken"
    );
}

#[test]
fn completions_man_page_claims_and_who() {
    let hub = Hub::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = hub.run(&["completions", shell]).ok();
        assert!(out.stdout.contains("heartbeat"), "{shell}");
    }
    let man = hub.run(&["man"]).ok().stdout;
    assert!(
        man.starts_with(".ie") || man.contains(".TH"),
        "{}",
        &man[..man.len().min(200)]
    );
    let help = hub.run(&["--help"]).ok().stdout;
    assert!(help.contains("Workflow:") && help.contains("Examples:"));
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "file", "src/auth/**"]).ok();
    hub.as_("bob", &["claim", "task", "docs", "--for", "1h"]).ok();
    let out = hub.as_("alice", &["claims", "--mine"]).ok().stdout;
    assert!(
        out.contains("file:src/auth/**") && !out.contains("task:docs"),
        "{out}"
    );
    let out = hub.run(&["claims", "--type", "task"]).ok().stdout;
    assert!(out.contains("task:docs  bob") && out.contains("1h"), "{out}");
    let v = hub.run(&["--json", "who", "src/auth/login.rs"]).ok().json();
    assert_eq!(v["claims"][0]["holder"], "alice");
    let out = hub.run(&["who", "docs/readme.md"]).ok();
    assert!(out.stderr.contains("nobody holds docs/readme.md"));
}

#[test]
fn a_closed_pipe_ends_a_watch_quietly() {
    let hub = Hub::new();
    hub.start("alice");
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!("'{BIN}' status --watch --interval 50ms | head -1"))
        .env("COORD_HUB", &hub.dir)
        .env("COORD_TESTING", "1")
        .env("COORD_NOW", T0);
    // If the watch ignored the closed pipe, this would never return.
    let out = run(c).ok();
    assert_eq!(out.stdout.lines().count(), 1);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn prune_forgets_old_sessions_and_released_claims_and_tokens_still_grow() {
    let mut hub = Hub::new();
    hub.start("old");
    hub.start("keep");
    hub.as_("old", &["claim", "task", "api"]).ok();
    hub.as_("old", &["claim", "task", "api"]).ok();
    hub.as_("old", &["release", "task", "api"]).ok();
    hub.as_("keep", &["claim", "task", "api"]).ok();
    hub.as_("keep", &["release", "task", "api"]).ok();
    hub.as_("old", &["stop"]).ok();
    hub.at("2026-04-10T09:00:00Z");
    hub.as_("keep", &["heartbeat", "back"]).ok();
    let v = hub.run(&["--json", "prune"]).ok().json();
    assert_eq!(v["sessions"], serde_json::json!(["old"]));
    assert_eq!(v["claims"], serde_json::json!(["task:api"]));
    let reg = hub.registry();
    assert!(reg["sessions"].get("old").is_none() && reg["claims"].get("task:api").is_none());
    assert_eq!(reg["floors"]["task:api"], 2);
    // Taken again, the key's token is above every token it ever had.
    let v = hub.as_("keep", &["--json", "claim", "task", "api"]).ok().json();
    assert_eq!(v["token"], 3);
    assert!(hub.registry().get("floors").is_none());
    assert_eq!(hub.events_of("hub.pruned").len(), 1);
    // Live sessions and recent releases are kept.
    hub.as_("keep", &["release", "task", "api"]).ok();
    let v = hub.run(&["--json", "prune"]).ok().json();
    assert_eq!(v["claims"], serde_json::json!([]));
    // And with prune.auto, every change prunes.
    hub.settings("[prune]\nauto = true\nolder_than = \"1d\"\n");
    hub.at("2026-04-11T08:00:00Z");
    hub.as_("keep", &["heartbeat"]).ok();
    assert!(
        hub.registry()["claims"].get("task:api").is_some(),
        "released less than a day ago"
    );
    hub.at("2026-04-11T10:00:00Z");
    hub.as_("keep", &["heartbeat"]).ok();
    assert!(hub.registry()["claims"].get("task:api").is_none());
}

#[test]
fn archive_moves_old_lines_and_every_cursor_stays_right() {
    let mut hub = Hub::new();
    hub.at("2025-12-31T09:00:00Z");
    hub.start("amy");
    hub.start("bob");
    for (day, text) in [("01", "jan one"), ("02", "jan two"), ("03", "jan three")] {
        hub.at(&format!("2026-01-{day}T09:00:00Z"));
        hub.as_("amy", &["send", "bob", text]).ok();
    }
    // bob read the first two; the third is unread.
    hub.as_("bob", &["inbox", "--limit", "2"]).ok();
    hub.at("2026-02-20T09:00:00Z");
    hub.as_("amy", &["send", "bob", "february"]).ok();
    let before = hub.as_("bob", &["--json", "inbox", "--peek"]).ok().json()["messages"].clone();
    assert_eq!(before.as_array().unwrap().len(), 2);
    let out = hub.run(&["archive", "--older-than", "48d"]).ok();
    assert!(out.stdout.contains("archived 2 messages"), "{}", out.stdout);
    assert!(hub.dir.join("archive/MESSAGES-2026-01.jsonl").is_file());
    assert_eq!(hub.lines("MESSAGES.jsonl").len(), 2);
    // The same unread messages, nothing shown twice, nothing lost.
    let after = hub.as_("bob", &["--json", "inbox", "--peek"]).ok().json()["messages"].clone();
    assert_eq!(after, before);
    let subjects: Vec<String> = hub.as_("bob", &["--json", "inbox", "--all"]).ok().json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ["jan one", "jan two", "jan three", "february"]);
    hub.as_("bob", &["inbox"]).ok();
    assert!(hub.as_("bob", &["inbox"]).ok().stdout.is_empty());
    hub.run(&["doctor"]).ok();
    assert_eq!(hub.events_of("hub.archived").len(), 1);
}

#[test]
fn a_heartbeat_that_changes_nothing_is_not_journaled() {
    let hub = Hub::new();
    hub.start("amy");
    hub.as_("amy", &["heartbeat", "coding", "api"]).ok();
    for _ in 0..5 {
        hub.as_("amy", &["heartbeat"]).ok();
    }
    hub.as_("amy", &["heartbeat", "--progress", "50"]).ok();
    assert_eq!(hub.events_of("session.heartbeat").len(), 2);
}

#[test]
fn status_names_machines_once_there_is_more_than_one() {
    let hub = Hub::new();
    hub.start("here");
    assert!(!hub.as_("here", &["status"]).ok().stdout.contains('@'));
    hub.call(&["start", "--name", "there"])
        .env("COORD_AGENT_ID", "agent-there")
        .env("COORD_MACHINE", "laptop-2")
        .run()
        .ok();
    let out = hub.as_("here", &["status"]).ok().stdout;
    assert!(
        out.contains("here (you) @test-machine") && out.contains("there @laptop-2"),
        "{out}"
    );
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(page.contains("| there @laptop-2 |"), "{page}");
}

#[test]
fn archive_never_moves_what_a_live_session_has_not_read() {
    let mut hub = Hub::new();
    hub.at("2026-03-01T09:00:00Z");
    hub.start("amy");
    hub.start("bob");
    hub.start("cid");
    hub.as_("amy", &["send", "bob", "old news"]).ok();
    hub.as_("amy", &["send", "broadcast", "old broadcast"]).ok();
    // Two days later bob and cid are live; neither has read anything.
    hub.at("2026-03-03T09:00:00Z");
    hub.as_("bob", &["heartbeat"]).ok();
    hub.as_("cid", &["heartbeat"]).ok();
    let out = hub.run(&["archive", "--older-than", "1d"]).ok();
    assert!(out.stdout.contains("archived 0 messages"), "{}", out.stdout);
    assert!(out.stderr.contains("kept 2 old messages"), "{}", out.stderr);
    let json = hub.run(&["--json", "archive", "--older-than", "1d"]).ok().json();
    assert_eq!(json["kept_unread"], 2);
    // Each unread message is shown once, after the archive.
    let bob = hub.as_("bob", &["inbox"]).ok().stdout;
    assert!(bob.contains("old broadcast") && bob.contains("old news"), "{bob}");
    assert!(hub.as_("bob", &["inbox"]).ok().stdout.is_empty());
    // Once bob has read it, "old news" may go; the broadcast waits for cid.
    let out = hub.run(&["archive", "--older-than", "1d"]).ok();
    assert!(out.stdout.contains("archived 1 message "), "{}", out.stdout);
    assert!(out.stderr.contains("kept 1 old message "), "{}", out.stderr);
    assert!(hub.as_("cid", &["inbox"]).ok().stdout.contains("old broadcast"));
    // A session that is gone holds nothing back.
    hub.at("2026-03-10T09:00:00Z");
    hub.as_("amy", &["send", "cid", "while you were gone"]).ok();
    hub.at("2026-03-20T09:00:00Z");
    // (the broadcast cid has read since, and the message cid never will)
    let out = hub.run(&["archive", "--older-than", "1d"]).ok();
    assert!(out.stdout.contains("archived 2 messages"), "{}", out.stdout);
    assert!(!out.stderr.contains("kept"), "{}", out.stderr);
}

#[test]
fn the_log_answers_what_happened_and_who_released_my_claim() {
    let mut hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "api"]).ok();
    hub.at("2026-03-02T09:30:00Z");
    hub.as_("bob", &["claim", "task", "api", "--force"]).ok();
    hub.as_("bob", &["send", "alice", "sorry, urgent"]).ok();
    hub.at("2026-03-02T10:00:00Z");
    // Who released my claim: the claim entries about alice, newest last.
    let out = hub
        .run(&["log", "--kind", "claim", "--session", "alice"])
        .ok()
        .stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("claim.taken") && lines[0].contains("alice"),
        "{out}"
    );
    assert!(
        lines[1].contains("claim.stolen") && lines[1].contains("by bob"),
        "{out}"
    );
    // What happened while I was away: the last two hours, nothing older.
    let out = hub.run(&["log", "--since", "45m"]).ok().stdout;
    assert!(
        out.contains("message.sent") && !out.contains("session.started"),
        "{out}"
    );
    let out = hub.run(&["log", "--grep", "URGENT"]).ok().stdout;
    assert_eq!(out.lines().count(), 1, "{out}");
    // One JSON object a line; --limit keeps the newest.
    let out = hub.run(&["--json", "log", "--limit", "2"]).ok();
    let objs: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[1]["kind"], "message.sent");
    assert!(out.stderr.contains("older entries not shown") || out.stderr.is_empty());
    // Archived months with --all.
    hub.at("2026-05-01T09:00:00Z");
    hub.as_("alice", &["heartbeat"]).ok();
    hub.run(&["archive", "--older-than", "30d"]).ok();
    assert!(!hub
        .run(&["log", "--kind", "claim"])
        .ok()
        .stdout
        .contains("claim.stolen"));
    assert!(hub
        .run(&["log", "--kind", "claim", "--all"])
        .ok()
        .stdout
        .contains("claim.stolen"));
    // Bad filters: one sentence, exit 2.
    hub.run(&["log", "--kind", "Claim!"]).code(2).one_error_line();
    hub.run(&["log", "--since", "soon"]).code(2).one_error_line();
    hub.run(&["log", "--session", "Not An Id"])
        .code(2)
        .one_error_line();
}

#[test]
fn log_follow_prints_new_entries_and_ends_cleanly() {
    use std::io::{BufRead, BufReader};
    let hub = Hub::new();
    hub.start("alice");
    let mut c = hub.cmd(&["log", "--follow", "--kind", "claim"]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    hub.as_("alice", &["claim", "task", "api"]).ok();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(
        line.contains("claim.taken") && line.contains("task:api"),
        "{line}"
    );
    // Ctrl-C: ends with success.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert!(child.wait().unwrap().success());
    // A reader that goes away: the next entry ends it quietly, with success.
    let mut c = hub.cmd(&["log", "--follow", "--limit", "1"]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    drop(out);
    hub.as_("alice", &["release", "task", "api"]).ok();
    hub.as_("alice", &["claim", "task", "web"]).ok();
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(
        !String::from_utf8_lossy(&done.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

#[test]
fn honest_wording_where_it_was_wrong() {
    let hub = Hub::new();
    hub.start("lead");
    hub.start("ann");
    // inbox --all with nothing unread does not count "0 unread shown".
    hub.as_("lead", &["send", "ann", "hi"]).ok();
    hub.as_("ann", &["inbox"]).ok();
    let out = hub.as_("ann", &["inbox", "--all"]).ok();
    assert!(!out.stderr.contains("0 unread shown"), "{}", out.stderr);
    // `coord claim` alone: NAME is not optional.
    let out = hub.as_("ann", &["claim"]).code(2).one_error_line();
    assert!(out.stderr.contains("coord claim TYPE NAME"), "{}", out.stderr);
    // A gate names its owner as the one to decide, and the decider once decided.
    hub.as_(
        "lead",
        &["gate", "add", "prod", "--check", "green", "--owner", "lead"],
    )
    .ok();
    let open = hub.as_("ann", &["gates"]).ok().stdout;
    assert!(open.contains("gate prod OPEN (for lead to decide)"), "{open}");
    hub.as_("lead", &["gate", "tick", "prod", "1"]).ok();
    hub.as_("lead", &["gate", "decide", "prod", "go", "--note", "green"])
        .ok();
    let done = hub.as_("ann", &["gates"]).ok().stdout;
    assert!(done.contains("gate prod GO (decided by lead)"), "{done}");
    // A claim refused names when its holder was last seen.
    hub.as_("lead", &["claim", "task", "api"]).ok();
    let out = hub.as_("ann", &["claim", "task", "api"]).code(3);
    assert!(out.stderr.contains("(last seen just now)"), "{}", out.stderr);
    // A hook fed a payload that is not JSON points at the hook's set-up, not doctor.
    let out = hub.call(&["hook", "pre-tool-use"]).stdin("not json").run().ok();
    assert!(
        out.stdout.contains("coord install claude") && !out.stdout.contains("doctor"),
        "{}",
        out.stdout
    );
    // --hub's help says where the hub is.
    let help = hub.run(&["--help"]).ok().stdout;
    assert!(help.contains(".git/coord/"), "{help}");
}

#[test]
fn a_void_handoff_leaves_status_and_its_refusal_names_the_next_step() {
    let hub = Hub::new();
    hub.start("ann");
    hub.start("ben");
    hub.as_("ann", &["claim", "task", "api"]).ok();
    let offered = hub
        .as_("ann", &["--json", "handoff", "task", "api", "--to", "ben"])
        .ok()
        .json();
    let id = offered["handoff"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        hub.as_("ben", &["--json", "status"]).ok().json()["plan"]["handoffs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    hub.as_("ann", &["release", "task", "api"]).ok();
    let status = hub.as_("ben", &["--json", "status"]).ok().json();
    assert!(
        status["plan"]["handoffs"].as_array().is_none_or(|a| a.is_empty()),
        "{status}"
    );
    let out = hub.as_("ben", &["accept", &id]).code(3).one_error_line();
    assert!(
        out.stderr.contains("void") && out.stderr.contains("coord claim task api"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_git_error_stays_one_line_without_escaped_newlines() {
    let (_tmp, repo) = repo();
    git(&repo, &["remote", "add", "origin", "/nonexistent/remote.git"]);
    let out = coord_in(&repo, None, &["sync"]);
    assert_ne!(out.code, 0);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        !out.stderr.contains("\\u{a}") && !out.stderr.contains("\\u{d}"),
        "{}",
        out.stderr
    );
}
