//! `coord prime`: the protocol and the facts that concern one agent, small
//! enough to inject into every new context.

use crate::support::*;

/// Twelve busy sessions, each with a claim; s02 writes to s01 twice, once
/// as an emergency.
fn twelve() -> Hub {
    let hub = Hub::new();
    for i in 1..=12 {
        let name = format!("s{i:02}");
        hub.start_role(&name, "backend");
        hub.as_(&name, &["heartbeat", "implementing", &format!("feature-{i}")])
            .ok();
        hub.as_(&name, &["claim", "task", &format!("feature-{i}")]).ok();
    }
    hub.as_("s02", &["send", "s01", "schema changed"]).ok();
    hub.as_("s02", &["send", "s01", "--level", "emergency", "stop pushing"])
        .ok();
    hub
}

#[test]
fn prime_names_the_session_its_claims_inbox_and_alerts_under_1_5_kb() {
    let hub = twelve();
    let before = hub.snapshot();
    let out = hub.as_("s01", &["prime"]).ok();
    let text = &out.stdout;
    eprintln!("{text}");
    assert!(text.len() < 1536, "prime printed {} bytes", text.len());
    assert!(
        text.contains("You are session s01, role backend (active)."),
        "{text}"
    );
    assert!(text.contains("You hold: task:feature-1 (lease)."), "{text}");
    assert!(
        !text.contains("feature-2 "),
        "others' claims are counted, not listed"
    );
    assert!(
        text.contains("Team: 12 live sessions; 11 claims held by others"),
        "{text}"
    );
    assert!(
        text.contains("Inbox: 2 unread: read them with `coord inbox`."),
        "{text}"
    );
    assert!(text.contains("Alert, emergency:"), "{text}");
    assert!(text.contains("coord claim file PATH"), "the protocol is there");
    // Reading the briefing changes nothing: no heartbeat, no cursor moved.
    assert_eq!(hub.snapshot(), before);
}

#[test]
fn prime_without_a_session_says_how_to_start() {
    let hub = twelve();
    let out = hub.run(&["prime"]).ok();
    assert!(out
        .stdout
        .contains("You have no session yet: run `coord start --name NAME` first."));
    assert!(!out.stdout.contains("You hold"));
    assert!(!out.stdout.contains("Inbox:"));
    assert!(out
        .stdout
        .contains("Team: 12 live sessions; 12 claims held by others"));
}

#[test]
fn prime_json_carries_the_same_facts() {
    let hub = twelve();
    let v = hub.as_("s01", &["prime", "--json"]).ok().json();
    assert_eq!(v["me"]["id"], "s01");
    assert_eq!(v["unread"], 2);
    assert_eq!(v["claims"].as_array().unwrap().len(), 1);
    assert_eq!(v["claims"][0]["key"], "task:feature-1");
    assert_eq!(v["held_by_others"], 11);
    assert_eq!(v["live_sessions"], 12);
    assert_eq!(v["alerts"][0]["kind"], "emergency");
    assert_eq!(v["more_alerts"], 0);
    assert!(v["protocol"].as_array().unwrap().len() >= 4);
}

#[test]
fn prime_shows_at_most_five_alerts_and_counts_the_rest() {
    let hub = Hub::new();
    hub.start("me");
    hub.start("boss");
    for i in 0..7 {
        hub.as_(
            "boss",
            &["send", "me", "--level", "critical", &format!("issue {i}")],
        )
        .ok();
    }
    let out = hub.as_("me", &["prime"]).ok();
    assert_eq!(
        out.stdout.matches("Alert, critical:").count(),
        5,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 more alerts: `coord status`."),
        "{}",
        out.stdout
    );
}

#[test]
fn prime_sanitises_what_peers_wrote() {
    let hub = twelve();
    // A peer's hand-edited registry puts terminal controls in a role.
    let path = hub.dir.join("REGISTRY.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut reg: serde_json::Value = serde_json::from_str(&text).unwrap();
    reg["sessions"]["s01"]["role"] = "back\u{1b}[2Jend\u{202e}".into();
    std::fs::write(&path, serde_json::to_string_pretty(&reg).unwrap()).unwrap();
    let out = hub.as_("s01", &["prime"]).ok();
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(!out.stdout.contains('\u{202e}'), "{:?}", out.stdout);
    assert!(
        out.stdout.contains("You are session s01, role back"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_primer_counts_in_good_english() {
    let hub = Hub::new();
    hub.start("solo");
    let text = hub.as_("solo", &["prime"]).ok().stdout;
    assert!(
        text.contains("Team: 1 live session; 0 claims held by others"),
        "{text}"
    );
}
