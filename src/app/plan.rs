//! The plan's use cases: tasks with dependencies and the ready list,
//! milestones, GO/NO-GO gates, time-window reservations and handoffs. Every
//! change is one transaction on the registry, as for claims.

use chrono::NaiveDate;
use serde::Serialize;

use super::views::ClaimView;
use super::Ctx;
use crate::core::clock::{format_time, parse_duration, Time};
use crate::core::config::Config;
use crate::core::error::{conflict, not_found, usage, Result};
use crate::core::model::{Level, Message, Registry};
use crate::core::plan::{Check, Decision, Gate, Handoff, Milestone, Reservation, Task, TaskState};
use crate::core::rules::claims::{self, Take};
use crate::core::rules::plan::{self as rules, gate_of};
use crate::core::rules::{live_holder, messages, touch, validate, Effects};
use crate::core::text::{claim_args, command_line};

/// A change's sign of life from `me` and its one journal entry.
fn journal(tx: &mut crate::store::Tx, me: &str, kind: &'static str, target: &str, text: String) {
    touch(&mut tx.reg, me, tx.now);
    let mut fx = Effects::default();
    fx.event(kind, me, Some(target), text);
    tx.apply(fx);
}

fn check_text(what: &str, v: &Option<String>) -> Result<()> {
    match v {
        Some(t) => validate::text(what, t, validate::MAX_NOTE),
        None => Ok(()),
    }
}

/// A task as the commands show it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// What still blocks it (open tasks only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    /// The live holder of task:ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Open, unblocked and not held: someone should take it.
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<Time>,
}

fn holder(reg: &Registry, id: &str, now: Time, cfg: &Config) -> Option<String> {
    let c = reg.claims.get(&format!("task:{id}"))?;
    live_holder(c, reg, now, cfg).map(str::to_string)
}

pub fn task_view(reg: &Registry, id: &str, t: &Task, now: Time, cfg: &Config) -> TaskView {
    let blockers = if t.state == TaskState::Open {
        rules::blockers(&reg.plan, t)
    } else {
        Vec::new()
    };
    let holder = holder(reg, id, now, cfg);
    TaskView {
        id: id.to_string(),
        title: t.title.clone(),
        state: t.state.as_str(),
        milestone: t.milestone.clone(),
        role: t.role.clone(),
        after: t.after.clone(),
        ready: t.state == TaskState::Open && blockers.is_empty() && holder.is_none(),
        blockers,
        holder,
        note: t.note.clone(),
        done: t.done,
    }
}

#[derive(Debug, Serialize)]
pub struct TaskReport {
    pub task: TaskView,
    /// Claims a done or dropped task released.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct TaskFields {
    pub title: Option<String>,
    pub after: Option<Vec<String>>,
    pub milestone: Option<String>,
    pub role: Option<String>,
    pub note: Option<String>,
}

fn check_fields(f: &TaskFields) -> Result<()> {
    if let Some(t) = &f.title {
        validate::text("title", t, validate::MAX_TEXT)?;
    }
    for dep in f.after.iter().flatten() {
        match gate_of(dep) {
            Some(g) => validate::plain_id("gate", g)?,
            None => validate::plain_id("task", dep)?,
        }
    }
    if let Some(m) = &f.milestone {
        validate::plain_id("milestone", m)?;
    }
    if let Some(r) = &f.role {
        validate::text("role", r, validate::MAX_TEXT)?;
    }
    check_text("note", &f.note)
}

/// Dependencies must exist, and must not close a cycle.
fn check_after(reg: &Registry, id: &str, after: &[String]) -> Result<()> {
    for dep in after {
        let known = match gate_of(dep) {
            Some(g) => reg.plan.gates.contains_key(g),
            None => reg.plan.tasks.contains_key(dep),
        };
        if !known {
            let add = match gate_of(dep) {
                Some(g) => command_line(&["gate", "add", g, "--check", "TEXT"]),
                None => command_line(&["task", "add", dep, "--title", "TITLE"]),
            };
            return Err(not_found(format!(
                "{id} cannot come after {dep}: there is no such {}",
                if gate_of(dep).is_some() { "gate" } else { "task" }
            ))
            .hint(format!("add it first with `{add}`")));
        }
    }
    if let Some(path) = rules::cycle(&reg.plan, id, after) {
        return Err(usage(format!(
            "{id} cannot come after {}: that makes a cycle ({})",
            after.join(","),
            path.join(" -> ")
        ))
        .hint("a task cannot wait, even through others, on itself"));
    }
    Ok(())
}

fn check_milestone(reg: &Registry, m: &Option<String>) -> Result<()> {
    match m {
        Some(m) if !reg.plan.milestones.contains_key(m) => {
            Err(not_found(format!("there is no milestone {m}")).hint(format!(
                "add it with `{}`",
                command_line(&["milestone", "add", m, "--title", "TITLE"])
            )))
        }
        _ => Ok(()),
    }
}

