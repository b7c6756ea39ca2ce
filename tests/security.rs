//! The hub is untrusted input: each attack from the threat model (docs/SECURITY.md)
//! is tried against the real binary, on a hostile hub built by hand.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::*;

/// The command between the first pair of backticks after `after`.
fn quoted_command(text: &str, after: &str) -> String {
    let from = text.find(after).unwrap_or_else(|| panic!("{after:?} in {text}")) + after.len();
    let rest = &text[from..];
    let start = rest.find('`').unwrap() + 1;
    let end = start + rest[start..].find('`').unwrap();
    rest[start..end].to_string()
}

/// Run a printed command line the way an agent would: `sh -c LINE`, with
/// the real coord first on PATH.
fn run_line(hub: &Hub, line: &str) {
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("COORD_HUB", &hub.dir)
        .env("COORD_TESTING", "1")
        .env("COORD_NOW", &hub.now)
        .current_dir(hub.tmp.path())
        .output()
        .unwrap();
}

#[test]
fn a_hint_never_runs_code() {
    let hub = Hub::new();
    hub.start("mallory");
    hub.start("bob");
    let mark = hub.tmp.path().join("PWNED");
    let evil = format!("src/$(touch${{IFS}}{})/**", mark.display());
    hub.as_("mallory", &["claim", "file", &evil]).ok();
    let out = hub.as_("bob", &["--json", "claim", "file", "src/**"]).code(3);
    let hint = out.json()["error"]["hint"].as_str().unwrap().to_string();
    let line = quoted_command(&hint, "ask them with ");
    assert!(line.starts_with("coord send mallory '"), "{line}");
    run_line(&hub, &line);
    assert!(!mark.exists(), "running the hint ran the payload: {line}");
    // The messages coord writes on a force-take and a lapse quote too.
    let mark2 = hub.tmp.path().join("PWNED2");
    let evil2 = format!("x;touch {}|(id)&<y>", mark2.display());
    hub.as_("mallory", &["claim", "task", &evil2, "--for", "1h"]).ok();
    hub.as_("bob", &["claim", "task", &evil2, "--force"]).ok();
    let inbox = hub.as_("mallory", &["--json", "inbox"]).ok().json();
    let body = inbox["messages"][0]["body"].as_str().unwrap().to_string();
    let line = quoted_command(&body, "ran ");
    run_line(&hub, &line);
    assert!(!mark2.exists(), "the steal message ran the payload: {line}");
}

/// A file outside the hub that must never change.
fn outside(hub: &Hub) -> std::path::PathBuf {
    let p = hub.tmp.path().join("victim.txt");
    std::fs::write(&p, "precious\n").unwrap();
    p
}

#[test]
fn planted_links_are_never_written_through() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    let victim = outside(&hub);
    // Temporary names are unpredictable and created exclusively.
    for tmp in [
        ".REGISTRY.json.tmp",
        ".CURRENT_STATE.md.tmp",
        ".bindings.json.tmp",
    ] {
        std::os::unix::fs::symlink(&victim, hub.dir.join(tmp)).unwrap();
    }
    hub.as_("alice", &["heartbeat", "coding"]).ok();
    hub.run(&["brief"]).ok();
    hub.start("carol");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // A log replaced by a link: refused, named, nothing appended through it.
    // (A send appends to MESSAGES.jsonl; its journal entry waits in the
    // pulse, so the journal is written by the next transaction: a plan
    // change.)
    for (log, args) in [
        ("EVENTS.jsonl", &["task", "add", "linked", "--title", "x"][..]),
        ("MESSAGES.jsonl", &["send", "bob", "hello"][..]),
    ] {
        let path = hub.dir.join(log);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let out = hub.as_("alice", args).code(5).one_error_line();
        assert!(
            out.stderr.contains(log) && out.stderr.contains("link"),
            "{}",
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let doctor = hub.run(&["doctor"]).code(5);
        assert!(
            doctor.stdout.contains(&format!("{log} is a symbolic link")),
            "{}",
            doctor.stdout
        );
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, saved).unwrap();
    }
    // A relative link into .git/hooks: the message never becomes a hook.
    let hooks = hub.repo().join(".git").join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let log = hub.dir.join("MESSAGES.jsonl");
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink("../.git/hooks/pre-commit", &log).unwrap();
    hub.as_("alice", &["send", "bob", "#!/bin/sh"]).code(5);
    assert!(!hooks.join("pre-commit").exists());
    // A FIFO in place of a file does not hang a reader.
    std::fs::remove_file(&log).unwrap();
    let ok = Command::new("mkfifo").arg(&log).status().unwrap();
    assert!(ok.success());
    hub.as_("bob", &["inbox"]).code(5);
}

