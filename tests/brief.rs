//! The briefing: contents, order, caps, escaping and determinism.

use crate::support::*;

/// A small day with something in every section.
fn day() -> Hub {
    let mut hub = Hub::new().seeded("brief-day");
    hub.start_role("alice", "backend");
    hub.start_role("bob", "frontend");
    hub.as_("alice", &["heartbeat", "implementing", "auth", "build", "40"])
        .ok();
    hub.as_(
        "alice",
        &["claim", "task", "auth", "--for", "3h", "--note", "token refresh"],
    )
    .ok();
    hub.as_("bob", &["claim", "file", "web/**", "--for", "1h"]).ok();
    hub.as_("bob", &["send", "alice", "lunch?"]).ok();
    hub.at("2026-03-02T09:20:00Z");
    hub.as_(
        "alice",
        &["send", "broadcast", "db is down", "--level", "emergency"],
    )
    .ok();
    hub.at("2026-03-02T09:55:00Z");
    hub.as_("bob", &["heartbeat", "styling", "login", "test", "80%"])
        .ok();
    hub
}

#[test]
fn the_briefing_matches_its_snapshot() {
    let hub = day();
    hub.run(&["brief"]).ok();
    insta::assert_snapshot!("brief_day", hub.read("CURRENT_STATE.md"));
}

#[test]
fn the_same_state_and_clock_give_the_same_bytes() {
    let hub = day();
    hub.run(&["brief"]).ok();
    let first = hub.read("CURRENT_STATE.md");
    hub.run(&["brief"]).ok();
    assert_eq!(hub.read("CURRENT_STATE.md"), first);
    let stdout = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert_eq!(stdout, first);
    // A copy of the hub elsewhere renders the same page.
    let copy = tempfile::tempdir().unwrap();
    for (name, bytes) in hub.snapshot() {
        std::fs::write(copy.path().join(name), bytes).unwrap();
    }
    let out = hub
        .call(&["brief", "--stdout"])
        .env("COORD_HUB", copy.path())
        .run();
    assert_eq!(out.ok().stdout, first);
}