pub fn task_add(ctx: &Ctx, id: &str, title: &str, f: &TaskFields) -> Result<TaskReport> {
    validate::plain_id("task", id)?;
    let f = TaskFields {
        title: Some(title.to_string()),
        ..f.clone()
    };
    check_fields(&f)?;
    let cfg = &ctx.hub.config;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        if tx.reg.plan.tasks.contains_key(id) {
            return Err(conflict(format!("task {id} exists already")).hint(format!(
                "change it with `{}`",
                command_line(&["task", "edit", id])
            )));
        }
        let after = f.after.clone().unwrap_or_default();
        check_after(&tx.reg, id, &after)?;
        check_milestone(&tx.reg, &f.milestone)?;
        let now = tx.now;
        let task = Task {
            after,
            milestone: f.milestone.clone(),
            note: f.note.clone(),
            role: f.role.clone(),
            ..Task::new(&me, title, now)
        };
        tx.reg.plan.tasks.insert(id.to_string(), task);
        journal(
            tx,
            &me,
            "task.added",
            &format!("task:{id}"),
            format!("{me} added task {id}"),
        );
        Ok(TaskReport {
            task: task_view(&tx.reg, id, &tx.reg.plan.tasks[id], now, cfg),
            released: Vec::new(),
        })
    })
}

fn missing_task(id: &str) -> crate::core::error::CoordError {
    not_found(format!("there is no task {id}")).hint("see the plan with `coord tasks`")
}

pub fn task_edit(ctx: &Ctx, id: &str, f: &TaskFields) -> Result<TaskReport> {
    validate::plain_id("task", id)?;
    check_fields(f)?;
    let cfg = &ctx.hub.config;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        if !tx.reg.plan.tasks.contains_key(id) {
            return Err(missing_task(id));
        }
        if let Some(after) = &f.after {
            check_after(&tx.reg, id, after)?;
        }
        check_milestone(&tx.reg, &f.milestone)?;
        let now = tx.now;
        let t = tx.reg.plan.tasks.get_mut(id).ok_or_else(|| missing_task(id))?;
        if let Some(v) = &f.title {
            t.title = v.clone();
        }
        if let Some(v) = &f.after {
            t.after = v.clone();
        }
        // An empty value clears the field.
        let set = |field: &mut Option<String>, v: &Option<String>| {
            if let Some(v) = v {
                *field = (!v.is_empty()).then(|| v.clone());
            }
        };
        set(&mut t.milestone, &f.milestone);
        set(&mut t.role, &f.role);
        set(&mut t.note, &f.note);
        t.updated = now;
        journal(
            tx,
            &me,
            "task.edited",
            &format!("task:{id}"),
            format!("{me} edited task {id}"),
        );
        Ok(TaskReport {
            task: task_view(&tx.reg, id, &tx.reg.plan.tasks[id], now, cfg),
            released: Vec::new(),
        })
    })
}

/// `task done`, `task reopen`, `task drop`. A done or dropped task's claim
/// is released (whoever held it is told).
pub fn task_set(ctx: &Ctx, id: &str, to: TaskState) -> Result<TaskReport> {
    validate::plain_id("task", id)?;
    let cfg = &ctx.hub.config;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let task = tx.reg.plan.tasks.get(id).ok_or_else(|| missing_task(id))?;
        if task.state == to {
            return Err(conflict(format!("task {id} is {} already", to.as_str())));
        }
        let ready = rules::ready_since(&tx.reg.plan, task);
        let t = tx.reg.plan.tasks.get_mut(id).ok_or_else(|| missing_task(id))?;
        t.state = to;
        t.updated = now;
        t.done = (to == TaskState::Done).then_some(now);
        t.ready = (to == TaskState::Done).then_some(ready);
        let mut fx = Effects::default();
        let key = format!("task:{id}");
        let mut released = Vec::new();
        if to != TaskState::Open {
            if let Some(h) = tx.reg.claims.get(&key).and_then(|c| c.holder.clone()) {
                claims::release(
                    &mut tx.reg,
                    &key,
                    &h,
                    "claim.released",
                    &format!("released: task {} by {me}", to.as_str()),
                    now,
                    &mut fx,
                );
                if h != me {
                    fx.notice(
                        &h,
                        Level::Info,
                        format!("task {id} is {}", to.as_str()),
                        format!(
                            "{me} marked task {id} {}; your claim on it was released.",
                            to.as_str()
                        ),
                    );
                }
                released.push(key.clone());
            }
        }
        let kind = match to {
            TaskState::Done => "task.done",
            TaskState::Open => "task.reopened",
            TaskState::Dropped => "task.dropped",
        };
        fx.event(
            kind,
            &me,
            Some(&key),
            format!("task {id} {} by {me}", to.as_str()),
        );
        touch(&mut tx.reg, &me, now);
        tx.apply(fx);
        Ok(TaskReport {
            task: task_view(&tx.reg, id, &tx.reg.plan.tasks[id], now, cfg),
            released,
        })
    })
}

/// A milestone as the commands show it.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneView {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    pub done: usize,
    pub total: usize,
    /// Open tasks of the milestone that wait on something, with what.
    pub blocked: Vec<(String, Vec<String>)>,
}

