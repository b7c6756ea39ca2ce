//! The claim lifecycle over plain state: take, renew, force, release, lapse
//! (and later handoff). Each function changes the registry and records the
//! journal entries and messages to coord's own sessions in [`Effects`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::{glob, live_holder, state, touch, Alert, Effects, State};
use crate::core::clock::{format_time, short_duration, Time};
use crate::core::config::Config;
use crate::core::error::{conflict, hub, not_found, CoordError, Result};
use crate::core::model::{Claim, Level, Registry};
use crate::core::text::{claim_args, command_line};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LapseReason {
    Expired,
    HolderGone,
    HolderEnded,
    HolderUnknown,
}

impl LapseReason {
    pub fn describe(&self) -> &'static str {
        match self {
            LapseReason::Expired => "it expired",
            LapseReason::HolderGone => "its holder went silent past liveness.gone_after",
            LapseReason::HolderEnded => "its holder ended",
            LapseReason::HolderUnknown => "its holder is not a known session",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapse {
    pub key: String,
    pub holder: String,
    pub reason: LapseReason,
}

/// Claims that still name a holder but are free by the rules.
pub fn lapsed(reg: &Registry, now: Time, cfg: &Config) -> Vec<Lapse> {
    reg.claims
        .iter()
        .filter_map(|(key, c)| {
            let holder = c.holder.as_deref()?;
            let reason = match reg.sessions.get(holder).map(|s| state(s, now, cfg)) {
                None => LapseReason::HolderUnknown,
                Some(State::Ended) => LapseReason::HolderEnded,
                Some(State::Gone) => LapseReason::HolderGone,
                _ if c.expires.is_some_and(|e| e <= now) => LapseReason::Expired,
                _ => return None,
            };
            Some(Lapse {
                key: key.clone(),
                holder: holder.to_string(),
                reason,
            })
        })
        .collect()
}

/// What two claim names must differ in to be two claims: not Unicode
/// normal form, not case, not invisible characters, not look-alike letters.
/// NFC, lower case, then the UTS #39 confusable skeleton (which also drops
/// default-ignorable characters).
pub fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower: String = name.nfc().flat_map(char::to_lowercase).collect();
    unicode_security::skeleton(&lower).collect()
}

/// Keys of claims held live by someone other than `me` that stop `me` from
/// taking `kind:name`: the same claim, one whose name folds to the same
/// text (see [`fold`]), or for files an overlapping glob (compared folded,
/// since a repository may be checked out on a case-insensitive disk).
pub fn conflicts(reg: &Registry, kind: &str, name: &str, me: &str, now: Time, cfg: &Config) -> Vec<String> {
    let key = Claim::key(kind, name);
    let folded = fold(name);
    let mut out = Vec::new();
    if let Some(c) = reg.claims.get(&key) {
        if live_holder(c, reg, now, cfg).is_some_and(|h| h != me) {
            out.push(key.clone());
        }
    }
    for (k, c) in &reg.claims {
        if *k == key || c.kind != kind || live_holder(c, reg, now, cfg).is_none_or(|h| h == me) {
            continue;
        }
        let theirs = fold(&c.name);
        if theirs == folded || (kind == "file" && glob::overlap(&theirs, &folded)) {
            out.push(k.clone());
        }
    }
    out
}

/// Free every claim that has lapsed (expired, or its holder gone or ended),
/// journal it, and tell the holder. Times from the future are brought back
/// first, so a skewed or hostile clock cannot keep a claim alive for ever.
pub fn sweep(reg: &mut Registry, now: Time, cfg: &Config, fx: &mut Effects) {
    distrust_future(reg, now, cfg, fx);
    tell_losers(reg, now, fx);
    for lapse in lapsed(reg, now, cfg) {
        let why = lapse.reason.describe();
        release(
            reg,
            &lapse.key,
            &lapse.holder,
            "claim.lapsed",
            &format!("lapsed for {}: {why}", lapse.holder),
            now,
            fx,
        );
        if reg.sessions.contains_key(&lapse.holder) {
            fx.notice(
                &lapse.holder,
                Level::Warning,
                format!("your claim {} lapsed", lapse.key),
                format!(
                    "{} is free again because {why}. Claim it again with `coord claim {}` if you still need it.",
                    lapse.key,
                    claim_args(&lapse.key)
                ),
            );
        }
    }
}

/// Holders a merge took a claim from learn it once: a message and a journal
/// entry with ids derived from the loss, the same on every machine, so two
/// machines telling before they sync leave one of each.
fn tell_losers(reg: &mut Registry, now: Time, fx: &mut Effects) {
    let (messages, events) = losers_told(reg, now);
    fx.0.extend(events.into_iter().map(super::Effect::Journal));
    fx.0.extend(messages.into_iter().map(super::Effect::Message));
}

/// The notices and journal entries for every loser not yet told, marking
/// them told. Dated when the winner took the claim, with ids derived from
/// the loss: every machine that tells (the sync that arbitrated, or the next
/// change anywhere) writes the same bytes, and the logs' union keeps one.
pub fn losers_told(
    reg: &mut Registry,
    now: Time,
) -> (Vec<crate::core::model::Message>, Vec<crate::core::model::Event>) {
    let (mut messages, mut events) = (Vec::new(), Vec::new());
    for (key, c) in reg.claims.iter_mut() {
        // Nothing here may depend on which merge found the loss (the winner
        // of that merge may itself lose a later one): the same bytes on
        // every machine.
        for l in c.lost_on_sync.iter_mut().filter(|l| !l.told) {
            l.told = true;
            let (m, mut e) = told(Told {
                kind: "claim.lost_on_sync",
                to: &l.holder,
                target: key,
                at: l.since.or(c.since).unwrap_or(now),
                seed: &format!("{key}\n{}\n{}", l.holder, l.token),
                subject: format!("you lost your claim {key} in a merge"),
                body: format!(
                    "{key} was taken on two machines before they synced, and an earlier claim stands. Stop changing what it covers; see who holds it with `{}`.",
                    command_line(&["claims", "--type", key.split_once(':').map_or(key.as_str(), |(t, _)| t)])
                ),
                text: format!("{key} lost by {} when two machines' hubs merged (an earlier claim stands)", l.holder),
            });
            e.token = Some(l.token);
            messages.push(m);
            events.push(e);
        }
    }
    (messages, events)
}

/// A loss a merge decided, to tell its loser.
pub struct Told<'a> {
    pub kind: &'static str,
    pub to: &'a str,
    pub target: &'a str,
    /// When the winner's record was made: the records' time.
    pub at: Time,
    /// What identifies the loss: the ids are derived from it, so every
    /// machine that tells writes the same bytes.
    pub seed: &'a str,
    pub subject: String,
    pub body: String,
    pub text: String,
}