#[test]
fn stdout_mode_writes_nothing() {
    let hub = day();
    let before = hub.snapshot();
    hub.run(&["brief", "--stdout"]).ok();
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn alerts_come_first_emergencies_at_the_top() {
    let hub = day();
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    let alerts = page.find("## Alerts").unwrap();
    let sessions = page.find("## Sessions").unwrap();
    let emergency = page.find("**EMERGENCY**").unwrap();
    assert!(alerts < emergency && emergency < sessions);
    assert!(
        page.contains("**STALE HOLDER**: alice has been silent for 35m and holds task:auth"),
        "{page}"
    );
}

#[test]
fn long_logs_are_capped_with_a_count_of_the_rest() {
    let mut hub = Hub::new();
    hub.settings("[brief]\nmax_messages = 3\nmax_events = 4\nsince = \"1h\"\n");
    hub.start("alice");
    hub.start("bob");
    hub.at("2026-03-02T07:00:00Z");
    hub.as_("alice", &["send", "bob", "too old"]).ok();
    hub.at("2026-03-02T09:00:00Z");
    for i in 0..10 {
        hub.as_("alice", &["send", "bob", &format!("msg {i}")]).ok();
    }
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(
        page.contains("## Messages (last 1h: 10 messages, newest first; 7 not shown)"),
        "{page}"
    );
    let messages = &page[page.find("## Messages").unwrap()..page.find("## Activity").unwrap()];
    assert!(messages.contains("msg 9") && messages.contains("msg 7") && !messages.contains("msg 6"));
    assert!(!page.contains("too old"));
    assert!(
        page.contains("not shown)\n\n| Time | Session | Event | What |"),
        "{page}"
    );
    let wide = hub.run(&["brief", "--stdout", "--since", "3h"]).ok().stdout;
    assert!(wide.contains("11 messages"), "{wide}");
    hub.run(&["brief", "--since", "never"]).code(2).one_error_line();
}

#[test]
fn hostile_text_cannot_break_the_tables() {
    let hub = Hub::new();
    let hostile = "x | y `z` <b>bold</b> [l](u) *s* _e_ &amp; ~~no~~";
    hub.run(&["start", "--name", "eve", "--role", hostile]).ok();
    hub.start("bob");
    hub.as_("eve", &["heartbeat", hostile, hostile, hostile, "10"])
        .ok();
    hub.as_("eve", &["claim", "task", hostile, "--note", hostile])
        .ok();
    hub.as_("eve", &["send", "bob", hostile, "body\n| a | b |\n<script>"])
        .ok();
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    let rows = tables_hold(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(rows >= 8, "{page}");
    let chars: Vec<char> = page.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '<' {
            assert_eq!(chars[i - 1], '\\', "an unescaped < could open a tag: {page}");
        }
    }
    assert!(!page.contains("`z`"));
}

#[test]
fn the_page_does_not_depend_on_the_order_of_log_lines() {
    // A git merge puts one machine's older lines after the other's newer
    // ones. The old backward scan stopped at the first line older than the
    // window and lost everything before it.
    let mut hub = Hub::new();
    hub.settings("[brief]\nmax_messages = 4\nmax_events = 5\nsince = \"1h\"\n");
    hub.start("alice");
    hub.start("bob");
    for i in 0..8 {
        hub.at(&format!("2026-03-02T09:{:02}:00Z", 10 + i));
        hub.as_("alice", &["send", "bob", &format!("msg {i}")]).ok();
    }
    hub.at("2026-03-02T09:30:00Z");
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    let messages = &page[page.find("## Messages").unwrap()..page.find("## Activity").unwrap()];
    assert!(messages.contains("8 messages"), "{page}");
    assert!(messages.contains("msg 7") && messages.contains("msg 4") && !messages.contains("msg 3"));
    for log in ["MESSAGES.jsonl", "EVENTS.jsonl"] {
        let text = hub.read(log);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.reverse();
        // An old line first, then the rest oldest last.
        lines.rotate_left(1);
        std::fs::write(hub.dir.join(log), lines.join("\n") + "\n").unwrap();
    }
    assert_eq!(hub.run(&["brief", "--stdout"]).ok().stdout, page);
}

/// A message line as coord writes it, at `ts`, 300-odd bytes long.
fn message_line(id: usize, ts: &str, subject: &str) -> String {
    let body = "x".repeat(300);
    format!(
        "{{\"body\":\"{body}\",\"from\":\"alice\",\"id\":\"m-old-{id}\",\"level\":\"info\",\"subject\":\"{subject}\",\"to\":\"bob\",\"ts\":\"{ts}\"}}\n"
    )
}

#[test]
fn a_recent_line_is_found_wherever_a_long_log_holds_it() {
    // The log index skips blocks of the log whose newest line is older
    // than the window. A log of many blocks, indexed, then: a line appended
    // (the index extended), a recent line merged into the first block
    // (the file replaced: rebuilt), and the same bytes edited in place.
    let mut hub = Hub::new();
    hub.settings("[brief]\nmax_messages = 50\nsince = \"1h\"\n");
    hub.start("alice");
    hub.start("bob");
    let old: String = (0..1000)
        .map(|i| {
            message_line(
                i,
                &format!("2026-03-01T{:02}:{:02}:00Z", i / 60 % 24, i % 60),
                "old",
            )
        })
        .collect();
    let path = hub.dir.join("MESSAGES.jsonl");
    std::fs::write(&path, &old).unwrap();
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(page.contains("(last 1h: 0 messages,"), "{page}");
    assert!(hub.dir.join(".logscan.json").exists());

    hub.at("2026-03-02T09:05:00Z");
    hub.as_("alice", &["send", "bob", "appended"]).ok();
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(
        page.contains("appended") && page.contains("(last 1h: 1 message,"),
        "{page}"
    );

    // A merge put a recent line first: the file is replaced.
    let text = hub.read("MESSAGES.jsonl");
    let merged = message_line(9999, "2026-03-02T09:01:00Z", "merged early") + &text;
    let tmp = hub.dir.join("merged.tmp");
    std::fs::write(&tmp, &merged).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(
        page.contains("merged early") && page.contains("(last 1h: 2 messages,"),
        "{page}"
    );

    // Edited in place: the line in the middle of the log becomes recent,
    // the file keeps its inode, its length and its last bytes.
    let text = hub.read("MESSAGES.jsonl");
    let edited = text.replacen("2026-03-01T08:20:00Z", "2026-03-02T09:02:00Z", 1);
    assert_ne!(edited, text);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, edited.as_bytes()))
        .unwrap();
    hub.run(&["doctor"]);
    let page = hub.run(&["brief", "--stdout"]).ok().stdout;
    assert!(
        page.contains("(last 1h: 3 messages,"),
        "an in-place edit is seen after doctor: {page}"
    );
}

