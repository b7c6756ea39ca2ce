//! `coord claim`: take or renew a claim. First claim wins; the holder renews;
//! anyone else gets exit 3 with who holds it and how to ask them, unless they
//! wait for it (`--wait`) or take it (`--force`, journaled, holder told).

use std::time::Instant;

use serde::Serialize;

use super::views::ClaimView;
use crate::clock::{format_time, parse_duration, short_duration};
use crate::ctx::Ctx;
use crate::error::{conflict, timeout, usage, CoordError};
use crate::model::{Claim, Level};
use crate::ops::{claim_args, held_phrase, mutate, release, system_message, touch};
use crate::render::{print_json, write_stdout};
use crate::rules::{conflicts, glob, validate};

/// Take or renew a claim on a task, service, file glob or other resource
#[derive(clap::Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// A word: task, service, file, resource...
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// What to claim; for `file`, a glob relative to the repository root
    #[arg(allow_hyphen_values = true)]
    pub name: String,
    /// How long to hold it, in hours (default: claims.default_for)
    #[arg(long, conflicts_with = "for_", allow_hyphen_values = true)]
    pub hours: Option<f64>,
    /// How long to hold it: 90m, 2h, 1h30m (default: claims.default_for)
    #[arg(long = "for", value_name = "DUR", allow_hyphen_values = true)]
    pub for_: Option<String>,
    /// Why, for the team
    #[arg(long)]
    pub note: Option<String>,
    /// Take it even if someone holds it (they are told, and it is journaled)
    #[arg(long)]
    pub force: bool,
    /// If it is held, keep trying for this long before giving up (exit 6)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub wait: Option<String>,
}

#[derive(Serialize)]
struct Report {
    claim: ClaimView,
    /// taken, renewed or forced
    outcome: &'static str,
    token: u64,
    /// Claims taken away from others by --force.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    revoked: Vec<Revoked>,
}

#[derive(Serialize)]
struct Revoked {
    key: String,
    holder: String,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    validate::claim_type(&args.kind)?;
    validate::text("claim name", &args.name, validate::MAX_TEXT)?;
    let name = if args.kind == "file" {
        glob::normalize(&args.name)?
    } else {
        validate::no_padding("claim name", &args.name)?;
        args.name.clone()
    };
    if let Some(n) = &args.note {
        validate::text("note", n, validate::MAX_NOTE)?;
    }
    let cfg = &ctx.hub().config;
    let length = match (&args.hours, &args.for_) {
        (Some(h), _) if !(h.is_finite() && *h > 0.0 && *h < 24.0 * 365.0) => {
            return Err(usage(format!(
                "--hours {h} is not a positive number of hours; write it like --hours 1.5"
            ))
            .into())
        }
        (Some(h), _) => chrono::Duration::seconds((h * 3600.0).round() as i64),
        (None, Some(d)) => parse_duration(d).map_err(usage)?,
        (None, None) => cfg.default_for,
    };
    if length > cfg.max_for {
        return Err(usage(format!(
            "a claim of {} is longer than claims.max_for ({}); claim for less and renew it later",
            short_duration(length),
            short_duration(cfg.max_for)
        ))
        .into());
    }
    let deadline = crate::clock::deadline(args.wait.as_deref())?;
    let key = Claim::key(&args.kind, &name);
    let report = loop {
        match mutate(ctx, |tx| attempt(ctx, tx, args, &key, &name, length)) {
            Err(e) if is_conflict(&e) && deadline.is_some_and(|d| Instant::now() < d) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) if is_conflict(&e) && deadline.is_some() => {
                return Err(timeout(format!(
                    "waited {} for {key} but it is still held ({e})",
                    args.wait.as_deref().unwrap_or("")
                ))
                .hint("try again later, or ask the holder with `coord send`")
                .into())
            }
            other => break other?,
        }
    };
    if ctx.out.json {
        return print_json(&report);
    }
    for r in &report.revoked {
        ctx.out
            .status(&format!("took {} from {} (they have been told)", r.key, r.holder));
    }
    let c = &report.claim;
    let until = c.expires.map(format_time).unwrap_or_default();
    write_stdout(&format!(
        "{} {} until {until} (token {})\n",
        report.outcome, c.key, report.token
    ))
}