/// The message to the loser and the journal entry of a loss.
pub fn told(t: Told) -> (crate::core::model::Message, crate::core::model::Event) {
    let event = crate::core::model::Event {
        by: None,
        clock: None,
        id: crate::core::ids::derived('e', t.at, t.seed),
        kind: t.kind.to_string(),
        session: Some(t.to.to_string()),
        target: Some(t.target.to_string()),
        text: t.text,
        token: None,
        ts: t.at,
        extra: Default::default(),
    };
    let message = crate::core::model::Message {
        id: crate::core::ids::derived('m', t.at, t.seed),
        ts: t.at,
        from: crate::core::model::SYSTEM.to_string(),
        to: t.to.to_string(),
        recipients: Some(vec![t.to.to_string()]),
        level: Level::Warning,
        subject: t.subject,
        body: t.body,
        reply_to: None,
        extra: Default::default(),
    };
    (message, event)
}

/// Times further ahead than `time.max_skew` are not trusted: sessions seen
/// or started "in the future" count as seen now, claims taken then as taken
/// now, and no claim outlives now plus `claims.max_for`. Journaled.
pub fn distrust_future(reg: &mut Registry, now: Time, cfg: &Config, fx: &mut Effects) {
    let limit = now + cfg.max_skew;
    for (id, s) in reg.sessions.iter_mut() {
        if s.last_seen > limit || s.started > limit {
            let text = format!(
                "{id}: last_seen {} from a clock in the future, taken as now",
                format_time(s.last_seen)
            );
            s.last_seen = s.last_seen.min(now);
            s.started = s.started.min(now);
            fx.event("clock.distrusted", id, None, text);
        }
    }
    let longest = now + cfg.max_for;
    for (key, c) in reg.claims.iter_mut() {
        let since = c.since.is_some_and(|t| t > limit);
        let expires = c.expires.is_some_and(|t| t > longest + cfg.max_skew);
        if since || expires {
            if since {
                c.since = Some(now);
            }
            if expires {
                c.expires = Some(longest);
            }
            let holder = c.holder.clone().unwrap_or_default();
            fx.event(
                "clock.distrusted",
                &holder,
                Some(key),
                format!("{key}: times from a clock in the future, brought back to now"),
            );
        }
    }
    for e in reg.escalations.values_mut() {
        if e.ts > limit {
            e.ts = now;
        }
    }
}