pub fn milestone_views(reg: &Registry) -> Vec<MilestoneView> {
    reg.plan
        .milestones
        .iter()
        .map(|(id, m)| {
            let (done, total) = rules::progress(&reg.plan, id);
            let blocked = reg
                .plan
                .tasks
                .iter()
                .filter(|(_, t)| t.milestone.as_deref() == Some(id) && t.state == TaskState::Open)
                .map(|(tid, t)| (tid.clone(), rules::blockers(&reg.plan, t)))
                .filter(|(_, b)| !b.is_empty())
                .collect();
            MilestoneView {
                id: id.clone(),
                title: m.title.clone(),
                due: m.due.clone(),
                done,
                total,
                blocked,
            }
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct MilestoneReport {
    pub milestone: MilestoneView,
}

pub fn milestone_add(ctx: &Ctx, id: &str, title: &str, due: Option<&str>) -> Result<MilestoneReport> {
    validate::plain_id("milestone", id)?;
    validate::text("title", title, validate::MAX_TEXT)?;
    if let Some(d) = due {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| usage(format!("--due {d:?} is not a date; write it as YYYY-MM-DD")))?;
    }
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let existed = tx.reg.plan.milestones.get(id).map(|m| m.created);
        tx.reg.plan.milestones.insert(
            id.to_string(),
            Milestone {
                by: me.clone(),
                created: existed.unwrap_or(now),
                due: due.map(str::to_string),
                title: title.to_string(),
                updated: now,
                extra: Default::default(),
            },
        );
        let verb = if existed.is_some() { "updated" } else { "added" };
        journal(
            tx,
            &me,
            "milestone.added",
            &format!("milestone:{id}"),
            format!("{me} {verb} milestone {id}"),
        );
        let view = milestone_views(&tx.reg).into_iter().find(|m| m.id == id);
        view.map(|milestone| MilestoneReport { milestone })
            .ok_or_else(|| not_found(format!("milestone {id} vanished")))
    })
}

/// The whole plan: tasks (milestone order), milestones, gates,
/// reservations of today, handoffs still open.
#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub milestones: Vec<MilestoneView>,
    pub tasks: Vec<TaskView>,
}

pub fn tasks(ctx: &Ctx) -> Result<PlanReport> {
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.read(|reg| {
        Ok(PlanReport {
            milestones: milestone_views(reg),
            tasks: rules::plan_order(&reg.plan)
                .into_iter()
                .map(|id| task_view(reg, id, &reg.plan.tasks[id], now, cfg))
                .collect(),
        })
    })
}

#[derive(Debug, Serialize)]
pub struct ReadyReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub tasks: Vec<TaskView>,
}

/// Tasks to take next, best first; with `role`, those for that role (and
/// those for no role).
pub fn ready_list(reg: &Registry, role: Option<&str>, now: Time, cfg: &Config) -> Vec<TaskView> {
    rules::ready(&reg.plan, |id| holder(reg, id, now, cfg).is_some())
        .into_iter()
        .filter(|(_, t)| role.is_none() || t.role.is_none() || t.role.as_deref() == role)
        .map(|(id, t)| task_view(reg, id, t, now, cfg))
        .collect()
}

pub fn ready(ctx: &Ctx, role: Option<&str>, mine: bool) -> Result<ReadyReport> {
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.read(|reg| {
        let role = match (role, mine) {
            (Some(r), _) => Some(r.to_string()),
            (None, true) => {
                let me = ctx.me_read(reg, now)?;
                reg.sessions.get(&me).and_then(|s| s.role.clone())
            }
            (None, false) => None,
        };
        Ok(ReadyReport {
            tasks: ready_list(reg, role.as_deref(), now, cfg),
            role,
        })
    })
}

/// Why a task cannot be claimed now (blockers, or done), for `coord claim`.
pub fn claim_blocked(reg: &Registry, id: &str) -> Option<crate::core::error::CoordError> {
    let t = reg.plan.tasks.get(id)?;
    if t.state != TaskState::Open {
        return Some(
            conflict(format!("task {id} is {}", t.state.as_str())).hint(format!(
                "reopen it with `{}`, or take it anyway with --force",
                command_line(&["task", "reopen", id])
            )),
        );
    }
    let b = rules::blockers(&reg.plan, t);
    (!b.is_empty()).then(|| {
        conflict(format!("task {id} waits on {}", b.join(", ")))
            .hint("see what is ready with `coord ready`, or take it anyway with --force")
    })
}

/// Why `resource:NAME` cannot be claimed by `me` now: another session's
/// reservation is on.
pub fn reserved_against(
    reg: &Registry,
    name: &str,
    me: &str,
    now: Time,
    cfg: &Config,
) -> Option<crate::core::error::CoordError> {
    let (r, from, to) = rules::reserved_by(&reg.plan, name, now, cfg.zone)?;
    if r.holder == me {
        // The holder's own window, unless it waits on a gate not yet GO.
        let waiting: Vec<String> = r
            .after
            .iter()
            .filter_map(|dep| {
                let g = gate_of(dep)?;
                let state = reg.plan.gates.get(g).map_or("missing", |g| g.state());
                (state != "go").then(|| format!("gate:{g} ({state})"))
            })
            .collect();
        return (!waiting.is_empty()).then(|| {
            conflict(format!(
                "your reservation of {name} waits on {}",
                waiting.join(", ")
            ))
            .hint("see the gate with `coord gates`, or take it anyway with --force")
        });
    }
    let local = |t: Time| cfg.zone.format(t, "%H:%M");
    Some(
        conflict(format!(
            "resource:{name} is reserved by {} from {} to {} ({})",
            r.holder,
            local(from),
            local(to),
            cfg.zone_name
        ))
        .hint(format!(
            "ask them with `{}`, see the day with `{}`, or take it anyway with --force",
            command_line(&["send", &r.holder, &format!("may I use {name}?")]),
            command_line(&["reservations", name])
        )),
    )
}

