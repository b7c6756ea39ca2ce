//! Bad input (SPEC section 6): every refusal, table-driven. For each: the
//! documented exit code, one sentence on stderr, and a hub unchanged byte for
//! byte. Then broken hub files, one by one.

use crate::support::*;

fn hub() -> Hub {
    let hub = Hub::new();
    hub.start_role("alice", "backend");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "held"]).ok();
    hub.as_("alice", &["send", "bob", "hello"]).ok();
    hub
}

#[test]
fn every_refusal_writes_nothing() {
    let long = "x".repeat(201);
    let long_id = "a".repeat(65);
    let body = "b".repeat(65 * 1024);
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        // unknown recipient
        (vec!["-s", "alice", "send", "zed", "hi"], 4, "no session"),
        (vec!["-s", "alice", "send", "@ghosts", "hi"], 4, "role"),
        // empty or over-long names and subjects
        (vec!["start", "--name", ""], 2, "not valid"),
        (vec!["start", "--name", &long_id], 2, "not valid"),
        (vec!["start", "--name", "x", "--role", &long], 2, "over the limit"),
        (vec!["start", "--name", "x", "--role", ""], 2, "empty"),
        (vec!["-s", "alice", "claim", "task", &long], 2, "over the limit"),
        (vec!["-s", "alice", "claim", "task", " "], 2, "empty"),
        (vec!["-s", "alice", "send", "bob", ""], 2, "empty"),
        (vec!["-s", "alice", "send", "bob", &long], 2, "over the limit"),
        // bodies over the limit
        (vec!["-s", "alice", "send", "bob", "s", &body], 2, "max_body"),
        // control characters outside bodies
        (
            vec!["start", "--name", "x", "--role", "a\u{7}b"],
            2,
            "control character",
        ),
        (
            vec!["start", "--name", "x", "--focus", "a\nb"],
            2,
            "control character",
        ),
        (
            vec!["-s", "alice", "send", "bob", "a\u{1b}[2Jb"],
            2,
            "control character",
        ),
        (vec!["-s", "alice", "heartbeat", "a\tb"], 2, "control character"),
        (
            vec!["-s", "alice", "heartbeat", "--note", "a\rb"],
            2,
            "control character",
        ),
        (
            vec!["-s", "alice", "claim", "task", "a\u{85}b"],
            2,
            "control character",
        ),
        // progress outside 0-100
        (
            vec!["-s", "alice", "heartbeat", "--progress", "101"],
            2,
            "0 to 100",
        ),
        (
            vec!["-s", "alice", "heartbeat", "x", "y", "z", "-1"],
            2,
            "0 to 100",
        ),
        // durations that do not parse or are not positive
        (
            vec!["-s", "alice", "claim", "task", "n", "--for", "soon"],
            2,
            "does not parse",
        ),
        (
            vec!["-s", "alice", "claim", "task", "n", "--for", "0s"],
            2,
            "not positive",
        ),
        (
            vec!["-s", "alice", "claim", "task", "n", "--wait", "-3m"],
            2,
            "duration",
        ),
        (vec!["-s", "bob", "inbox", "--wait", "0"], 2, "not positive"),
        (vec!["brief", "--since", "yesterday"], 2, "does not parse"),
        (
            vec!["status", "--watch", "--interval", "fast"],
            2,
            "does not parse",
        ),
        // ids outside the pattern
        (vec!["-s", "Alice", "heartbeat"], 2, "not valid"),
        (vec!["-s", "alice", "ack", "M-1!"], 2, "not a message id"),
        (
            vec!["-s", "alice", "send", "bob", "re", "--reply-to", "x y"],
            2,
            "not a message id",
        ),
        (vec!["-s", "alice", "send", "Bob", "hi"], 2, "not valid"),
        // claim names that escape the repo
        (vec!["-s", "alice", "claim", "file", "../secrets"], 2, "escapes"),
        (vec!["-s", "alice", "claim", "file", "/etc/hosts"], 2, "escapes"),
        (vec!["-s", "alice", "release", "file", "a/../../b"], 2, "escapes"),
        // other usage errors
        (vec!["-s", "alice", "claim", "Task", "x"], 2, "not a word"),
        (
            vec!["-s", "alice", "send", "bob", "s", "--level", "loud"],
            2,
            "level",
        ),
        (vec!["-s", "bob", "inbox", "--limit", "0"], 2, "--limit"),
        (vec!["-s", "alice", "frobnicate"], 2, "coord --help"),
        // not found and conflict
        (vec!["-s", "zed", "heartbeat"], 4, "no session"),
        (vec!["-s", "bob", "claim", "task", "held"], 3, "held by alice"),
        (vec!["-s", "bob", "release", "task", "held"], 3, "held by alice"),
        (vec!["-s", "bob", "ack", "m-0000000-00000000"], 4, "no message"),
        (vec!["start", "--name", "alice"], 3, "already live"),
    ];
    for (args, code, says) in cases {
        let hub = hub();
        let before = hub.snapshot();
        let logical_before = hub.lines("EVENTS.jsonl");
        let registry_before = hub.registry();
        let out = hub.run(&args);
        if code == 0 {
            continue;
        }
        let out = out.code(code).one_error_line();
        assert!(
            out.stderr.contains(says),
            "{args:?}: want {says:?} in {:?}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{args:?}");
        let after = hub.snapshot();
        if args.contains(&"claim") && code == 3 {
            // A collision is journaled for `coord kpi`, and nothing else.
            // That write folds the pulse (signs of life and journal entries
            // made on the hot path) into the registry and the journal: the
            // state read is the same, with one entry more.
            let events = hub.lines("EVENTS.jsonl");
            let new = &events[logical_before.len()..];
            assert_eq!(new.len(), 1, "{new:?}");
            assert_eq!(new[0]["kind"], "claim.refused", "{new:?}");
            assert_eq!(events[..logical_before.len()], logical_before[..]);
            assert_eq!(hub.registry(), registry_before, "{args:?} changed the registry");
            let strip = |mut m: std::collections::BTreeMap<String, Vec<u8>>| {
                m.remove("EVENTS.jsonl");
                m
            };
            assert_eq!(strip(after), strip(before), "{args:?} wrote to the hub");
            continue;
        }
        assert_eq!(after, before, "{args:?} wrote to the hub");
    }
}

