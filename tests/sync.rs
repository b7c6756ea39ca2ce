//! `coord sync` with real git: a bare remote and three clones.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

struct Clone {
    dir: PathBuf,
    machine: &'static str,
}

impl Clone {
    fn coord(&self, now: &str, args: &[&str]) -> Out {
        run(in_clone(&self.dir, &self.dir, self.machine, now, args))
    }

    fn hub(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(".git/coord").join(name)).unwrap_or_default()
    }
}

fn three_clones(tmp: &Path) -> Vec<Clone> {
    let remote = remote_with_code(tmp);
    ["one", "two", "three"]
        .into_iter()
        .map(|m| {
            let dir = tmp.join(m);
            git(
                tmp,
                &["clone", "-q", remote.to_str().unwrap(), dir.to_str().unwrap()],
            );
            let c = Clone { dir, machine: m };
            c.coord(T0, &["init", "-q"]).ok();
            c
        })
        .collect()
}

#[test]
fn three_clones_converge_with_one_holder_and_every_message_once() {
    let tmp = tempfile::tempdir().unwrap();
    let clones = three_clones(tmp.path());
    let names = ["ann", "ben", "cy"];
    for (c, name) in clones.iter().zip(names) {
        c.coord("2026-03-02T09:00:00Z", &["start", "--name", name]).ok();
    }
    // The same claim taken on all three before any sync, at different times.
    for (i, (c, name)) in clones.iter().zip(names).enumerate() {
        let at = format!("2026-03-02T09:0{}:00Z", i + 1);
        c.coord(&at, &["-s", name, "claim", "task", "api"]).ok();
        c.coord(
            &at,
            &["-s", name, "send", "broadcast", &format!("hello from {name}")],
        )
        .ok();
    }
    // Syncs in several orders.
    let at = "2026-03-02T09:10:00Z";
    clones[1].coord(at, &["sync"]).ok();
    clones[0].coord(at, &["sync"]).ok();
    clones[2].coord(at, &["sync"]).ok();
    clones[1].coord(at, &["sync"]).ok();
    clones[0].coord(at, &["sync"]).ok();
    // ben, ann and cy message each other across machines.
    clones[0]
        .coord("2026-03-02T09:11:00Z", &["-s", "ann", "send", "cy", "ann to cy"])
        .ok();
    clones[2]
        .coord("2026-03-02T09:11:00Z", &["-s", "cy", "send", "ann", "cy to ann"])
        .ok();
    // All three at once.
    let handles: Vec<_> = clones
        .iter()
        .map(|c| {
            let mut cmd = Command::new(BIN);
            cmd.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("COORD_TESTING", "1")
                .env("COORD_NOW", "2026-03-02T09:12:00Z")
                .env("COORD_MACHINE", c.machine)
                .current_dir(&c.dir)
                .arg("sync");
            std::thread::spawn(move || run(cmd))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().code, 0);
    }
    // Then one more round so everyone has everything.
    for c in &clones {
        c.coord("2026-03-02T09:13:00Z", &["sync"]).ok();
    }
    let reg = clones[0].hub("REGISTRY.json");
    for c in &clones[1..] {
        assert_eq!(c.hub("REGISTRY.json"), reg, "{} differs", c.machine);
        assert_eq!(c.hub("MESSAGES.jsonl"), clones[0].hub("MESSAGES.jsonl"));
    }
    for c in &clones {
        for f in ["REGISTRY.json", "MESSAGES.jsonl", "EVENTS.jsonl"] {
            assert!(!c.hub(f).contains("<<<<<<<"), "{f}");
        }
    }
    let v: serde_json::Value = serde_json::from_str(&reg).unwrap();
    let api = &v["claims"]["task:api"];
    assert_eq!(api["holder"], "ann", "the earliest claim: {api}");
    assert!(api["token"].as_u64().unwrap() > 1, "{api}");
    // Each message exactly once in the log, and in each recipient's inbox.
    let log = clones[0].hub("MESSAGES.jsonl");
    for text in [
        "hello from ann",
        "hello from ben",
        "hello from cy",
        "ann to cy",
        "cy to ann",
    ] {
        assert_eq!(
            log.matches(&format!("\"subject\":\"{text}\"")).count(),
            1,
            "{text}"
        );
    }
    let inbox = |c: &Clone, who: &str| -> Vec<String> {
        c.coord("2026-03-02T09:14:00Z", &["-s", who, "--json", "inbox"])
            .ok()
            .json()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["subject"].as_str().unwrap().to_string())
            .collect()
    };
    let mut ann = inbox(&clones[0], "ann");
    ann.sort();
    assert_eq!(ann, ["cy to ann", "hello from ben", "hello from cy"]);
    let mut cy = inbox(&clones[2], "cy");
    cy.sort();
    assert_eq!(
        cy,
        [
            "ann to cy",
            "hello from ann",
            "hello from ben",
            "you lost your claim task:api in a merge"
        ]
    );
    // The losers are told, each once.
    let ben = inbox(&clones[1], "ben");
    assert_eq!(
        ben.iter()
            .filter(|s| s.contains("lost your claim task:api"))
            .count(),
        1,
        "{ben:?}"
    );
    assert!(inbox(&clones[1], "ben").is_empty(), "read once");
    // Code history has no coordination commit; the hub has its own branch.
    let code = git(&clones[0].dir, &["log", "--format=%s", "main"]);
    assert_eq!(code.trim(), "code");
    let hub_log = git(&clones[0].dir, &["log", "--format=%an", "coord"]);
    assert!(hub_log.lines().all(|a| a == "coord"), "{hub_log}");
}

