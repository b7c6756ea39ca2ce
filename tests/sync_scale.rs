//! `coord sync` at team scale, with real git and real processes: every
//! message reaches each recipient exactly once whatever the order of sends,
//! reads and syncs (many in the same second); clones syncing at the same
//! moment all succeed and agree; every exclusive record has one winner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;
use proptest::prelude::*;

pub struct Clone {
    pub dir: PathBuf,
    pub machine: String,
}

impl Clone {
    pub fn cmd(&self, now: &str, args: &[&str]) -> Command {
        in_clone(&self.dir, &self.dir, &self.machine, now, args)
    }

    pub fn coord(&self, now: &str, args: &[&str]) -> Out {
        run(self.cmd(now, args))
    }

    pub fn hub(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(".git/coord").join(name)).unwrap_or_default()
    }
}

/// A bare remote with a code branch and `n` clones with a hub each.
pub fn clones(tmp: &Path, n: usize) -> Vec<Clone> {
    let remote = remote_with_code(tmp);
    (0..n)
        .map(|i| {
            let dir = tmp.join(format!("c{i}"));
            git(
                tmp,
                &["clone", "-q", remote.to_str().unwrap(), dir.to_str().unwrap()],
            );
            let c = Clone {
                dir,
                machine: format!("m{i}"),
            };
            c.coord(T0, &["init", "-q"]).ok();
            c
        })
        .collect()
}

/// The subjects of the unread messages an inbox call showed.
fn read(c: &Clone, now: &str, who: &str) -> Vec<String> {
    let out = c.coord(now, &["-s", who, "--json", "inbox"]).ok().json();
    out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["unread"] == true)
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    /// From clone `from`'s session to the session of clone `to`, or (3) broadcast.
    Send {
        from: usize,
        to: usize,
    },
    Read(usize),
    Sync(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..4usize).prop_map(|(from, to)| Op::Send { from, to }),
        3 => (0..3usize).prop_map(Op::Read),
        3 => (0..3usize).prop_map(Op::Sync),
    ]
}

const NAMES: [&str; 3] = ["ann", "ben", "cy"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 20, ..ProptestConfig::default() })]

    /// Random interleavings of sends, reads and syncs among three clones,
    /// eight events to a second: no message is ever shown twice, none is
    /// lost.
    #[test]
    fn every_message_reaches_each_recipient_exactly_once(ops in prop::collection::vec(op(), 10..36)) {
        let tmp = tempfile::tempdir().unwrap();
        let cl = clones(tmp.path(), 3);
        let at = |i: usize| format!("2026-03-02T09:{:02}:{:02}Z", 1 + i / 480, (i / 8) % 60);
        for (c, name) in cl.iter().zip(NAMES) {
            c.coord(T0, &["start", "--name", name]).ok();
        }
        for i in [0, 1, 2, 0, 1] {
            cl[i].coord(T0, &["sync"]).ok();
        }
        let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut shown: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut see = |who: &str, subjects: Vec<String>| {
            for s in subjects.into_iter().filter(|s| s.starts_with("msg-")) {
                *shown.entry((who.to_string(), s)).or_default() += 1;
            }
        };
        for (i, op) in ops.iter().enumerate() {
            let now = at(i);
            match *op {
                Op::Send { from, to } => {
                    let subject = format!("msg-{i}");
                    let target = if to == 3 || to == from { "broadcast" } else { NAMES[to] };
                    cl[from].coord(&now, &["-s", NAMES[from], "send", target, &subject]).ok();
                    for (k, name) in NAMES.iter().enumerate() {
                        if k != from && (target == "broadcast" || target == *name) {
                            expected.insert((name.to_string(), subject.clone()), 1);
                        }
                    }
                }
                Op::Read(k) => see(NAMES[k], read(&cl[k], &now, NAMES[k])),
                Op::Sync(k) => {
                    cl[k].coord(&now, &["sync"]).ok();
                }
            }
        }
        let end = "2026-03-02T10:00:00Z";
        for _ in 0..2 {
            for c in &cl {
                c.coord(end, &["sync"]).ok();
            }
        }
        for (k, c) in cl.iter().enumerate() {
            see(NAMES[k], read(c, end, NAMES[k]));
        }
        prop_assert_eq!(&shown, &expected, "shown (left) against sent (right)");
        // And a read is final: nothing more to show on any clone.
        for (k, c) in cl.iter().enumerate() {
            prop_assert!(read(c, end, NAMES[k]).is_empty());
        }
    }
}

