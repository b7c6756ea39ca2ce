//! Plans: tasks with dependencies and the ready list, gates, reservations,
//! handoffs and the KPIs, through the real binary.

use serde_json::Value;

use crate::support::*;

fn ids(v: &Value) -> Vec<String> {
    v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// A phased plan: phase 1 (a1, a2 in parallel) blocks phase 2 (b1 after
/// both, b2 after a1), which blocks phase 3 (c1 after b1 and b2).
fn phased() -> Hub {
    let hub = Hub::new();
    for (name, role) in [("lead", "lead"), ("alice", "backend"), ("bob", "frontend")] {
        hub.start_role(name, role).ok();
    }
    for (m, title) in [("p1", "Phase 1"), ("p2", "Phase 2"), ("p3", "Phase 3")] {
        hub.as_("lead", &["milestone", "add", m, "--title", title]).ok();
    }
    for (id, after, m, role) in [
        ("a1", "", "p1", "backend"),
        ("a2", "", "p1", "frontend"),
        ("b1", "a1,a2", "p2", "backend"),
        ("b2", "a1", "p2", "frontend"),
        ("c1", "b1,b2", "p3", ""),
    ] {
        let mut args = vec!["task", "add", id, "--title", id, "--milestone", m];
        if !after.is_empty() {
            args.extend(["--after", after]);
        }
        if !role.is_empty() {
            args.extend(["--role", role]);
        }
        hub.as_("lead", &args).ok();
    }
    hub
}

#[test]
fn a_phased_plan_runs_through_ready_claim_and_done() {
    let hub = phased();
    // a1 unblocks b1, b2 and c1; a2 only b1 and c1: a1 first.
    let ready = hub.as_("lead", &["--json", "ready"]).ok().json();
    assert_eq!(ids(&ready), ["a1", "a2"]);
    let mine = hub.as_("alice", &["--json", "ready", "--mine"]).ok().json();
    assert_eq!(ids(&mine), ["a1"], "backend's");
    // A task whose dependencies are not done: refused, naming the blockers.
    let refused = hub
        .as_("alice", &["claim", "task", "b1"])
        .code(3)
        .one_error_line();
    assert!(
        refused.stderr.contains("task b1 waits on a1, a2"),
        "{}",
        refused.stderr
    );
    // Taken: no longer ready, and shown with its holder.
    hub.as_("alice", &["claim", "task", "a1"]).ok();
    assert_eq!(ids(&hub.as_("lead", &["--json", "ready"]).ok().json()), ["a2"]);
    let plan = hub.as_("lead", &["--json", "tasks"]).ok().json();
    assert_eq!(
        ids(&plan),
        ["a1", "a2", "b1", "b2", "c1"],
        "plan order: by phase, then age"
    );
    assert_eq!(plan["tasks"][0]["holder"], "alice");
    let text = hub.as_("lead", &["tasks"]).ok().stdout;
    assert!(text.contains("p2 Phase 2 [----------] 0/2"), "{text}");
    assert!(text.contains("blocked b1 b1 [backend] waits on a1, a2"), "{text}");
    // Done releases the claim; the next phase opens as its dependencies close.
    let done = hub.as_("alice", &["task", "done", "a1"]).ok();
    assert!(done.stderr.contains("released task:a1"), "{}", done.stderr);
    assert!(hub.registry()["claims"]["task:a1"]["holder"].is_null());
    assert_eq!(
        ids(&hub.as_("lead", &["--json", "ready"]).ok().json()),
        ["a2", "b2"]
    );
    hub.as_("bob", &["task", "done", "a2"]).ok();
    assert_eq!(
        ids(&hub.as_("lead", &["--json", "ready"]).ok().json()),
        ["b1", "b2"]
    );
    hub.as_("alice", &["claim", "task", "b1"]).ok();
    // Progress per milestone in status, and the plan line.
    let status = hub.as_("lead", &["--json", "status"]).ok().json();
    let p1 = &status["plan"]["milestones"][0];
    assert_eq!(
        (p1["id"].as_str(), p1["done"].as_u64(), p1["total"].as_u64()),
        (Some("p1"), Some(2), Some(2))
    );
    let full = hub.as_("lead", &["status"]).ok().stdout;
    assert!(full.contains("plan: 2/5 tasks done; ready: b2"), "{full}");
    assert!(full.contains("p1 [##########] 2/2"), "{full}");
    // The short form stays to sessions, claims, alerts and unread.
    let short = hub.as_("lead", &["status", "--short"]).ok().stdout;
    assert!(!short.contains("plan:") && !short.contains("p1 ["), "{short}");
    // prime names what is ready for the session's role.
    let prime = hub.as_("bob", &["prime"]).ok().stdout;
    assert!(
        prime.contains("Ready for you: b2 (`coord claim task b2`)."),
        "{prime}"
    );
    // Dropping a dependency unblocks; reopening blocks again.
    hub.as_("lead", &["task", "drop", "b2"]).ok();
    hub.as_("alice", &["task", "done", "b1"]).ok();
    assert_eq!(ids(&hub.as_("lead", &["--json", "ready"]).ok().json()), ["c1"]);
    hub.as_("lead", &["task", "reopen", "b2"]).ok();
    assert_eq!(ids(&hub.as_("lead", &["--json", "ready"]).ok().json()), ["b2"]);
}

#[test]
fn a_cycle_or_an_unknown_dependency_is_refused_at_the_edit() {
    let hub = phased();
    let before = hub.snapshot();
    let cycle = hub
        .as_("lead", &["task", "edit", "a1", "--after", "c1"])
        .code(2)
        .one_error_line();
    assert!(
        cycle.stderr.contains("that makes a cycle (a1 -> c1 -> b1 -> a1)"),
        "{}",
        cycle.stderr
    );
    let missing = hub
        .as_("lead", &["task", "add", "d1", "--title", "x", "--after", "nope"])
        .code(4)
        .one_error_line();
    assert!(
        missing.stderr.contains("coord task add nope"),
        "{}",
        missing.stderr
    );
    hub.as_("lead", &["task", "add", "a1", "--title", "again"])
        .code(3);
    hub.as_("lead", &["task", "add", "bad id", "--title", "x"])
        .code(2);
    hub.as_("lead", &["task", "done", "zz"]).code(4);
    assert_eq!(hub.snapshot(), before, "refusals write nothing");
}

#[test]
fn a_gate_holds_its_tasks_until_its_owner_says_go() {
    let hub = phased();
    hub.as_(
        "lead",
        &[
            "gate",
            "add",
            "prod",
            "--check",
            "tests pass",
            "--check",
            "backup taken",
            "--owner",
            "lead",
        ],
    )
    .ok();
    hub.as_(
        "lead",
        &[
            "task",
            "add",
            "deploy",
            "--title",
            "Deploy",
            "--after",
            "gate:prod",
        ],
    )
    .ok();
    let refused = hub
        .as_("alice", &["claim", "task", "deploy"])
        .code(3)
        .one_error_line();
    assert!(
        refused.stderr.contains("waits on gate:prod (open)"),
        "{}",
        refused.stderr
    );
    // Only the owner decides; GO needs every check ticked.
    let not_owner = hub
        .as_("alice", &["gate", "decide", "prod", "go", "--note", "ship"])
        .code(3);
    assert!(
        not_owner.stderr.contains("decided by lead, not by you (alice)"),
        "{}",
        not_owner.stderr
    );
    let unticked = hub
        .as_("lead", &["gate", "decide", "prod", "go", "--note", "ship"])
        .code(3);
    assert!(
        unticked.stderr.contains("unticked checks (1, 2)"),
        "{}",
        unticked.stderr
    );
    hub.as_(
        "lead",
        &["gate", "decide", "prod", "no-go", "--note", "backup missing"],
    )
    .ok();
    let nogo = hub.as_("alice", &["claim", "task", "deploy"]).code(3);
    assert!(nogo.stderr.contains("gate:prod (no-go)"), "{}", nogo.stderr);
    hub.as_("alice", &["gate", "tick", "prod", "1"]).ok();
    hub.as_("alice", &["gate", "tick", "prod", "2", "--note", "s3://b/1"])
        .ok();
    hub.as_("alice", &["gate", "tick", "prod", "3"]).code(2);
    let go = hub
        .as_("lead", &["gate", "decide", "prod", "go", "--note", "all green"])
        .ok()
        .stdout;
    assert!(go.contains("gate prod GO"), "{go}");
    assert!(go.contains("2. [x] backup taken (alice)"), "{go}");
    hub.as_("alice", &["claim", "task", "deploy"]).ok();
    // A decision by someone else needs --force, and is journaled as such.
    hub.as_(
        "alice",
        &["gate", "decide", "prod", "no-go", "--note", "rollback", "--force"],
    )
    .ok();
    let decided = hub.events_of("gate.decided");
    assert_eq!(decided.len(), 3);
    assert!(
        decided[2]["text"]
            .as_str()
            .unwrap()
            .ends_with("NO-GO (forced): rollback"),
        "{decided:?}"
    );
    let gates = hub.as_("lead", &["--json", "gates"]).ok().json();
    assert_eq!(gates["gates"][0]["decision"]["forced"], true);
}

#[test]
fn overlapping_reservations_conflict_and_a_window_is_a_live_claim_while_it_lasts() {
    let mut hub = Hub::new();
    hub.settings("[time]\nzone = \"+02:00\"\n");
    for name in ["alice", "bob", "carol"] {
        hub.start(name).ok();
    }
    // 09:00Z is 11:00 in +02:00, on 2026-03-02.
    let r = hub
        .as_(
            "alice",
            &["--json", "reserve", "staging", "15:00-18:00", "--note", "KREACH"],
        )
        .ok()
        .json();
    assert_eq!(r["reservation"]["date"], "2026-03-02");
    let clash = hub
        .as_("bob", &["reserve", "staging", "17:00-19:00"])
        .code(3)
        .one_error_line();
    assert!(
        clash
            .stderr
            .contains("staging is reserved by alice from 15:00 to 18:00 (2026-03-02, +02:00)"),
        "{}",
        clash.stderr
    );
    hub.as_("bob", &["reserve", "staging", "18:00-21:00", "--note", "KVIBE"])
        .ok();
    hub.as_("carol", &["reserve", "staging", "09:00-10:00", "--every", "day"])
        .ok();
    hub.as_("carol", &["reserve", "staging", "25:00-26:00"]).code(2);
    hub.as_("carol", &["reserve", "staging", "12:00-11:00"]).code(2);
    let day = hub.as_("alice", &["reservations", "staging"]).ok().stdout;
    assert!(day.starts_with("2026-03-02 (+02:00), now 11:00\n"), "{day}");
    assert!(day.contains("staging 15:00-18:00 alice"), "{day}");
    // Before the window: free. At its start (15:00 local = 13:00Z): a live
    // claim for alice, refusing others; at its end, bob's window begins.
    hub.at("2026-03-02T12:59:00Z");
    let claims = hub.as_("carol", &["--json", "claims"]).ok().json();
    assert!(claims["claims"].as_array().unwrap().is_empty(), "{claims}");
    hub.at("2026-03-02T13:00:00Z");
    let claims = hub.as_("carol", &["--json", "claims"]).ok().json();
    assert_eq!(claims["claims"][0]["key"], "resource:staging");
    assert_eq!(claims["claims"][0]["holder"], "alice");
    let refused = hub
        .as_("carol", &["claim", "resource", "staging"])
        .code(3)
        .one_error_line();
    assert!(
        refused
            .stderr
            .contains("resource:staging is reserved by alice from 15:00 to 18:00 (+02:00)"),
        "{}",
        refused.stderr
    );
    hub.as_("alice", &["claim", "resource", "staging", "--for", "1h"])
        .ok();
    hub.as_("alice", &["release", "resource", "staging"]).ok();
    hub.at("2026-03-02T16:00:00Z");
    let refused = hub.as_("carol", &["claim", "resource", "staging"]).code(3);
    assert!(
        refused.stderr.contains("reserved by bob from 18:00 to 21:00"),
        "{}",
        refused.stderr
    );
    hub.at("2026-03-02T19:00:00Z");
    hub.as_("carol", &["claim", "resource", "staging", "--for", "30m"])
        .ok();
    // A reservation can wait on a gate, which must exist: until it is GO,
    // the holder's own window does not open.
    hub.as_("bob", &["reserve", "prod", "22:00-22:30", "--after", "gate:nope"])
        .code(4);
    hub.as_("carol", &["gate", "add", "prod-ok", "--check", "smoke green"])
        .ok();
    hub.as_(
        "bob",
        &["reserve", "prod", "23:00-24:00", "--after", "gate:prod-ok"],
    )
    .ok();
    hub.at("2026-03-02T21:30:00Z");
    let waits = hub
        .as_("bob", &["claim", "resource", "prod"])
        .code(3)
        .one_error_line();
    assert!(
        waits.stderr.contains("waits on gate:prod-ok (open)"),
        "{}",
        waits.stderr
    );
    hub.as_("carol", &["gate", "tick", "prod-ok", "1"]).ok();
    hub.as_("carol", &["gate", "decide", "prod-ok", "go", "--note", "green"])
        .ok();
    hub.as_("bob", &["claim", "resource", "prod", "--for", "20m"])
        .ok();
}

#[test]
fn a_handoff_moves_the_claim_with_a_new_token_or_lapses_back() {
    let hub = Hub::new();
    hub.start_role("alice", "backend").ok();
    hub.start_role("bob", "backend").ok();
    hub.start_role("carol", "backend").ok();
    hub.as_("alice", &["claim", "task", "t1"]).ok();
    let before = hub.registry()["claims"]["task:t1"]["token"].as_u64().unwrap();
    let offer = hub
        .as_(
            "alice",
            &[
                "--json", "handoff", "task", "t1", "--to", "bob", "--note", "calendar",
            ],
        )
        .ok()
        .json();
    let id = offer["handoff"]["id"].as_str().unwrap().to_string();
    let inbox = hub.as_("bob", &["inbox"]).ok().stdout;
    assert!(inbox.contains(&format!("coord accept {id}")), "{inbox}");
    hub.as_("carol", &["accept", &id]).code(3);
    let accepted = hub.as_("bob", &["--json", "accept", &id]).ok().json();
    assert_eq!(accepted["claim"]["holder"], "bob");
    assert!(
        accepted["claim"]["token"].as_u64().unwrap() > before,
        "{accepted}"
    );
    let told = hub.as_("alice", &["inbox"]).ok().stdout;
    assert!(told.contains("bob accepted task:t1"), "{told}");
    hub.as_("bob", &["accept", &id]).code(3);

    // An offer nobody takes in time lapses: the claim stays with the giver.
    hub.as_("alice", &["claim", "task", "t2"]).ok();
    let offer = hub
        .as_(
            "alice",
            &["--json", "handoff", "task", "t2", "--to", "bob", "--for", "30m"],
        )
        .ok()
        .json();
    let id = offer["handoff"]["id"].as_str().unwrap().to_string();
    let late = hub
        .call(&["accept", &id])
        .as_("bob")
        .at("2026-03-02T09:31:00Z")
        .run()
        .code(3)
        .one_error_line();
    assert!(late.stderr.contains("lapsed"), "{}", late.stderr);
    assert_eq!(hub.registry()["claims"]["task:t2"]["holder"], "alice");
    // Handing off what you do not hold is refused.
    hub.as_("bob", &["handoff", "task", "t2", "--to", "carol"])
        .code(3);
}

#[test]
fn a_role_handoff_raced_by_two_sessions_goes_to_exactly_one() {
    for round in 0..5 {
        let hub = Hub::new();
        hub.start_role("alice", "lead").ok();
        hub.start_role("bob", "backend").ok();
        hub.start_role("carol", "backend").ok();
        hub.as_("alice", &["claim", "task", "cal"]).ok();
        let offer = hub
            .as_("alice", &["--json", "handoff", "task", "cal", "--to", "@backend"])
            .ok()
            .json();
        let id = offer["handoff"]["id"].as_str().unwrap().to_string();
        let racers: Vec<_> = ["bob", "carol"]
            .iter()
            .map(|who| hub.call(&["accept", &id]).as_(who).spawn())
            .collect();
        let codes: Vec<i32> = racers
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
            .collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 3], "round {round}: {codes:?}");
        let winner = if codes[0] == 0 { "bob" } else { "carol" };
        assert_eq!(hub.registry()["claims"]["task:cal"]["holder"], winner);
        assert_eq!(hub.events_of("handoff.accepted").len(), 1);
    }
}

