//! The hub: init, discovery, file formats, corruption, torn lines, settings.

use crate::support::*;
use std::process::Command;

#[test]
fn init_creates_every_file_and_is_idempotent() {
    let hub = Hub::new();
    for f in [
        "REGISTRY.json",
        "MESSAGES.jsonl",
        "EVENTS.jsonl",
        "coord.toml",
        ".gitignore",
        ".gitattributes",
    ] {
        assert!(hub.dir.join(f).is_file(), "{f} missing");
    }
    assert!(hub.read(".gitignore").lines().any(|l| l == ".lock"));
    assert!(hub.read(".gitignore").lines().any(|l| l == ".bindings.json"));
    assert!(hub.read(".gitattributes").contains("MESSAGES.jsonl merge=coord"));
    assert!(hub.read(".gitattributes").contains("EVENTS.jsonl merge=coord"));
    assert_eq!(hub.registry()["schema"], 1);
    // Every setting is written, commented, at its default.
    let toml = hub.read("coord.toml");
    for key in [
        "stale_after",
        "gone_after",
        "default_for",
        "max_for",
        "max_body",
        "since",
        "max_messages",
        "max_events",
        "durability",
        "lock_timeout",
    ] {
        assert!(toml.contains(&format!("\n# {key} = ")), "coord.toml lacks {key}");
    }
    assert!(toml.lines().filter(|l| l.starts_with('#')).count() >= 10);

    hub.start("alice");
    let before = hub.snapshot();
    let out = hub.run(&["init"]).ok();
    assert!(out.stderr.contains("nothing to do"), "{}", out.stderr);
    assert_eq!(hub.snapshot(), before, "a second init must not touch anything");
}

#[test]
fn registry_is_pretty_sorted_and_ends_with_newline() {
    let hub = Hub::new();
    hub.start_role("zed", "ops");
    hub.start("amy");
    hub.as_("amy", &["claim", "task", "x"]).ok();
    // (A claim waits in the pulse until the next transaction folds it.)
    hub.run(&["brief"]).ok();
    let text = hub.read("REGISTRY.json");
    assert!(text.ends_with("}\n"));
    assert!(text.contains("\n  \"claims\": {\n"), "pretty-printed: {text}");
    let amy = text.find("\"amy\"").unwrap();
    let zed = text.find("\"zed\"").unwrap();
    assert!(amy < zed, "session keys sorted");
    let claims = text.find("\"claims\"").unwrap();
    let sessions = text.find("\"sessions\"").unwrap();
    assert!(claims < sessions, "top-level keys sorted");
}

#[test]
fn unknown_fields_survive_a_rewrite() {
    let hub = Hub::new();
    hub.start("amy");
    let mut reg = hub.registry();
    reg["future_feature"] = serde_json::json!({"keep": true});
    reg["sessions"]["amy"]["from_v2"] = serde_json::json!(7);
    std::fs::write(
        hub.dir.join("REGISTRY.json"),
        serde_json::to_string_pretty(&reg).unwrap(),
    )
    .unwrap();
    hub.as_("amy", &["heartbeat", "working"]).ok();
    let reg = hub.registry();
    assert_eq!(reg["future_feature"]["keep"], true);
    assert_eq!(reg["sessions"]["amy"]["from_v2"], 7);
}

#[test]
fn discovery_by_flag_env_and_walking_up() {
    let hub = Hub::new();
    hub.start("amy");
    // Walking up from a subfolder of the repository, no COORD_HUB.
    let sub = hub.repo().join("src").join("deep");
    std::fs::create_dir_all(&sub).unwrap();
    let mut c = hub.cmd(&["status", "--json"]);
    c.env_remove("COORD_HUB").current_dir(&sub);
    let out = run(c).ok();
    assert_eq!(out.json()["sessions"][0]["id"], "amy");

    // --hub wins over COORD_HUB.
    let other = Hub::new();
    let mut c = other.cmd(&["--hub", hub.dir.to_str().unwrap(), "status", "--json"]);
    c.current_dir(other.tmp.path());
    assert_eq!(run(c).ok().json()["sessions"][0]["id"], "amy");

    // No hub anywhere: exit 5 naming `coord init`.
    let empty = tempfile::tempdir().unwrap();
    let mut c = hub.cmd(&["status"]);
    c.env_remove("COORD_HUB").current_dir(empty.path());
    let out = run(c).code(5).one_error_line();
    assert!(out.stderr.contains("coord init"), "{}", out.stderr);
}