#[test]
fn the_newest_are_found_among_many_lines_in_any_order_past_bad_ones() {
    // 300 messages in the window, in a scrambled order, the 20 newest of
    // them timed but not messages: the three shown are the newest good
    // ones, whatever the order, and the bad ones are passed over (the tail
    // keeps only a few lines at a time and must look again for more).
    let mut hub = Hub::new();
    hub.settings("[brief]\nmax_messages = 3\nsince = \"1h\"\n");
    hub.start("alice");
    hub.start("bob");
    hub.at("2026-03-02T10:00:00Z");
    let mut lines: Vec<String> = (0..300)
        .map(|i| {
            let ts = format!("2026-03-02T09:{:02}:{:02}Z", 10 + i / 60, i % 60);
            message_line(i, &ts, &format!("msg {i}"))
        })
        .collect();
    for line in &mut lines[280..] {
        *line = line.replace("\"from\":\"alice\",", "");
    }
    let path = hub.dir.join("MESSAGES.jsonl");
    let mut pages = Vec::new();
    for step in [1, 7919, 299] {
        let order: String = (0..300).map(|i| lines[i * step % 300].as_str()).collect();
        std::fs::write(&path, order).unwrap();
        let out = hub.run(&["brief", "--stdout"]).ok();
        assert!(out.stderr.contains("MESSAGES.jsonl"), "{}", out.stderr);
        pages.push(out.stdout);
    }
    let page = &pages[0];
    let messages = &page[page.find("## Messages").unwrap()..page.find("## Activity").unwrap()];
    assert!(
        messages.contains("(last 1h: 280 messages, newest first; 277 not shown)"),
        "{messages}"
    );
    assert!(
        messages.contains("msg 279") && messages.contains("msg 277") && !messages.contains("msg 276"),
        "{messages}"
    );
    assert!(pages.iter().all(|p| p == page));
}

#[test]
fn a_window_of_tens_of_thousands_of_bad_lines_is_passed_over() {
    // A peer's push of 70,000 timed lines that are not messages, all newer
    // than the one real message: the tail keeps looking further back (each
    // time keeping more) until it finds it, and says how many it skipped.
    let mut hub = Hub::new();
    hub.settings("[brief]\nmax_messages = 1\nsince = \"2h\"\n");
    hub.start("alice");
    hub.at("2026-03-02T10:00:00Z");
    let mut log = message_line(0, "2026-03-02T09:00:00Z", "the real one");
    for i in 0..70_000 {
        log.push_str(&format!("{{\"bad\":{i},\"ts\":\"2026-03-02T09:30:00Z\"}}\n"));
    }
    std::fs::write(hub.dir.join("MESSAGES.jsonl"), log).unwrap();
    let out = hub.run(&["brief", "--stdout"]).ok();
    assert!(out.stdout.contains("the real one"), "{}", out.stdout);
    assert!(out.stderr.contains("skipped 70000 lines"), "{}", out.stderr);
}
