//! `cargo bench`: every command's whole-process wall time on a hub of 200
//! sessions, 1,000 claims and 100,000 messages (SPEC section 7), next to
//! the floor: a process that does nothing, and a bare durable write on the
//! same disk. Reports; never fails the build.
//!
//! The hub is built directly from coord's own record types (running 100,000
//! `coord send` would only measure the bench's patience); every timed
//! command runs the real release binary in a fresh process.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coord::core::clock::parse_time;
use coord::core::ids::IdSource;
use coord::core::model::{
    sorted_json, sorted_json_pretty, Claim, Cursor, Event, Level, Message, Registry, Session,
};

const BIN: &str = env!("CARGO_BIN_EXE_coord");
const NOW: &str = "2026-03-09T12:00:00Z";
const RUNS: usize = 41;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

/// A hub with `sessions` sessions, 5 claims each, and `messages` messages
/// (and as many events) spread over the last 7 days, every session's
/// cursor at the end of the log.
fn build(sessions: usize, messages: usize) -> Fixture {
    build_with(sessions, 5, messages)
}

/// `build`, with `claims_each` claims per session.
fn build_with(sessions: usize, claims_each: usize, messages: usize) -> Fixture {
    let tmp = tempfile::Builder::new()
        .prefix("coord-bench")
        .tempdir_in(bench_dir())
        .expect("temp dir");
    let dir = tmp.path().join("coordination");
    let ok = Command::new(BIN)
        .args(["--hub", dir.to_str().unwrap_or_default(), "init", "-q"])
        .stdout(Stdio::null())
        .status();
    assert!(ok.map(|s| s.success()).unwrap_or(false), "coord init failed");
    let now = parse_time(NOW).expect("time");
    let ids = IdSource::new(None);
    let roles = ["backend", "frontend", "reviewer", "ops", "docs"];
    let name = |i: usize| format!("s{i:03}");

    let mut log = String::with_capacity(messages * 220);
    let mut events = String::with_capacity(messages * 200);
    let span = 7 * 24 * 3600;
    let mut last = None;
    for k in 0..messages {
        let ts = now - chrono::Duration::seconds((span - span * k as i64 / messages as i64).max(1));
        let from = name(k % sessions);
        let (to, recipients) = match k % 50 {
            0 => ("broadcast".to_string(), None),
            1 => (
                format!("@{}", roles[k % roles.len()]),
                Some(vec![name((k + 5) % sessions), name((k + 10) % sessions)]),
            ),
            _ => {
                let to = name((k * 7 + 3) % sessions);
                (to.clone(), Some(vec![to]))
            }
        };
        let m = Message {
            id: ids.mint('m', ts, k as u64),
            ts,
            from: from.clone(),
            to,
            recipients,
            level: Level::Info,
            subject: format!("status update {k} on the auth service"),
            body: "Tests pass locally; the migration is next. Ping me before touching the schema.".into(),
            reply_to: None,
            extra: Default::default(),
        };
        let line = sorted_json(&m);
        let start = log.len() as u64;
        log.push_str(&line);
        log.push('\n');
        last = Some(Cursor {
            offset: log.len() as u64,
            id: Some(m.id.clone()),
            len: log.len() as u64 - start,
            ts: Some(ts),
        });
        let e = Event {
            by: None,
            clock: None,
            id: ids.mint('e', ts, k as u64),
            ts,
            kind: if k % 3 == 0 {
                "session.heartbeat".into()
            } else {
                "message.sent".into()
            },
            session: Some(from.clone()),
            target: Some(m.id.clone()),
            token: None,
            text: format!("{from} -> {}: {}", m.to, m.subject),
            extra: Default::default(),
        };
        events.push_str(&sorted_json(&e));
        events.push('\n');
    }
    std::fs::write(dir.join("MESSAGES.jsonl"), log).expect("write messages");
    std::fs::write(dir.join("EVENTS.jsonl"), events).expect("write events");

    let mut reg = Registry::new();
    for i in 0..sessions {
        let mut s = Session::new(now - chrono::Duration::hours(3));
        s.last_seen = now - chrono::Duration::minutes((i % 20) as i64);
        s.role = Some(roles[i % roles.len()].into());
        s.focus = Some(format!("area {}", i % 17));
        s.action = Some("implementing".into());
        s.target = Some(format!("feature-{i}"));
        s.phase = Some("build".into());
        s.progress = Some((i % 100) as u8);
        s.cursor = last.clone();
        reg.sessions.insert(name(i), s);
        for c in 0..claims_each {
            let (kind, cname) = if c == 0 {
                ("file".to_string(), format!("src/mod{i}/**"))
            } else {
                ("task".to_string(), format!("task-{i}-{c}"))
            };
            reg.claims.insert(
                Claim::key(&kind, &cname),
                Claim {
                    kind,
                    name: cname,
                    holder: Some(name(i)),
                    since: Some(now - chrono::Duration::minutes(30)),
                    expires: Some(now + chrono::Duration::hours(2)),
                    for_secs: None,
                    released: None,
                    lost_on_sync: Vec::new(),
                    rank_token: None,
                    note: Some("bench".into()),
                    token: 1,
                    extra: Default::default(),
                },
            );
        }
    }
    std::fs::write(dir.join("REGISTRY.json"), sorted_json_pretty(&reg) + "\n").expect("write registry");
    // Past the default limits for the scale runs.
    let mut settings = String::from("[limits]\nsessions = 10000000\nclaims = 10000000\n");
    // COORD_BENCH_DURABILITY=none|normal separates CPU from fsync cost.
    if let Ok(level) = std::env::var("COORD_BENCH_DURABILITY") {
        settings.push_str(&format!("[storage]\ndurability = \"{level}\"\n"));
    }
    std::fs::write(dir.join("coord.toml"), settings).expect("write settings");
    Fixture { _tmp: tmp, dir }
}

