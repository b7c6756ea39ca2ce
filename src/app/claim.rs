//! Take or renew a claim. First claim wins; the holder renews; anyone else
//! gets exit 3 with who holds it and how to ask them, unless they wait for
//! it (`wait`) or take it (`force`, journaled, holder told). Each attempt of
//! a wait reads the clock afresh.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::views::ClaimView;
use super::Ctx;
use crate::core::clock::{parse_duration, short_duration};
use crate::core::error::{timeout, usage, Kind, Result};
use crate::core::model::Claim;
use crate::core::rules::claims::{self, Outcome, Revoked, Take};
use crate::core::rules::{glob, validate, Effects};

#[derive(Debug, Clone, Default)]
pub struct ClaimRequest {
    pub kind: String,
    pub name: String,
    pub hours: Option<f64>,
    /// A duration as typed: `90m`, `2h`.
    pub for_: Option<String>,
    pub note: Option<String>,
    pub force: bool,
    /// Keep trying this long (a duration as typed) while it is held.
    pub wait: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClaimReport {
    pub claim: ClaimView,
    pub outcome: Outcome,
    pub token: u64,
    /// Claims taken away from others by `force`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<Revoked>,
}

/// A claim's kind and name, checked and normalised: NFC always (the same
/// text typed on two systems is one name), and globs for files. Names of
/// other kinds must be written in one script.
pub fn claim_key(kind: &str, name: &str) -> Result<(String, String)> {
    use unicode_normalization::UnicodeNormalization;
    const COMMON: [&str; 4] = ["task", "service", "file", "resource"];
    if COMMON.contains(&name) && !COMMON.contains(&kind) {
        return Err(usage(format!(
            "{name:?} is a claim type, and TYPE comes first; did you mean `{}`?",
            crate::core::text::command_line(&["claim", name, kind])
        )));
    }
    validate::claim_type(kind)?;
    validate::text("claim name", name, validate::MAX_TEXT)?;
    let name: String = name.nfc().collect();
    let name = if kind == "file" {
        glob::normalize(&name)?
    } else {
        validate::no_padding("claim name", &name)?;
        validate::single_script("claim name", &name)?;
        name
    };
    Ok((Claim::key(kind, &name), name))
}

pub fn claim(ctx: &Ctx, req: &ClaimRequest) -> Result<ClaimReport> {
    let (key, name) = claim_key(&req.kind, &req.name)?;
    if let Some(n) = &req.note {
        validate::text("note", n, validate::MAX_NOTE)?;
    }
    let cfg = &ctx.hub.config;
    let length = match (&req.hours, &req.for_) {
        (Some(h), _) if !(h.is_finite() && *h > 0.0 && *h < 24.0 * 365.0) => {
            return Err(usage(format!(
                "--hours {h} is not a positive number of hours; write it like --hours 1.5"
            )))
        }
        (Some(h), _) => Some(chrono::Duration::seconds((h * 3600.0).round() as i64)),
        (None, Some(d)) => Some(parse_duration(d)?),
        (None, None) => cfg.default_for,
    };
    if let Some(length) = length.filter(|l| *l > cfg.max_for) {
        return Err(usage(format!(
            "a claim of {} is longer than claims.max_for ({}); claim for less and renew it later",
            short_duration(length),
            short_duration(cfg.max_for)
        )));
    }
    let deadline = crate::core::clock::deadline(req.wait.as_deref())?;
    loop {
        let attempt = match quick(ctx, req, &key, &name, length)? {
            Some(done) => done,
            None => ctx.mutate(|tx| {
                let me = ctx.me_tx(tx)?;
                decide(ctx, &mut tx.reg, req, &key, &name, &me, length, tx.now).map(|(report, fx)| {
                    tx.apply(fx);
                    report
                })
            }),
        };
        match (attempt, deadline) {
            (Err(e), Some(d)) if e.kind == Kind::Conflict => {
                if Instant::now() >= d {
                    return Err(timeout(format!(
                        "waited {} for {key} but it is still held ({e})",
                        req.wait.as_deref().unwrap_or("")
                    ))
                    .hint("try again later, or ask the holder with `coord send`"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            (Err(e), _) if e.kind == Kind::Conflict => {
                journal_refusal(ctx, &key, &e.message);
                return Err(e);
            }
            (other, _) => return other,
        }
    }
}

/// The claim decided on `reg`: the plan's word first (unless forced), then
/// the claim rules; the report and what they did.
#[allow(clippy::too_many_arguments)]
fn decide(
    ctx: &Ctx,
    reg: &mut crate::core::model::Registry,
    req: &ClaimRequest,
    key: &str,
    name: &str,
    me: &str,
    length: Option<chrono::Duration>,
    now: crate::core::clock::Time,
) -> Result<(ClaimReport, Effects)> {
    let cfg = &ctx.hub.config;
    let take = Take {
        kind: &req.kind,
        name,
        me,
        length,
        note: req.note.as_deref(),
        force: req.force,
    };
    if !req.force {
        let plan_says = match req.kind.as_str() {
            "task" => super::plan::claim_blocked(reg, name),
            "resource" => super::plan::reserved_against(reg, name, me, now, cfg),
            _ => None,
        };
        if let Some(e) = plan_says {
            return Err(e);
        }
    }
    let mut fx = Effects::default();
    let taken = claims::take(reg, &take, now, cfg, &mut fx)?;
    let report = ClaimReport {
        claim: ClaimView::new(key, &reg.claims[key], reg, now, cfg),
        outcome: taken.outcome,
        token: taken.token,
        revoked: taken.revoked,
    };
    Ok((report, fx))
}

/// A claim on the hot path: the records it could collide with (the same
/// key, names that fold alike, for files the held globs near it) and
/// their holders, read from the digest and the pulse; decided by the same
/// rules on that part of the registry; written as one pulse line holding
/// the new record. `None`: the full path (a forced claim, one the plan
/// speaks to, a hub near its claim limit, no usable digest). A refusal is
/// the same error as on the full path.
fn quick(
    ctx: &Ctx,
    req: &ClaimRequest,
    key: &str,
    name: &str,
    length: Option<chrono::Duration>,
) -> Result<Option<Result<ClaimReport>>> {
    if req.force {
        return Ok(None);
    }
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.quick(now, |q| {
        let head = &q.digest.head;
        let added = q.pulse_claims().len();
        // A pruned claim's floor goes with its first new record: the full
        // path writes both.
        if head.planned.contains(key)
            || head.floors.contains_key(key)
            || head.claims + added + 1 >= cfg.max_claims
        {
            return Ok(None);
        }
        let folded = claims::fold(name);
        let Some(mut near) = named(q, &req.kind, &folded) else {
            return Ok(None);
        };
        if req.kind == "file" {
            // The held globs whose literal start is near this one's.
            let prefix = crate::core::rules::glob::literal_prefix(&folded).to_string();
            let Some(files) = q.files_for(&[prefix]) else {
                return Ok(None);
            };
            near.extend(files);
        }
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        let mut reg = q.registry_for(&me, &line.session);
        for holder in near.values().filter_map(|c| c.holder.clone()) {
            if holder != me {
                if let Some(d) = q.session(&holder) {
                    reg.sessions.insert(holder, d.session);
                }
            }
        }
        reg.claims = near;
        let before = reg.claims.clone();
        let (report, fx) = match decide(ctx, &mut reg, req, key, name, &me, length, now) {
            Ok(done) => done,
            Err(e) => return Ok(Some(Err(e))),
        };
        q.commit_records(fx, ctx.actor(&me, &how), now, now, changed(&before, &reg), None)?;
        Ok(Some(Ok(report)))
    })
}

/// The claim records of `kind` whose name folds to `folded`, from the
/// digest as the hot path changed them since. `None`: no claim index.
pub(crate) fn named(
    q: &crate::store::pulse::Quick,
    kind: &str,
    folded: &str,
) -> Option<std::collections::BTreeMap<String, crate::core::model::Claim>> {
    let mut near = q.digest.claims_named(kind, folded)?;
    for (k, c) in q.pulse_claims() {
        near.remove(k);
        if let Some(c) = c
            .as_ref()
            .filter(|c| c.kind == kind && claims::fold(&c.name) == folded)
        {
            near.insert(k.clone(), c.clone());
        }
    }
    Some(near)
}

/// The records of `reg` that differ from `before`, as a pulse line holds
/// them (null: gone).
pub(crate) fn changed(
    before: &std::collections::BTreeMap<String, crate::core::model::Claim>,
    reg: &crate::core::model::Registry,
) -> std::collections::BTreeMap<String, Option<crate::core::model::Claim>> {
    let mut out: std::collections::BTreeMap<String, Option<crate::core::model::Claim>> = reg
        .claims
        .iter()
        .filter(|(k, c)| before.get(*k) != Some(*c))
        .map(|(k, c)| (k.clone(), Some(c.clone())))
        .collect();
    out.extend(
        before
            .keys()
            .filter(|k| !reg.claims.contains_key(*k))
            .map(|k| (k.clone(), None)),
    );
    out
}

/// A refused claim is journaled (`claim.refused`: the collisions `coord kpi`
/// counts), in a transaction of its own; failing to journal it does not
/// change the answer.
fn journal_refusal(ctx: &Ctx, key: &str, why: &str) {
    let refusal = |me: &str| {
        let mut fx = Effects::default();
        fx.event(
            "claim.refused",
            me,
            Some(key),
            format!("{key} refused to {me}: {why}"),
        );
        fx
    };
    // On the hot path: one pulse line.
    let now = ctx.now();
    let quick = ctx.hub.quick(now, |q| {
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        // Not a sign of life: the journal entry only.
        let seen = line.session.last_seen;
        q.commit_records(
            refusal(&me),
            ctx.actor(&me, &how),
            now,
            seen,
            Default::default(),
            None,
        )?;
        Ok(Some(()))
    });
    if matches!(quick, Ok(Some(()))) {
        return;
    }
    let _ = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        tx.apply(refusal(&me));
        Ok(())
    });
}