#[test]
fn init_without_a_flag_uses_the_top_of_the_git_work_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("proj");
    std::fs::create_dir_all(repo.join("src/a")).unwrap();
    git(&repo, &["init", "-q"]);
    coord_in(&repo.join("src/a"), None, &["init"]);
    // In a git repository the live hub is in the common git dir, out of
    // reach of every git command run on code.
    assert!(repo.join(".git/coord/REGISTRY.json").is_file());
    assert!(!repo.join("coordination").exists());
}

#[test]
fn a_linked_worktree_uses_the_main_worktrees_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let main = tmp.path().join("main");
    std::fs::create_dir_all(&main).unwrap();
    git(&main, &["init", "-q"]);
    coord_in(&main, None, &["init"]);
    std::fs::write(main.join("README"), "code\n").unwrap();
    git(&main, &["add", "-A"]);
    git(&main, &["commit", "-qm", "code"]);
    let wt = tmp.path().join("wt");
    git(&main, &["worktree", "add", "-q", wt.to_str().unwrap()]);
    std::fs::create_dir_all(wt.join("src")).unwrap();
    // A session started in the linked worktree lands in the one live hub.
    coord_in(&wt.join("src"), None, &["start", "--name", "wt-session"]);
    let live = std::fs::read_to_string(main.join(".git/coord/REGISTRY.json")).unwrap();
    assert!(live.contains("wt-session"));
    assert!(!wt.join("coordination").exists(), "no stale copy in the worktree");
}

#[test]
fn init_moves_a_tracked_hub_of_the_old_layout_out_of_git() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("proj");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    // The old layout: coordination/ at the top, tracked on the code branch.
    coord_in(&repo, None, &["--hub", "coordination", "init"]);
    coord_in(
        &repo,
        None,
        &["--hub", "coordination", "start", "--name", "old-timer"],
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "old hub"]);
    let out = coord_in(&repo, None, &["init"]);
    assert!(out.stderr.contains("no longer tracked by git"), "{}", out.stderr);
    assert!(std::fs::read_to_string(repo.join(".git/coord/REGISTRY.json"))
        .unwrap()
        .contains("old-timer"));
    // No file deleted, nothing tracked, nothing to commit.
    assert!(repo.join("coordination/REGISTRY.json").is_file());
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(status.lines().all(|l| l.starts_with("D ")), "{status}");
}

#[test]
fn a_corrupt_registry_is_reported_with_file_and_line_and_left_alone() {
    let hub = Hub::new();
    hub.start("amy");
    let path = hub.dir.join("REGISTRY.json");
    let broken = "{\n  \"schema\": 1,\n  \"sessions\": {\n    oops\n}\n";
    std::fs::write(&path, broken).unwrap();
    let before = hub.snapshot();
    for args in [
        &["status"][..],
        &["-s", "amy", "heartbeat", "x"],
        &["-s", "amy", "claim", "task", "t"],
        &["start", "--name", "bob"],
    ] {
        let out = hub.run(args).code(5).one_error_line();
        assert!(out.stderr.contains("REGISTRY.json line 4"), "{}", out.stderr);
    }
    assert_eq!(hub.snapshot(), before);
    // A git conflict marker is just as corrupt.
    std::fs::write(&path, "<<<<<<< ours\n{}\n=======\n{}\n>>>>>>> theirs\n").unwrap();
    hub.run(&["status"]).code(5);
}

#[test]
fn non_utf8_hub_files_are_reported() {
    let hub = Hub::new();
    hub.start("amy");
    let path = hub.dir.join("REGISTRY.json");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.iter().position(|b| *b == b'a').unwrap();
    bytes[at] = 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let before = hub.snapshot();
    let out = hub.as_("amy", &["heartbeat"]).code(5).one_error_line();
    assert!(
        out.stderr.contains("REGISTRY.json") && out.stderr.contains("UTF-8"),
        "{}",
        out.stderr
    );
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn a_torn_last_log_line_is_skipped_with_a_warning_and_repaired_by_the_next_writer() {
    let hub = Hub::new();
    hub.start("amy");
    hub.start("bob");
    hub.as_("amy", &["send", "bob", "first"]).ok();
    let log = hub.dir.join("MESSAGES.jsonl");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"{\"id\":\"m-torn\",\"from\":\"amy\",\"to\":\"bo");
    std::fs::write(&log, &bytes).unwrap();
    // A reader skips it and warns.
    let out = hub.as_("bob", &["inbox", "--peek"]).ok();
    assert!(out.stdout.contains("first"));
    assert!(out.stderr.contains("torn"), "{}", out.stderr);
    // The next writer cuts it off; nothing else is lost.
    hub.as_("amy", &["send", "bob", "second"]).ok();
    let text = hub.read("MESSAGES.jsonl");
    assert!(!text.contains("m-torn"));
    assert_eq!(hub.lines("MESSAGES.jsonl").len(), 2);
    let out = hub.as_("bob", &["inbox"]).ok();
    assert!(out.stdout.contains("first") && out.stdout.contains("second"));
    assert!(!out.stderr.contains("torn"));
}

