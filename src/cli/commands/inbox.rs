//! `coord inbox`: this session's unread messages, then marked read.

use crate::app::inbox::{inbox, InboxRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::clock::format_time;
use crate::core::error::Result;
use crate::core::model::Message;
use crate::core::text::sanitize;

/// Show unread messages for this session, then mark them read
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show read messages too (scans the whole log)
    #[arg(long)]
    pub all: bool,
    /// Do not mark anything read
    #[arg(long)]
    pub peek: bool,
    /// At most N messages (default: all; the oldest unread first, with --all the newest)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// If nothing is unread, wait this long for a message (default: do not wait; exit 6 if none comes)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub wait: Option<String>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let report = inbox(
        ctx,
        &InboxRequest {
            all: args.all,
            peek: args.peek,
            limit: args.limit,
            wait: args.wait.clone(),
            activity: None,
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let text: String = report
        .messages
        .iter()
        .map(|item| format_message(&item.message, item.unread && args.all))
        .collect();
    ui.out(&text)?;
    let shown = report.messages.iter().filter(|m| m.unread).count();
    let verb = if args.peek { "left unread" } else { "marked read" };
    let more = if report.remaining > 0 && !args.peek {
        format!("; {} more unread, run `coord inbox` again", report.remaining)
    } else {
        String::new()
    };
    if shown == 0 {
        ui.status(if args.all {
            "none of them unread"
        } else {
            "no unread messages"
        });
    } else {
        ui.status(&format!("{shown} unread shown, {verb}{more}"));
    }
    Ok(())
}

/// `m-... 2026-...Z alice -> bob [warning] Subject` and the body indented.
pub fn format_message(m: &Message, mark_unread: bool) -> String {
    let mut s = format!(
        "{}{} {} {} -> {} [{}] {}",
        if mark_unread { "* " } else { "" },
        sanitize(&m.id, false),
        format_time(m.ts),
        sanitize(&m.from, false),
        sanitize(&m.to, false),
        m.level.as_str(),
        sanitize(&m.subject, false)
    );
    if let Some(r) = &m.reply_to {
        s.push_str(&format!(" (reply to {})", sanitize(r, false)));
    }
    s.push('\n');
    for line in sanitize(&m.body, true).lines() {
        s.push_str("    ");
        s.push_str(line);
        s.push('\n');
    }
    s
}
