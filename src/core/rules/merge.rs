//! Merging two hub states, record by record: what `coord merge-driver` does
//! when git merges hub files (and what `coord sync` will do). Pure and
//! deterministic: the result is the same whichever side is "ours" (git
//! rebase swaps them), merging a state with itself changes nothing, and
//! fields this coord does not know are kept.
//!
//! - Sessions: the record with the latest sign of life wins whole; at the
//!   same time, an ended one beats a live one. One side removing what the
//!   base had (prune) and the other leaving it unchanged removes it.
//! - Claims: the newest event wins (taken or released), a released claim
//!   stays released unless taken again after the release. Two holders: the
//!   claim goes to exactly one, chosen without trusting clocks alone (the
//!   lower fencing token, then the earlier `since`, then the session id), with
//!   a token above every token either side issued; the loser is recorded in
//!   `lost_on_sync`, told by the next change on any machine.
//! - Escalations: acknowledgements are united (the first time each); one
//!   side resolving an escalation the base had (removing it) resolves it.
//! - Floors: the larger token. Logs: the union by id, in (time, id) order.
//! - The plan (tasks, milestones, gates, reservations, handoffs): the record
//!   changed last wins whole; an accepted handoff beats an open offer.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::core::model::{Claim, Escalation, LostHolder, Registry, Session};
use crate::core::plan::{Gate, LostReservation, Plan, Reservation, Updated};

/// A deterministic order for two values of the same record: by their JSON.
fn key_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).map(|v| v.to_string()).unwrap_or_default()
}

/// The larger of two values by `rank`, then by their JSON (so equal ranks
/// still pick the same value on every machine).
fn pick<'a, T: Serialize, R: Ord>(a: &'a T, b: &'a T, rank: impl Fn(&T) -> R) -> &'a T {
    match rank(a).cmp(&rank(b)) {
        std::cmp::Ordering::Greater => a,
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Equal => {
            if key_of(a) >= key_of(b) {
                a
            } else {
                b
            }
        }
    }
}

/// Three-way merge of maps keyed by id: a key both sides have is merged by
/// `both`; a key one side dropped is dropped when the other side left it as
/// the base had it, kept (the other side's change) otherwise. `both` sees
/// the base's version too.
fn merge_map<V: Clone + PartialEq>(
    base: Option<&BTreeMap<String, V>>,
    ours: &BTreeMap<String, V>,
    theirs: &BTreeMap<String, V>,
    both: impl Fn(Option<&V>, &V, &V) -> V,
) -> BTreeMap<String, V> {
    let keys: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    let mut out = BTreeMap::new();
    for key in keys {
        let was = base.and_then(|b| b.get(key));
        let merged = match (ours.get(key), theirs.get(key)) {
            (Some(a), Some(b)) => Some(both(was, a, b)),
            (Some(kept), None) | (None, Some(kept)) => match was {
                // Removed on one side, untouched on the other: removed.
                Some(w) if w == kept => None,
                _ => Some(kept.clone()),
            },
            (None, None) => None,
        };
        if let Some(v) = merged {
            out.insert(key.clone(), v);
        }
    }
    out
}

pub fn merge_session(a: &Session, b: &Session) -> Session {
    // Latest sign of life; at equal times an ended record beats a live one.
    let mut out = pick(a, b, |s| (s.last_seen, s.ended.is_some(), s.ended)).clone();
    // Messages a merge left behind the cursor, known on either side at the
    // same moment, are still unread.
    if a.last_seen == b.last_seen {
        let all: BTreeSet<&String> = a.pending.iter().chain(&b.pending).collect();
        out.pending = all.into_iter().cloned().collect();
    }
    out
}

fn merge_escalation(a: &Escalation, b: &Escalation) -> Escalation {
    let mut out = pick(a, b, |e| e.ts).clone();
    out.acked = a.acked.clone();
    for (who, at) in &b.acked {
        let first = out.acked.get(who).map_or(*at, |t| (*t).min(*at));
        out.acked.insert(who.clone(), first);
    }
    out
}

/// The moment of a claim's latest change: taken, or released.
fn last_change(c: &Claim) -> Option<crate::core::clock::Time> {
    match &c.holder {
        Some(_) => c.since,
        None => c.released,
    }
}