// ---- gates ----

#[derive(Debug, Clone, Serialize)]
pub struct GateView {
    pub name: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

impl GateView {
    /// Who decided it (` (decided by dave)`), or, while it is open, who
    /// decides (` (for lead to decide)`); raw text, for the printer to
    /// escape.
    pub fn decider(&self) -> Option<String> {
        match (&self.decision, &self.owner) {
            (Some(d), _) => Some(format!("decided by {}", d.by)),
            (None, Some(o)) => Some(format!("for {o} to decide")),
            (None, None) => None,
        }
    }
}

pub fn gate_views(reg: &Registry) -> Vec<GateView> {
    reg.plan
        .gates
        .iter()
        .map(|(name, g)| GateView {
            name: name.clone(),
            state: g.state(),
            owner: g.owner.clone(),
            checks: g.checks.clone(),
            decision: g.decision.clone(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct GateReport {
    pub gate: GateView,
}

fn gate_report(reg: &Registry, name: &str) -> Result<GateReport> {
    gate_views(reg)
        .into_iter()
        .find(|g| g.name == name)
        .map(|gate| GateReport { gate })
        .ok_or_else(|| missing_gate(name))
}

fn gate_mut<'r>(reg: &'r mut Registry, name: &str) -> Result<&'r mut Gate> {
    reg.plan.gates.get_mut(name).ok_or_else(|| missing_gate(name))
}

fn missing_gate(name: &str) -> crate::core::error::CoordError {
    not_found(format!("there is no gate {name}")).hint("see the gates with `coord gates`")
}

pub fn gate_add(ctx: &Ctx, name: &str, checks: &[String], owner: Option<&str>) -> Result<GateReport> {
    validate::plain_id("gate", name)?;
    if checks.is_empty() {
        return Err(usage(format!(
            "a gate needs at least one check; `{}`",
            command_line(&[
                "gate",
                "add",
                name,
                "--check",
                "tests pass",
                "--check",
                "backup taken"
            ])
        )));
    }
    for c in checks {
        validate::text("check", c, validate::MAX_TEXT)?;
    }
    if let Some(o) = owner {
        validate::text("owner", o, validate::MAX_TEXT)?;
    }
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        if tx.reg.plan.gates.contains_key(name) {
            return Err(conflict(format!("gate {name} exists already")).hint("see it with `coord gates`"));
        }
        tx.reg.plan.gates.insert(
            name.to_string(),
            Gate {
                by: me.clone(),
                checks: checks
                    .iter()
                    .map(|t| Check {
                        at: None,
                        by: None,
                        done: false,
                        note: None,
                        text: t.clone(),
                    })
                    .collect(),
                created: now,
                decision: None,
                owner: owner.map(str::to_string),
                updated: now,
                extra: Default::default(),
            },
        );
        journal(
            tx,
            &me,
            "gate.added",
            &format!("gate:{name}"),
            format!("{me} added gate {name}"),
        );
        gate_report(&tx.reg, name)
    })
}

pub fn gate_tick(ctx: &Ctx, name: &str, n: usize, note: Option<&str>) -> Result<GateReport> {
    validate::plain_id("gate", name)?;
    check_text("note", &note.map(str::to_string))?;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let g = gate_mut(&mut tx.reg, name)?;
        let count = g.checks.len();
        let c = n
            .checked_sub(1)
            .and_then(|i| g.checks.get_mut(i))
            .ok_or_else(|| {
                usage(format!(
                    "gate {name} has checks 1 to {count}; there is no check {n}"
                ))
            })?;
        c.done = true;
        c.by = Some(me.clone());
        c.at = Some(now);
        c.note = note.map(str::to_string);
        let text = c.text.clone();
        g.updated = now;
        journal(
            tx,
            &me,
            "gate.ticked",
            &format!("gate:{name}"),
            format!("{me} ticked {name} check {n}: {text}"),
        );
        gate_report(&tx.reg, name)
    })
}

/// GO or NO-GO: only the owner (its session, or a session of its role), or
/// anyone with `force` (journaled as forced).
pub fn gate_decide(ctx: &Ctx, name: &str, go: bool, note: &str, force: bool) -> Result<GateReport> {
    validate::plain_id("gate", name)?;
    if note.trim().is_empty() {
        return Err(usage("a decision needs --note: say why, for the journal"));
    }
    validate::text("note", note, validate::MAX_NOTE)?;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let my_role = tx.reg.sessions.get(&me).and_then(|s| s.role.clone());
        let g = gate_mut(&mut tx.reg, name)?;
        let owner_ok = match &g.owner {
            None => true,
            Some(o) => *o == me || my_role.as_deref() == Some(o.as_str()),
        };
        if !owner_ok && !force {
            let o = g.owner.clone().unwrap_or_default();
            return Err(
                conflict(format!("gate {name} is decided by {o}, not by you ({me})")).hint(format!(
                    "ask them with `{}`, or decide anyway with --force (journaled)",
                    command_line(&["send", &o, &format!("gate {name}?")])
                )),
            );
        }
        let open: Vec<usize> = g
            .checks
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.done)
            .map(|(i, _)| i + 1)
            .collect();
        if go && !open.is_empty() && !force {
            return Err(conflict(format!(
                "gate {name} has unticked checks ({}); GO needs them all",
                open.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            ))
            .hint(format!(
                "tick them with `{}`, or decide anyway with --force",
                command_line(&["gate", "tick", name, &open[0].to_string()])
            )));
        }
        g.decision = Some(Decision {
            at: now,
            by: me.clone(),
            forced: !owner_ok || (go && !open.is_empty()),
            go,
            note: note.to_string(),
        });
        g.updated = now;
        let word = if go { "GO" } else { "NO-GO" };
        let forced = if force { " (forced)" } else { "" };
        journal(
            tx,
            &me,
            "gate.decided",
            &format!("gate:{name}"),
            format!("{me} decided {name}: {word}{forced}: {note}"),
        );
        gate_report(&tx.reg, name)
    })
}