#[test]
fn kpis_from_a_scripted_day_have_the_known_answers() {
    let mut hub = Hub::new();
    hub.start("alice").ok();
    hub.start("bob").ok();
    hub.start("carol").ok();
    hub.as_("alice", &["task", "add", "k1", "--title", "k"]).ok();
    hub.as_("alice", &["claim", "task", "k1"]).ok();
    let sent = hub.as_("alice", &["--json", "send", "bob", "hello"]).ok().json();
    let first = sent["message"]["id"].as_str().unwrap().to_string();
    // bob reads it 10 minutes later and replies 20 minutes after it was sent.
    hub.at("2026-03-02T09:10:00Z");
    hub.as_("bob", &["inbox"]).ok();
    hub.at("2026-03-02T09:20:00Z");
    hub.as_("bob", &["send", "alice", "hi", "--reply-to", &first])
        .ok();
    // A critical message acknowledged after 5 minutes.
    hub.at("2026-03-02T09:30:00Z");
    let crit = hub
        .as_(
            "alice",
            &["--json", "send", "bob", "--level", "critical", "db down"],
        )
        .ok()
        .json();
    let crit = crit["message"]["id"].as_str().unwrap().to_string();
    hub.at("2026-03-02T09:35:00Z");
    hub.as_("bob", &["ack", &crit]).ok();
    // One collision refused, one claim stolen.
    hub.as_("bob", &["claim", "task", "k1"]).code(3);
    hub.as_("carol", &["claim", "task", "k1", "--force"]).ok();
    // k1 was ready from 09:00; done at 10:00.
    hub.at("2026-03-02T10:00:00Z");
    hub.as_("carol", &["task", "done", "k1"]).ok();
    let k = hub.as_("alice", &["--json", "kpi", "--since", "1d"]).ok().json();
    assert_eq!(k["collisions"], 1);
    assert_eq!(k["stolen"], 1);
    assert_eq!(k["lapsed"], 0);
    assert_eq!(k["time_to_read"]["median_seconds"], 600, "{k}");
    assert_eq!(k["time_to_reply"]["median_seconds"], 1200);
    assert_eq!(k["time_to_ack"]["count"], 1);
    assert_eq!(k["time_to_ack"]["median_seconds"], 300);
    assert_eq!(k["done_per_day"]["2026-03-02"], 1);
    assert_eq!(k["lead_time"]["median_seconds"], 3600);
    let text = hub.as_("alice", &["kpi"]).ok().stdout;
    assert!(
        text.contains("claims: 1 collisions refused, 1 stolen, 0 lapsed"),
        "{text}"
    );
    // The briefing carries the same numbers.
    let page = hub.as_("alice", &["brief", "--stdout"]).ok().stdout;
    assert!(
        page.contains("- Claims: 1 collisions refused, 1 stolen, 0 lapsed"),
        "{page}"
    );
    assert!(page.contains("## Plan\n\n1 of 1 tasks done."), "{page}");
}