/// Replace a log's bytes, then check that `args` works, warns naming the
/// file and line, and leaves the log as it was.
fn tolerated(file: &str, bytes: &[u8], args: &[&str]) {
    let hub = hub();
    std::fs::write(hub.dir.join(file), bytes).unwrap();
    let before = hub.snapshot();
    let out = hub.run(args).ok();
    assert!(
        out.stderr.contains("warning: skipped 1 line"),
        "{args:?}: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(file) && out.stderr.contains("(the first at line "),
        "{}",
        out.stderr
    );
    assert_eq!(hub.snapshot()[file], before[file], "{file} {args:?}");
}

/// Replace a hub file's bytes, then check that `args` fails with exit 5,
/// names the file, and leaves every file as it was.
fn broken(file: &str, bytes: &[u8], args: &[&str]) {
    let hub = hub();
    hub.as_("alice", &["send", "bob", "two"]).ok();
    std::fs::write(hub.dir.join(file), bytes).unwrap();
    let before = hub.snapshot();
    let out = hub.run(args).code(5).one_error_line();
    assert!(out.stderr.contains(file), "{file} {args:?}: {}", out.stderr);
    assert!(
        out.stderr.contains("line"),
        "{file} {args:?}: names the line: {}",
        out.stderr
    );
    assert_eq!(hub.snapshot(), before, "{file} {args:?}");
}

#[test]
fn broken_hub_files_are_named_and_never_overwritten() {
    let hub0 = hub();
    let registry = std::fs::read(hub0.dir.join("REGISTRY.json")).unwrap();
    let mut bad_utf8 = registry.clone();
    let at = bad_utf8.iter().position(|b| *b == b'b').unwrap();
    bad_utf8[at] = 0xc3;
    for args in [
        &["status"][..],
        &["-s", "alice", "heartbeat"],
        &["-s", "bob", "inbox"],
        &["brief"],
    ] {
        broken("REGISTRY.json", &registry[..registry.len() / 2], args);
        broken("REGISTRY.json", &bad_utf8, args);
    }
    // A log line that is not a valid record (a truncated line in the
    // middle, invalid UTF-8) is a peer's mistake: readers skip it with a
    // warning naming the file and line, and nobody rewrites it.
    let messages = std::fs::read_to_string(hub0.dir.join("MESSAGES.jsonl")).unwrap();
    let first = messages.lines().next().unwrap();
    let truncated = format!("{}\n{first}\n", &first[..first.len() / 2]);
    let mut invalid = format!("{first}\n").into_bytes();
    invalid.extend_from_slice(b"{\"id\":\"m-x\",\"subject\":\"\xff\xfe\"}\n");
    for bytes in [truncated.as_bytes(), &invalid[..]] {
        tolerated("MESSAGES.jsonl", bytes, &["-s", "bob", "inbox", "--all"]);
        tolerated("MESSAGES.jsonl", bytes, &["brief", "--stdout"]);
    }
    let events = std::fs::read_to_string(hub0.dir.join("EVENTS.jsonl")).unwrap();
    let e = events.lines().last().unwrap();
    tolerated(
        "EVENTS.jsonl",
        format!("{}\n{e}\n", &e[..10]).as_bytes(),
        &["brief", "--stdout"],
    );
    // Settings that are not UTF-8 or not TOML.
    broken("coord.toml", b"[liveness]\nstale_after = \"\xff\"\n", &["status"]);
    broken("coord.toml", b"[liveness\n", &["-s", "alice", "heartbeat"]);
    // The machine-local bindings.
    broken(
        ".bindings.json",
        b"{\"sessions\": {",
        &["start", "--name", "carol"],
    );
}