#[derive(Debug, Serialize)]
pub struct GatesReport {
    pub gates: Vec<GateView>,
}

pub fn gates(ctx: &Ctx) -> Result<GatesReport> {
    ctx.hub.read(|reg| {
        Ok(GatesReport {
            gates: gate_views(reg),
        })
    })
}

// ---- reservations ----

#[derive(Debug, Clone, Serialize)]
pub struct ReservationView {
    pub id: String,
    pub resource: String,
    pub holder: String,
    /// `HH:MM` in the hub's zone.
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub every_day: bool,
    /// On at this moment: a live claim on resource:NAME for its holder.
    pub active: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn reservation_view(id: &str, r: &Reservation, now: Time, cfg: &Config) -> ReservationView {
    ReservationView {
        id: id.to_string(),
        resource: r.resource.clone(),
        holder: r.holder.clone(),
        from: r.from.clone(),
        to: r.to.clone(),
        date: r.date.clone(),
        every_day: r.every_day(),
        active: rules::active_window(r, now, cfg.zone).is_some(),
        after: r.after.clone(),
        note: r.note.clone(),
    }
}

/// Reservations on `date` (daily ones included), by start time.
pub fn reservations_on(
    reg: &Registry,
    resource: Option<&str>,
    date: NaiveDate,
    now: Time,
    cfg: &Config,
) -> Vec<ReservationView> {
    let day = date.format("%Y-%m-%d").to_string();
    let mut out: Vec<ReservationView> = reg
        .plan
        .reservations
        .iter()
        .filter(|(_, r)| resource.is_none_or(|x| r.resource == x))
        .filter(|(_, r)| r.every_day() || r.date.as_deref() == Some(day.as_str()))
        .map(|(id, r)| reservation_view(id, r, now, cfg))
        .collect();
    out.sort_by(|a, b| (&a.resource, &a.from, &a.id).cmp(&(&b.resource, &b.from, &b.id)));
    out
}

#[derive(Debug, Serialize)]
pub struct ReservationReport {
    pub reservation: ReservationView,
}

pub struct ReserveRequest {
    pub resource: String,
    /// `HH:MM-HH:MM`.
    pub window: String,
    pub date: Option<String>,
    pub every_day: bool,
    pub note: Option<String>,
    pub after: Vec<String>,
}

pub fn reserve(ctx: &Ctx, req: &ReserveRequest) -> Result<ReservationReport> {
    validate::plain_id("resource", &req.resource)?;
    check_text("note", &req.note)?;
    let cfg = &ctx.hub.config;
    let bad_window = || {
        usage(format!(
            "{:?} is not a window; write it as FROM-TO in 24-hour time, e.g. 15:00-18:00 ({})",
            req.window, cfg.zone_name
        ))
    };
    let (from, to) = req.window.split_once('-').ok_or_else(bad_window)?;
    let (a, b) = (
        rules::minutes(from).ok_or_else(bad_window)?,
        rules::minutes(to).ok_or_else(bad_window)?,
    );
    if a >= b {
        return Err(usage(format!(
            "{} ends before it starts; a window is within one day (use 24:00 for midnight)",
            req.window
        )));
    }
    if req.every_day && req.date.is_some() {
        return Err(usage(
            "--every day and --date do not go together: a daily reservation has no date",
        ));
    }
    for dep in &req.after {
        let g = gate_of(dep).ok_or_else(|| {
            usage(format!(
                "a reservation can only come after a gate (gate:NAME), not {dep:?}"
            ))
        })?;
        validate::plain_id("gate", g)?;
    }
    let now = ctx.now();
    let date = match &req.date {
        Some(d) => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| usage(format!("--date {d:?} is not a date; write it as YYYY-MM-DD")))?,
        ),
        None if req.every_day => None,
        None => Some(rules::today(now, cfg.zone)),
    };
    // A window that has already ended is refused with the way to book it.
    if let Some(d) = date {
        let today = rules::today(now, cfg.zone);
        let end = d.and_time(chrono::NaiveTime::MIN) + chrono::Duration::minutes(i64::from(b));
        let ended = cfg.zone.instant(end).is_some_and(|end| end <= now);
        if d < today || ended {
            let when = if d < today {
                format!("{d} is before today ({today})")
            } else {
                format!(
                    "{} has already ended today (it is {} {})",
                    req.window,
                    cfg.zone.format(now, "%H:%M"),
                    cfg.zone_name
                )
            };
            return Err(usage(format!(
                "{when}; reserve another day with --date YYYY-MM-DD, or every day with --every day"
            )));
        }
    }
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        for dep in &req.after {
            let g = gate_of(dep).unwrap_or_default();
            if !tx.reg.plan.gates.contains_key(g) {
                return Err(missing_gate(g));
            }
        }
        let r = Reservation {
            after: req.after.clone(),
            created: now,
            date: date.map(|d| d.format("%Y-%m-%d").to_string()),
            from: from.to_string(),
            holder: me.clone(),
            note: req.note.clone(),
            resource: req.resource.clone(),
            to: to.to_string(),
            updated: now,
            extra: Default::default(),
        };
        // Every booking the new window overlaps, each named.
        let mut clash: Vec<&Reservation> = tx
            .reg
            .plan
            .reservations
            .values()
            .filter(|o| o.resource == r.resource && rules::overlap(o, &r))
            .collect();
        clash.sort_by(|a, b| (&a.date, &a.from).cmp(&(&b.date, &b.from)));
        if !clash.is_empty() {
            let named: Vec<String> = clash
                .iter()
                .map(|o| {
                    let when = o.date.clone().unwrap_or_else(|| "every day".to_string());
                    format!(
                        "by {} from {} to {} ({when}, {})",
                        o.holder, o.from, o.to, cfg.zone_name
                    )
                })
                .collect();
            let mut holders: Vec<&str> = clash.iter().map(|o| o.holder.as_str()).collect();
            holders.dedup();
            let ask: Vec<String> = holders
                .iter()
                .take(3)
                .map(|h| {
                    format!(
                        "`{}`",
                        command_line(&[
                            "send",
                            h,
                            &format!("may I have {} at {}?", r.resource, req.window)
                        ])
                    )
                })
                .collect();
            return Err(conflict(format!(
                "{} is reserved {}, which {} {}",
                r.resource,
                named.join(" and "),
                if clash.len() == 1 { "overlaps" } else { "overlap" },
                req.window
            ))
            .hint(format!(
                "pick another window (see `{}`), or ask {} with {}",
                command_line(&["reservations", &r.resource]),
                if holders.len() == 1 { "them" } else { "each" },
                ask.join(" / ")
            )));
        }
        let id = tx.mint('r');
        tx.reg.plan.reservations.insert(id.clone(), r);
        journal(
            tx,
            &me,
            "resource.reserved",
            &format!("resource:{}", req.resource),
            format!("{me} reserved {} {}", req.resource, req.window),
        );
        Ok(ReservationReport {
            reservation: reservation_view(&id, &tx.reg.plan.reservations[&id], now, cfg),
        })
    })
}