#[test]
fn a_linked_hub_folder_is_used_only_when_given() {
    let hub = Hub::new();
    let elsewhere = hub.tmp.path().join("elsewhere");
    std::fs::rename(&hub.dir, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &hub.dir).unwrap();
    // Found by walking up (as if it arrived through git): refused.
    let out = hub
        .call(&["status"])
        .env("COORD_HUB", "")
        .run()
        .code(5)
        .one_error_line();
    assert!(
        out.stderr.contains("symbolic link") && out.stderr.contains("--hub"),
        "{}",
        out.stderr
    );
    // Given explicitly: the user set it up.
    hub.run(&["status"]).ok();
}

#[test]
fn files_are_never_world_writable_and_bindings_are_private() {
    let hub = Hub::new();
    let dir = hub.tmp.path().join("loose");
    let line = format!(
        "umask 000; \"{BIN}\" --hub '{}' init -q && COORD_AGENT_ID=a \"{BIN}\" --hub '{}' start --name amy -q && \"{BIN}\" --hub '{}' brief -q",
        dir.display(),
        dir.display(),
        dir.display()
    );
    let ok = Command::new("sh")
        .arg("-c")
        .arg(&line)
        .env("COORD_TESTING", "1")
        .env("COORD_NOW", T0)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let name = entry.file_name().to_string_lossy().into_owned();
        assert_eq!(mode & 0o022, 0, "{name} is writable by others: {mode:o}");
        if name == ".bindings.json" {
            assert_eq!(mode, 0o600, "{name}");
        }
    }
    let folder = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(folder & 0o022, 0, "the hub folder: {folder:o}");
}

#[test]
fn fields_read_back_from_the_hub_are_sanitised_everywhere() {
    let hub = Hub::new();
    hub.start("lead");
    hub.start("bob");
    hub.as_("lead", &["send", "bob", "hello"]).ok();
    hub.as_("lead", &["send", "broadcast", "stop", "--level", "emergency"])
        .ok();
    // A peer edits the files by hand: escapes in ids, senders and names.
    let esc = "\u{1b}[2K\r\u{1b}]0;owned\u{7}";
    let bad = serde_json::to_string(esc).unwrap();
    let bad = &bad[1..bad.len() - 1];
    let text = hub
        .read("MESSAGES.jsonl")
        .replace("\"from\":\"lead\"", &format!("\"from\":\"lead{bad}\""));
    std::fs::write(hub.dir.join("MESSAGES.jsonl"), text).unwrap();
    let reg = hub
        .read("REGISTRY.json")
        .replace("\"from\": \"lead\"", &format!("\"from\": \"lead{bad}\""))
        .replace("\"lead\": {", &format!("\"lead{bad}\": {{"));
    std::fs::write(hub.dir.join("REGISTRY.json"), reg).unwrap();
    for args in [
        &["inbox", "--peek"][..],
        &["status"],
        &["status", "--short"],
        &["heartbeat"],
        &["--json", "status"],
        &["--json", "inbox", "--peek"],
    ] {
        let out = hub.as_("bob", args).ok();
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\r'),
                "{args:?}: raw escape in {stream:?}"
            );
        }
    }
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(!page.contains('\u{1b}'));
}

