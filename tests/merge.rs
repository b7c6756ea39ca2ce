//! Git merges of a hub go through coord's merge driver: record by record,
//! no conflict markers, one holder for a claim taken on both sides.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// coord in `repo`'s hub at `now`.
fn coord(repo: &Path, now: &str, args: &[&str]) -> Out {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COORD_TESTING", "1")
        .env("COORD_NOW", now)
        .env("COORD_MACHINE", "m")
        // The old layout, tracked in the work tree: what git merges.
        .env("COORD_HUB", repo.join("coordination"))
        .current_dir(repo)
        .args(args);
    run(c)
}

#[test]
fn two_branches_that_both_changed_the_hub_merge_without_markers() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("proj");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let out = coord(&repo, T0, &["init"]).ok();
    assert!(out.stderr.contains("merge driver"), "{}", out.stderr);
    coord(&repo, T0, &["start", "--name", "base-session"]).ok();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "hub"]);
    // Two lines of work, each with its own session and the same claim.
    git(&repo, &["checkout", "-qb", "left"]);
    coord(&repo, "2026-03-02T09:10:00Z", &["start", "--name", "lefty"]).ok();
    coord(
        &repo,
        "2026-03-02T09:11:00Z",
        &["-s", "lefty", "claim", "task", "api"],
    )
    .ok();
    coord(
        &repo,
        "2026-03-02T09:12:00Z",
        &["-s", "lefty", "send", "base-session", "from the left"],
    )
    .ok();
    // What the hot path keeps in the pulse is folded before a commit of a
    // tracked hub (`coord sync` does it itself).
    coord(&repo, "2026-03-02T09:15:00Z", &["brief"]).ok();
    git(&repo, &["commit", "-qam", "left"]);
    git(&repo, &["checkout", "-q", "main"]);
    coord(&repo, "2026-03-02T09:20:00Z", &["start", "--name", "righty"]).ok();
    coord(
        &repo,
        "2026-03-02T09:21:00Z",
        &["-s", "righty", "claim", "task", "api"],
    )
    .ok();
    coord(
        &repo,
        "2026-03-02T09:22:00Z",
        &["-s", "righty", "send", "base-session", "from the right"],
    )
    .ok();
    coord(&repo, "2026-03-02T09:25:00Z", &["brief"]).ok();
    git(&repo, &["commit", "-qam", "right"]);
    git(&repo, &["merge", "-q", "--no-edit", "left"]);
    let hub = repo.join("coordination");
    for f in ["REGISTRY.json", "MESSAGES.jsonl", "EVENTS.jsonl"] {
        let text = std::fs::read_to_string(hub.join(f)).unwrap();
        assert!(
            !text.contains("<<<<<<<") && !text.contains(">>>>>>>"),
            "{f}: {text}"
        );
    }
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(hub.join("REGISTRY.json")).unwrap()).unwrap();
    for s in ["base-session", "lefty", "righty"] {
        assert!(reg["sessions"][s].is_object(), "{s}: {reg}");
    }
    // One holder, the earlier claim, with a token above both sides'.
    let api = &reg["claims"]["task:api"];
    assert_eq!(api["holder"], "lefty", "{api}");
    assert_eq!(
        api["token"], 3,
        "the largest acquisition token (1) plus two contenders"
    );
    // The next change anywhere tells the loser, once.
    coord(
        &repo,
        "2026-03-02T09:30:00Z",
        &["-s", "base-session", "heartbeat"],
    )
    .ok();
    let inbox = coord(
        &repo,
        "2026-03-02T09:31:00Z",
        &["-s", "righty", "--json", "inbox"],
    )
    .ok()
    .json();
    let subjects: Vec<&str> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["you lost your claim task:api in a merge"]);
    coord(
        &repo,
        "2026-03-02T09:32:00Z",
        &["-s", "base-session", "heartbeat", "x"],
    )
    .ok();
    let events = std::fs::read_to_string(hub.join("EVENTS.jsonl")).unwrap();
    assert_eq!(events.matches("claim.lost_on_sync").count(), 1);
    // Both messages reached base-session, and doctor is content.
    let inbox = coord(
        &repo,
        "2026-03-02T09:33:00Z",
        &["-s", "base-session", "--json", "inbox"],
    )
    .ok()
    .json();
    assert_eq!(inbox["messages"].as_array().unwrap().len(), 2, "{inbox}");
    // doctor's only complaint is the old layout itself: a tracked hub.
    let out = coord(&repo, "2026-03-02T09:34:00Z", &["doctor"]).code(5);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("tracked on the code branch"),
        "{}",
        out.stdout
    );
}

#[test]
fn doctor_reports_and_fixes_an_unregistered_driver() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("proj");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    coord(&repo, T0, &["init"]).ok();
    git(&repo, &["config", "--unset", "merge.coord.driver"]);
    let out = coord(&repo, T0, &["doctor"]).code(5);
    assert!(
        out.stdout.contains("merge driver is not registered"),
        "{}",
        out.stdout
    );
    coord(&repo, T0, &["doctor", "--fix"]).ok();
    assert!(git(&repo, &["config", "--get", "merge.coord.driver"]).contains("coord merge-driver"));
}
