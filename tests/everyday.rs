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
    let cycle = [
        hub.as_("s01", &["status"]).ok(),
        hub.as_("s01", &["claim", "task", "feature-1-tests"]).ok(),
        hub.as_("s01", &["heartbeat", "testing", "feature-1", "test", "80"])
            .ok(),
        hub.as_("s01", &["inbox"]).ok(),
    ];
    let total: usize = cycle.iter().map(size).sum();
    let short = size(&hub.as_("s01", &["status", "--short"]).ok());
    eprintln!("cycle: {total} bytes; status --short: {short} bytes");
    // 2.5 KB before; the floor is each session's line (about 75 bytes: id,
    // state, role, activity, claim), see the closing note of issue 13.
    assert!(
        total < 1300,
        "status, claim, heartbeat, inbox printed {total} bytes"
    );
    assert!(short < 1100, "status --short printed {short} bytes");
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