#[test]
fn invisible_and_look_alike_text_is_refused_or_conflicts() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    for (args, what) in [
        (&["heartbeat", "fix\u{202e}gnp.exe"][..], "bidi override"),
        (&["heartbeat", "--target", "a\u{200b}b"], "zero-width space"),
        (&["send", "alice", "line\u{2028}break"], "line separator"),
        (
            &["claim", "task", "auth-api\u{200b}"],
            "trailing zero-width space",
        ),
    ] {
        let out = hub.as_("bob", args).code(2).one_error_line();
        assert!(out.stderr.contains("U+"), "{what}: {}", out.stderr);
    }
    hub.run(&["start", "--name", "eve", "--role", "ops\u{200d}"])
        .code(2);
    // Look-alikes of a held name.
    hub.as_("alice", &["claim", "task", "auth-api"]).ok();
    hub.as_("bob", &["claim", "task", "auth\u{2010}api"]).code(3);
    hub.as_("bob", &["claim", "task", "AUTH-API"]).code(3);
    let out = hub
        .as_("bob", &["claim", "task", "\u{430}uth-api"])
        .code(2)
        .one_error_line();
    assert!(out.stderr.contains("scripts"), "{}", out.stderr);
    // File claims: NFD beside NFC, and case, on every platform.
    hub.as_("alice", &["claim", "file", "docs/caf\u{e9}.md"]).ok();
    hub.as_("bob", &["claim", "file", "docs/cafe\u{301}.md"]).code(3);
    hub.as_("alice", &["claim", "file", "src/Main.rs"]).ok();
    hub.as_("bob", &["claim", "file", "SRC/main.RS"]).code(3);
    hub.as_("bob", &["claim", "file", "src/*.rs"]).code(3);
    let held: Vec<String> = hub.registry()["claims"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|c| c["holder"].as_str().map(str::to_string))
        .collect();
    assert!(held.iter().all(|h| h == "alice"), "{held:?}");
}

#[test]
fn the_journal_records_who_acted_and_how_and_agents_cannot_borrow_a_name() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "x"]).ok();
    let by = &hub.events_of("claim.taken")[0]["by"];
    assert_eq!(by["session"], "alice");
    assert_eq!(by["how"], "flag");
    assert_eq!(by["machine"], "test-machine");
    let started = &hub.events_of("session.started")[0]["by"];
    assert_eq!(started["how"], "agent:COORD_AGENT_ID");
    // An agent bound to bob may not act as alice, by flag or variable.
    for out in [
        hub.call(&["release", "task", "x"])
            .as_("alice")
            .env("COORD_AGENT_ID", "agent-bob")
            .run(),
        hub.call(&["send", "broadcast", "all clear"])
            .env("COORD_SESSION", "alice")
            .env("COORD_AGENT_ID", "agent-bob")
            .run(),
    ] {
        let out = out.code(4).one_error_line();
        assert!(out.stderr.contains("this agent is session bob"), "{}", out.stderr);
    }
    assert_eq!(hub.registry()["claims"]["task:x"]["holder"], "alice");
    // Naming itself is fine; a human or script without an agent id keeps -s.
    hub.call(&["heartbeat"])
        .as_("bob")
        .env("COORD_AGENT_ID", "agent-bob")
        .run()
        .ok();
    hub.as_("alice", &["heartbeat"]).ok();
}

#[test]
fn only_the_sender_recipients_or_a_lead_resolve_an_escalation() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.start("carol");
    hub.start_role("boss", "lead");
    let id = hub
        .as_(
            "alice",
            &["--json", "send", "bob", "db down", "--level", "emergency"],
        )
        .ok()
        .json()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // carol is neither: refused, and not told how to force it.
    let out = hub.as_("carol", &["ack", &id]).code(4).one_error_line();
    assert!(!out.stderr.contains("--resolve`"), "{}", out.stderr);
    let out = hub
        .as_("carol", &["ack", &id, "--resolve"])
        .code(4)
        .one_error_line();
    assert!(out.stderr.contains("roles.lead"), "{}", out.stderr);
    assert!(hub.registry()["escalations"][id.as_str()].is_object());
    // A role is a label: `boss` declared itself lead, and is not one.
    hub.as_("boss", &["ack", &id, "--resolve"]).code(4);
    let out = hub
        .call(&["start", "--name", "carol", "--role", "lead", "--resume"])
        .env("COORD_AGENT_ID", "agent-carol")
        .run()
        .ok();
    assert!(out.stdout.contains("carol"), "{}", out.stdout);
    hub.as_("carol", &["ack", &id, "--resolve"]).code(4);
    // Lead rights are granted by the settings the owners control.
    hub.settings("[roles]\nlead = [\"boss\"]\n");
    hub.as_("boss", &["ack", &id, "--resolve"]).ok();
    assert!(hub.registry()["escalations"].as_object().unwrap().is_empty());
}