#[test]
fn git_commands_on_code_never_touch_the_live_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let clones = three_clones(tmp.path());
    let c = &clones[0];
    c.coord(T0, &["start", "--name", "ann"]).ok();
    c.coord(T0, &["-s", "ann", "claim", "task", "api"]).ok();
    c.coord(T0, &["-s", "ann", "send", "broadcast", "hi"]).ok();
    let snapshot = || ["REGISTRY.json", "MESSAGES.jsonl", "EVENTS.jsonl"].map(|f| c.hub(f));
    let before = snapshot();
    std::fs::write(c.dir.join("scratch.txt"), "wip\n").unwrap();
    git(&c.dir, &["checkout", "-qb", "feature"]);
    git(&c.dir, &["stash", "-u"]);
    git(&c.dir, &["stash", "pop"]);
    git(&c.dir, &["stash", "--all"]);
    git(&c.dir, &["stash", "pop"]);
    git(&c.dir, &["reset", "-q", "--hard"]);
    git(&c.dir, &["clean", "-fdxq"]);
    git(&c.dir, &["checkout", "-q", "main"]);
    git(&c.dir, &["pull", "-q", "origin", "main"]);
    assert_eq!(snapshot(), before);
    // The worktree shows nothing of the hub to commit.
    assert_eq!(git(&c.dir, &["status", "--porcelain"]).trim(), "");
}

#[test]
fn sync_without_a_remote_says_so_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("solo");
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q"]);
    let c = Clone { dir, machine: "solo" };
    c.coord(T0, &["init", "-q"]).ok();
    c.coord(T0, &["start", "--name", "ann"]).ok();
    let before = c.hub("REGISTRY.json");
    let out = c.coord(T0, &["sync"]).code(5).one_error_line();
    assert!(
        out.stderr.contains("no git remote \"origin\"") && out.stderr.contains("git remote add"),
        "{}",
        out.stderr
    );
    assert_eq!(c.hub("REGISTRY.json"), before);
}

