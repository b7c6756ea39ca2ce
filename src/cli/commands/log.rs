//! `coord log`: the journal at hand, newest last; `--follow` prints new
//! entries as they are written until Ctrl-C or a closed pipe.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::log::{appended, log, Filter, LogRequest, DEFAULT_LIMIT};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::core::model::Event;
use crate::core::text::sanitize;

/// Show the journal: what happened, who did it, newest last
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  coord log --since 2h                      what happened while I was away
  coord log --kind claim --grep task:api    who took or released task:api
  coord log --session alice --follow        alice's entries as they come")]
pub struct Args {
    /// Only entries about this session or made by it
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Only this group (session, claim, message, plan, sync, hub) or kind
    /// (claim.released); repeat for several
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only entries from this long ago on (30m, 2h, 3d)
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
    /// Only entries whose kind, target or text contains this (any case)
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// Show the newest N (0: all)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LIMIT)]
    pub limit: usize,
    /// Keep printing new entries as they are written, until Ctrl-C
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Include the archived months (archive/EVENTS-*.jsonl)
    #[arg(long)]
    pub all: bool,
}

/// Set by Ctrl-C while following.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let req = LogRequest {
        session: args.session.clone(),
        kinds: args.kind.clone(),
        since: args.since.clone(),
        grep: args.grep.clone(),
        limit: Some(args.limit),
        all: args.all,
    };
    if args.follow {
        // Ctrl-C ends the loop, and the command, with success: set before
        // anything is printed, so a reader that saw output can stop it.
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            libc::signal(libc::SIGINT, on_interrupt as *const () as libc::sighandler_t);
        }
    }
    let report = log(ctx, &req)?;
    if report.more > 0 && !ui.json {
        let n = report.more;
        let what = if n == 1 { "entry" } else { "entries" };
        ui.status(&format!("{n} older {what} not shown (--limit 0 shows all)"));
    }
    for e in &report.events {
        show(ui, e)?;
    }
    if !args.follow {
        if report.events.is_empty() && !ui.json {
            ui.status("no journal entries match");
        }
        return Ok(());
    }
    let filter = Filter::new(&req, ctx.now())?;
    let mut end = report.end;
    let mut last = report.events.last().map(|e| (e.ts, e.id.clone()));
    // Entries shown while they were in the pulse are not shown again when
    // the fold moves them into the journal.
    let mut shown: std::collections::HashSet<String> = report.events.iter().map(|e| e.id.clone()).collect();
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (new, next, rewritten) = appended(ctx, &filter, end)?;
        end = next;
        for e in new {
            // After a rewrite, only what comes after the last one shown.
            if rewritten && last.as_ref().is_some_and(|(ts, id)| (e.ts, &e.id) <= (*ts, id)) {
                continue;
            }
            if !shown.insert(e.id.clone()) {
                continue;
            }
            show(ui, &e)?;
            last = Some((e.ts, e.id.clone()));
        }
    }
    Ok(())
}

/// One entry: a JSON object a line, or `TIME KIND TEXT`.
fn show(ui: &Ui, e: &Event) -> Result<()> {
    if ui.json {
        return ui.json_line(e);
    }
    let pinned = if e.clock.as_deref() == Some(crate::store::PINNED) {
        " (pinned clock)"
    } else {
        ""
    };
    ui.out(&format!(
        "{}  {:<20} {}{pinned}\n",
        crate::core::clock::stamp::format(&e.ts),
        sanitize(&e.kind, false),
        sanitize(&e.text, false)
    ))
}