/// Where the hub lives: TMPDIR, or the system temp folder.
fn bench_dir() -> PathBuf {
    std::env::var_os("COORD_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

fn coord(hub: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("COORD_HUB", hub)
        .env("COORD_NOW", NOW)
        .env("COORD_TESTING", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Wall time of one whole process.
fn time(mut c: Command, want: Option<i32>) -> Duration {
    let t = Instant::now();
    let status = c.status().expect("coord runs");
    let d = t.elapsed();
    if let Some(code) = want {
        assert_eq!(status.code(), Some(code), "{c:?}");
    }
    d
}

struct Stats {
    median: Duration,
    p95: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    Stats {
        median: v[v.len() / 2],
        p95: v[(v.len() * 95 / 100).min(v.len() - 1)],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Time `make(i)` over RUNS runs after 3 warm-ups; `prep(i)` runs untimed first.
fn bench(mut prep: impl FnMut(usize), mut make: impl FnMut(usize) -> Command, want: Option<i32>) -> Stats {
    for i in 0..3 {
        prep(1000 + i);
        time(make(1000 + i), want);
    }
    stats(
        (0..RUNS)
            .map(|i| {
                prep(i);
                time(make(i), want)
            })
            .collect(),
    )
}

/// Send 10 messages to `to`, untimed, so its inbox has 10 unread.
fn ten_unread(hub: &Path, to: &str) {
    for k in 0..10 {
        coord(hub, &["-s", "s002", "send", to, &format!("unread {k}")])
            .status()
            .expect("send");
    }
}

/// The floor for any write: lock, temp file, fsync, rename, fsync folder.
fn durable_write_floor(dir: &Path, bytes: usize) -> Stats {
    let data = vec![b'x'; bytes];
    let lock = File::create(dir.join(".floor.lock")).expect("lock file");
    stats(
        (0..RUNS + 3)
            .map(|_| durable_write(dir, &data, &lock))
            .skip(3)
            .collect(),
    )
}

/// One durable write of `data` in process, timed.
fn durable_write(dir: &Path, data: &[u8], lock: &File) -> Duration {
    let t = Instant::now();
    fs2::FileExt::lock_exclusive(lock).expect("lock");
    let tmp = dir.join(".floor.tmp");
    let mut f = File::create(&tmp).expect("temp");
    f.write_all(data).expect("write");
    f.sync_all().expect("fsync");
    std::fs::rename(&tmp, dir.join("floor.json")).expect("rename");
    File::open(dir).and_then(|d| d.sync_all()).expect("fsync dir");
    fs2::FileExt::unlock(lock).expect("unlock");
    t.elapsed()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let dir = bench_dir();
    let fs = std::fs::read_to_string("/proc/mounts")
        .ok()
        .and_then(|m| {
            m.lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    (f.len() > 2 && dir.starts_with(f[1]))
                        .then(|| (f[1].len(), format!("{} on {}", f[2], f[1])))
                })
                .max()
                .map(|(_, s)| s)
        })
        .unwrap_or_else(|| "unknown filesystem".into());
    format!("{cpu}, {cores} cores; hub in {} ({fs})", dir.display())
}

fn main() {
    // `cargo bench` passes --bench; nothing to configure.
    println!("coord benchmark: {}", machine());
    if let Ok(level) = std::env::var("COORD_BENCH_DURABILITY") {
        println!("storage.durability = {level}");
    }
    let sessions = std::env::var("COORD_BENCH_KEEP_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    println!(
        "building the hub: {sessions} sessions, {} claims, 100,000 messages, 100,000 events ...",
        sessions * 5
    );
    let big = build(sessions, 100_000);
    let hub = big.dir.as_path();
    if let Some(keep) = std::env::var_os("COORD_BENCH_KEEP") {
        // For profiling: copy the built hub somewhere that outlives the run.
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("keep dir");
        for e in std::fs::read_dir(hub).expect("hub").flatten() {
            std::fs::copy(e.path(), keep.join(e.file_name())).expect("copy");
        }
        println!("kept a copy of the hub in {}", keep.display());
        return;
    }
    if std::env::var_os("COORD_BENCH_HOT").is_some() {
        // Only the hot path, on both hubs (for profiling).
        hot_path("200 sessions, 1,000 claims, 100,000 messages", hub, RUNS, false);
        let large = build(2_000, 100_000);
        hot_path(
            "2,000 sessions, 10,000 claims, 100,000 messages",
            &large.dir,
            21,
            true,
        );
        throughput(&large.dir);
        return;
    }
    let size = |f: &str| std::fs::metadata(hub.join(f)).map(|m| m.len()).unwrap_or(0);
    println!(
        "REGISTRY.json {} KiB, MESSAGES.jsonl {} MiB, EVENTS.jsonl {} MiB; {RUNS} runs each after 3 warm-ups\n",
        size("REGISTRY.json") / 1024,
        size("MESSAGES.jsonl") >> 20,
        size("EVENTS.jsonl") >> 20
    );

    let mut rows: Vec<(String, Stats)> = Vec::new();
    let none = |_: usize| {};
    rows.push((
        "(floor) coord --version".into(),
        bench(none, |_| coord(hub, &["--version"]), Some(0)),
    ));
    rows.push((
        "init (hub exists)".into(),
        bench(none, |_| coord(hub, &["init"]), Some(0)),
    ));
    rows.push((
        "status".into(),
        bench(none, |_| coord(hub, &["-s", "s001", "status"]), Some(0)),
    ));
    rows.push((
        "status --json".into(),
        bench(none, |_| coord(hub, &["-s", "s001", "status", "--json"]), Some(0)),
    ));
    rows.push((
        "status --short".into(),
        bench(none, |_| coord(hub, &["status", "--short"]), Some(0)),
    ));
    rows.push((
        "prime".into(),
        bench(none, |_| coord(hub, &["-s", "s001", "prime"]), Some(0)),
    ));
    // The agent hook, on every tool call: an Edit into a claimed file (the
    // deny) and into a free one. The hub is named by --hub; the payload's
    // folder is the hub's parent, where the claims' paths start.
    for (label, file) in [
        ("hook pre-tool-use (Edit, claimed: deny)", "src/mod1/a.rs"),
        ("hook pre-tool-use (Edit, free)", "free/a.rs"),
    ] {
        let top = hub.parent().expect("the hub has a parent");
        let payload = serde_json::json!({
            "session_id": "bench-agent", "cwd": top, "hook_event_name": "PreToolUse",
            "tool_name": "Edit", "tool_input": {"file_path": top.join(file)},
        });
        let path = top.join("hook-payload.json");
        std::fs::write(&path, payload.to_string()).expect("write the payload");
        let hub_arg = hub.to_str().expect("a UTF-8 path");
        rows.push((
            label.into(),
            bench(
                none,
                |_| {
                    let mut c = coord(hub, &["--hub", hub_arg, "hook", "pre-tool-use"]);
                    c.stdin(std::fs::File::open(&path).expect("the payload"));
                    c
                },
                Some(0),
            ),
        ));
    }
    // The other hooks, as the agent's session (registered by its own
    // session-start). Within 10 s of the last sign of life and with nothing
    // new they write nothing; an edit of another file is a new activity and
    // is written.
    let top = hub.parent().expect("the hub has a parent");
    let hub_arg = hub.to_str().expect("a UTF-8 path");
    let hook = |event: &str, payload: serde_json::Value, i: usize| {
        let path = top.join(format!("hook-{event}-{i}.json"));
        std::fs::write(&path, payload.to_string()).expect("write the payload");
        let mut c = coord(hub, &["--hub", hub_arg, "hook", event]);
        c.stdin(std::fs::File::open(&path).expect("the payload"));
        c
    };
    let base =
        |event: &str| serde_json::json!({"session_id": "bench-agent", "cwd": top, "hook_event_name": event});
    let edit = |file: String| {
        let mut p = base("PostToolUse");
        p["tool_name"] = "Edit".into();
        p["tool_input"] = serde_json::json!({"file_path": top.join(file)});
        p
    };
    let status = hook("session-start", base("SessionStart"), 0)
        .status()
        .expect("coord runs");
    assert!(status.success(), "the bench agent starts");
    rows.push((
        "hook session-start (takes its session back)".into(),
        bench(none, |i| hook("session-start", base("SessionStart"), i), Some(0)),
    ));
    rows.push((
        "hook user-prompt-submit (nothing new)".into(),
        bench(
            none,
            |i| hook("user-prompt-submit", base("UserPromptSubmit"), i),
            Some(0),
        ),
    ));
    rows.push((
        "hook post-tool-use (Edit, same file)".into(),
        bench(
            none,
            |i| hook("post-tool-use", edit("free/same.rs".into()), i),
            Some(0),
        ),
    ));
    rows.push((
        "hook post-tool-use (Edit, a new file: written)".into(),
        bench(
            none,
            |i| hook("post-tool-use", edit(format!("free/f{i}.rs")), i),
            Some(0),
        ),
    ));
    rows.push((
        "hook stop".into(),
        bench(none, |i| hook("stop", base("Stop"), i), Some(0)),
    ));
    rows.push((
        "heartbeat".into(),
        bench(
            none,
            |i| {
                coord(
                    hub,
                    &[
                        "-s",
                        "s003",
                        "heartbeat",
                        "testing",
                        "auth",
                        "test",
                        &format!("{}", i % 100),
                    ],
                )
            },
            Some(0),
        ),
    ));
    rows.push((
        "claim (new)".into(),
        bench(
            none,
            |i| coord(hub, &["-s", "s004", "claim", "task", &format!("new-{i}")]),
            Some(0),
        ),
    ));
    rows.push((
        "claim (renew)".into(),
        bench(
            none,
            |_| coord(hub, &["-s", "s004", "claim", "task", "task-4-1"]),
            Some(0),
        ),
    ));
    rows.push((
        "claim (conflict, exit 3)".into(),
        bench(
            none,
            |_| coord(hub, &["-s", "s005", "claim", "task", "task-4-1"]),
            Some(3),
        ),
    ));
    rows.push((
        "claim file (glob check)".into(),
        bench(
            none,
            |i| coord(hub, &["-s", "s006", "claim", "file", &format!("docs/new{i}/**")]),
            Some(0),
        ),
    ));
    rows.push((
        "release".into(),
        bench(
            |i| {
                coord(hub, &["-s", "s007", "claim", "task", &format!("rel-{i}")])
                    .status()
                    .expect("claim");
            },
            |i| coord(hub, &["-s", "s007", "release", "task", &format!("rel-{i}")]),
            Some(0),
        ),
    ));
    rows.push((
        "send (direct)".into(),
        bench(
            none,
            |i| coord(hub, &["-s", "s008", "send", "s009", &format!("hello {i}")]),
            Some(0),
        ),
    ));
    rows.push((
        "send @role".into(),
        bench(
            none,
            |i| coord(hub, &["-s", "s008", "send", "@docs", &format!("docs {i}")]),
            Some(0),
        ),
    ));
    rows.push((
        "send broadcast".into(),
        bench(
            none,
            |i| coord(hub, &["-s", "s008", "send", "broadcast", &format!("all {i}")]),
            Some(0),
        ),
    ));
    rows.push((
        "inbox (10 unread)".into(),
        bench(
            |_| ten_unread(hub, "s010"),
            |_| coord(hub, &["-s", "s010", "inbox"]),
            Some(0),
        ),
    ));
    rows.push((
        "inbox --peek (10 unread)".into(),
        bench(
            |_| {},
            |_| coord(hub, &["-s", "s009", "inbox", "--peek", "--limit", "10"]),
            Some(0),
        ),
    ));
    let last_id = || {
        let log = std::fs::read_to_string(hub.join("MESSAGES.jsonl")).unwrap_or_default();
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("\"to\":\"s011\""))
            .unwrap_or("{}")
            .to_string();
        serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v["id"].as_str().map(String::from))
            .unwrap_or_default()
    };
    let id = std::cell::RefCell::new(String::new());
    rows.push((
        "ack".into(),
        bench(
            |_| {
                coord(hub, &["-s", "s002", "send", "s011", "please ack"])
                    .status()
                    .expect("send");
                *id.borrow_mut() = last_id();
            },
            |_| coord(hub, &["-s", "s011", "ack", &id.borrow()]),
            Some(0),
        ),
    ));
    let mut stopped = false;
    rows.push((
        "stop / start --resume".into(),
        bench(
            none,
            |_| {
                stopped = !stopped;
                if stopped {
                    coord(hub, &["-s", "s012", "stop"])
                } else {
                    coord(hub, &["start", "--name", "s012", "--resume"])
                }
            },
            Some(0),
        ),
    ));
    rows.push((
        "start (new session)".into(),
        bench(
            none,
            |i| coord(hub, &["start", "--name", &format!("new{i}")]),
            Some(0),
        ),
    ));
    rows.push(("brief".into(), bench(none, |_| coord(hub, &["brief"]), Some(0))));
    rows.push((
        "brief --since 7d (all 100k in window)".into(),
        bench(
            none,
            |_| coord(hub, &["brief", "--since", "8d", "--stdout"]),
            Some(0),
        ),
    ));

    // Inbox cost must not grow with the log: the same 10 unread on a small hub.
    let small = build(200, 1_000);
    let small_inbox = bench(
        |_| ten_unread(&small.dir, "s010"),
        |_| coord(&small.dir, &["-s", "s010", "inbox"]),
        Some(0),
    );
    let small_status = bench(none, |_| coord(&small.dir, &["-s", "s001", "status"]), Some(0));

    let reg_size = size("REGISTRY.json") as usize;
    let floor = durable_write_floor(hub, reg_size);
    let small_floor = durable_write_floor(hub, 100);

    println!("| command | median ms | p95 ms |");
    println!("|---|---:|---:|");
    for (name, s) in &rows {
        println!("| {name} | {} | {} |", ms(s.median), ms(s.p95));
    }
    println!(
        "| inbox (10 unread), 1,000-message hub | {} | {} |",
        ms(small_inbox.median),
        ms(small_inbox.p95)
    );
    println!(
        "| status, 1,000-message hub | {} | {} |",
        ms(small_status.median),
        ms(small_status.p95)
    );
    println!(
        "| (floor) durable write of {} KiB, in-process | {} | {} |",
        reg_size / 1024,
        ms(floor.median),
        ms(floor.p95)
    );
    println!(
        "| (floor) durable write of 100 B, in-process | {} | {} |",
        ms(small_floor.median),
        ms(small_floor.p95)
    );

    let doctor = bench(none, |_| coord(hub, &["doctor"]), None);
    println!(
        "\ndoctor (reads and checks every line of both logs): median {} ms, p95 {} ms",
        ms(doctor.median),
        ms(doctor.p95)
    );
    hot_path("200 sessions, 1,000 claims, 100,000 messages", hub, RUNS, false);
    drop(big);
    drop(small);
    println!("\nbuilding the second hub: 2,000 sessions, 10,000 claims, 100,000 messages ...");
    let large = build(2_000, 100_000);
    hot_path(
        "2,000 sessions, 10,000 claims, 100,000 messages",
        &large.dir,
        21,
        true,
    );
    throughput(&large.dir);
    drop(large);
    scale();
}

/// The hot path against its floor: a process that does nothing plus one
/// small durable write. A sign of life should cost within 1.3x of it,
/// other changes within 2x (200 sessions) or 3x (2,000).
fn hot_path(label: &str, hub: &Path, runs: usize, large: bool) {
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    // Each row is timed side by side with the floor: its runs alternate
    // with the floor's (a process that does nothing, then one small durable
    // write), so that a row's ratio compares times from the same seconds of
    // this shared VM, whose speed moves by a third within minutes.
    let data = [b'x'; 100];
    let lock = File::create(hub.join(".floor.lock")).expect("lock file");
    let floor_once = || time(coord(hub, &["--version"]), Some(0)) + durable_write(hub, &data, &lock);
    let paired = |a: &mut dyn FnMut(usize) -> Command, b: &mut dyn FnMut(usize) -> Command| {
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        for i in 0..runs + 3 {
            let (x, y) = (time(a(i), Some(0)), time(b(i), Some(0)));
            if i >= 3 {
                ta.push(x);
                tb.push(y);
            }
        }
        (median(ta), median(tb))
    };
    // (the command's median, the floor's median in the same runs)
    let timed = |make: &mut dyn FnMut(usize) -> Command| {
        let (mut cmd, mut floor) = (Vec::new(), Vec::new());
        for i in 0..runs + 3 {
            let f = floor_once();
            let c = time(make(i), Some(0));
            if i >= 3 {
                cmd.push(c);
                floor.push(f);
            }
        }
        (median(cmd), median(floor))
    };
    let version = median(
        (0..runs)
            .map(|_| time(coord(hub, &["--version"]), Some(0)))
            .collect(),
    );
    let write = median((0..runs).map(|_| durable_write(hub, &data, &lock)).collect());
    // The agent, registered by its own session-start, for the hooks.
    let top = hub.parent().expect("the hub has a parent").to_path_buf();
    let hub_arg = hub.to_str().expect("a UTF-8 path").to_string();
    let hook = |event: &str, payload: serde_json::Value, i: usize| {
        let path = top.join(format!("hot-{event}-{i}.json"));
        std::fs::write(&path, payload.to_string()).expect("write the payload");
        let mut c = coord(hub, &["--hub", &hub_arg, "hook", event]);
        c.stdin(File::open(&path).expect("the payload"));
        c
    };
    let base =
        |event: &str| serde_json::json!({"session_id": "hot-agent", "cwd": top, "hook_event_name": event});
    assert!(hook("session-start", base("SessionStart"), 0)
        .status()
        .expect("runs")
        .success());
    let edit = |event: &str, file: String| {
        let mut p = base(event);
        p["tool_name"] = "Edit".into();
        p["tool_input"] = serde_json::json!({"file_path": top.join(file)});
        p
    };
    // The targets: issue 23's (signs of life 1.3x; other changes 2x at
    // 200 sessions, 3x at 2,000; pre-tool-use 3 ms and 5 ms) and issue
    // 22's (every hook event under 5 ms at 200 sessions).
    let (change, pre, hook_budget) = if large {
        ("3x", "< 5 ms", "-")
    } else {
        ("2x", "< 3 ms", "< 5 ms")
    };
    let rows: Vec<(&str, (Duration, Duration), &str)> = vec![
        (
            "heartbeat (a sign of life)",
            timed(&mut |_| coord(hub, &["-s", "s001", "heartbeat"])),
            "1.3x",
        ),
        (
            "heartbeat (a new activity, journaled)",
            timed(&mut |i| coord(hub, &["-s", "s001", "heartbeat", "coding", &format!("f{i}")])),
            "1.3x",
        ),
        (
            "inbox (nothing new)",
            timed(&mut |_| coord(hub, &["-s", "s002", "inbox"])),
            "1.3x",
        ),
        (
            "hook post-tool-use (Edit, a new file)",
            timed(&mut |i| hook("post-tool-use", edit("PostToolUse", format!("hot/f{i}.rs")), i)),
            "1.3x",
        ),
        (
            "hook pre-tool-use (Edit, free)",
            timed(&mut |i| hook("pre-tool-use", edit("PreToolUse", "hot/free.rs".into()), i)),
            pre,
        ),
        (
            "hook session-start (takes its session back)",
            timed(&mut |i| hook("session-start", base("SessionStart"), i)),
            hook_budget,
        ),
        (
            "hook user-prompt-submit (nothing new)",
            timed(&mut |i| hook("user-prompt-submit", base("UserPromptSubmit"), i)),
            hook_budget,
        ),
        (
            "hook stop",
            timed(&mut |i| hook("stop", base("Stop"), i)),
            hook_budget,
        ),
        (
            "hook session-end",
            timed(&mut |i| hook("session-end", base("SessionEnd"), i)),
            hook_budget,
        ),
        (
            "claim (new)",
            timed(&mut |i| coord(hub, &["-s", "s003", "claim", "task", &format!("hot-{i}")])),
            change,
        ),
        (
            "release",
            timed(&mut |i| coord(hub, &["-s", "s003", "release", "task", &format!("hot-{i}")])),
            change,
        ),
        (
            "send (direct)",
            timed(&mut |i| coord(hub, &["-s", "s004", "send", "s005", &format!("hot {i}")])),
            change,
        ),
        (
            "start (new session)",
            timed(&mut |i| {
                // A new agent registering (its own agent id: the bench's
                // process would otherwise be one caller switching sessions).
                let mut c = coord(hub, &["start", "--name", &format!("hot-new-{i}")]);
                c.env("COORD_AGENT_ID", format!("hot-new-agent-{i}"));
                c
            }),
            change,
        ),
        (
            "status",
            timed(&mut |_| coord(hub, &["-s", "s001", "status"])),
            "-",
        ),
    ];
    println!(
        "\nhot path, {label}: median ms of {runs} runs, each row alternating with its floor (coord --version + a durable write of 100 B; alone: {} + {} ms)",
        ms(version),
        ms(write)
    );
    println!("| command | median ms | floor ms | x floor | target |");
    println!("|---|---:|---:|---:|---:|");
    let row = |name: &str, (d, floor): (Duration, Duration), target: &str| {
        let x = d.as_secs_f64() / floor.as_secs_f64();
        println!("| {name} | {} | {} | {x:.2} | {target} |", ms(d), ms(floor));
    };
    for (name, d, target) in rows {
        row(name, d, target);
    }
    // Reads: the briefing of the hub as built (100,000 messages over seven
    // days); status whatever the unread count (a session with 20,000 unread
    // broadcasts, appended to the log, against one started after them, the
    // two alternating); and the briefing again with those 20,000 inside its
    // window.
    let brief = timed(&mut |_| coord(hub, &["brief", "--stdout"]));
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(hub.join("MESSAGES.jsonl"))
        .expect("the log");
    for i in 0..20_000 {
        let line = serde_json::json!({"from": "s001", "id": format!("m-1mtzzzz-{i:08}"), "level": "info",
            "subject": format!("note {i}"), "to": "broadcast", "ts": NOW});
        writeln!(log, "{line}").expect("append");
    }
    let mut c = coord(hub, &["start", "--name", "hot-fresh"]);
    c.env("COORD_AGENT_ID", "hot-fresh-agent");
    assert!(c.status().expect("runs").success());
    let (unread, none) = paired(&mut |_| coord(hub, &["-s", "s002", "status"]), &mut |_| {
        coord(hub, &["-s", "hot-fresh", "status"])
    });
    let crowded = timed(&mut |_| coord(hub, &["brief", "--stdout"]));
    println!(
        "| status, 20,000 unread / none | {} / {} | | {:.2} (of none) | 1.5x |",
        ms(unread),
        ms(none),
        unread.as_secs_f64() / none.as_secs_f64()
    );
    row("brief --stdout (100,000 messages)", brief, "< 10 ms");
    row("brief --stdout (and 20,000 more in its window)", crowded, "-");
}

/// 8 processes at once, each sending signs of life (each a new activity,
/// so each is journaled) for a few seconds on the 2,000-session hub: the
/// rate, the 99th percentile, and every write counted back.
fn throughput(hub: &Path) {
    const WRITERS: usize = 8;
    const EACH: usize = 150;
    let start = Instant::now();
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let hub = hub.to_path_buf();
            std::thread::spawn(move || {
                (0..EACH)
                    .map(|n| {
                        let who = format!("s{:03}", 100 + w);
                        time(
                            coord(&hub, &["-s", &who, "heartbeat", "load", &format!("w{w}-n{n}")]),
                            Some(0),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("a writer"))
        .collect();
    let elapsed = start.elapsed();
    all.sort();
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    // Fold (`brief` writes the briefing in a transaction), then count
    // every write back in the journal.
    coord(hub, &["brief"]).status().expect("fold");
    let journal = std::fs::read_to_string(hub.join("EVENTS.jsonl")).unwrap_or_default();
    let found = (0..WRITERS)
        .flat_map(|w| (0..EACH).map(move |n| format!("load w{w}-n{n}\"")))
        .filter(|needle| journal.contains(needle.as_str()))
        .count();
    println!(
        "\n{WRITERS} writers x {EACH} signs of life on the 2,000-session hub: {:.0} ops/s, p99 {} ms, {found} of {} found in the journal",
        all.len() as f64 / elapsed.as_secs_f64(),
        ms(p99),
        WRITERS * EACH
    );
}

/// What a command costs as sessions grow: 10^3, 10^4 and 10^5 sessions with
/// one claim each and 1,000 messages. Every command reads and (to write)
/// rewrites the whole registry, so the cost should grow linearly, no worse.
fn scale() {
    if std::env::var_os("COORD_BENCH_NO_SCALE").is_some() {
        return;
    }
    println!("\nscale: sessions with one claim each, 1,000 messages; median ms of 11 runs");
    println!(
        "| sessions | REGISTRY.json | heartbeat | claim (new) | send | inbox | status --short | brief |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in [1_000, 10_000, 100_000] {
        let f = build_with(n, 1, 1_000);
        let hub = f.dir.as_path();
        let quick = |make: &mut dyn FnMut(usize) -> Command| {
            let mut v: Vec<Duration> = (0..14).map(|i| time(make(i), Some(0))).skip(3).collect();
            v.sort();
            v[v.len() / 2]
        };
        let hb = quick(&mut |i| coord(hub, &["-s", "s003", "heartbeat", "testing", &format!("{i}")]));
        let cl = quick(&mut |i| coord(hub, &["-s", "s004", "claim", "task", &format!("scale-{i}")]));
        let se = quick(&mut |i| coord(hub, &["-s", "s008", "send", "s009", &format!("hi {i}")]));
        let ib = quick(&mut |_| coord(hub, &["-s", "s009", "inbox"]));
        let st = quick(&mut |_| coord(hub, &["status", "--short"]));
        let br = quick(&mut |_| coord(hub, &["brief"]));
        let reg = std::fs::metadata(hub.join("REGISTRY.json"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "| {n} | {} KiB | {} | {} | {} | {} | {} | {} |",
            reg / 1024,
            ms(hb),
            ms(cl),
            ms(se),
            ms(ib),
            ms(st),
            ms(br)
        );
    }
}