/// Release `key` held by `holder`; journal it with `kind` and `why`.
pub fn release(
    reg: &mut Registry,
    key: &str,
    holder: &str,
    kind: &'static str,
    why: &str,
    now: Time,
    fx: &mut Effects,
) {
    let token = match reg.claims.get_mut(key) {
        Some(c) => {
            c.released = Some(now);
            c.holder = None;
            c.since = None;
            c.expires = None;
            c.for_secs = None;
            c.token
        }
        None => return,
    };
    fx.event(kind, holder, Some(key), format!("{key} {why}")).token = Some(token);
}

/// `coord release`: `wanted` (a key) or, with `None`, every claim `me` holds.
pub fn give_back(
    reg: &mut Registry,
    me: &str,
    wanted: Option<&str>,
    now: Time,
    fx: &mut Effects,
) -> Result<Vec<String>> {
    let keys: Vec<String> = match wanted {
        None => held_by(reg, me),
        Some(key) => match reg.claims.get(key).and_then(|c| c.holder.clone()) {
            Some(h) if h == me => vec![key.to_string()],
            Some(h) => {
                return Err(
                    conflict(format!("{key} is held by {h}, not by you ({me})")).hint(format!(
                        "only {h} can release it; ask with `{}`",
                        command_line(&["send", &h, "SUBJECT"])
                    )),
                )
            }
            None => {
                return Err(not_found(format!("you ({me}) do not hold {key}"))
                    .hint("see your claims with `coord status`"))
            }
        },
    };
    touch(reg, me, now);
    for key in &keys {
        release(
            reg,
            key,
            me,
            "claim.released",
            &format!("released by {me}"),
            now,
            fx,
        );
    }
    Ok(keys)
}

/// `coord stop`: release everything `me` holds and end the session.
pub fn end_session(reg: &mut Registry, me: &str, now: Time, fx: &mut Effects) -> Vec<String> {
    let held = held_by(reg, me);
    for key in &held {
        release(
            reg,
            key,
            me,
            "claim.released",
            &format!("released by {me} (session ended)"),
            now,
            fx,
        );
    }
    if let Some(s) = reg.sessions.get_mut(me) {
        s.ended = Some(now);
        s.last_seen = now;
    }
    fx.event("session.ended", me, None, format!("{me} ended"));
    held
}

/// What `coord prune` forgot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pruned {
    pub sessions: Vec<String>,
    pub claims: Vec<String>,
}

/// Forget ended and gone sessions last seen before `cutoff`, and released
/// claims released before it; each forgotten claim leaves its token as a
/// floor, so the key's tokens still only grow. Journaled.
pub fn prune(reg: &mut Registry, cutoff: Time, now: Time, cfg: &Config, fx: &mut Effects) -> Pruned {
    let sessions: Vec<String> = reg
        .sessions
        .iter()
        .filter(|(_, s)| !state(s, now, cfg).is_live() && s.last_seen < cutoff)
        .map(|(id, _)| id.clone())
        .collect();
    for id in &sessions {
        for key in held_by(reg, id) {
            release(
                reg,
                &key,
                id,
                "claim.lapsed",
                &format!("lapsed for {id}: its holder was pruned"),
                now,
                fx,
            );
        }
        reg.sessions.remove(id);
    }
    let claims: Vec<String> = reg
        .claims
        .iter()
        .filter(|(_, c)| c.holder.is_none() && c.released.is_none_or(|r| r < cutoff))
        .map(|(k, _)| k.clone())
        .collect();
    for key in &claims {
        if let Some(c) = reg.claims.remove(key) {
            let floor = reg.floors.entry(key.clone()).or_insert(0);
            *floor = (*floor).max(c.token);
        }
    }
    if !sessions.is_empty() || !claims.is_empty() {
        fx.0.push(super::Effect::Event(super::EventDraft {
            id: None,
            kind: "hub.pruned",
            session: None,
            target: None,
            text: format!(
                "forgot {} ended or gone session{} and {} released claim{} untouched since {}",
                sessions.len(),
                if sessions.len() == 1 { "" } else { "s" },
                claims.len(),
                if claims.len() == 1 { "" } else { "s" },
                format_time(cutoff)
            ),
            token: None,
        }));
    }
    Pruned { sessions, claims }
}

