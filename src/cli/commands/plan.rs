//! The plan's commands: `task`, `tasks`, `ready`, `milestone`, `gate`,
//! `gates`, `reserve`, `unreserve`, `reservations`, `handoff`, `accept`.

use crate::app::plan::{self, HandoffRequest, ReserveRequest, TaskFields, TaskView};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::clock::format_time;
use crate::core::error::{usage, Result};
use crate::core::plan::TaskState;
use crate::core::rules::plan::bar;
use crate::core::text::sanitize;

/// Add, change or close a task of the plan
#[derive(clap::Args, Debug)]
pub struct TaskArgs {
    #[command(subcommand)]
    pub action: TaskAction,
}

/// The fields `task add` and `task edit` take.
#[derive(clap::Args, Debug, Default)]
pub struct Fields {
    /// Tasks (and gate:NAME) that must be done first, comma-separated
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub after: Option<Vec<String>>,
    /// The milestone it belongs to
    #[arg(long, value_name = "M")]
    pub milestone: Option<String>,
    /// The role that should take it
    #[arg(long, value_name = "R")]
    pub role: Option<String>,
    /// A word for whoever takes it
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum TaskAction {
    /// Add a task: coord task add api --title "Auth API" --after schema --milestone m1
    Add {
        /// A short id: lowercase letters, digits, '-', '_', '.'
        id: String,
        /// What the task is, in a line
        #[arg(long)]
        title: String,
        #[command(flatten)]
        fields: Fields,
    },
    /// Change a task's fields (an empty value clears milestone, role, note)
    Edit {
        /// The task's id
        id: String,
        /// A new title
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        fields: Fields,
    },
    /// Mark a task done (its claim is released)
    Done {
        /// The task's id
        id: String,
    },
    /// Open a done or dropped task again
    Reopen {
        /// The task's id
        id: String,
    },
    /// Drop a task that is no longer needed (it no longer blocks others)
    Drop {
        /// The task's id
        id: String,
    },
}

fn fields(title: Option<String>, f: &Fields) -> TaskFields {
    TaskFields {
        title,
        after: f.after.clone(),
        milestone: f.milestone.clone(),
        role: f.role.clone(),
        note: f.note.clone(),
    }
}

pub fn run_task(ui: &Ui, ctx: &Ctx, args: &TaskArgs) -> Result<()> {
    let report = match &args.action {
        TaskAction::Add { id, title, fields: f } => plan::task_add(ctx, id, title, &fields(None, f))?,
        TaskAction::Edit { id, title, fields: f } => plan::task_edit(ctx, id, &fields(title.clone(), f))?,
        TaskAction::Done { id } => plan::task_set(ctx, id, TaskState::Done)?,
        TaskAction::Reopen { id } => plan::task_set(ctx, id, TaskState::Open)?,
        TaskAction::Drop { id } => plan::task_set(ctx, id, TaskState::Dropped)?,
    };
    if ui.report(&report)? {
        return Ok(());
    }
    for key in &report.released {
        ui.status(&format!("released {key}"));
    }
    ui.out(&format!("{}\n", task_line(&report.task)))
}

/// `id  state  title  [role]  (held by X | waits on A, B)`.
fn task_line(t: &TaskView) -> String {
    let state = if t.ready {
        "ready"
    } else if !t.blockers.is_empty() {
        "blocked"
    } else if t.holder.is_some() && t.state == "open" {
        "taken"
    } else {
        t.state
    };
    let mut line = format!(
        "{:<7} {} {}",
        state,
        sanitize(&t.id, false),
        sanitize(&t.title, false)
    );
    if let Some(r) = &t.role {
        line.push_str(&format!(" [{}]", sanitize(r, false)));
    }
    if let Some(h) = &t.holder {
        line.push_str(&format!(" (held by {})", sanitize(h, false)));
    }
    if !t.blockers.is_empty() {
        line.push_str(&format!(" waits on {}", sanitize(&t.blockers.join(", "), false)));
    }
    line
}

/// The plan as a tree by milestone, with state, holder and blockers
#[derive(clap::Args, Debug)]
pub struct TasksArgs {}

pub fn run_tasks(ui: &Ui, ctx: &Ctx, _args: &TasksArgs) -> Result<()> {
    let report = plan::tasks(ctx)?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.tasks.is_empty() && report.milestones.is_empty() {
        ui.status("no tasks yet; add one with `coord task add ID --title TITLE`");
        return Ok(());
    }
    let mut out = String::new();
    for m in &report.milestones {
        out.push_str(&format!(
            "{} {} {} {}/{}{}\n",
            sanitize(&m.id, false),
            sanitize(&m.title, false),
            bar(m.done, m.total, 10),
            m.done,
            m.total,
            m.due
                .as_ref()
                .map(|d| format!(" due {}", sanitize(d, false)))
                .unwrap_or_default()
        ));
        for t in report
            .tasks
            .iter()
            .filter(|t| t.milestone.as_deref() == Some(m.id.as_str()))
        {
            out.push_str(&format!("  {}\n", task_line(t)));
        }
    }
    let loose: Vec<&TaskView> = report
        .tasks
        .iter()
        .filter(|t| {
            t.milestone
                .as_ref()
                .is_none_or(|m| !report.milestones.iter().any(|x| &x.id == m))
        })
        .collect();
    if !loose.is_empty() {
        if !report.milestones.is_empty() {
            out.push_str("(no milestone)\n");
        }
        for t in loose {
            out.push_str(&format!("  {}\n", task_line(t)));
        }
    }
    ui.out(&out)
}

/// Tasks ready to take (dependencies done, nobody on them), best first
#[derive(clap::Args, Debug)]
pub struct ReadyArgs {
    /// Only tasks for this role (and those for no role)
    #[arg(long, value_name = "R", conflicts_with = "mine")]
    pub role: Option<String>,
    /// Only tasks for my session's role
    #[arg(long)]
    pub mine: bool,
}

pub fn run_ready(ui: &Ui, ctx: &Ctx, args: &ReadyArgs) -> Result<()> {
    let report = plan::ready(ctx, args.role.as_deref(), args.mine)?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.tasks.is_empty() {
        ui.status("nothing is ready: see what blocks the plan with `coord tasks`");
        return Ok(());
    }
    let mut out = String::new();
    for t in &report.tasks {
        out.push_str(&format!("{}\n", task_line(t)));
    }
    ui.out(&out)?;
    if let Some(t) = report.tasks.first() {
        ui.status(&format!(
            "take one with `{}`",
            crate::core::text::command_line(&["claim", "task", &t.id])
        ));
    }
    Ok(())
}

/// Add a milestone (or change its title and due date)
#[derive(clap::Args, Debug)]
pub struct MilestoneArgs {
    #[command(subcommand)]
    pub action: MilestoneAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum MilestoneAction {
    /// coord milestone add m1 --title "Phase 1" --due 2026-03-10
    Add {
        /// A short id: lowercase letters, digits, '-', '_', '.'
        id: String,
        /// What the milestone is, in a line
        #[arg(long)]
        title: String,
        /// YYYY-MM-DD
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
    },
}

pub fn run_milestone(ui: &Ui, ctx: &Ctx, args: &MilestoneArgs) -> Result<()> {
    let MilestoneAction::Add { id, title, due } = &args.action;
    let report = plan::milestone_add(ctx, id, title, due.as_deref())?;
    if ui.report(&report)? {
        return Ok(());
    }
    let m = &report.milestone;
    ui.out(&format!(
        "milestone {} {} {}/{}\n",
        sanitize(&m.id, false),
        bar(m.done, m.total, 10),
        m.done,
        m.total
    ))
}

/// A GO/NO-GO gate: a checklist and a decision
#[derive(clap::Args, Debug)]
pub struct GateArgs {
    #[command(subcommand)]
    pub action: GateAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum GateAction {
    /// coord gate add prod --check "tests pass" --check "backup taken" --owner lead
    Add {
        /// The gate's name (a task or reservation waits on gate:NAME)
        name: String,
        /// One item of the checklist (repeat it)
        #[arg(long = "check", value_name = "TEXT")]
        checks: Vec<String>,
        /// The role or session that decides
        #[arg(long, value_name = "ROLE|SESSION")]
        owner: Option<String>,
    },
    /// Tick check N (from 1)
    Tick {
        /// The gate's name
        name: String,
        /// The check's number, from 1, as `coord gates` lists them
        n: usize,
        /// How it was checked, for the record
        #[arg(long)]
        note: Option<String>,
    },
    /// Decide: go or no-go (the owner, or anyone with --force)
    Decide {
        /// The gate's name
        name: String,
        /// go or no-go
        #[arg(value_enum)]
        decision: Verdict,
        /// Why (required: it is journaled)
        #[arg(long)]
        note: String,
        /// Decide though you are not its owner, or GO with checks open (journaled as forced)
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Verdict {
    Go,
    NoGo,
}

pub fn run_gate(ui: &Ui, ctx: &Ctx, args: &GateArgs) -> Result<()> {
    let report = match &args.action {
        GateAction::Add { name, checks, owner } => plan::gate_add(ctx, name, checks, owner.as_deref())?,
        GateAction::Tick { name, n, note } => plan::gate_tick(ctx, name, *n, note.as_deref())?,
        GateAction::Decide {
            name,
            decision,
            note,
            force,
        } => plan::gate_decide(ctx, name, matches!(decision, Verdict::Go), note, *force)?,
    };
    if ui.report(&report)? {
        return Ok(());
    }
    ui.out(&gate_text(&report.gate))
}

fn gate_text(g: &plan::GateView) -> String {
    let mut out = format!(
        "gate {} {}{}\n",
        sanitize(&g.name, false),
        g.state.to_uppercase(),
        g.decider()
            .map(|d| format!(" ({})", sanitize(&d, false)))
            .unwrap_or_default()
    );
    for (i, c) in g.checks.iter().enumerate() {
        out.push_str(&format!(
            "  {}. [{}] {}{}\n",
            i + 1,
            if c.done { "x" } else { " " },
            sanitize(&c.text, false),
            c.by.as_ref()
                .map(|b| format!(" ({})", sanitize(b, false)))
                .unwrap_or_default()
        ));
    }
    if let Some(d) = &g.decision {
        out.push_str(&format!(
            "  decided {} by {} at {}: {}\n",
            if d.go { "GO" } else { "NO-GO" },
            sanitize(&d.by, false),
            format_time(d.at),
            sanitize(&d.note, false)
        ));
    }
    out
}

/// The gates, their checklists and decisions
#[derive(clap::Args, Debug)]
pub struct GatesArgs {}

pub fn run_gates(ui: &Ui, ctx: &Ctx, _args: &GatesArgs) -> Result<()> {
    let report = plan::gates(ctx)?;
    if ui.report(&report)? {
        return Ok(());
    }
    if report.gates.is_empty() {
        ui.status("no gates; add one with `coord gate add NAME --check TEXT`");
        return Ok(());
    }
    ui.out(&report.gates.iter().map(gate_text).collect::<String>())
}

/// Reserve a shared resource for a time window (the hub's time zone)
#[derive(clap::Args, Debug)]
pub struct ReserveArgs {
    /// What to reserve: staging, gpu-1... (a claim on resource:NAME during the window)
    pub resource: String,
    /// FROM-TO, e.g. 15:00-18:00
    pub window: String,
    /// YYYY-MM-DD (default: today)
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Every day
    #[arg(long, value_enum, value_name = "day")]
    pub every: Option<Every>,
    /// What it is for, shown with the reservation
    #[arg(long)]
    pub note: Option<String>,
    /// Gates that must be GO first (gate:NAME), comma-separated
    #[arg(long, value_name = "gate:NAME", value_delimiter = ',')]
    pub after: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Every {
    Day,
}

pub fn run_reserve(ui: &Ui, ctx: &Ctx, args: &ReserveArgs) -> Result<()> {
    let report = plan::reserve(
        ctx,
        &ReserveRequest {
            resource: args.resource.clone(),
            window: args.window.clone(),
            date: args.date.clone(),
            every_day: args.every.is_some(),
            note: args.note.clone(),
            after: args.after.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let r = &report.reservation;
    ui.out(&format!(
        "{} reserved {} {}-{} {}\n",
        r.id,
        sanitize(&r.resource, false),
        r.from,
        r.to,
        r.date.clone().unwrap_or_else(|| "every day".to_string())
    ))
}

/// Remove a reservation (yours, or anyone's with --force)
#[derive(clap::Args, Debug)]
pub struct UnreserveArgs {
    /// The reservation's id (r-...), as `coord reservations` lists it
    pub id: String,
    /// Remove another session's reservation (journaled; they are told)
    #[arg(long)]
    pub force: bool,
}

pub fn run_unreserve(ui: &Ui, ctx: &Ctx, args: &UnreserveArgs) -> Result<()> {
    let report = plan::unreserve(ctx, &args.id, args.force)?;
    if ui.report(&report)? {
        return Ok(());
    }
    ui.out(&format!("removed {}\n", report.reservation.id))
}

/// The day's reservations as a timeline
#[derive(clap::Args, Debug)]
pub struct ReservationsArgs {
    /// Only this resource's (default: every resource)
    pub resource: Option<String>,
    /// YYYY-MM-DD (default: today)
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
}

pub fn run_reservations(ui: &Ui, ctx: &Ctx, args: &ReservationsArgs) -> Result<()> {
    let report = plan::reservations(ctx, args.resource.as_deref(), args.date.as_deref())?;
    if ui.report(&report)? {
        return Ok(());
    }
    let mut out = format!("{} ({}), now {}\n", report.date, report.zone, report.now);
    if report.reservations.is_empty() {
        out.push_str("  no reservations\n");
    }
    for r in &report.reservations {
        out.push_str(&format!(
            "  {} {}-{} {} {}{}{}\n",
            sanitize(&r.resource, false),
            r.from,
            r.to,
            sanitize(&r.holder, false),
            r.id,
            if r.active { " (now)" } else { "" },
            r.note
                .as_ref()
                .map(|n| format!(": {}", sanitize(n, false)))
                .unwrap_or_default()
        ));
    }
    ui.out(&out)
}

/// Offer a claim you hold to a session or a role
#[derive(clap::Args, Debug)]
pub struct HandoffArgs {
    /// task, file, service, resource...
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// The claim's name, as you took it
    pub name: String,
    /// A session id, or @role (the first of that role to accept gets it)
    #[arg(long, value_name = "SESSION|@ROLE")]
    pub to: String,
    /// A word for the receiver, put in the offer they read
    #[arg(long)]
    pub note: Option<String>,
    /// How long the offer stands (default 1h); then the claim stays yours
    #[arg(long = "for", value_name = "DUR")]
    pub for_: Option<String>,
}

pub fn run_handoff(ui: &Ui, ctx: &Ctx, args: &HandoffArgs) -> Result<()> {
    let report = plan::handoff(
        ctx,
        &HandoffRequest {
            kind: args.kind.clone(),
            name: args.name.clone(),
            to: args.to.clone(),
            note: args.note.clone(),
            for_: args.for_.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let h = &report.handoff;
    ui.out(&format!(
        "{} offers {} to {} until {}\n",
        h.id,
        sanitize(&h.key, false),
        sanitize(&h.to, false),
        format_time(h.expires)
    ))
}

/// Take a claim handed to you (`coord handoff`)
#[derive(clap::Args, Debug)]
pub struct AcceptArgs {
    /// The handoff's id (h-...), from the offer in your inbox
    pub id: String,
}

pub fn run_accept(ui: &Ui, ctx: &Ctx, args: &AcceptArgs) -> Result<()> {
    if !args.id.starts_with("h-") {
        return Err(usage(format!(
            "{:?} is not a handoff id (they start with h-)",
            args.id
        )));
    }
    let report = plan::accept(ctx, &args.id)?;
    if ui.report(&report)? {
        return Ok(());
    }
    let token = report.claim.as_ref().map(|c| c.token).unwrap_or_default();
    ui.out(&format!(
        "accepted {} from {} (token {token})\n",
        sanitize(&report.handoff.key, false),
        sanitize(&report.handoff.from, false)
    ))
}

/// The plan in a few lines, for `status`: tasks done, what is ready,
/// milestones with their bars, gates not GO, today's reservations, open
/// handoffs. Nothing when there is no plan.
pub fn summary_lines(p: &plan::PlanSummary) -> String {
    if p.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let ready: Vec<String> = p.ready.iter().take(5).map(|t| sanitize(&t.id, false)).collect();
    let more = p.ready.len().saturating_sub(ready.len());
    out.push_str(&format!(
        "plan: {}/{} tasks done; ready: {}{}\n",
        p.done,
        p.total,
        if ready.is_empty() {
            "none".to_string()
        } else {
            ready.join(", ")
        },
        if more > 0 {
            format!(" and {more} more (`coord ready`)")
        } else {
            String::new()
        }
    ));
    for m in &p.milestones {
        out.push_str(&format!(
            "  {} {} {}/{}{}{}\n",
            sanitize(&m.id, false),
            bar(m.done, m.total, 10),
            m.done,
            m.total,
            m.due
                .as_ref()
                .map(|d| format!(" due {}", sanitize(d, false)))
                .unwrap_or_default(),
            if m.blocked.is_empty() {
                String::new()
            } else {
                format!(", {} blocked", m.blocked.len())
            }
        ));
    }
    let gates: Vec<String> = p
        .gates
        .iter()
        .map(|g| format!("{} {}", sanitize(&g.name, false), g.state.to_uppercase()))
        .collect();
    if !gates.is_empty() {
        out.push_str(&format!("  gates: {}\n", gates.join(", ")));
    }
    for r in &p.reservations {
        out.push_str(&format!(
            "  {} {} {}-{} by {}\n",
            if r.active {
                "reserved now:"
            } else {
                "reserved today:"
            },
            sanitize(&r.resource, false),
            r.from,
            r.to,
            sanitize(&r.holder, false)
        ));
    }
    for h in &p.handoffs {
        out.push_str(&format!(
            "  handoff {}: {} from {} to {} until {}\n",
            h.id,
            sanitize(&h.key, false),
            sanitize(&h.from, false),
            sanitize(&h.to, false),
            format_time(h.expires)
        ));
    }
    out
}