#[test]
fn doctor_reports_the_plans_loose_ends() {
    let mut hub = phased();
    hub.as_("alice", &["reserve", "staging", "10:00-11:00"]).ok();
    // A dependency that a hand edit (or a peer) left dangling.
    let path = hub.dir.join("REGISTRY.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "\"after\": [\n          \"a1\"\n        ]",
            "\"after\": [\n          \"ghost\"\n        ]",
        ),
    )
    .unwrap();
    hub.at("2026-03-04T09:00:00Z");
    let out = hub.run(&["--json", "doctor"]).code(5);
    let report: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    let problems: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["problem"].as_str().unwrap().to_string())
        .collect();
    let all = problems.join("\n");
    assert!(
        all.contains("task b2 waits on ghost, which does not exist"),
        "{all}"
    );
    assert!(
        all.contains("is in the past; remove it with `coord unreserve"),
        "{all}"
    );
}

#[test]
fn reservations_follow_the_seasons_name_every_clash_and_refuse_the_past() {
    let mut hub = Hub::new();
    hub.settings("[time]\nzone = \"Europe/Paris\"\n");
    for name in ["lead", "dave", "erin"] {
        hub.start(name).ok();
    }
    // 2026-03-02T09:00Z is 10:00 in Paris (winter, +01:00).
    hub.as_("lead", &["reserve", "staging", "15:00-16:00"]).ok();
    hub.as_("dave", &["reserve", "staging", "16:00-17:00"]).ok();
    let clash = hub
        .as_("erin", &["reserve", "staging", "15:30-16:30"])
        .code(3)
        .one_error_line();
    assert!(
        clash.stderr.contains(
            "by lead from 15:00 to 16:00 (2026-03-02, Europe/Paris) and by dave from 16:00 to 17:00"
        ),
        "{}",
        clash.stderr
    );
    assert!(
        clash.stderr.contains("coord send lead") && clash.stderr.contains("coord send dave"),
        "{}",
        clash.stderr
    );
    // 15:00 Paris is 14:00 UTC in winter...
    hub.at("2026-03-02T14:00:00Z");
    let claims = hub.as_("erin", &["--json", "claims"]).ok().json();
    assert_eq!(claims["claims"][0]["holder"], "lead", "{claims}");
    // ...and 13:00 UTC in summer.
    hub.at("2026-07-01T09:00:00Z");
    hub.start("lead").ok();
    hub.as_("lead", &["reserve", "prod", "15:00-16:00"]).ok();
    hub.at("2026-07-01T12:59:00Z");
    assert!(hub.as_("lead", &["--json", "claims"]).ok().json()["claims"]
        .as_array()
        .unwrap()
        .is_empty());
    hub.at("2026-07-01T13:00:00Z");
    let claims = hub.as_("lead", &["--json", "claims"]).ok().json();
    assert_eq!(claims["claims"][0]["key"], "resource:prod", "{claims}");
    let day = hub.as_("lead", &["reservations", "prod"]).ok().stdout;
    assert!(day.starts_with("2026-07-01 (Europe/Paris), now 15:00\n"), "{day}");
    // A window that has already ended today is refused with the way out;
    // so is a date before today.
    let past = hub
        .as_("lead", &["reserve", "prod", "09:00-10:00"])
        .code(2)
        .one_error_line();
    assert!(
        past.stderr
            .contains("has already ended today (it is 15:00 Europe/Paris)"),
        "{}",
        past.stderr
    );
    assert!(past.stderr.contains("--date YYYY-MM-DD"), "{}", past.stderr);
    hub.as_(
        "lead",
        &["reserve", "prod", "09:00-10:00", "--date", "2026-06-30"],
    )
    .code(2);
    hub.as_(
        "lead",
        &["reserve", "prod", "09:00-10:00", "--date", "2026-07-02"],
    )
    .ok();
    // A window in progress may still be booked.
    hub.as_("lead", &["reserve", "qa", "14:00-18:00"]).ok();
    // A zone coord does not know: one sentence naming the forms it takes.
    hub.settings("[time]\nzone = \"Mars/Olympus\"\n");
    let bad = hub.as_("lead", &["status"]).code(5);
    assert!(bad.stderr.contains("Europe/Paris"), "{}", bad.stderr);
}