pub fn unreserve(ctx: &Ctx, id: &str, force: bool) -> Result<ReservationReport> {
    let cfg = &ctx.hub.config;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let r = tx.reg.plan.reservations.get(id).ok_or_else(|| {
            not_found(format!("there is no reservation {id}")).hint("see them with `coord reservations`")
        })?;
        if r.holder != me && !force {
            return Err(
                conflict(format!("reservation {id} is {}'s, not yours ({me})", r.holder)).hint(format!(
                    "ask them with `{}`, or remove it anyway with --force (they are told)",
                    command_line(&[
                        "send",
                        &r.holder,
                        &format!("may I have {} {}-{}?", r.resource, r.from, r.to)
                    ])
                )),
            );
        }
        let view = reservation_view(id, r, now, cfg);
        tx.reg.plan.reservations.remove(id);
        journal(
            tx,
            &me,
            "resource.unreserved",
            &format!("resource:{}", view.resource),
            format!(
                "{me} removed {}'s reservation of {} {}-{}",
                view.holder, view.resource, view.from, view.to
            ),
        );
        if view.holder != me {
            let mut fx = Effects::default();
            fx.notice(
                &view.holder,
                Level::Warning,
                format!("{me} removed your reservation of {}", view.resource),
                format!(
                    "{me} removed your reservation {id} of {} {}-{} with --force; talk to them with `{}`.",
                    view.resource,
                    view.from,
                    view.to,
                    command_line(&["send", &me, "SUBJECT"])
                ),
            );
            tx.apply(fx);
        }
        Ok(ReservationReport { reservation: view })
    })
}

#[derive(Debug, Serialize)]
pub struct ReservationsReport {
    pub date: String,
    pub zone: String,
    /// Now, `HH:MM` in the zone (for the timeline's marker).
    pub now: String,
    pub reservations: Vec<ReservationView>,
}

pub fn reservations(ctx: &Ctx, resource: Option<&str>, date: Option<&str>) -> Result<ReservationsReport> {
    if let Some(r) = resource {
        validate::plain_id("resource", r)?;
    }
    let cfg = &ctx.hub.config;
    let now = ctx.now();
    let day = match date {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| usage(format!("--date {d:?} is not a date; write it as YYYY-MM-DD")))?,
        None => rules::today(now, cfg.zone),
    };
    ctx.hub.read(|reg| {
        Ok(ReservationsReport {
            date: day.format("%Y-%m-%d").to_string(),
            zone: cfg.zone_name.clone(),
            now: cfg.zone.format(now, "%H:%M"),
            reservations: reservations_on(reg, resource, day, now, cfg),
        })
    })
}