/// Keys of the claims that name `me` as holder.
pub fn held_by(reg: &Registry, me: &str) -> Vec<String> {
    reg.claims
        .iter()
        .filter(|(_, c)| c.holder.as_deref() == Some(me))
        .map(|(k, _)| k.clone())
        .collect()
}

/// What `coord claim` asks for.
#[derive(Debug, Clone)]
pub struct Take<'a> {
    pub kind: &'a str,
    /// Already validated and, for files, normalised.
    pub name: &'a str,
    pub me: &'a str,
    /// A hard deadline; `None` for a lease, held while the holder is live.
    pub length: Option<chrono::Duration>,
    pub note: Option<&'a str>,
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Taken,
    Renewed,
    Forced,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Taken => "taken",
            Outcome::Renewed => "renewed",
            Outcome::Forced => "forced",
        }
    }
}

/// A claim taken away from another session by `--force`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revoked {
    pub key: String,
    pub holder: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub key: String,
    pub outcome: Outcome,
    pub token: u64,
    pub revoked: Vec<Revoked>,
}

/// Take or renew a claim: first claim wins, the holder renews (same token),
/// anyone else is refused (exit 3) unless `force`, which takes every
/// conflicting claim, journals it and tells each holder.
pub fn take(reg: &mut Registry, req: &Take, now: Time, cfg: &Config, fx: &mut Effects) -> Result<Taken> {
    let key = Claim::key(req.kind, req.name);
    let me = req.me;
    let held_by_others = conflicts(reg, req.kind, req.name, me, now, cfg);
    if !held_by_others.is_empty() && !req.force {
        return Err(conflict_error(reg, &key, &held_by_others[0], now));
    }
    touch(reg, me, now);
    let mut revoked = Vec::new();
    for other in &held_by_others {
        let holder = reg.claims[other].holder.clone().unwrap_or_default();
        release(
            reg,
            other,
            &holder,
            "claim.stolen",
            &format!("taken from {holder} by {me} with --force"),
            now,
            fx,
        );
        fx.notice(
            &holder,
            Level::Warning,
            format!("{me} took your claim {other}"),
            format!(
                "{me} ran `coord claim {}` with --force, which took {other} from you. Stop changing what it covers, and talk to {me} with `{}`.",
                claim_args(&key),
                command_line(&["send", me, "SUBJECT"])
            ),
        );
        revoked.push(Revoked {
            key: other.clone(),
            holder,
        });
    }
    let renewing = reg
        .claims
        .get(&key)
        .is_some_and(|c| c.holder.as_deref() == Some(me));
    if !reg.claims.contains_key(&key) && reg.claims.len() >= cfg.max_claims {
        return Err(hub(format!(
            "the hub already holds {} claims, its limit (limits.claims in coord.toml)",
            reg.claims.len()
        ))
        .hint("release claims you no longer need, or raise limits.claims"));
    }
    // A claim forgotten by `coord prune` comes back above its last token.
    let floor = if reg.claims.contains_key(&key) {
        0
    } else {
        reg.floors.remove(&key).unwrap_or(0)
    };
    let claim = reg.claims.entry(key.clone()).or_insert_with(|| Claim {
        kind: req.kind.to_string(),
        name: req.name.to_string(),
        holder: None,
        since: None,
        expires: None,
        for_secs: None,
        released: None,
        lost_on_sync: Vec::new(),
        rank_token: None,
        note: None,
        token: floor,
        extra: Default::default(),
    });
    claim.released = None;
    if !renewing {
        claim.rank_token = None;
        // A token that can only grow must not wrap: an exhausted one (a
        // hand-edited or hostile record) is a hub error, not a reuse.
        claim.token = claim.token.checked_add(1).ok_or_else(|| {
            hub(format!(
                "the fencing token of {key} is exhausted ({}); the record was edited by hand: repair it with `coord doctor`",
                claim.token
            ))
        })?;
        claim.holder = Some(me.to_string());
        claim.since = Some(now);
    }
    claim.expires = req.length.map(|l| now + l);
    claim.for_secs = req.length.map(|l| l.num_seconds().max(0) as u64);
    if req.note.is_some() || !renewing {
        claim.note = req.note.map(str::to_string);
    }
    let token = claim.token;
    let outcome = match (renewing, revoked.is_empty()) {
        (true, _) => Outcome::Renewed,
        (false, true) => Outcome::Taken,
        (false, false) => Outcome::Forced,
    };
    let kind = if renewing { "claim.renewed" } else { "claim.taken" };
    let text = format!("{key} {} by {me} {}", outcome.as_str(), term(req.length));
    fx.event(kind, me, Some(&key), text).token = Some(token);
    Ok(Taken {
        key,
        outcome,
        token,
        revoked,
    })
}