fn is_conflict(e: &anyhow::Error) -> bool {
    crate::error::kind_of(e) == crate::error::Kind::Conflict
}

fn attempt(
    ctx: &Ctx,
    tx: &mut crate::store::Tx,
    args: &Args,
    key: &str,
    name: &str,
    length: chrono::Duration,
) -> anyhow::Result<Report> {
    let cfg = &tx.hub.config;
    let me = ctx.me_tx(tx)?;
    let now = tx.now;
    let held_by_others = conflicts(&tx.reg, &args.kind, name, &me, now, cfg);
    if !held_by_others.is_empty() && !args.force {
        return Err(conflict_error(tx, key, &held_by_others[0]).into());
    }
    touch(tx, &me);
    let mut revoked = Vec::new();
    for other in &held_by_others {
        let holder = tx.reg.claims[other].holder.clone().unwrap_or_default();
        release(
            tx,
            other,
            &holder,
            "claim.stolen",
            &format!("taken from {holder} by {me} with --force"),
        );
        system_message(
            tx,
            &holder,
            Level::Warning,
            format!("{me} took your claim {other}"),
            format!(
                "{me} ran `coord claim {}` with --force, which took {other} from you. Stop changing what it covers, and talk to {me} with `coord send {me} SUBJECT`.",
                claim_args(key)
            ),
        );
        revoked.push(Revoked {
            key: other.clone(),
            holder,
        });
    }
    let expires = now + length;
    let existing = tx.reg.claims.get(key).cloned();
    let renewing = existing
        .as_ref()
        .is_some_and(|c| c.holder.as_deref() == Some(&me));
    let claim = tx.reg.claims.entry(key.to_string()).or_insert_with(|| Claim {
        kind: args.kind.clone(),
        name: name.to_string(),
        holder: None,
        since: None,
        expires: None,
        note: None,
        token: 0,
        extra: Default::default(),
    });
    if !renewing {
        claim.token += 1;
        claim.holder = Some(me.clone());
        claim.since = Some(now);
    }
    claim.expires = Some(expires);
    if args.note.is_some() || !renewing {
        claim.note = args.note.clone();
    }
    let token = claim.token;
    let outcome = match (renewing, revoked.is_empty()) {
        (true, _) => "renewed",
        (false, true) => "taken",
        (false, false) => "forced",
    };
    let kind = if renewing { "claim.renewed" } else { "claim.taken" };
    let text = format!("{key} {outcome} by {me} for {}", short_duration(length));
    tx.event(kind, Some(&me), Some(key), text).token = Some(token);
    let claim = ClaimView::new(key, &tx.reg.claims[key], &tx.reg, now, cfg);
    Ok(Report {
        claim,
        outcome,
        token,
        revoked,
    })
}

/// Exit 3 with who holds it, since when, time left and how to ask them.
fn conflict_error(tx: &crate::store::Tx, wanted: &str, held: &str) -> CoordError {
    let c = &tx.reg.claims[held];
    let holder = c.holder.clone().unwrap_or_default();
    let what = if held == wanted {
        format!("{wanted} is held by {holder}")
    } else {
        format!("{wanted} overlaps {held}, held by {holder}")
    };
    let details = serde_json::json!({
        "claim": held,
        "holder": holder,
        "since": c.since.map(format_time),
        "expires": c.expires.map(format_time),
        "seconds_left": c.expires.map(|e| (e - tx.now).num_seconds()),
    });
    conflict(format!("{what} {}", held_phrase(c.since, c.expires, tx.now)))
        .hint(format!(
            "ask them with `coord send {holder} \"may I take {held}?\"`, wait with --wait 30m, or take it with --force"
        ))
        .details(details)
}
