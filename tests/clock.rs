//! The live clock. Without `COORD_NOW` every `--wait` attempt and every
//! `--watch` frame reads the clock afresh. These are the only tests that let
//! real time pass (a claim of 2 s, a wait of a few seconds), because passing
//! time is the behaviour under test; everything else pins the clock.

use std::io::Read;

use crate::support::*;

fn live(hub: &Hub, who: &str, args: &[&str]) -> Out {
    hub.call(args).as_(who).live_clock().run()
}

#[test]
fn a_wait_outlasts_a_claim_that_expires_during_it() {
    let hub = Hub::new();
    for name in ["alice", "bob"] {
        hub.call(&["start", "--name", name]).live_clock().run().ok();
    }
    let first = live(&hub, "alice", &["--json", "claim", "task", "x", "--for", "2s"])
        .ok()
        .json();
    let expires = first["claim"]["expires"].as_str().unwrap().to_string();
    // The old clock, frozen at process start, kept saying "(2s left)" and
    // gave up with exit 6.
    let won = live(&hub, "bob", &["--json", "claim", "task", "x", "--wait", "8s"])
        .ok()
        .json();
    assert_eq!(won["outcome"], "taken");
    assert_eq!(won["token"], 2);
    let since = won["claim"]["since"].as_str().unwrap();
    assert!(
        since >= expires.as_str(),
        "since {since} is the moment it was won, not the start of the wait (alice's claim ended {expires})"
    );
}

/// Frames of `status --watch --json`: one pretty JSON object each.
fn frames(child: &mut std::process::Child) -> impl Iterator<Item = serde_json::Value> + '_ {
    let stdout = child.stdout.as_mut().unwrap();
    serde_json::Deserializer::from_reader(stdout.by_ref())
        .into_iter::<serde_json::Value>()
        .map(|f| f.unwrap())
}

#[test]
fn every_watch_frame_reads_the_clock_afresh() {
    let hub = Hub::new();
    hub.call(&["start", "--name", "alice"]).live_clock().run().ok();
    let mut watch = hub
        .call(&["--json", "status", "--watch", "--interval", "1s"])
        .live_clock()
        .spawn();
    let mut seen = frames(&mut watch);
    let first = seen.next().unwrap();
    live(&hub, "alice", &["heartbeat", "coding"]).ok();
    // Two more frames: the second is drawn after the heartbeat for sure.
    let _ = seen.next().unwrap();
    let last = seen.next().unwrap();
    drop(seen);
    let _ = watch.kill();
    let _ = watch.wait();
    let now = |f: &serde_json::Value| f["now"].as_str().unwrap().to_string();
    assert!(
        now(&last) > now(&first),
        "the clock moved: {} then {}",
        now(&first),
        now(&last)
    );
    let alice = &last["sessions"][0];
    assert_eq!(alice["action"], "coding");
    let seen_at = alice["last_seen"].as_str().unwrap();
    assert!(
        seen_at <= now(&last).as_str(),
        "a heartbeat during the watch is not in the frame's future ({seen_at} > {})",
        now(&last)
    );
}