/// The reservations on now, as the claims they stand for.
pub fn reservation_claims(reg: &Registry, now: Time, cfg: &Config) -> Vec<ClaimView> {
    reg.plan
        .reservations
        .iter()
        .filter_map(|(id, r)| {
            let (from, to) = rules::active_window(r, now, cfg.zone)?;
            Some(ClaimView {
                key: format!("resource:{}", r.resource),
                kind: "resource".to_string(),
                name: r.resource.clone(),
                holder: Some(r.holder.clone()),
                since: Some(from),
                expires: Some(to),
                seconds_left: Some((to - now).num_seconds()),
                live: true,
                token: 0,
                note: Some(format!("reservation {id} {}-{} {}", r.from, r.to, cfg.zone_name)),
            })
        })
        .collect()
}

// ---- handoffs ----

#[derive(Debug, Clone, Serialize)]
pub struct HandoffView {
    pub id: String,
    pub key: String,
    pub from: String,
    pub to: String,
    /// offered, accepted or lapsed.
    pub state: &'static str,
    pub expires: Time,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn handoff_view(id: &str, h: &Handoff, now: Time) -> HandoffView {
    HandoffView {
        id: id.to_string(),
        key: h.key.clone(),
        from: h.from.clone(),
        to: h.to.clone(),
        state: h.status(now),
        expires: h.expires,
        accepted_by: h.accepted_by.clone(),
        note: h.note.clone(),
    }
}

/// Offers still open.
/// Offers still open whose giver still holds what they offer (one whose
/// giver let go of it is void, and not shown).
pub fn open_handoffs(reg: &Registry, now: Time, cfg: &Config) -> Vec<HandoffView> {
    reg.plan
        .handoffs
        .iter()
        .filter(|(_, h)| h.status(now) == "offered" && offerer_holds(reg, h, now, cfg))
        .map(|(id, h)| handoff_view(id, h, now))
        .collect()
}

/// Whether the giver of `h` still holds its claim, live.
fn offerer_holds(reg: &Registry, h: &Handoff, now: Time, cfg: &Config) -> bool {
    reg.claims
        .get(&h.key)
        .and_then(|c| live_holder(c, reg, now, cfg))
        .is_some_and(|holder| holder == h.from)
}

#[derive(Debug, Serialize)]
pub struct HandoffReport {
    pub handoff: HandoffView,
    /// After `accept`: the claim, now the receiver's, with its new token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimView>,
}

pub struct HandoffRequest {
    pub kind: String,
    pub name: String,
    pub to: String,
    pub note: Option<String>,
    pub for_: Option<String>,
}

/// Offer a held claim to a session or a role; they are told in their inbox.
pub fn handoff(ctx: &Ctx, req: &HandoffRequest) -> Result<HandoffReport> {
    let (key, _) = super::claim::claim_key(&req.kind, &req.name)?;
    check_text("note", &req.note)?;
    let length = parse_duration(req.for_.as_deref().unwrap_or("1h"))?;
    let cfg = &ctx.hub.config;
    if let Some(role) = req.to.strip_prefix('@') {
        validate::text("role", role, validate::MAX_TEXT)?;
    } else {
        validate::session_id(&req.to)?;
    }
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        match tx.reg.claims.get(&key).and_then(|c| c.holder.clone()) {
            Some(h) if h == me => {}
            _ => {
                return Err(conflict(format!(
                    "you ({me}) do not hold {key}; only a held claim can be handed off"
                ))
                .hint(format!(
                    "take it first with `{}`",
                    command_line(&["claim", &req.kind, &req.name])
                )))
            }
        }
        if req.to == me {
            return Err(usage(
                "a handoff to yourself changes nothing; name another session or @role",
            ));
        }
        let recipients = messages::recipients(&tx.reg, &me, &req.to, now, cfg)?;
        let id = tx.mint('h');
        let h = Handoff {
            accepted_by: None,
            created: now,
            expires: now + length,
            from: me.clone(),
            key: key.clone(),
            note: req.note.clone(),
            to: req.to.clone(),
            updated: now,
            extra: Default::default(),
        };
        tx.reg.plan.handoffs.insert(id.clone(), h);
        let body = format!(
            "{me} offers you {key}{}. Take it with `{}` before {} (it stays with {me} otherwise).",
            req.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default(),
            command_line(&["accept", &id]),
            format_time(now + length)
        );
        let message = Message {
            id: tx.mint('m'),
            ts: now,
            from: me.clone(),
            to: req.to.clone(),
            recipients,
            level: Level::Info,
            subject: format!("handoff {id}: {key}"),
            body,
            reply_to: None,
            extra: Default::default(),
        };
        let mut fx = Effects::default();
        messages::deliver(&mut tx.reg, message, &mut fx);
        fx.event(
            "handoff.offered",
            &me,
            Some(&key),
            format!("{me} offered {key} to {} ({id})", req.to),
        );
        touch(&mut tx.reg, &me, now);
        tx.apply(fx);
        Ok(HandoffReport {
            handoff: handoff_view(&id, &tx.reg.plan.handoffs[&id], now),
            claim: None,
        })
    })
}

