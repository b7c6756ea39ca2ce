//! `coord doctor`: findings with file and line, exit 5 until healthy, and
//! `--fix` that repairs what is safe and keeps backups.

use crate::support::*;

fn busy_hub() -> Hub {
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    hub.as_("alice", &["claim", "task", "t"]).ok();
    hub.as_("alice", &["send", "bob", "one"]).ok();
    hub.as_("alice", &["send", "bob", "two"]).ok();
    hub
}

#[test]
fn a_healthy_hub_passes() {
    let hub = busy_hub();
    let out = hub.run(&["doctor"]).ok();
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("healthy"));
    assert_eq!(hub.run(&["doctor", "--json"]).ok().json()["healthy"], true);
}

#[test]
fn log_problems_are_found_by_line_and_fixed_with_a_backup() {
    let hub = busy_hub();
    let log = hub.dir.join("MESSAGES.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Line 2 duplicated as line 3, a junk line 4, a good line 5, a torn tail.
    let mut fresh: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    fresh["id"] = "m-0000000-zzzzzzzz".into();
    fresh["subject"] = "three".into();
    let broken = format!(
        "{}\n{}\n{}\nnot json\n{fresh}\n{{\"id\":\"m-torn",
        lines[0], lines[1], lines[1]
    );
    std::fs::write(&log, &broken).unwrap();
    let out = hub.run(&["doctor"]).code(5);
    assert!(
        out.stdout.contains("MESSAGES.jsonl:3: duplicate id"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("MESSAGES.jsonl:4: the line is not a valid record"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("MESSAGES.jsonl:6: the last line is torn"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("coord doctor --fix"), "{}", out.stdout);
    assert!(out
        .stderr
        .lines()
        .last()
        .unwrap()
        .starts_with("error: the hub has 3 problems"));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        broken,
        "doctor without --fix changes nothing"
    );

    let out = hub.run(&["doctor", "--fix"]).ok();
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("fixed: ")).count(),
        3,
        "{}",
        out.stdout
    );
    let backups: Vec<_> = std::fs::read_dir(&hub.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read_to_string(hub.dir.join(&backups[0])).unwrap(),
        broken
    );
    assert_eq!(hub.lines("MESSAGES.jsonl").len(), 3);
    hub.run(&["doctor"]).ok();
}

#[test]
fn registry_problems_unknown_holders_and_future_timestamps() {
    let hub = busy_hub();
    let mut reg = hub.registry();
    reg["claims"]["task:ghost"] = serde_json::json!({"type": "task", "name": "ghost", "holder": "nobody", "token": 1, "since": "2026-03-02T09:00:00Z", "expires": "2026-03-02T10:00:00Z"});
    reg["sessions"]["bob"]["last_seen"] = serde_json::json!("2027-01-01T00:00:00Z");
    std::fs::write(
        hub.dir.join("REGISTRY.json"),
        serde_json::to_string_pretty(&reg).unwrap(),
    )
    .unwrap();
    let out = hub.run(&["doctor"]).code(5);
    assert!(
        out.stdout
            .contains("claim task:ghost is held by unknown session nobody"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("session bob has last_seen 2027-01-01T00:00:00Z in the future"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.lines().all(|l| l.starts_with("REGISTRY.json:")),
        "{}",
        out.stdout
    );
    hub.run(&["doctor", "--fix"]).ok();
    let reg = hub.registry();
    assert!(reg["claims"]["task:ghost"].get("holder").is_none());
    assert_eq!(reg["sessions"]["bob"]["last_seen"], T0);
}

#[test]
fn what_cannot_be_fixed_safely_is_left_alone() {
    let hub = busy_hub();
    hub.settings("[liveness]\nstale_after = \"5h\"\n");
    let out = hub.run(&["doctor", "--fix"]).code(5);
    assert!(
        out.stdout
            .contains("coord.toml: liveness.gone_after must be longer"),
        "{}",
        out.stdout
    );
    hub.settings("");
    std::fs::write(hub.dir.join("REGISTRY.json"), "{ \"schema\": 1, oops").unwrap();
    let before = hub.snapshot();
    let out = hub.run(&["doctor", "--fix"]).code(5);
    assert!(
        out.stdout.contains("REGISTRY.json:1: does not parse"),
        "{}",
        out.stdout
    );
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn missing_files_are_recreated() {
    let hub = busy_hub();
    std::fs::remove_file(hub.dir.join(".gitattributes")).unwrap();
    std::fs::remove_file(hub.dir.join("EVENTS.jsonl")).unwrap();
    let out = hub.run(&["doctor"]).code(5);
    assert!(
        out.stdout.contains("EVENTS.jsonl: EVENTS.jsonl is missing"),
        "{}",
        out.stdout
    );
    hub.run(&["doctor", "--fix"]).ok();
    assert!(hub.dir.join(".gitattributes").is_file());
}

#[test]
fn doctor_reports_overlapping_reservations() {
    let hub = Hub::new();
    hub.run(&["start", "--name", "ann"]).ok();
    hub.as_("ann", &["reserve", "staging", "15:00-16:00"]).ok();
    let mut reg = hub.registry();
    let (id, r) = {
        let res = reg["plan"]["reservations"].as_object().unwrap();
        let (id, r) = res.iter().next().unwrap();
        (id.clone(), r.clone())
    };
    let mut copy = r.clone();
    copy["from"] = "15:30".into();
    copy["to"] = "17:00".into();
    reg["plan"]["reservations"][format!("{id}x")] = copy;
    std::fs::write(
        hub.dir.join("REGISTRY.json"),
        serde_json::to_string_pretty(&reg).unwrap() + "\n",
    )
    .unwrap();
    let out = hub.run(&["doctor"]).code(5);
    assert!(
        out.stdout.contains(&format!(
            "reservations {id} (ann) and {id}x (ann) of staging overlap"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn a_radar_record_coord_would_not_write_is_reported() {
    let hub = busy_hub();
    let mut reg = hub.registry();
    reg["sessions"]["bob"]["edits"] =
        serde_json::json!({"src/a.rs": "yesterday", "src/b.rs": "2026-03-02T09:00:00Z"});
    let write = |reg: &serde_json::Value| {
        std::fs::write(
            hub.dir.join("REGISTRY.json"),
            serde_json::to_string_pretty(reg).unwrap(),
        )
        .unwrap()
    };
    write(&reg);
    let out = hub.run(&["doctor"]).code(5);
    assert!(
        out.stdout
            .contains("session bob has an edits record coord would not write"),
        "{}",
        out.stdout
    );
    // A good record passes.
    reg["sessions"]["bob"]["edits"] = serde_json::json!({"src/b.rs": "2026-03-02T09:00:00Z"});
    write(&reg);
    hub.run(&["doctor"]).ok();
}
