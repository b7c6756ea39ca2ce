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
        let attempt = ctx.mutate(|tx| {
            let me = ctx.me_tx(tx)?;
            let take = Take {
                kind: &req.kind,
                name: &name,
                me: &me,
                length,
                note: req.note.as_deref(),
                force: req.force,
            };
            if !req.force {
                let plan_says = match req.kind.as_str() {
                    "task" => super::plan::claim_blocked(&tx.reg, &name),
                    "resource" => super::plan::reserved_against(&tx.reg, &name, &me, tx.now, cfg),
                    _ => None,
                };
                if let Some(e) = plan_says {
                    return Err(e);
                }
            }
            let mut fx = Effects::default();
            let taken = claims::take(&mut tx.reg, &take, tx.now, cfg, &mut fx)?;
            tx.apply(fx);
            Ok(ClaimReport {
                claim: ClaimView::new(&key, &tx.reg.claims[&key], &tx.reg, tx.now, cfg),
                outcome: taken.outcome,
                token: taken.token,
                revoked: taken.revoked,
            })
        });
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

/// A refused claim is journaled (`claim.refused`: the collisions `coord kpi`
/// counts), in a transaction of its own; failing to journal it does not
/// change the answer.
fn journal_refusal(ctx: &Ctx, key: &str, why: &str) {
    let _ = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let mut fx = Effects::default();
        fx.event(
            "claim.refused",
            &me,
            Some(key),
            format!("{key} refused to {me}: {why}"),
        );
        tx.apply(fx);
        Ok(())
    });
}
