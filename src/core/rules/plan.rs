//! The plan's rules: what blocks a task, what is ready and in which order,
//! cycles, milestone progress, and reservation windows in the hub's time
//! zone. Pure: the registry's plan in, answers out.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};

use crate::core::clock::{Time, Zone};
use crate::core::plan::{Plan, Reservation, Task, TaskState};

/// The gate a dependency names (`gate:NAME`), if it names one.
pub fn gate_of(dep: &str) -> Option<&str> {
    dep.strip_prefix("gate:")
}

/// What still blocks `task`: dependencies not done (a dropped task no longer
/// blocks) and gates not GO, each as shown to the user.
pub fn blockers(plan: &Plan, task: &Task) -> Vec<String> {
    task.after
        .iter()
        .filter_map(|dep| match gate_of(dep) {
            Some(g) => match plan.gates.get(g) {
                Some(gate) if gate.is_go() => None,
                Some(gate) => Some(format!("gate:{g} ({})", gate.state())),
                None => Some(format!("gate:{g} (missing)")),
            },
            None => match plan.tasks.get(dep) {
                Some(t) if t.state != TaskState::Open => None,
                Some(_) => Some(dep.clone()),
                None => Some(format!("{dep} (missing)")),
            },
        })
        .collect()
}

/// When `task`'s last blocker cleared: the latest of its creation, its
/// dependencies' completion and its gates' GO.
pub fn ready_since(plan: &Plan, task: &Task) -> Time {
    task.after
        .iter()
        .filter_map(|dep| match gate_of(dep) {
            Some(g) => plan.gates.get(g).and_then(|g| g.decision.as_ref()).map(|d| d.at),
            None => plan.tasks.get(dep).and_then(|t| t.done),
        })
        .fold(task.created, Time::max)
}

/// The path of a cycle that `after` for task `id` would close
/// (`id -> a -> b -> id`), if any.
pub fn cycle(plan: &Plan, id: &str, after: &[String]) -> Option<Vec<String>> {
    fn walk(
        plan: &Plan,
        target: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        if at == target {
            return true;
        }
        if !seen.insert(at.to_string()) {
            return false;
        }
        path.push(at.to_string());
        if let Some(t) = plan.tasks.get(at) {
            for dep in t.after.iter().filter(|d| gate_of(d).is_none()) {
                if walk(plan, target, dep, path, seen) {
                    return true;
                }
            }
        }
        path.pop();
        false
    }
    let mut seen = BTreeSet::new();
    for dep in after.iter().filter(|d| gate_of(d).is_none()) {
        let mut path = vec![id.to_string()];
        if walk(plan, id, dep, &mut path, &mut seen) {
            path.push(id.to_string());
            return Some(path);
        }
    }
    None
}

/// How many open tasks wait, directly or not, on each task.
pub fn unblocks(plan: &Plan) -> BTreeMap<String, usize> {
    let mut waiting: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (id, t) in plan.tasks.iter().filter(|(_, t)| t.state == TaskState::Open) {
        // Everything this task needs, transitively (bounded by the seen set,
        // so a cycle a merge made cannot loop).
        let mut stack: Vec<&str> = t.after.iter().map(String::as_str).collect();
        let mut seen = BTreeSet::new();
        while let Some(dep) = stack.pop() {
            if gate_of(dep).is_some() || !seen.insert(dep) {
                continue;
            }
            waiting.entry(dep).or_default().insert(id.as_str());
            if let Some(d) = plan.tasks.get(dep) {
                stack.extend(d.after.iter().map(String::as_str));
            }
        }
    }
    waiting
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.len()))
        .collect()
}