#[test]
fn the_clock_is_pinned_only_in_tests() {
    let hub = Hub::new();
    hub.start("holder");
    hub.as_("holder", &["claim", "task", "prod-db"]).ok();
    for var in ["COORD_NOW", "COORD_ID_SEED"] {
        let mut c = hub.cmd(&["-s", "holder", "claim", "task", "x"]);
        c.env_remove("COORD_TESTING")
            .env_remove("COORD_NOW")
            .env(var, "2099-01-01T00:00:00Z");
        let out = run(c).code(2).one_error_line();
        // Refused, named, and not told how to enable it.
        assert!(out.stderr.contains(var), "{}", out.stderr);
        assert!(!out.stderr.contains("COORD_TESTING"), "{}", out.stderr);
    }
    assert_eq!(hub.registry()["claims"]["task:prod-db"]["holder"], "holder");
    // No help text tells it either.
    let mut texts = vec![hub.run(&["--help"]).ok().stdout];
    for cmd in ["start", "claim", "heartbeat", "doctor", "hook", "status", "brief"] {
        texts.push(hub.run(&[cmd, "--help"]).ok().stdout);
    }
    for t in texts {
        assert!(!t.contains("COORD_TESTING") && !t.contains("COORD_NOW"), "{t}");
    }
}

#[test]
fn a_pinned_clock_leaves_its_mark_for_the_lead() {
    let hub = Hub::new();
    // Made on the real clock: no mark, and doctor has nothing to note.
    let mut c = hub.cmd(&["start", "--name", "alice"]);
    c.env_remove("COORD_TESTING")
        .env_remove("COORD_NOW")
        .env("COORD_AGENT_ID", "agent-alice");
    run(c).ok();
    let mut c = hub.cmd(&["-s", "alice", "claim", "task", "api"]);
    c.env_remove("COORD_TESTING").env_remove("COORD_NOW");
    run(c).ok();
    assert!(hub.lines("EVENTS.jsonl").iter().all(|e| e.get("clock").is_none()));
    let out = hub.call(&["doctor"]).live_clock().run().ok();
    assert!(!out.stderr.contains("pinned"), "{}", out.stderr);
    // bob moves time far ahead and takes alice's live claim as lapsed.
    hub.start("bob");
    hub.call(&["claim", "task", "api"])
        .as_("bob")
        .at("2099-01-01T00:00:00Z")
        .run()
        .ok();
    let lapsed = hub.events_of("claim.lapsed");
    assert_eq!(lapsed.len(), 1);
    assert_eq!(lapsed[0]["clock"], "pinned", "{}", lapsed[0]);
    assert_eq!(hub.events_of("claim.taken").last().unwrap()["clock"], "pinned");
    // doctor notes it (a test hub stays healthy), and the briefing marks it.
    let out = hub.call(&["doctor"]).at("2099-01-01T00:01:00Z").run().ok();
    assert!(
        out.stderr.contains("pinned clock (1 of them lapsed a claim)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hub is healthy"), "{}", out.stderr);
    let brief = hub
        .call(&["brief", "--stdout"])
        .at("2099-01-01T00:01:00Z")
        .run()
        .ok()
        .stdout;
    assert!(brief.contains("made under a pinned clock"), "{brief}");
    assert!(brief.contains("(pinned) | alice | claim.lapsed"), "{brief}");
}

/// Edit REGISTRY.json as a peer could: parse, change, write back.
fn edit_registry(hub: &Hub, f: impl FnOnce(&mut serde_json::Value)) {
    let mut reg = hub.registry();
    f(&mut reg);
    std::fs::write(
        hub.dir.join("REGISTRY.json"),
        serde_json::to_string_pretty(&reg).unwrap(),
    )
    .unwrap();
}

#[test]
fn times_from_the_future_are_not_trusted_and_tokens_never_wrap() {
    let mut hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "api", "--for", "1h"]).ok();
    edit_registry(&hub, |r| {
        r["sessions"]["alice"]["last_seen"] = "9999-01-01T00:00:00Z".into();
        r["claims"]["task:api"]["expires"] = "9999-01-01T00:00:00Z".into();
    });
    // The next change by anyone brings the times back; the journal says so.
    hub.as_("bob", &["heartbeat"]).ok();
    assert_eq!(hub.registry()["sessions"]["alice"]["last_seen"], T0);
    assert_eq!(
        hub.registry()["claims"]["task:api"]["expires"],
        "2026-03-03T09:00:00Z"
    );
    assert!(!hub.events_of("clock.distrusted").is_empty());
    // So alice goes silent like anyone, and her claim lapses.
    hub.at("2026-03-02T11:30:00Z");
    hub.as_("bob", &["claim", "task", "api"]).ok();
    // A token at the end of its range is a hub error, never a wrap to 0.
    edit_registry(&hub, |r| {
        r["claims"]["task:api"]["token"] = serde_json::json!(u64::MAX);
        r["claims"]["task:api"].as_object_mut().unwrap().remove("holder");
    });
    let before = hub.snapshot();
    let out = hub
        .as_("alice", &["claim", "task", "api"])
        .code(5)
        .one_error_line();
    assert!(out.stderr.contains("exhausted"), "{}", out.stderr);
    assert_eq!(hub.snapshot(), before);
    let doctor = hub.run(&["doctor"]).code(5);
    assert!(
        doctor.stdout.contains("exhausted fencing token"),
        "{}",
        doctor.stdout
    );
}