fn kinds(c: &Clone, kind: &str) -> Vec<serde_json::Value> {
    c.hub("EVENTS.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[test]
fn the_sync_that_arbitrates_tells_the_losers_at_their_next_inbox_and_every_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let cl = clones(tmp.path(), 3);
    for (i, (c, name)) in cl.iter().zip(NAMES).enumerate() {
        c.coord(T0, &["start", "--name", name]).ok();
        let at = format!("2026-03-02T09:0{}:00Z", i + 1);
        c.coord(&at, &["-s", name, "claim", "task", "api"]).ok();
    }
    let at = "2026-03-02T09:10:00Z";
    cl[0].coord(at, &["sync"]).ok();
    // ben's machine arbitrates: ben lost to ann; the first inbox says so.
    let out = cl[1].coord(at, &["sync"]).ok();
    assert!(
        out.stdout.contains("1 claim held on both sides"),
        "{}",
        out.stdout
    );
    let first = read(&cl[1], at, "ben");
    assert_eq!(first, ["you lost your claim task:api in a merge"]);
    assert!(read(&cl[1], at, "ben").is_empty(), "told once");
    cl[2].coord(at, &["sync"]).ok();
    assert_eq!(
        read(&cl[2], at, "cy"),
        ["you lost your claim task:api in a merge"]
    );
    for c in &cl {
        c.coord(at, &["sync"]).ok();
    }
    for c in &cl {
        let lost = kinds(c, "claim.lost_on_sync");
        let mut who: Vec<&str> = lost.iter().map(|e| e["session"].as_str().unwrap()).collect();
        who.sort();
        assert_eq!(who, ["ben", "cy"], "{}", c.machine);
    }
    assert!(read(&cl[1], at, "ben").is_empty());
    assert!(read(&cl[2], at, "cy").is_empty());
    assert!(read(&cl[0], at, "ann").is_empty(), "the winner is not told");
}

/// Every clone syncs at the same moment, `rounds` times; each sync succeeds.
pub fn sync_all_at_once(cl: &[Clone], now: &str) {
    let children: Vec<_> = cl
        .iter()
        .map(|c| {
            let mut cmd = c.cmd(now, &["sync"]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            (c.machine.clone(), cmd.spawn().unwrap())
        })
        .collect();
    for (machine, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{machine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn ids_of(log: &str) -> std::collections::BTreeSet<String> {
    log.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn ten_clones_syncing_at_the_same_moment_all_succeed_and_agree_after_two_rounds() {
    let tmp = tempfile::tempdir().unwrap();
    let cl = clones(tmp.path(), 10);
    for (i, c) in cl.iter().enumerate() {
        let me = format!("s{i}");
        c.coord(T0, &["start", "--name", &me]).ok();
        c.coord(T0, &["-s", &me, "claim", "task", "shared"]).ok();
        c.coord(T0, &["-s", &me, "claim", "task", &format!("own{i}")])
            .ok();
        c.coord(T0, &["-s", &me, "send", "broadcast", &format!("hello from {me}")])
            .ok();
    }
    let at = "2026-03-02T09:05:00Z";
    sync_all_at_once(&cl, at);
    sync_all_at_once(&cl, at);
    let reg = cl[0].hub("REGISTRY.json");
    for c in &cl[1..] {
        assert_eq!(c.hub("REGISTRY.json"), reg, "{} differs", c.machine);
        assert_eq!(
            ids_of(&c.hub("MESSAGES.jsonl")),
            ids_of(&cl[0].hub("MESSAGES.jsonl"))
        );
        assert_eq!(ids_of(&c.hub("EVENTS.jsonl")), ids_of(&cl[0].hub("EVENTS.jsonl")));
    }
    // Clones that agree stop making commits: a third round moves nothing.
    let refs = || git(&cl[0].dir.join("../remote.git"), &["for-each-ref"]);
    let heads = || {
        cl.iter()
            .map(|c| git(&c.dir, &["rev-parse", "coord"]))
            .collect::<Vec<_>>()
    };
    let (published, local) = (refs(), heads());
    sync_all_at_once(&cl, at);
    assert_eq!(refs(), published, "nothing new was pushed");
    assert_eq!(heads(), local, "no clone made a commit");
    let v: serde_json::Value = serde_json::from_str(&reg).unwrap();
    assert_eq!(v["sessions"].as_object().unwrap().len(), 10);
    assert!(v["claims"]["task:shared"]["holder"].is_string());
    // Each session reads nine greetings and, but for the winner, one notice.
    let winner = v["claims"]["task:shared"]["holder"].as_str().unwrap().to_string();
    for (i, c) in cl.iter().enumerate() {
        let me = format!("s{i}");
        let got = read(c, at, &me);
        assert_eq!(
            got.iter().filter(|s| s.starts_with("hello")).count(),
            9,
            "{me}: {got:?}"
        );
        let lost = got.iter().filter(|s| s.contains("lost your claim")).count();
        assert_eq!(lost, usize::from(me != winner), "{me}: {got:?}");
    }
}

#[test]
fn reservations_gates_and_handoffs_made_on_two_machines_have_one_winner_and_the_losers_are_told() {
    let tmp = tempfile::tempdir().unwrap();
    let cl = clones(tmp.path(), 2);
    let (a, b) = (&cl[0], &cl[1]);
    a.coord(T0, &["start", "--name", "ann", "--role", "lead"]).ok();
    a.coord(T0, &["start", "--name", "bob", "--role", "backend"]).ok();
    b.coord(T0, &["start", "--name", "carol", "--role", "backend"])
        .ok();
    a.coord(T0, &["-s", "ann", "gate", "add", "prod", "--check", "green"])
        .ok();
    a.coord(T0, &["-s", "ann", "gate", "tick", "prod", "1"]).ok();
    a.coord(T0, &["-s", "ann", "claim", "task", "t1"]).ok();
    let offer = a
        .coord(
            T0,
            &["-s", "ann", "--json", "handoff", "task", "t1", "--to", "@backend"],
        )
        .ok()
        .json();
    let handoff = offer["handoff"]["id"].as_str().unwrap().to_string();
    for c in [a, b, a] {
        c.coord(T0, &["sync"]).ok();
    }
    // Before they sync again: both reserve staging tonight, the gate is
    // decided both ways, and the handoff is accepted on both.
    let t1 = "2026-03-02T09:10:00Z";
    let t2 = "2026-03-02T09:11:00Z";
    b.coord(t1, &["-s", "carol", "reserve", "staging", "22:00-23:00"])
        .ok();
    a.coord(t2, &["-s", "bob", "reserve", "staging", "22:30-23:59"])
        .ok();
    a.coord(
        t1,
        &["-s", "ann", "gate", "decide", "prod", "go", "--note", "ship"],
    )
    .ok();
    b.coord(
        t2,
        &[
            "-s", "carol", "gate", "decide", "prod", "no-go", "--note", "wait", "--force",
        ],
    )
    .ok();
    a.coord(t1, &["-s", "bob", "accept", &handoff]).ok();
    b.coord(t2, &["-s", "carol", "accept", &handoff]).ok();
    let t3 = "2026-03-02T09:20:00Z";
    for c in [a, b, a] {
        c.coord(t3, &["sync"]).ok();
    }
    assert_eq!(a.hub("REGISTRY.json"), b.hub("REGISTRY.json"));
    // One reservation stands: the earlier made (carol's); bob is told.
    let res = a.coord(t3, &["--json", "reservations", "staging"]).ok().json();
    let holders: Vec<&str> = res["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["holder"].as_str().unwrap())
        .collect();
    assert_eq!(holders, ["carol"]);
    // The gate: NO-GO stands over a concurrent GO; ann is told.
    let gates = b.coord(t3, &["--json", "gates"]).ok().json();
    assert_eq!(gates["gates"][0]["state"], "no-go", "{gates}");
    // The handoff names the session that holds the claim; the other is told.
    let reg: serde_json::Value = serde_json::from_str(&a.hub("REGISTRY.json")).unwrap();
    let holder = reg["claims"]["task:t1"]["holder"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", reg["claims"]))
        .to_string();
    assert_eq!(reg["plan"]["handoffs"][&handoff]["accepted_by"], holder.as_str());
    let loser = if holder == "bob" { "carol" } else { "bob" };
    let inbox = |c: &Clone, who: &str| read(c, t3, who).join("\n");
    let bob = inbox(a, "bob");
    assert!(
        bob.contains("your reservation of staging (2026-03-02 22:30-23:59) lost in a merge"),
        "{bob}"
    );
    let ann = inbox(a, "ann");
    assert!(
        ann.contains("your GO on gate prod was overruled in a merge"),
        "{ann}"
    );
    let told = inbox(if loser == "bob" { a } else { b }, loser);
    assert!(
        told.contains("you lost your claim task:t1 in a merge"),
        "{loser}: {told}"
    );
    // Told once; every journal has each loss; doctor finds nothing to fix.
    assert!(inbox(a, "bob").is_empty() && inbox(a, "ann").is_empty());
    for c in [a, b] {
        for kind in [
            "reservation.lost_on_sync",
            "gate.overruled_on_sync",
            "claim.lost_on_sync",
        ] {
            assert_eq!(kinds(c, kind).len(), 1, "{kind} on {}", c.machine);
        }
        c.coord(t3, &["doctor"]).ok();
    }
    // Tonight the reservation is the claim of the resource.
    let tonight = "2026-03-02T22:45:00Z";
    let claims = a.coord(tonight, &["--json", "claims"]).ok().json();
    let staging: Vec<&serde_json::Value> = claims["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["key"] == "resource:staging")
        .collect();
    assert_eq!(staging.len(), 1, "{claims}");
    assert_eq!(staging[0]["holder"], "carol");
    a.coord(tonight, &["start", "--name", "dan"]).ok();
    a.coord(tonight, &["-s", "dan", "claim", "resource", "staging"])
        .code(3);
}

#[test]
fn the_logs_travel_in_hourly_segments_and_a_clock_behind_loses_no_message() {
    let tmp = tempfile::tempdir().unwrap();
    let cl = clones(tmp.path(), 2);
    let (a, b) = (&cl[0], &cl[1]);
    a.coord(T0, &["start", "--name", "ann"]).ok();
    a.coord(T0, &["start", "--name", "al"]).ok();
    a.coord("2026-03-02T11:00:00Z", &["-s", "al", "send", "ann", "at eleven"])
        .ok();
    assert_eq!(read(a, "2026-03-02T11:01:00Z", "ann"), ["at eleven"]);
    // A clock behind: this line is older than the one ann read, and after it.
    a.coord(
        "2026-03-02T10:30:00Z",
        &["-s", "al", "send", "ann", "from a slow clock"],
    )
    .ok();
    a.coord("2026-03-02T11:02:00Z", &["sync"]).ok();
    // The branch holds one file per hour; the live log is in that order.
    let remote = tmp.path().join("remote.git");
    let listing = git(&remote, &["ls-tree", "--name-only", "refs/heads/coord:MESSAGES"]);
    assert_eq!(
        listing.lines().collect::<Vec<_>>(),
        ["2026-03-02T10.jsonl", "2026-03-02T11.jsonl"]
    );
    let log = a.hub("MESSAGES.jsonl");
    assert!(
        log.find("slow clock").unwrap() < log.find("at eleven").unwrap(),
        "{log}"
    );
    // ann still sees the slow message, once; the other clone reads the same.
    assert_eq!(read(a, "2026-03-02T11:03:00Z", "ann"), ["from a slow clock"]);
    assert!(read(a, "2026-03-02T11:03:00Z", "ann").is_empty());
    b.coord("2026-03-02T11:04:00Z", &["sync"]).ok();
    assert_eq!(b.hub("MESSAGES.jsonl"), log);
    // A new message changes only its own hour on the branch.
    let before = git(&remote, &["ls-tree", "refs/heads/coord:MESSAGES"]);
    b.coord("2026-03-02T11:05:00Z", &["start", "--name", "bo"]).ok();
    b.coord("2026-03-02T12:00:00Z", &["-s", "bo", "send", "ann", "at noon"])
        .ok();
    b.coord("2026-03-02T12:00:00Z", &["sync"]).ok();
    let after = git(&remote, &["ls-tree", "refs/heads/coord:MESSAGES"]);
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    assert_eq!(&new[..2], &old[..], "the hours gone by are the same blobs");
    assert!(new[2].ends_with("2026-03-02T12.jsonl"), "{after}");
}