/// "for 2h", or "while live" for a lease.
fn term(length: Option<chrono::Duration>) -> String {
    match length {
        Some(l) => format!("for {}", short_duration(l)),
        None => "while live".to_string(),
    }
}

/// `coord renew`: push back the deadline of `keys` (all held by `me`) by
/// `length`, or by each claim's own length. Leases need no renewing.
pub fn renew(
    reg: &mut Registry,
    me: &str,
    keys: &[String],
    length: Option<chrono::Duration>,
    now: Time,
    fx: &mut Effects,
) -> Vec<(String, Time)> {
    touch(reg, me, now);
    let mut out = Vec::new();
    for key in keys {
        let Some(c) = reg.claims.get_mut(key) else {
            continue;
        };
        if c.holder.as_deref() != Some(me) || c.expires.is_none() {
            continue;
        }
        let length = length
            .or_else(|| c.for_secs.map(|s| chrono::Duration::seconds(s as i64)))
            .unwrap_or_else(|| chrono::Duration::hours(1));
        let expires = now + length;
        c.expires = Some(expires);
        c.for_secs = Some(length.num_seconds().max(0) as u64);
        let token = c.token;
        fx.event(
            "claim.renewed",
            me,
            Some(key),
            format!("{key} renewed by {me} {}", term(Some(length))),
        )
        .token = Some(token);
        out.push((key.clone(), expires));
    }
    out
}

/// Deadlined claims of `me` that end within `within`: what every command of
/// the holder warns about.
pub fn ending_soon(reg: &Registry, me: &str, now: Time, within: chrono::Duration) -> Vec<(String, Time)> {
    reg.claims
        .iter()
        .filter(|(_, c)| c.holder.as_deref() == Some(me))
        .filter_map(|(k, c)| c.expires.map(|e| (k.clone(), e)))
        .filter(|(_, e)| *e > now && *e - now <= within)
        .collect()
}

/// Exit 3 with who holds it, since when, time left and how to ask them.
fn conflict_error(reg: &Registry, wanted: &str, held: &str, now: Time) -> CoordError {
    let c = &reg.claims[held];
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
        "seconds_left": c.expires.map(|e| (e - now).num_seconds()),
    });
    let ask = command_line(&["send", &holder, &format!("may I take {held}?")]);
    let seen = reg.sessions.get(&holder).map(|s| s.last_seen);
    conflict(format!("{what} {}", held_phrase(c.since, c.expires, seen, now)))
        .hint(format!(
            "ask them with `{ask}`, wait with --wait 30m, or take it with --force"
        ))
        .details(details)
}

/// "since 09:12 UTC (1h28m left; last seen 2m ago)" for conflict
/// messages: whether the holder is still there matters as much as the
/// deadline (a claim without one lasts while its holder is live).
pub fn held_phrase(since: Option<Time>, expires: Option<Time>, seen: Option<Time>, now: Time) -> String {
    let since = since
        .map(|t| format!("since {}", format_time(t)))
        .unwrap_or_default();
    let mut notes: Vec<String> = expires
        .map(|e| format!("{} left", short_duration(e - now)))
        .into_iter()
        .collect();
    notes.extend(seen.map(|t| format!("last seen {}", crate::core::clock::ago(t, now))));
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    format!("{since}{notes}")
}

