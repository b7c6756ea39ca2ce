//! Real processes under load and under SIGKILL. Bounded: each test runs a
//! few seconds at most. No test sleeps to make time pass; the only pauses
//! are the random instants at which a writer is killed.

use crate::support::*;
use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const N: usize = 32;

/// A tiny deterministic generator: tests need variety, not secrecy.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn thirty_two_sessions_start_at_once() {
    let hub = Hub::new();
    let children: Vec<_> = (0..N)
        .map(|i| {
            hub.cmd(&["start", "--name", &format!("s{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let reg = hub.registry();
    assert_eq!(reg["sessions"].as_object().unwrap().len(), N);
    assert_eq!(hub.events_of("session.started").len(), N);
}

#[test]
fn thirty_two_processes_race_for_one_claim_round_after_round() {
    let hub = Hub::new();
    for i in 0..N {
        hub.start(&format!("s{i}"));
    }
    for round in 0..5 {
        let claim = format!("prize-{round}");
        let children: Vec<_> = (0..N)
            .map(|i| {
                hub.cmd(&["-s", &format!("s{i}"), "--json", "claim", "task", &claim])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let winners: Vec<_> = outs.iter().filter(|o| o.status.code() == Some(0)).collect();
        assert_eq!(winners.len(), 1, "round {round}");
        assert!(
            outs.iter().all(|o| matches!(o.status.code(), Some(0) | Some(3))),
            "round {round}"
        );
        let v: serde_json::Value = serde_json::from_slice(&winners[0].stdout).unwrap();
        let reg = hub.registry();
        assert_eq!(
            reg["claims"][format!("task:{claim}")]["holder"],
            v["claim"]["holder"],
            "the registry agrees with the winner"
        );
    }
}

#[test]
fn a_storm_of_sends_heartbeats_and_claims_loses_nothing() {
    const SENDS: usize = 30;
    let hub = Arc::new(Hub::new());
    for i in 0..N {
        hub.start(&format!("s{i}"));
    }
    // A reader parsing REGISTRY.json in a loop for the whole storm.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (hub, stop) = (hub.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let text = std::fs::read_to_string(hub.dir.join("REGISTRY.json")).unwrap();
                let v: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("torn registry after {reads} reads: {e}"));
                assert_eq!(v["schema"], 1);
                reads += 1;
            }
            reads
        })
    };
    let workers: Vec<_> = (0..N)
        .map(|i| {
            let hub = hub.clone();
            std::thread::spawn(move || {
                let me = format!("s{i}");
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
                let mut sent: Vec<(String, bool)> = Vec::new();
                let mut seen: Vec<String> = Vec::new();
                let read_inbox = |seen: &mut Vec<String>| {
                    let out = hub.as_(&me, &["--json", "inbox"]).ok();
                    for m in out.json()["messages"].as_array().unwrap() {
                        seen.push(m["id"].as_str().unwrap().to_string());
                    }
                };
                for k in 0..SENDS {
                    let broadcast = k % 3 == 0;
                    let to = if broadcast {
                        "broadcast".to_string()
                    } else {
                        format!("s{}", (i + 1 + rng.below(N as u64 - 1) as usize) % N)
                    };
                    let out = hub.as_(&me, &["--json", "send", &to, &format!("{me} #{k}")]).ok();
                    sent.push((
                        out.json()["message"]["id"].as_str().unwrap().to_string(),
                        broadcast,
                    ));
                    if k % 5 == 0 {
                        hub.as_(&me, &["heartbeat", "storming", &format!("round {k}")])
                            .ok();
                    }
                    if k % 7 == 0 {
                        let out = hub.as_(&me, &["claim", "task", &format!("t{}", rng.below(4))]);
                        assert!(out.code == 0 || out.code == 3, "{}", out.stderr);
                    }
                    if k % 10 == 9 {
                        read_inbox(&mut seen);
                    }
                }
                (sent, seen)
            })
        })
        .collect();
    let results: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);

    // Every line valid JSON; every message exactly once.
    let log = hub.lines("MESSAGES.jsonl");
    let mut count: HashMap<String, usize> = HashMap::new();
    for m in &log {
        *count.entry(m["id"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let mut broadcasts: HashMap<String, usize> = HashMap::new();
    for (i, (sent, _)) in results.iter().enumerate() {
        assert_eq!(sent.len(), SENDS);
        for (id, b) in sent {
            assert_eq!(
                count.get(id),
                Some(&1),
                "message {id} must be in the log exactly once"
            );
            if *b {
                broadcasts.insert(id.clone(), i);
            }
        }
    }
    assert_eq!(log.len(), N * SENDS, "no message from nowhere");
    // Every broadcast reaches every other session exactly once.
    for (i, (_, seen_during)) in results.iter().enumerate() {
        let mut seen = seen_during.clone();
        let out = hub.as_(&format!("s{i}"), &["--json", "inbox"]).ok();
        seen.extend(
            out.json()["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "s{i} read a message twice");
        for (id, from) in &broadcasts {
            assert_eq!(
                unique.contains(id),
                *from != i,
                "s{i} and broadcast {id} from s{from}"
            );
        }
    }
    // The journal agrees.
    assert_eq!(hub.events_of("message.sent").len(), N * SENDS);
}

#[test]
fn writers_killed_at_random_instants_lose_nothing_that_was_reported_saved() {
    const ROUNDS: usize = 40;
    const AT_ONCE: usize = 8;
    let hub = Hub::new();
    hub.start("alice");
    hub.start("bob");
    let body = "x".repeat(48 * 1024); // a long write is easier to interrupt
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut saved: Vec<String> = Vec::new();
    // Rounds whose heartbeat (a new activity, kept in the pulse until the
    // next fold) reported success.
    let mut beats: Vec<usize> = Vec::new();
    let mut killed = 0;
    let mut temps_left = 0;
    for round in 0..ROUNDS {
        let mut children = Vec::new();
        for j in 0..AT_ONCE {
            let args: Vec<String> = match (round + j) % 4 {
                0 | 1 => vec![
                    "-s".into(),
                    "alice".into(),
                    "--json".into(),
                    "send".into(),
                    "broadcast".into(),
                    format!("r{round} j{j}"),
                    body.clone(),
                ],
                2 => vec![
                    "-s".into(),
                    "bob".into(),
                    "claim".into(),
                    "task".into(),
                    format!("t{}", j % 3),
                ],
                _ => vec![
                    "-s".into(),
                    "bob".into(),
                    "heartbeat".into(),
                    "x".into(),
                    format!("{round}"),
                ],
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            children.push(
                hub.cmd(&args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
        std::thread::sleep(std::time::Duration::from_micros(rng.below(4000)));
        for mut c in children {
            let _ = c.kill(); // SIGKILL on Unix
            let out = c.wait_with_output().unwrap();
            match out.status.code() {
                Some(0) => {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
                        if let Some(id) = v["message"]["id"].as_str() {
                            saved.push(id.to_string());
                        }
                    }
                    if String::from_utf8_lossy(&out.stdout).starts_with("bob: x ") {
                        beats.push(round);
                    }
                }
                None => killed += 1,
                Some(code) => assert!(
                    code == 3,
                    "unexpected exit {code}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        // After every round of kills: the registry is whole, and every
        // complete log line parses.
        let _ = hub.registry();
        let text = hub.read("MESSAGES.jsonl");
        let complete = &text[..text.rfind('\n').map_or(0, |p| p + 1)];
        for line in complete.lines() {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("round {round}: bad line: {e}"));
        }
        temps_left += hub.dir.join(".REGISTRY.json.tmp").exists() as usize;
    }
    assert!(
        killed > 0,
        "no process was killed mid-way; the test proved nothing"
    );
    // The registry is whole.
    let _ = hub.registry();
    // Every send that exited 0 is in the log (torn tail aside, every line parses).
    let text = hub.read("MESSAGES.jsonl");
    for id in &saved {
        assert!(
            text.contains(&format!("\"id\":\"{id}\"")),
            "reported saved but lost: {id}"
        );
    }
    let torn = !text.is_empty() && !text.ends_with('\n');
    // Every heartbeat that reported success is in the journal, once the
    // pulse is folded by the next transaction (a later heartbeat of the same
    // activity is not a new entry, so each round counts once).
    // (`coord brief` writes the briefing in a transaction: it folds.)
    hub.run(&["brief"]).ok();
    let journal = hub.read("EVENTS.jsonl");
    assert!(
        !beats.is_empty(),
        "no heartbeat finished: the check proved nothing"
    );
    for round in &beats {
        assert!(
            journal.contains(&format!("bob: x {round}\"")),
            "heartbeat of round {round} reported saved but not journaled"
        );
    }
    // The next writer repairs any torn line; then every line is valid.
    hub.as_("alice", &["send", "bob", "after the storm"]).ok();
    let lines = hub.lines("MESSAGES.jsonl");
    assert!(lines.len() > saved.len());
    let _ = hub.lines("EVENTS.jsonl").len();
    hub.as_("bob", &["heartbeat"]).ok();
    let _ = hub.lines("EVENTS.jsonl");
    // And every reader works.
    hub.as_("bob", &["status"]).ok();
    hub.as_("bob", &["inbox"]).ok();
    hub.run(&["brief"]).ok();
    hub.run(&["doctor"]).ok();
    eprintln!("crash test: {killed} killed, {} sends reported saved, torn log tail: {torn}, rounds that left a registry temp file: {temps_left}", saved.len());
}