/// The token a holder acquired a claim with: a merge that raises a
/// survivor's token keeps this, so one acquisition is one loss wherever it
/// is lost, however many merges raised it on the way.
fn rank(c: &Claim) -> u64 {
    c.rank_token.unwrap_or(c.token)
}

pub fn merge_claim(a: &Claim, b: &Claim) -> Claim {
    let top = a.token.max(b.token);
    // Losers by (holder, acquisition token); told on either side is told.
    let mut lost: BTreeMap<(String, u64), (bool, Option<crate::core::clock::Time>)> = BTreeMap::new();
    for l in a.lost_on_sync.iter().chain(&b.lost_on_sync) {
        let e = lost
            .entry((l.holder.clone(), l.token))
            .or_insert((false, l.since));
        e.0 |= l.told;
        e.1 = match (e.1, l.since) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    type Lost = BTreeMap<(String, u64), (bool, Option<crate::core::clock::Time>)>;
    let known_loser = |c: &Claim, lost: &Lost| {
        c.holder
            .as_ref()
            .is_some_and(|h| lost.contains_key(&(h.clone(), rank(c))))
    };
    let mut out = match (&a.holder, &b.holder) {
        (Some(ha), Some(hb)) if ha != hb => {
            // An acquisition that already lost on some machine loses again;
            // otherwise a fresh conflict: the lower acquisition token, then
            // the earlier since, then the session id.
            let winner = match (known_loser(a, &lost), known_loser(b, &lost)) {
                (true, false) => b,
                (false, true) => a,
                _ => pick(a, b, |c| {
                    (
                        std::cmp::Reverse(rank(c)),
                        std::cmp::Reverse(c.since),
                        std::cmp::Reverse(c.holder.clone()),
                    )
                }),
            };
            let loser = if std::ptr::eq(winner, a) { b } else { a };
            lost.entry((loser.holder.clone().unwrap_or_default(), rank(loser)))
                .or_insert((false, loser.since));
            let mut w = winner.clone();
            w.rank_token = Some(rank(winner));
            // Above every token any machine issued in this contest, and the
            // same whichever order the machines merged in: the largest
            // acquisition token plus the number of contenders (a larger
            // contest, seen later, always gives a larger token).
            let contenders = lost.len() as u64 + 1;
            let largest = lost.keys().map(|(_, t)| *t).max().unwrap_or(0).max(rank(winner));
            w.token = top.max(largest.saturating_add(contenders));
            w
        }
        // Same holder, or one side released: the latest change wins.
        _ => pick(a, b, |c| (last_change(c), c.token, c.expires)).clone(),
    };
    out.token = out.token.max(top);
    // A holder is not told it lost a claim it holds.
    lost.retain(|(holder, _), _| out.holder.as_deref() != Some(holder.as_str()));
    // Whichever branch decided, a held claim with losers ends above every
    // token of its contest by the same formula on the union of the losers,
    // so the result does not depend on the order the states were merged in:
    // two clones that each merged nine of ten contenders, then each other,
    // agree with a clone that merged all ten at once. The holder's
    // acquisition token is kept (`rank_token`) when it is raised.
    if out.holder.is_some() && !lost.is_empty() {
        let r = rank(&out);
        let largest = lost.keys().map(|(_, t)| *t).max().unwrap_or(0).max(r);
        let want = largest.saturating_add(lost.len() as u64 + 1);
        if want > out.token {
            out.rank_token = Some(r);
            out.token = want;
        }
    }
    out.lost_on_sync = lost
        .into_iter()
        .map(|((holder, token), (told, since))| LostHolder {
            holder,
            token,
            since,
            told,
        })
        .collect();
    out
}

/// The plan's records: the one changed last wins whole (an accepted
/// handoff beats an offer whatever the clocks say: the claim has moved).
fn merge_plan(base: Option<&Plan>, ours: &Plan, theirs: &Plan) -> Plan {
    fn later<T: Updated + Serialize + Clone>(_: Option<&T>, a: &T, b: &T) -> T {
        pick(a, b, |r| r.updated()).clone()
    }
    let b = base;
    let mut plan = Plan {
        tasks: merge_map(b.map(|b| &b.tasks), &ours.tasks, &theirs.tasks, later),
        milestones: merge_map(
            b.map(|b| &b.milestones),
            &ours.milestones,
            &theirs.milestones,
            later,
        ),
        gates: merge_map(b.map(|b| &b.gates), &ours.gates, &theirs.gates, merge_gate),
        reservations: merge_map(
            b.map(|b| &b.reservations),
            &ours.reservations,
            &theirs.reservations,
            later,
        ),
        // Losses are never taken back: the union.
        lost_reservations: merge_map(
            None,
            &ours.lost_reservations,
            &theirs.lost_reservations,
            |_, x, y| pick(x, y, |l| std::cmp::Reverse(l.lost_to.clone())).clone(),
        ),
        handoffs: merge_map(
            b.map(|b| &b.handoffs),
            &ours.handoffs,
            &theirs.handoffs,
            |_, x, y| pick(x, y, |r| (r.accepted_by.is_some(), r.updated)).clone(),
        ),
        extra: merge_map(b.map(|b| &b.extra), &ours.extra, &theirs.extra, |_, x, y| {
            if key_of(x) >= key_of(y) {
                x.clone()
            } else {
                y.clone()
            }
        }),
    };
    arbitrate_reservations(&mut plan);
    plan
}

/// A gate decided differently on two machines (each side changed the
/// decision the base had): NO-GO stands, then the later decision, then the
/// decider's name. Otherwise the record changed last wins.
fn merge_gate(was: Option<&Gate>, a: &Gate, b: &Gate) -> Gate {
    let changed = |g: &Gate| was.is_none_or(|w| w.decision != g.decision);
    match (&a.decision, &b.decision) {
        (Some(da), Some(db)) if da != db && changed(a) && changed(b) => pick(a, b, |g| {
            g.decision
                .as_ref()
                .map(|d| (!d.go, d.at, std::cmp::Reverse(d.by.clone())))
        })
        .clone(),
        _ => pick(a, b, |g| g.updated).clone(),
    }
}

/// Reservations of one resource that overlap (made on two machines before
/// they synced) keep the earliest made (then the lower id); each other one
/// moves to `lost_reservations`. A reservation lost anywhere stays lost,
/// and only live ones compete, so every order of merges ends the same.
fn arbitrate_reservations(plan: &mut Plan) {
    let lost = &plan.lost_reservations;
    plan.reservations.retain(|id, _| !lost.contains_key(id));
    let mut order: Vec<(&String, &Reservation)> = plan.reservations.iter().collect();
    order.sort_by(|x, y| (x.1.created, x.0).cmp(&(y.1.created, y.0)));
    let mut kept: Vec<(&String, &Reservation)> = Vec::new();
    let mut losers: Vec<(String, String)> = Vec::new();
    for (id, r) in order {
        match kept
            .iter()
            .find(|(_, k)| k.resource == r.resource && super::plan::overlap(k, r))
        {
            Some((winner, _)) => losers.push((id.clone(), (*winner).clone())),
            None => kept.push((id, r)),
        }
    }
    for (id, lost_to) in losers {
        if let Some(reservation) = plan.reservations.remove(&id) {
            plan.lost_reservations
                .insert(id, LostReservation { lost_to, reservation });
        }
    }
}

/// An accepted handoff names the session the claim merge gave the claim
/// to, when that is one of the sessions that accepted it on some machine.
fn agree_handoffs(reg: &mut Registry, ours: &Registry, theirs: &Registry) {
    for (id, h) in reg.plan.handoffs.iter_mut() {
        let takers: BTreeSet<&String> = [ours, theirs]
            .iter()
            .filter_map(|r| r.plan.handoffs.get(id).and_then(|x| x.accepted_by.as_ref()))
            .collect();
        if takers.len() < 2 {
            continue;
        }
        if let Some(holder) = reg.claims.get(&h.key).and_then(|c| c.holder.as_ref()) {
            if takers.contains(holder) {
                h.accepted_by = Some(holder.clone());
            }
        }
    }
}

/// Merge two registries, with the base they share when there is one.
pub fn merge_registry(base: Option<&Registry>, ours: &Registry, theirs: &Registry) -> Registry {
    let mut out = Registry::new();
    out.schema = ours.schema.max(theirs.schema);
    out.sessions = merge_map(
        base.map(|b| &b.sessions),
        &ours.sessions,
        &theirs.sessions,
        |_, a, b| merge_session(a, b),
    );
    out.claims = merge_map(
        base.map(|b| &b.claims),
        &ours.claims,
        &theirs.claims,
        |_, a, b| merge_claim(a, b),
    );
    out.escalations = merge_map(
        base.map(|b| &b.escalations),
        &ours.escalations,
        &theirs.escalations,
        |_, a, b| merge_escalation(a, b),
    );
    let mut floors = ours.floors.clone();
    for (k, t) in &theirs.floors {
        let f = floors.entry(k.clone()).or_insert(0);
        *f = (*f).max(*t);
    }
    // A floor below a live record's token says nothing.
    floors.retain(|k, f| out.claims.get(k).is_none_or(|c| c.token < *f));
    out.floors = floors;
    out.plan = merge_plan(base.map(|b| &b.plan), &ours.plan, &theirs.plan);
    agree_handoffs(&mut out, ours, theirs);
    out.extra = merge_map(base.map(|b| &b.extra), &ours.extra, &theirs.extra, |_, a, b| {
        if key_of(a) >= key_of(b) {
            a.clone()
        } else {
            b.clone()
        }
    });
    out
}

/// What a merge decided against someone besides claims (those are told by
/// `claims::losers_told`): a reservation that lost to an earlier overlapping
/// one, a gate decision overruled by another machine's. `merged` is the
/// merge of `a` and `b`; a loss already decided on either side was told
/// there. Ids derive from the loss, so telling twice writes one record.
pub fn other_losses(
    base: Option<&Registry>,
    a: &Registry,
    b: &Registry,
    merged: &Registry,
) -> (Vec<crate::core::model::Message>, Vec<crate::core::model::Event>) {
    use super::claims::{told, Told};
    let (mut messages, mut events) = (Vec::new(), Vec::new());
    let mut push = |(m, e)| {
        messages.push(m);
        events.push(e);
    };
    for (id, l) in &merged.plan.lost_reservations {
        if a.plan.lost_reservations.contains_key(id) || b.plan.lost_reservations.contains_key(id) {
            continue;
        }
        let r = &l.reservation;
        let window = format!("{} {}-{}", r.date.as_deref().unwrap_or("daily"), r.from, r.to);
        push(told(Told {
            kind: "reservation.lost_on_sync",
            to: &r.holder,
            target: &format!("resource:{}", r.resource),
            at: r.created,
            seed: id,
            subject: format!("your reservation of {} ({window}) lost in a merge", r.resource),
            body: format!(
                "{} was reserved on two machines before they synced, for overlapping times; an earlier reservation stands and yours ({id}) is gone. Pick another window: `{}`.",
                r.resource,
                crate::core::text::command_line(&["reservations", &r.resource])
            ),
            text: format!("reservation {id} of {} lost when two machines' hubs merged (an earlier one stands)", r.resource),
        }));
    }
    for (name, g) in &merged.plan.gates {
        let Some(kept) = &g.decision else { continue };
        let was = base
            .and_then(|b| b.plan.gates.get(name))
            .and_then(|g| g.decision.as_ref());
        for side in [a, b] {
            let Some(d) = side.plan.gates.get(name).and_then(|g| g.decision.as_ref()) else {
                continue;
            };
            if d == kept || Some(d) == was {
                continue;
            }
            let word = |go: bool| if go { "GO" } else { "NO-GO" };
            push(told(Told {
                kind: "gate.overruled_on_sync",
                to: &d.by,
                target: &format!("gate:{name}"),
                at: d.at,
                seed: &format!("{name}\n{}\n{}", d.by, d.go),
                subject: format!("your {} on gate {name} was overruled in a merge", word(d.go)),
                body: format!(
                    "Gate {name} was decided on two machines before they synced, and another decision stands (a NO-GO stands over a GO). See `{}`.",
                    crate::core::text::command_line(&["gates"])
                ),
                text: format!(
                    "gate {name}: {}'s {} overruled when two machines' hubs merged",
                    d.by,
                    word(d.go)
                ),
            }));
        }
    }
    (messages, events)
}

/// The union of two logs by record id, in (time, id) order; a line that is
/// not a record (no id) is kept too, after the records, in byte order. The
/// same id on both sides with different bytes keeps the larger line.
pub fn merge_log(ours: &str, theirs: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Head {
        id: String,
        ts: String,
    }
    let mut records: BTreeMap<(String, String), &str> = BTreeMap::new();
    let mut by_id: BTreeMap<String, (String, &str)> = BTreeMap::new();
    let mut other: BTreeSet<&str> = BTreeSet::new();
    for line in ours.lines().chain(theirs.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Head>(line) {
            Ok(h) => {
                let keep = match by_id.get(&h.id) {
                    Some((_, prev)) if *prev >= line => false,
                    Some((ts, _)) => {
                        records.remove(&(ts.clone(), h.id.clone()));
                        true
                    }
                    None => true,
                };
                if keep {
                    by_id.insert(h.id.clone(), (h.ts.clone(), line));
                    records.insert((h.ts, h.id), line);
                }
            }
            Err(_) => {
                other.insert(line);
            }
        }
    }
    let mut out = String::new();
    for line in records.values().chain(other.iter()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rules::fixtures::{reg_with, t};
    use proptest::prelude::*;

    #[test]
    fn plan_records_merge_by_their_last_change_and_an_accepted_handoff_wins() {
        use crate::core::plan::{Handoff, Task};
        let task = |title: &str, at: &str| Task {
            updated: t(at),
            ..Task::new("a", title, t("09:00:00"))
        };
        let offer = |accepted_by: Option<&str>, at: &str| Handoff {
            accepted_by: accepted_by.map(str::to_string),
            created: t("09:00:00"),
            expires: t("10:00:00"),
            from: "a".into(),
            key: "task:x".into(),
            note: None,
            to: "b".into(),
            updated: t(at),
            extra: Default::default(),
        };
        let mut base = Registry::new();
        base.plan.tasks.insert("x".into(), task("old", "09:00:00"));
        base.plan.tasks.insert("gone".into(), task("gone", "09:00:00"));
        base.plan.handoffs.insert("h".into(), offer(None, "09:00:00"));
        let mut ours = base.clone();
        let mut theirs = base.clone();
        ours.plan.tasks.insert("x".into(), task("ours", "09:30:00"));
        theirs.plan.tasks.insert("x".into(), task("theirs", "09:10:00"));
        theirs.plan.tasks.insert("y".into(), task("new", "09:10:00"));
        ours.plan.tasks.remove("gone");
        ours.plan
            .handoffs
            .insert("h".into(), offer(Some("b"), "09:05:00"));
        theirs.plan.handoffs.insert("h".into(), offer(None, "09:50:00"));
        for (a, b) in [(&ours, &theirs), (&theirs, &ours)] {
            let m = merge_registry(Some(&base), a, b);
            assert_eq!(m.plan.tasks["x"].title, "ours");
            assert_eq!(m.plan.tasks["y"].title, "new");
            assert!(
                !m.plan.tasks.contains_key("gone"),
                "removed on one side, untouched on the other"
            );
            assert_eq!(m.plan.handoffs["h"].accepted_by.as_deref(), Some("b"), "accepted");
        }
    }

    #[test]
    fn a_contest_ends_the_same_whatever_the_order_of_the_merges() {
        // Ten clones took one claim; one clone merges them one by one,
        // two others each merge nine, then each other (what ten clones
        // syncing at once can do).
        let ids: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let sessions: Vec<(&str, &str)> = ids.iter().map(|i| (i.as_str(), "09:00:00")).collect();
        let base = reg_with(&sessions, &[]);
        let state = |i: usize| {
            let mut r = base.clone();
            r.claims = reg_with(&[], &[("task", "x", &ids[i], "12:00:00")]).claims;
            r
        };
        let fold = |from: &[usize]| {
            from.iter().skip(1).fold(state(from[0]), |acc, i| {
                merge_registry(Some(&base), &acc, &state(*i))
            })
        };
        let all = fold(&(0..10).collect::<Vec<_>>());
        let left = fold(&[0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let right = fold(&[0, 2, 3, 4, 5, 6, 7, 8, 9]);
        let pairs = merge_registry(Some(&base), &left, &right);
        assert_eq!(pairs.claims["task:x"], all.claims["task:x"]);
        assert_eq!(
            all.claims["task:x"].token, 11,
            "the largest (1) plus ten contenders"
        );
    }

    #[test]
    fn two_holders_leave_exactly_one_with_a_higher_token() {
        let base = reg_with(&[("a", "09:00:00"), ("b", "09:00:00")], &[]);
        let mut ours = base.clone();
        let mut theirs = base.clone();
        ours.claims = reg_with(&[], &[("task", "api", "a", "12:00:00")]).claims;
        theirs.claims = reg_with(&[], &[("task", "api", "b", "12:00:00")]).claims;
        theirs.claims.get_mut("task:api").unwrap().token = 3;
        let m = merge_registry(Some(&base), &ours, &theirs);
        let c = &m.claims["task:api"];
        assert_eq!(c.holder.as_deref(), Some("a"), "the lower token wins");
        assert_eq!(
            c.token, 5,
            "above every token either side issued: the largest (3) plus two contenders"
        );
        assert_eq!(
            c.lost_on_sync,
            vec![LostHolder {
                holder: "b".into(),
                token: 3,
                since: theirs.claims["task:api"].since,
                told: false
            }]
        );
        assert_eq!(
            merge_registry(Some(&base), &theirs, &ours),
            m,
            "whichever side is ours"
        );
    }

    #[test]
    fn released_stays_released_unless_taken_again_later() {
        let mut held = reg_with(&[("a", "09:00:00")], &[("task", "x", "a", "12:00:00")]);
        let mut released = held.clone();
        {
            let c = released.claims.get_mut("task:x").unwrap();
            c.holder = None;
            c.since = None;
            c.released = Some(t("10:00:00"));
        }
        let m = merge_registry(None, &held, &released);
        assert!(m.claims["task:x"].holder.is_none());
        held.claims.get_mut("task:x").unwrap().since = Some(t("10:30:00"));
        let m = merge_registry(None, &held, &released);
        assert_eq!(m.claims["task:x"].holder.as_deref(), Some("a"));
    }

    #[test]
    fn a_resolved_escalation_stays_resolved_and_acks_unite() {
        let mut base = Registry::new();
        let e = Escalation {
            acked: BTreeMap::new(),
            from: "lead".into(),
            level: crate::core::model::Level::Emergency,
            recipients: None,
            subject: "stop".into(),
            to: "broadcast".into(),
            ts: t("09:00:00"),
            extra: Default::default(),
        };
        base.escalations.insert("m-1".into(), e);
        let mut ours = base.clone();
        let mut theirs = base.clone();
        ours.escalations
            .get_mut("m-1")
            .unwrap()
            .acked
            .insert("a".into(), t("09:01:00"));
        theirs
            .escalations
            .get_mut("m-1")
            .unwrap()
            .acked
            .insert("b".into(), t("09:02:00"));
        let m = merge_registry(Some(&base), &ours, &theirs);
        assert_eq!(m.escalations["m-1"].acked.len(), 2);
        theirs.escalations.clear();
        let m = merge_registry(Some(&base), &base, &theirs);
        assert!(m.escalations.is_empty(), "resolved on one side");
    }

    #[test]
    fn logs_unite_by_id_in_time_order() {
        let a = "{\"id\":\"m-2\",\"ts\":\"2026-01-01T09:02:00Z\"}\n{\"id\":\"m-1\",\"ts\":\"2026-01-01T09:01:00Z\"}\n";
        let b = "{\"id\":\"m-3\",\"ts\":\"2026-01-01T09:00:00Z\"}\n{\"id\":\"m-1\",\"ts\":\"2026-01-01T09:01:00Z\"}\nnot json\n";
        let m = merge_log(a, b);
        assert_eq!(m, merge_log(b, a));
        let ids: Vec<&str> = m.lines().collect();
        assert_eq!(ids.len(), 4);
        assert!(ids[0].contains("m-3") && ids[1].contains("m-1") && ids[2].contains("m-2"));
        assert_eq!(ids[3], "not json");
        assert_eq!(merge_log(&m, &m), m);
    }

    /// A random small registry over a few sessions and claims.
    fn registry() -> impl Strategy<Value = Registry> {
        let session = (0u32..6, 0u32..4, any::<bool>());
        let claim = (0u32..3, prop::option::of(0u32..3), 1u64..5, 0u32..6);
        // Reservations: id, resource, first hour, hours, minute made.
        let reservation = (0u32..4, 0u32..2, 8u32..12, 1u32..3, 0u32..6);
        (
            prop::collection::vec(session, 0..4),
            prop::collection::vec(claim, 0..4),
            prop::collection::vec(reservation, 0..3),
        )
            .prop_map(|(sessions, claims, reservations)| {
                let mut reg = Registry::new();
                for (id, resource, from, hours, made) in reservations {
                    let at = t(&format!("08:0{made}:00"));
                    reg.plan.reservations.insert(
                        format!("r{id}"),
                        crate::core::plan::Reservation {
                            after: Vec::new(),
                            created: at,
                            date: Some("2026-01-01".into()),
                            from: format!("{from:02}:00"),
                            holder: format!("s{}", id % 3),
                            note: None,
                            resource: format!("res{resource}"),
                            to: format!("{:02}:00", from + hours),
                            updated: at,
                            extra: Default::default(),
                        },
                    );
                }
                for (i, (seen, _, ended)) in sessions.into_iter().enumerate() {
                    let mut s = Session::new(t(&format!("09:0{seen}:00")));
                    if ended {
                        s.ended = Some(s.last_seen);
                    }
                    reg.sessions.insert(format!("s{}", i % 3), s);
                }
                for (k, holder, token, at) in claims {
                    let mut c = reg_with(&[], &[("task", &format!("c{k}"), "x", "12:00:00")]).claims
                        [&format!("task:c{k}")]
                        .clone();
                    c.holder = holder.map(|h| format!("s{h}"));
                    c.token = token;
                    c.since = c.holder.as_ref().map(|_| t(&format!("09:0{at}:00")));
                    c.released = c.holder.is_none().then(|| t(&format!("09:0{at}:00")));
                    reg.claims.insert(format!("task:c{k}"), c);
                }
                reg
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn merging_is_commutative_idempotent_and_converges(base in registry(), a in registry(), b in registry(), c in registry()) {
            let ab = merge_registry(Some(&base), &a, &b);
            prop_assert_eq!(&ab, &merge_registry(Some(&base), &b, &a));
            // Merging a state with itself changes nothing but what merging
            // adds (tokens and losses already settled).
            let aa = merge_registry(Some(&a), &a, &a);
            prop_assert_eq!(&merge_registry(Some(&aa), &aa, &aa), &aa);
            // Three clones syncing in different orders end equal.
            let one = merge_registry(None, &merge_registry(None, &a, &b), &c);
            let two = merge_registry(None, &a, &merge_registry(None, &c, &b));
            let one = merge_registry(None, &one, &two);
            let two = merge_registry(None, &two, &one);
            prop_assert_eq!(one, two);
        }

        #[test]
        fn any_sequence_of_syncs_among_three_clones_converges(
            start in prop::collection::vec(registry(), 3),
            syncs in prop::collection::vec((0usize..3, 0usize..3), 0..12),
        ) {
            let mut clones = start;
            let sync = |clones: &mut Vec<Registry>, i: usize, j: usize| {
                let m = merge_registry(None, &clones[i], &clones[j]);
                clones[i] = m.clone();
                clones[j] = m;
            };
            for (i, j) in syncs {
                sync(&mut clones, i, j);
            }
            // Then everyone syncs with everyone, twice round.
            for _ in 0..2 {
                for (i, j) in [(0, 1), (1, 2), (0, 2)] {
                    sync(&mut clones, i, j);
                }
            }
            prop_assert_eq!(&clones[0], &clones[1]);
            prop_assert_eq!(&clones[1], &clones[2]);
            // No claim has two holders, and every loser is recorded.
            for c in clones[0].claims.values() {
                prop_assert!(c.lost_on_sync.iter().all(|l| Some(&l.holder) != c.holder.as_ref()));
            }
        }
    }
}