#[test]
fn a_line_dated_in_the_past_hides_nothing() {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["send", "bob", "recent news"]).ok();
    let old = r#"{"from":"alice","id":"m-old","level":"info","recipients":["bob"],"subject":"ancient","to":"bob","ts":"2020-01-01T00:00:00Z"}"#;
    let mut log = hub.read("MESSAGES.jsonl");
    log.push_str(old);
    log.push('\n');
    std::fs::write(hub.dir.join("MESSAGES.jsonl"), log).unwrap();
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(page.contains("recent news"), "{page}");
    assert!(!page.contains("ancient"));
}

#[test]
fn doctor_checks_what_the_files_say_not_only_their_syntax() {
    let hub = Hub::new();
    hub.start("alice");
    hub.as_("alice", &["claim", "task", "t"]).ok();
    hub.as_("alice", &["heartbeat", "coding"]).ok();
    // Written out (a sign of life waits in the pulse until the next write).
    hub.run(&["brief"]).ok();
    hub.run(&["doctor"]).ok();
    type Edit = Box<dyn Fn(&str) -> String>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|t: &str| t.replacen("\"schema\": 1", "\"schema\": 99", 1)),
            "schema 99",
        ),
        (
            Box::new(|t: &str| t.replacen("\"name\": \"t\",", "\"name\": \"t\",\n      \"name\": \"u\",", 1)),
            "appears twice",
        ),
        (
            Box::new(|t: &str| {
                t.replacen("\"name\": \"t\"", "\"name\": \"../../x\"", 1)
                    .replacen("\"type\": \"task\"", "\"type\": \"file\"", 1)
            }),
            "does not match its record",
        ),
        (
            Box::new(|t: &str| t.replacen("\"coding\"", "\"cod\\u001b]0;x\\u0007ing\"", 1)),
            "control or invisible characters",
        ),
    ];
    let clean = hub.read("REGISTRY.json");
    for (edit, says) in cases {
        std::fs::write(hub.dir.join("REGISTRY.json"), edit(&clean)).unwrap();
        let out = hub.run(&["doctor"]).code(5);
        assert!(out.stdout.contains(says), "want {says:?}: {}", out.stdout);
    }
    // What is safe to repair is repaired, and the journal says so.
    std::fs::write(
        hub.dir.join("REGISTRY.json"),
        clean.replacen("\"coding\"", "\"cod\\u001bing\"", 1),
    )
    .unwrap();
    hub.run(&["doctor", "--fix"]).ok();
    assert_eq!(hub.registry()["sessions"]["alice"]["action"], "coding");
    assert_eq!(hub.events_of("doctor.fixed").len(), 1);
}

#[test]
fn growth_is_bounded_and_the_page_stays_small() {
    let hub = Hub::new();
    hub.settings("[limits]\nsessions = 3\nclaims = 2\n[brief]\nmax_rows = 2\n");
    hub.start("a");
    hub.start("b");
    hub.start("c");
    let out = hub.run(&["start", "--name", "d"]).code(5).one_error_line();
    assert!(out.stderr.contains("limits.sessions"), "{}", out.stderr);
    hub.as_("a", &["claim", "task", "one"]).ok();
    hub.as_("a", &["claim", "task", "two"]).ok();
    hub.as_("a", &["claim", "task", "two"]).ok();
    let out = hub.as_("b", &["claim", "task", "three"]).code(5).one_error_line();
    assert!(out.stderr.contains("limits.claims"), "{}", out.stderr);
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(
        page.contains("and 1 more session (see `coord status --all`)"),
        "{page}"
    );
    assert!(tables_hold(&page).is_ok());
}