#[test]
fn coord_now_sets_every_timestamp() {
    let mut hub = Hub::new();
    hub.at("2030-01-02T03:04:05Z");
    hub.start("amy");
    let reg = hub.registry();
    assert_eq!(reg["sessions"]["amy"]["started"], "2030-01-02T03:04:05Z");
    assert_eq!(hub.lines("EVENTS.jsonl")[0]["ts"], "2030-01-02T03:04:05Z");
    hub.at("yesterday");
    let out = hub.run(&["status"]).code(2).one_error_line();
    assert!(out.stderr.contains("COORD_NOW"));
}

#[test]
fn settings_are_read_and_bad_settings_are_hub_errors() {
    let mut hub = Hub::new();
    hub.settings("[liveness]\nstale_after = \"5m\"\ngone_after = \"10m\"\n");
    hub.start("amy");
    hub.at("2026-03-02T09:06:00Z");
    assert_eq!(
        hub.run(&["status", "--json"]).ok().json()["sessions"][0]["state"],
        "stale"
    );
    hub.at("2026-03-02T09:11:00Z");
    assert_eq!(
        hub.run(&["status", "--all", "--json"]).ok().json()["sessions"][0]["state"],
        "gone"
    );

    for bad in [
        "[storage]\ndurability = \"sometimes\"\n",
        "[liveness]\nstale_after = \"never\"\n",
        "[brief]\nmax_events = -3\n",
        "not toml at all =",
    ] {
        hub.settings(bad);
        let out = hub.run(&["status"]).code(5).one_error_line();
        assert!(out.stderr.contains("coord.toml"), "{}", out.stderr);
    }
}

#[test]
fn every_durability_level_writes_the_same_state() {
    let mut results = Vec::new();
    for level in ["full", "normal", "none"] {
        let hub = Hub::new();
        hub.settings(&format!("[storage]\ndurability = \"{level}\"\n"));
        hub.start("amy");
        hub.as_("amy", &["claim", "task", "t"]).ok();
        results.push(hub.read("REGISTRY.json"));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[1], results[2]);
}

#[test]
fn the_schema_version_is_checked() {
    let hub = Hub::new();
    let path = hub.dir.join("REGISTRY.json");
    std::fs::write(&path, "{\"schema\": 99, \"sessions\": {}, \"claims\": {}}\n").unwrap();
    let out = hub.run(&["status"]).code(5).one_error_line();
    assert!(out.stderr.contains("upgrade coord"), "{}", out.stderr);
}

#[test]
fn a_long_lock_wait_is_announced_and_ends_in_exit_6() {
    use fs2::FileExt;
    use std::io::Write;
    let hub = Hub::new();
    hub.start("amy");
    hub.settings("[storage]\nlock_timeout = \"1s\"\n");
    let mut lock = std::fs::OpenOptions::new()
        .write(true)
        .open(hub.dir.join(".lock"))
        .unwrap();
    lock.lock_exclusive().unwrap();
    let out = hub.as_("amy", &["heartbeat", "coding"]).code(6);
    assert!(
        out.stderr
            .starts_with("waiting for the hub lock held by another coord process"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("storage.lock_timeout"), "{}", out.stderr);
    // A writer leaves its name in the lock: the waiter names it, and how to
    // look at it.
    let me = std::process::id();
    write!(
        lock,
        r#"{{"command":"coord claim","pid":{me},"since":"2026-03-02T09:00:00Z"}}"#
    )
    .unwrap();
    let out = hub.as_("amy", &["heartbeat", "coding"]).code(6);
    assert!(
        out.stderr
            .contains(&format!("pid {me}, `coord claim`, since 2026-03-02T09:00:00Z")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&format!("ps -p {me}")), "{}", out.stderr);
    FileExt::unlock(&lock).unwrap();
    hub.as_("amy", &["heartbeat", "coding"]).ok();
    // Done writing, a holder clears its note.
    assert_eq!(hub.read(".lock"), "");
}