/// Take a handoff: the claim moves to me with a new fencing token, the
/// giver is told. First come, first served for a role.
pub fn accept(ctx: &Ctx, id: &str) -> Result<HandoffReport> {
    let cfg = &ctx.hub.config;
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let h = tx.reg.plan.handoffs.get(id).cloned().ok_or_else(|| {
            not_found(format!("there is no handoff {id}")).hint("see your messages with `coord inbox --all`")
        })?;
        let my_role = tx.reg.sessions.get(&me).and_then(|s| s.role.clone());
        let for_me = h.to == me
            || h.to
                .strip_prefix('@')
                .is_some_and(|r| my_role.as_deref() == Some(r));
        if !for_me {
            return Err(conflict(format!(
                "handoff {id} is for {}, not for you ({me})",
                h.to
            )));
        }
        match h.status(now) {
            "accepted" => {
                return Err(conflict(format!(
                    "handoff {id} was accepted by {} already",
                    h.accepted_by.clone().unwrap_or_default()
                )))
            }
            "lapsed" => {
                return Err(conflict(format!(
                    "handoff {id} lapsed at {}; {} keeps {}",
                    format_time(h.expires),
                    h.from,
                    h.key
                ))
                .hint(format!(
                    "ask them again with `{}`",
                    command_line(&["send", &h.from, &format!("may I take {}?", h.key)])
                )))
            }
            _ => {}
        }
        let claim = tx.reg.claims.get(&h.key).cloned();
        let Some(claim) = claim.filter(|_| offerer_holds(&tx.reg, &h, now, cfg)) else {
            // Void: say what to do instead, as the claim stands now.
            let holder = tx
                .reg
                .claims
                .get(&h.key)
                .and_then(|c| live_holder(c, &tx.reg, now, cfg))
                .map(str::to_string);
            let next = match holder {
                Some(other) if other == me => format!("you hold {} already", h.key),
                Some(other) => format!(
                    "{other} holds it now: ask them with `{}`",
                    command_line(&["send", &other, &format!("may I take {}?", h.key)])
                ),
                None => format!("it is free: take it with `coord claim {}`", claim_args(&h.key)),
            };
            return Err(conflict(format!(
                "{} no longer holds {}, so handoff {id} is void",
                h.from, h.key
            ))
            .hint(next));
        };
        let mut fx = Effects::default();
        claims::release(
            &mut tx.reg,
            &h.key,
            &h.from,
            "claim.handed",
            &format!("handed by {} to {me}", h.from),
            now,
            &mut fx,
        );
        let take = Take {
            kind: &claim.kind,
            name: &claim.name,
            me: &me,
            length: claim.for_secs.map(|s| chrono::Duration::seconds(s as i64)),
            note: claim.note.as_deref(),
            force: false,
        };
        claims::take(&mut tx.reg, &take, now, cfg, &mut fx)?;
        fx.notice(
            &h.from,
            Level::Info,
            format!("{me} accepted {}", h.key),
            format!("{me} accepted your handoff {id}: {} is theirs now.", h.key),
        );
        fx.event(
            "handoff.accepted",
            &me,
            Some(&h.key),
            format!("{me} accepted {} from {} ({id})", h.key, h.from),
        );
        if let Some(rec) = tx.reg.plan.handoffs.get_mut(id) {
            rec.accepted_by = Some(me.clone());
            rec.updated = now;
        }
        tx.apply(fx);
        Ok(HandoffReport {
            handoff: handoff_view(id, &tx.reg.plan.handoffs[id], now),
            claim: Some(ClaimView::new(&h.key, &tx.reg.claims[&h.key], &tx.reg, now, cfg)),
        })
    })
}

// ---- the plan in status, the briefing and prime ----

#[derive(Debug, Clone, Serialize)]
pub struct GateState {
    pub name: String,
    pub state: &'static str,
}

/// The plan, compactly: what `status`, the briefing and prime show.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanSummary {
    pub milestones: Vec<MilestoneView>,
    /// Tasks: (done, counted), dropped ones not counted.
    pub done: usize,
    pub total: usize,
    /// Ready task ids, best first.
    pub ready: Vec<TaskView>,
    pub gates: Vec<GateState>,
    /// Today's reservations (the active ones flagged).
    pub reservations: Vec<ReservationView>,
    /// Handoffs still on offer.
    pub handoffs: Vec<HandoffView>,
}

impl PlanSummary {
    pub fn is_empty(&self) -> bool {
        self.milestones.is_empty()
            && self.total == 0
            && self.gates.is_empty()
            && self.reservations.is_empty()
            && self.handoffs.is_empty()
    }
}

pub fn summary(reg: &Registry, now: Time, cfg: &Config) -> PlanSummary {
    let counted = reg.plan.tasks.values().filter(|t| t.state != TaskState::Dropped);
    let (done, total) = counted.fold((0, 0), |(d, n), t| {
        (d + usize::from(t.state == TaskState::Done), n + 1)
    });
    PlanSummary {
        milestones: milestone_views(reg),
        done,
        total,
        ready: ready_list(reg, None, now, cfg),
        gates: reg
            .plan
            .gates
            .iter()
            .map(|(name, g)| GateState {
                name: name.clone(),
                state: g.state(),
            })
            .collect(),
        reservations: reservations_on(reg, None, rules::today(now, cfg.zone), now, cfg),
        handoffs: open_handoffs(reg, now, cfg),
    }
}