/// Alerts about sessions and claims (messages add their own in `brief`):
/// stale sessions holding claims, silent sessions, expired or orphaned
/// claims, overlapping file claims held by different sessions.
pub fn claim_alerts(reg: &Registry, now: Time, cfg: &Config) -> Vec<Alert> {
    let mut out = Vec::new();
    // The live claims of each stale session, gathered in one pass over the
    // claims (a pass per stale session was most of the briefing's own work
    // at 2,000 sessions and 10,000 claims).
    let mut held_by: BTreeMap<&str, Vec<&str>> = reg
        .sessions
        .iter()
        .filter(|(_, s)| state(s, now, cfg) == State::Stale)
        .map(|(id, _)| (id.as_str(), Vec::new()))
        .collect();
    if !held_by.is_empty() {
        for (k, c) in &reg.claims {
            if let Some(held) = c.holder.as_deref().and_then(|h| held_by.get_mut(h)) {
                if live_holder(c, reg, now, cfg).is_some() {
                    held.push(k.as_str());
                }
            }
        }
    }
    for (id, held) in held_by {
        let s = &reg.sessions[id];
        let silent = short_duration(now - s.last_seen);
        let text = if held.is_empty() {
            format!("{id} has been silent for {silent}")
        } else {
            format!("{id} has been silent for {silent} and holds {}", held.join(", "))
        };
        let kind = if held.is_empty() {
            "silent_session"
        } else {
            "stale_holder"
        };
        out.push(Alert {
            kind,
            target: Some(id.to_string()),
            text,
        });
    }
    for lapse in lapsed(reg, now, cfg) {
        let kind = if lapse.reason == LapseReason::Expired {
            "expired_claim"
        } else {
            "orphaned_claim"
        };
        out.push(Alert {
            kind,
            target: Some(lapse.key.clone()),
            text: format!(
                "{} held by {} is free: {}",
                lapse.key,
                lapse.holder,
                lapse.reason.describe()
            ),
        });
    }
    // Sorted by literal prefix, a prefix comes right before its extensions,
    // so only the run of claims that extend each prefix can overlap it.
    let mut files: Vec<(&str, &String, &Claim, &str)> = reg
        .claims
        .iter()
        .filter(|(_, c)| c.kind == "file")
        .filter_map(|(k, c)| live_holder(c, reg, now, cfg).map(|h| (glob::literal_prefix(&c.name), k, c, h)))
        .collect();
    files.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
    let mut pairs = Vec::new();
    for (i, (pa, ka, a, ha)) in files.iter().enumerate() {
        for (_, kb, b, hb) in files[i + 1..].iter().take_while(|f| f.0.starts_with(pa)) {
            if ha != hb && glob::overlap(&a.name, &b.name) {
                // Report each pair once, in key order, whatever the prefix order.
                pairs.push(if ka <= kb {
                    (*ka, *ha, *kb, *hb)
                } else {
                    (*kb, *hb, *ka, *ha)
                });
            }
        }
    }
    pairs.sort();
    for (ka, ha, kb, hb) in pairs {
        out.push(Alert {
            kind: "overlapping_claims",
            target: Some(ka.clone()),
            text: format!("{ka} ({ha}) overlaps {kb} ({hb})"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rules::fixtures::{reg_with, t};

    #[test]
    fn conflicts_by_key_and_by_glob() {
        let cfg = Config::default();
        let reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "10:00:00")],
            &[
                ("task", "auth", "alice", "12:00:00"),
                ("file", "src/**", "alice", "12:00:00"),
            ],
        );
        let now = t("10:10:00");
        assert_eq!(
            conflicts(&reg, "task", "auth", "bob", now, &cfg),
            vec!["task:auth"]
        );
        assert!(conflicts(&reg, "task", "auth", "alice", now, &cfg).is_empty());
        assert!(conflicts(&reg, "task", "other", "bob", now, &cfg).is_empty());
        assert_eq!(
            conflicts(&reg, "file", "src/main.rs", "bob", now, &cfg),
            vec!["file:src/**"]
        );
        assert!(conflicts(&reg, "file", "docs/x.md", "bob", now, &cfg).is_empty());
        // A type other than file never overlaps by glob.
        assert!(conflicts(&reg, "service", "src/main.rs", "bob", now, &cfg).is_empty());
        // After expiry nothing conflicts.
        assert!(conflicts(&reg, "task", "auth", "bob", t("12:00:00"), &cfg).is_empty());
    }

    #[test]
    fn alerts_name_stale_holders_and_overlaps() {
        let cfg = Config::default();
        let mut reg = reg_with(
            &[("alice", "10:00:00"), ("bob", "10:40:00")],
            &[
                ("file", "src/**", "alice", "12:00:00"),
                ("file", "src/a.rs", "bob", "12:00:00"),
            ],
        );
        reg.claims.get_mut("file:src/a.rs").unwrap().expires = Some(t("12:00:00"));
        let alerts = claim_alerts(&reg, t("10:45:00"), &cfg);
        let kinds: Vec<&str> = alerts.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, vec!["stale_holder", "overlapping_claims"]);
        assert!(alerts[0]
            .text
            .contains("alice has been silent for 45m and holds file:src/**"));
    }
}