/// Open tasks with nothing blocking them and no live holder, best first:
/// the one more tasks wait on, then the earlier milestone due date, then
/// the older, then by id. `held(id)` says whether task:ID has a live holder.
pub fn ready(plan: &Plan, held: impl Fn(&str) -> bool) -> Vec<(&String, &Task)> {
    let weight = unblocks(plan);
    let mut out: Vec<(&String, &Task)> = plan
        .tasks
        .iter()
        .filter(|(id, t)| t.state == TaskState::Open && blockers(plan, t).is_empty() && !held(id))
        .collect();
    let due = |t: &Task| {
        t.milestone
            .as_ref()
            .and_then(|m| plan.milestones.get(m))
            .and_then(|m| m.due.clone())
            .unwrap_or_else(|| "9999".to_string())
    };
    out.sort_by(|(ia, a), (ib, b)| {
        let wa = weight.get(*ia).copied().unwrap_or(0);
        let wb = weight.get(*ib).copied().unwrap_or(0);
        wb.cmp(&wa)
            .then_with(|| due(a).cmp(&due(b)))
            .then_with(|| a.created.cmp(&b.created))
            .then_with(|| ia.cmp(ib))
    });
    out
}

/// Task ids in plan order: by phase (the length of the longest chain of
/// dependencies before each), then by age, then by id.
pub fn plan_order(plan: &Plan) -> Vec<&String> {
    fn depth<'a>(
        plan: &'a Plan,
        id: &'a str,
        memo: &mut BTreeMap<&'a str, usize>,
        on_path: &mut BTreeSet<&'a str>,
    ) -> usize {
        if let Some(d) = memo.get(id) {
            return *d;
        }
        // A cycle (a merge can make one) counts as no deeper.
        if !on_path.insert(id) {
            return 0;
        }
        let d = plan.tasks.get(id).map_or(0, |t| {
            t.after
                .iter()
                .filter(|dep| gate_of(dep).is_none() && plan.tasks.contains_key(dep.as_str()))
                .map(|dep| depth(plan, dep, memo, on_path) + 1)
                .max()
                .unwrap_or(0)
        });
        on_path.remove(id);
        memo.insert(id, d);
        d
    }
    let mut memo = BTreeMap::new();
    let mut ids: Vec<(usize, Time, &String)> = plan
        .tasks
        .iter()
        .map(|(id, t)| (depth(plan, id, &mut memo, &mut BTreeSet::new()), t.created, id))
        .collect();
    ids.sort();
    ids.into_iter().map(|(_, _, id)| id).collect()
}

/// A milestone's tasks: (done, counted), dropped tasks not counted.
pub fn progress(plan: &Plan, milestone: &str) -> (usize, usize) {
    let tasks = plan
        .tasks
        .values()
        .filter(|t| t.milestone.as_deref() == Some(milestone) && t.state != TaskState::Dropped);
    tasks.fold((0, 0), |(done, all), t| {
        (done + usize::from(t.state == TaskState::Done), all + 1)
    })
}

/// A text progress bar: `[######----]`.
pub fn bar(done: usize, all: usize, width: usize) -> String {
    let filled = (done * width).checked_div(all).unwrap_or(0).min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

/// `HH:MM` as minutes after midnight; `24:00` is the end of the day.
pub fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(h * 60 + m)
}

/// Today's date in the zone.
pub fn today(now: Time, zone: Zone) -> NaiveDate {
    zone.date(now)
}

/// A reservation's window on `date` (its own date, or any date when daily),
/// in UTC.
pub fn window_on(r: &Reservation, date: NaiveDate, zone: Zone) -> Option<(Time, Time)> {
    let at = |min: u32| {
        let midnight = date.and_time(NaiveTime::MIN);
        zone.instant(midnight + chrono::Duration::minutes(i64::from(min)))
    };
    Some((at(minutes(&r.from)?)?, at(minutes(&r.to)?)?))
}

/// The reservation's window that contains `now`, if it is on now.
pub fn active_window(r: &Reservation, now: Time, zone: Zone) -> Option<(Time, Time)> {
    let date = match &r.date {
        None => today(now, zone),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?,
    };
    window_on(r, date, zone).filter(|(from, to)| *from <= now && now < *to)
}

/// Whether two reservations of one resource can be on at the same time: a
/// daily one meets every date; the times of day overlap.
pub fn overlap(a: &Reservation, b: &Reservation) -> bool {
    let same_day = a.every_day() || b.every_day() || a.date == b.date;
    let (Some(af), Some(at), Some(bf), Some(bt)) =
        (minutes(&a.from), minutes(&a.to), minutes(&b.from), minutes(&b.to))
    else {
        return false;
    };
    same_day && af < bt && bf < at
}