#[test]
fn a_message_that_lands_behind_the_read_cursor_is_still_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let clones = three_clones(tmp.path());
    let (a, b) = (&clones[0], &clones[1]);
    a.coord("2026-03-02T09:00:00Z", &["start", "--name", "ann"]).ok();
    a.coord("2026-03-02T09:00:00Z", &["start", "--name", "al"]).ok();
    b.coord("2026-03-02T09:00:00Z", &["start", "--name", "ben"]).ok();
    a.coord("2026-03-02T09:01:00Z", &["sync"]).ok();
    b.coord("2026-03-02T09:01:00Z", &["sync"]).ok();
    a.coord("2026-03-02T09:01:00Z", &["sync"]).ok();
    // ben writes at 09:05 but syncs late; ann reads a 09:10 message first.
    b.coord(
        "2026-03-02T09:05:00Z",
        &["-s", "ben", "send", "ann", "older, from afar"],
    )
    .ok();
    a.coord(
        "2026-03-02T09:10:00Z",
        &["-s", "al", "send", "ann", "newer, from here"],
    )
    .ok();
    let first = a
        .coord("2026-03-02T09:11:00Z", &["-s", "ann", "inbox"])
        .ok()
        .stdout;
    assert!(first.contains("newer, from here"));
    b.coord("2026-03-02T09:12:00Z", &["sync"]).ok();
    a.coord("2026-03-02T09:13:00Z", &["sync"]).ok();
    // In time order the late message sits before ann's cursor; still unread.
    let status = a
        .coord("2026-03-02T09:14:00Z", &["-s", "ann", "--json", "status"])
        .ok()
        .json();
    assert_eq!(status["unread"], 1);
    let second = a
        .coord("2026-03-02T09:14:00Z", &["-s", "ann", "inbox"])
        .ok()
        .stdout;
    assert!(
        second.contains("older, from afar") && !second.contains("newer"),
        "{second}"
    );
    let third = a
        .coord("2026-03-02T09:15:00Z", &["-s", "ann", "inbox"])
        .ok()
        .stdout;
    assert!(third.is_empty(), "{third}");
}

#[test]
fn a_plan_travels_through_git_and_merges_record_by_record() {
    let tmp = tempfile::tempdir().unwrap();
    let clones = three_clones(tmp.path());
    let (one, two) = (&clones[0], &clones[1]);
    let t = "2026-03-02T09:00:00Z";
    one.coord(t, &["start", "--name", "ann", "--role", "lead"]).ok();
    one.coord(t, &["-s", "ann", "task", "add", "schema", "--title", "Schema"])
        .ok();
    one.coord(
        t,
        &[
            "-s", "ann", "task", "add", "api", "--title", "API", "--after", "schema",
        ],
    )
    .ok();
    one.coord(t, &["sync"]).ok();
    two.coord(t, &["sync"]).ok();
    two.coord(t, &["start", "--name", "ben", "--role", "backend"])
        .ok();
    // Both sides change the plan before they meet again: ben finishes the
    // schema and reserves staging; ann adds a gate and renames the API.
    let later = "2026-03-02T10:00:00Z";
    two.coord(later, &["-s", "ben", "task", "done", "schema"]).ok();
    two.coord(later, &["-s", "ben", "reserve", "staging", "15:00-16:00"])
        .ok();
    one.coord(
        "2026-03-02T10:05:00Z",
        &["-s", "ann", "gate", "add", "prod", "--check", "green"],
    )
    .ok();
    one.coord(
        "2026-03-02T10:05:00Z",
        &["-s", "ann", "task", "edit", "api", "--title", "Auth API"],
    )
    .ok();
    for c in [two, one, two] {
        c.coord("2026-03-02T10:10:00Z", &["sync"]).ok();
    }
    assert_eq!(one.hub("REGISTRY.json"), two.hub("REGISTRY.json"));
    let ready = one
        .coord("2026-03-02T10:11:00Z", &["--json", "ready"])
        .ok()
        .json();
    assert_eq!(ready["tasks"][0]["id"], "api");
    assert_eq!(ready["tasks"][0]["title"], "Auth API");
    let gates = two
        .coord("2026-03-02T10:11:00Z", &["--json", "gates"])
        .ok()
        .json();
    assert_eq!(gates["gates"][0]["name"], "prod");
    // The reservation made on two is enforced on one.
    one.coord("2026-03-02T15:30:00Z", &["start", "--name", "cy"]).ok();
    let refused = one
        .coord(
            "2026-03-02T15:30:00Z",
            &["-s", "cy", "claim", "resource", "staging"],
        )
        .code(3);
    assert!(refused.stderr.contains("reserved by ben"), "{}", refused.stderr);
}
