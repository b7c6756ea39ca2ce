//! `coord heartbeat`: say what this session is doing. A heartbeat that names
//! an action starts a new activity (fields not given are cleared); one without
//! an action updates only the fields given, or just says "still here".

use serde::Serialize;

use super::views::SessionView;
use crate::ctx::Ctx;
use crate::ops::{mutate, touch};
use crate::render::{print_json, write_stdout};
use crate::rules::validate;

/// Record what this session is doing (also refreshes its last-seen time)
#[derive(clap::Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// What it is doing: implementing, reviewing, testing...
    #[arg(value_name = "ACTION", allow_hyphen_values = true)]
    pub pos_action: Option<String>,
    /// What it is doing it to: a task, a file, a service
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub pos_target: Option<String>,
    /// Where in the work it is: design, build, test, review...
    #[arg(value_name = "PHASE", allow_hyphen_values = true)]
    pub pos_phase: Option<String>,
    /// How far along, 0-100 (50% accepted)
    #[arg(value_name = "PROGRESS")]
    pub pos_progress: Option<String>,
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub target: Option<String>,
    #[arg(long)]
    pub phase: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub progress: Option<String>,
    /// A free note for the team
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Serialize)]
struct Report {
    session: SessionView,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let pick = |flag: &Option<String>, pos: &Option<String>| flag.clone().or_else(|| pos.clone());
    let action = pick(&args.action, &args.pos_action);
    let target = pick(&args.target, &args.pos_target);
    let phase = pick(&args.phase, &args.pos_phase);
    for (what, value) in [("action", &action), ("target", &target), ("phase", &phase)] {
        if let Some(v) = value {
            validate::text(what, v, validate::MAX_TEXT)?;
        }
    }
    if let Some(n) = &args.note {
        validate::text("note", n, validate::MAX_NOTE)?;
    }
    let progress = pick(&args.progress, &args.pos_progress)
        .map(|p| validate::progress(&p))
        .transpose()?;
    let cfg = &ctx.hub().config;
    let view = mutate(ctx, |tx| {
        let me = ctx.me_tx(tx)?;
        touch(tx, &me);
        let now = tx.now;
        let s = tx
            .reg
            .sessions
            .get_mut(&me)
            .ok_or_else(|| anyhow::anyhow!("session {me} vanished"))?;
        if action.is_some() {
            s.action = action.clone();
            s.target = target.clone();
            s.phase = phase.clone();
            s.progress = progress;
            s.note = args.note.clone();
        } else {
            if target.is_some() {
                s.target = target.clone();
            }
            if phase.is_some() {
                s.phase = phase.clone();
            }
            if progress.is_some() {
                s.progress = progress;
            }
            if args.note.is_some() {
                s.note = args.note.clone();
            }
        }
        let view = SessionView::new(&me, s, now, cfg);
        let doing = describe(&view);
        tx.event("session.heartbeat", Some(&me), None, format!("{me}: {doing}"));
        Ok(view)
    })?;
    if ctx.out.json {
        return print_json(&Report { session: view });
    }
    write_stdout(&format!("{}: {}\n", view.id, describe(&view)))
}

/// "implementing auth (build, 40%)" or "alive".
pub fn describe(v: &SessionView) -> String {
    let mut out = String::new();
    if let Some(a) = &v.action {
        out.push_str(a);
    }
    if let Some(t) = &v.target {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    }
    let mut extra = Vec::new();
    if let Some(p) = &v.phase {
        extra.push(p.clone());
    }
    if let Some(p) = v.progress {
        extra.push(format!("{p}%"));
    }
    if !extra.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("({})", extra.join(", ")));
    }
    if let Some(n) = &v.note {
        out.push_str(&format!(" - {n}"));
    }
    if out.is_empty() {
        "alive".to_string()
    } else {
        out
    }
}