/// Who holds `resource:NAME` through a reservation at `now`: the holder and
/// the window's end.
pub fn reserved_by<'a>(
    plan: &'a Plan,
    resource: &str,
    now: Time,
    zone: Zone,
) -> Option<(&'a Reservation, Time, Time)> {
    plan.reservations
        .values()
        .filter(|r| r.resource == resource)
        .find_map(|r| active_window(r, now, zone).map(|(from, to)| (r, from, to)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::parse_time;
    use crate::core::plan::{Decision, Gate};

    fn t(s: &str) -> Time {
        parse_time(s).unwrap()
    }

    fn task(after: &[&str]) -> Task {
        Task {
            after: after.iter().map(|s| s.to_string()).collect(),
            ..Task::new("lead", "t", t("2026-03-02T09:00:00Z"))
        }
    }

    /// Phase 1 (a1, a2 in parallel) blocks phase 2 (b1 after both), which
    /// blocks c1.
    fn phased() -> Plan {
        let mut p = Plan::default();
        p.tasks.insert("a1".into(), task(&[]));
        p.tasks.insert("a2".into(), task(&[]));
        p.tasks.insert("b1".into(), task(&["a1", "a2"]));
        p.tasks.insert("c1".into(), task(&["b1", "gate:prod"]));
        p
    }

    #[test]
    fn blockers_ready_and_order_follow_the_phases() {
        let mut p = phased();
        assert_eq!(blockers(&p, &p.tasks["b1"]), ["a1", "a2"]);
        assert_eq!(blockers(&p, &p.tasks["c1"]), ["b1", "gate:prod (missing)"]);
        let ids: Vec<&String> = ready(&p, |_| false).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["a1", "a2"]);
        // A held task is not ready.
        let ids: Vec<&String> = ready(&p, |id| id == "a1").into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["a2"]);
        // Both deps done: b1 is ready; c1 waits on the gate.
        for id in ["a1", "a2"] {
            let t = p.tasks.get_mut(id).unwrap();
            t.state = TaskState::Done;
            t.done = Some(self::t("2026-03-02T10:00:00Z"));
        }
        let ids: Vec<&String> = ready(&p, |_| false).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["b1"]);
        assert_eq!(ready_since(&p, &p.tasks["b1"]), t("2026-03-02T10:00:00Z"));
        p.tasks.get_mut("b1").unwrap().state = TaskState::Done;
        p.gates.insert(
            "prod".into(),
            Gate {
                by: "lead".into(),
                checks: vec![],
                created: t("2026-03-02T09:00:00Z"),
                decision: Some(Decision {
                    at: t("2026-03-02T11:00:00Z"),
                    by: "lead".into(),
                    forced: false,
                    go: false,
                    note: "not yet".into(),
                }),
                owner: None,
                updated: t("2026-03-02T11:00:00Z"),
                extra: Default::default(),
            },
        );
        assert_eq!(blockers(&p, &p.tasks["c1"]), ["gate:prod (no-go)"]);
        p.gates.get_mut("prod").unwrap().decision.as_mut().unwrap().go = true;
        assert!(blockers(&p, &p.tasks["c1"]).is_empty());
    }

    #[test]
    fn the_task_more_work_waits_on_comes_first() {
        let mut p = phased();
        p.tasks.insert("z0".into(), task(&[]));
        p.tasks.insert("z1".into(), task(&["z0"]));
        p.tasks.insert("z2".into(), task(&["z1"]));
        p.tasks.insert("z3".into(), task(&["z2"]));
        // z0 unblocks 3; a1 and a2 unblock 2 each (b1, c1).
        let ids: Vec<&String> = ready(&p, |_| false).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["z0", "a1", "a2"]);
    }

    #[test]
    fn a_cycle_is_found_with_its_path() {
        let p = phased();
        assert_eq!(
            cycle(&p, "a1", &["c1".to_string()]),
            Some(vec!["a1".into(), "c1".into(), "b1".into(), "a1".into()])
        );
        assert_eq!(
            cycle(&p, "a1", &["a1".to_string()]),
            Some(vec!["a1".into(), "a1".into()])
        );
        assert_eq!(cycle(&p, "d1", &["c1".to_string()]), None);
    }

    #[test]
    fn zones_times_windows_and_overlaps() {
        use chrono::FixedOffset;
        let parse_zone = Zone::parse;
        assert_eq!(parse_zone("UTC"), FixedOffset::east_opt(0).map(Zone::Fixed));
        assert_eq!(parse_zone("+02:00"), FixedOffset::east_opt(7200).map(Zone::Fixed));
        assert_eq!(
            parse_zone("-05:30"),
            FixedOffset::west_opt(5 * 3600 + 1800).map(Zone::Fixed)
        );
        assert_eq!(
            parse_zone("Europe/Paris"),
            Some(Zone::Named(chrono_tz::Europe::Paris))
        );
        for bad in ["Europe/Atlantis", "+2", "+25:00", ""] {
            assert_eq!(parse_zone(bad), None, "{bad}");
        }
        assert_eq!(minutes("15:00"), Some(900));
        assert_eq!(minutes("24:00"), Some(1440));
        assert_eq!(minutes("24:01"), None);
        let r = |from: &str, to: &str, date: Option<&str>| Reservation {
            after: vec![],
            created: t("2026-03-02T09:00:00Z"),
            date: date.map(str::to_string),
            from: from.into(),
            holder: "a".into(),
            note: None,
            resource: "staging".into(),
            to: to.into(),
            updated: t("2026-03-02T09:00:00Z"),
            extra: Default::default(),
        };
        let a = r("15:00", "18:00", Some("2026-03-02"));
        assert!(overlap(&a, &r("17:00", "19:00", Some("2026-03-02"))));
        assert!(!overlap(&a, &r("18:00", "21:00", Some("2026-03-02"))));
        assert!(!overlap(&a, &r("15:00", "18:00", Some("2026-03-03"))));
        assert!(overlap(&a, &r("16:00", "16:30", None)));
        // In +02:00, 15:00-18:00 is 13:00-16:00 UTC.
        let z = parse_zone("+02:00").unwrap();
        assert_eq!(active_window(&a, t("2026-03-02T12:59:59Z"), z), None);
        assert_eq!(
            active_window(&a, t("2026-03-02T13:00:00Z"), z),
            Some((t("2026-03-02T13:00:00Z"), t("2026-03-02T16:00:00Z")))
        );
        assert_eq!(active_window(&a, t("2026-03-02T16:00:00Z"), z), None);
        let daily = r("09:00", "10:00", None);
        assert!(active_window(&daily, t("2026-04-10T07:30:00Z"), z).is_some());
        // Europe/Paris follows the seasons: 15:00 is 14:00 UTC in winter
        // and 13:00 UTC in summer.
        let paris = parse_zone("Europe/Paris").unwrap();
        let winter = r("15:00", "16:00", Some("2026-03-02"));
        let summer = r("15:00", "16:00", Some("2026-07-02"));
        assert_eq!(
            active_window(&winter, t("2026-03-02T14:00:00Z"), paris)
                .unwrap()
                .0,
            t("2026-03-02T14:00:00Z")
        );
        assert_eq!(
            active_window(&summer, t("2026-07-02T13:00:00Z"), paris)
                .unwrap()
                .0,
            t("2026-07-02T13:00:00Z")
        );
        // 02:30 on the night the clocks go forward does not exist: the
        // window starts when the gap ends (03:00 local, 01:00 UTC).
        let gap = r("02:30", "04:00", Some("2026-03-29"));
        assert_eq!(
            window_on(&gap, NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), paris)
                .unwrap()
                .0,
            t("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn progress_counts_done_over_not_dropped() {
        let mut p = phased();
        for (id, state) in [
            ("a1", TaskState::Done),
            ("a2", TaskState::Dropped),
            ("b1", TaskState::Open),
        ] {
            let t = p.tasks.get_mut(id).unwrap();
            t.milestone = Some("m1".into());
            t.state = state;
        }
        assert_eq!(progress(&p, "m1"), (1, 2));
        assert_eq!(bar(1, 2, 10), "[#####-----]");
        assert_eq!(bar(0, 0, 4), "[----]");
    }
}