#[cfg(test)]
mod lifecycle {
    use super::*;
    use crate::core::rules::fixtures::{reg_with, t};
    use crate::core::rules::Effect;

    fn two() -> Registry {
        reg_with(&[("alice", "09:00:00"), ("bob", "09:00:00")], &[])
    }

    fn req<'a>(me: &'a str, force: bool) -> Take<'a> {
        Take {
            kind: "task",
            name: "x",
            me,
            length: Some(chrono::Duration::hours(1)),
            note: None,
            force,
        }
    }

    #[test]
    fn take_renew_conflict_force() {
        let cfg = Config::default();
        let mut reg = two();
        let mut fx = Effects::default();
        let a = take(&mut reg, &req("alice", false), t("09:00:00"), &cfg, &mut fx).unwrap();
        assert_eq!((a.outcome, a.token), (Outcome::Taken, 1));
        let r = take(&mut reg, &req("alice", false), t("09:10:00"), &cfg, &mut fx).unwrap();
        assert_eq!((r.outcome, r.token), (Outcome::Renewed, 1));
        let before = reg.clone();
        let e = take(&mut reg, &req("bob", false), t("09:20:00"), &cfg, &mut fx).unwrap_err();
        assert_eq!(e.kind, crate::core::error::Kind::Conflict);
        assert_eq!(reg, before, "a refused claim changes nothing");
        let mut fx = Effects::default();
        let f = take(&mut reg, &req("bob", true), t("09:30:00"), &cfg, &mut fx).unwrap();
        assert_eq!((f.outcome, f.token), (Outcome::Forced, 2));
        assert_eq!(
            f.revoked,
            vec![Revoked {
                key: "task:x".into(),
                holder: "alice".into()
            }]
        );
        let kinds: Vec<&str> = fx.events().map(|e| e.kind).collect();
        assert_eq!(kinds, ["claim.stolen", "claim.taken"]);
        assert_eq!(fx.notices().next().map(|n| n.to.as_str()), Some("alice"));
        assert!(
            matches!(fx.0[1], Effect::Notice(_)),
            "the holder is told right after the steal"
        );
    }

    #[test]
    fn lapses_are_swept_and_the_holder_told() {
        let cfg = Config::default();
        let mut reg = two();
        let mut fx = Effects::default();
        take(&mut reg, &req("alice", false), t("09:00:00"), &cfg, &mut fx).unwrap();
        let mut fx = Effects::default();
        sweep(&mut reg, t("10:00:00"), &cfg, &mut fx);
        assert!(reg.claims["task:x"].holder.is_none());
        assert_eq!(reg.claims["task:x"].token, 1, "a released claim keeps its token");
        assert_eq!(fx.events().next().map(|e| e.kind), Some("claim.lapsed"));
        assert_eq!(fx.notices().count(), 1);
    }

    #[test]
    fn give_back_refuses_what_is_not_yours() {
        let cfg = Config::default();
        let mut reg = two();
        let mut fx = Effects::default();
        take(&mut reg, &req("alice", false), t("09:00:00"), &cfg, &mut fx).unwrap();
        let e = give_back(&mut reg, "bob", Some("task:x"), t("09:01:00"), &mut fx).unwrap_err();
        assert_eq!(e.kind, crate::core::error::Kind::Conflict);
        let e = give_back(&mut reg, "bob", Some("task:y"), t("09:01:00"), &mut fx).unwrap_err();
        assert_eq!(e.kind, crate::core::error::Kind::NotFound);
        assert_eq!(
            give_back(&mut reg, "alice", None, t("09:01:00"), &mut fx).unwrap(),
            ["task:x"]
        );
        assert_eq!(
            end_session(&mut reg, "alice", t("09:02:00"), &mut fx),
            Vec::<String>::new()
        );
        assert_eq!(state(&reg.sessions["alice"], t("09:03:00"), &cfg), State::Ended);
    }
}
