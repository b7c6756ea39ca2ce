//! The application core driven in-process, without the CLI or a child
//! process: what hooks, the MCP server and the dashboard will do.

use super::*;
use crate::app::claim::{claim, ClaimRequest};
use crate::app::inbox::{inbox, InboxRequest};
use crate::app::send::{send, SendRequest};
use crate::app::start::{start, StartRequest};
use crate::app::status::{status, StatusRequest};
use crate::core::clock::parse_time;
use crate::core::error::Kind;
use crate::core::rules::claims::Outcome;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("coordination");
    store::create(&dir).expect("hub");
    Fixture { _tmp: tmp, dir }
}

fn as_(f: &Fixture, who: &str, at: &str) -> Ctx {
    let hub = Hub::open(&f.dir, IdSource::default()).expect("open");
    let now = parse_time(&format!("2026-03-02T{at}Z")).expect("time");
    let hints = Hints {
        flag: Some(who.to_string()),
        ..Default::default()
    };
    Ctx::new(hub, Clock::Fixed(now), hints)
}

fn named(name: &str) -> StartRequest {
    StartRequest {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn task(name: &str) -> ClaimRequest {
    ClaimRequest {
        kind: "task".into(),
        name: name.into(),
        ..Default::default()
    }
}

#[test]
fn a_claim_is_taken_refused_and_forced_through_the_core() {
    let f = fixture();
    // `start` by name needs no identity of its own.
    start(&as_(&f, "alice", "09:00:00"), &named("alice")).unwrap();
    start(&as_(&f, "bob", "09:00:00"), &named("bob")).unwrap();
    let r = claim(&as_(&f, "alice", "09:01:00"), &task("api")).unwrap();
    assert_eq!((r.outcome, r.token), (Outcome::Taken, 1));
    assert_eq!(r.claim.holder.as_deref(), Some("alice"));
    let e = claim(&as_(&f, "bob", "09:02:00"), &task("api")).unwrap_err();
    assert_eq!(e.kind, Kind::Conflict);
    assert!(e.hints.iter().any(|h| h.contains("coord send alice")), "{e:?}");
    assert_eq!(e.details.as_ref().unwrap()["holder"], "alice");
    let forced = ClaimRequest {
        force: true,
        ..task("api")
    };
    let r = claim(&as_(&f, "bob", "09:03:00"), &forced).unwrap();
    assert_eq!((r.outcome, r.token), (Outcome::Forced, 2));
    // alice learns it from her inbox, as data.
    let ctx = as_(&f, "alice", "09:04:00");
    let got = inbox(&ctx, &InboxRequest::default()).unwrap();
    assert_eq!(got.messages.len(), 1);
    assert_eq!(got.messages[0].message.from, "coord");
    assert!(got.messages[0]
        .message
        .subject
        .contains("bob took your claim task:api"));
}

#[test]
fn emergencies_come_back_as_notices_even_when_the_call_fails() {
    let f = fixture();
    start(&as_(&f, "lead", "09:00:00"), &named("lead")).unwrap();
    start(&as_(&f, "bob", "09:00:00"), &named("bob")).unwrap();
    let stop = SendRequest {
        to: "broadcast".into(),
        subject: "stop deploys".into(),
        level: Some("emergency".into()),
        ..Default::default()
    };
    let sent = send(&as_(&f, "lead", "09:01:00"), &stop).unwrap();
    let ctx = as_(&f, "bob", "09:02:00");
    let bad = ClaimRequest {
        for_: Some("soon".into()),
        ..task("x")
    };
    assert_eq!(claim(&ctx, &bad).unwrap_err().kind, Kind::Usage);
    let e = crate::app::release::release(
        &ctx,
        &crate::app::release::ReleaseRequest {
            claim: Some(("task".into(), "nothing".into())),
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, Kind::NotFound);
    let notices = ctx.take_notices();
    assert_eq!(notices.emergencies.len(), 1);
    assert_eq!(notices.emergencies[0].id, sent.message.id);
    assert!(ctx.take_notices().emergencies.is_empty(), "taken once");
}

#[test]
fn status_reads_the_clock_of_each_call() {
    let f = fixture();
    start(&as_(&f, "amy", "09:00:00"), &named("amy")).unwrap();
    let early = status(&as_(&f, "amy", "09:10:00"), &StatusRequest::default()).unwrap();
    let late = status(&as_(&f, "amy", "09:45:00"), &StatusRequest::default()).unwrap();
    assert_eq!(early.sessions[0].state, crate::core::rules::State::Active);
    assert_eq!(late.sessions[0].state, crate::core::rules::State::Stale);
    assert_eq!(late.me.as_deref(), Some("amy"));
}
