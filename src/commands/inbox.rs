//! `coord inbox`: this session's unread messages, then marked read.
//!
//! Read state is a byte-offset cursor into MESSAGES.jsonl kept on the
//! session, so reading costs what arrived since the last read, not the log's
//! size. The line that ends at the cursor is checked on every use; if the log
//! was rewritten (a git merge), the cursor is found again by that line's id,
//! and failing that by its timestamp.

use std::time::Instant;

use serde::Serialize;

use crate::clock::{format_time, Time};
use crate::ctx::Ctx;
use crate::error::{timeout, usage};
use crate::model::{Cursor, Message, Registry};
use crate::ops::{contains, mutate, touch};
use crate::render::{print_json, sanitize, write_stdout};
use crate::store::{Hub, MESSAGES};

/// Show unread messages for this session, then mark them read
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show read messages too (scans the whole log)
    #[arg(long)]
    pub all: bool,
    /// Do not mark anything read
    #[arg(long)]
    pub peek: bool,
    /// At most N messages (the oldest unread first; with --all, the newest)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// If nothing is unread, wait this long for a message (exit 6 if none)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub wait: Option<String>,
}

#[derive(Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub message: Message,
    pub unread: bool,
}

#[derive(Serialize)]
struct Report {
    session: String,
    messages: Vec<Item>,
    /// Unread messages left after this read (because of --limit or --peek).
    remaining: usize,
}

/// Unread messages for one session, oldest first, each with where its line
/// ends, plus where the scan ended.
pub struct Unread {
    pub items: Vec<(Message, Cursor)>,
    pub end: Option<Cursor>,
}

/// Where reading starts for `me`, and a timestamp floor when the cursor
/// could only be recovered approximately.
fn start(hub: &Hub, cursor: Option<&Cursor>) -> anyhow::Result<(u64, Option<Time>)> {
    let Some(c) = cursor else { return Ok((0, None)) };
    let Some(id) = &c.id else { return Ok((0, None)) };
    if c.len > 0 && c.offset >= c.len {
        if let Some(bytes) = hub.read_at(MESSAGES, c.offset - c.len, c.len)? {
            let needle = format!("\"id\":\"{id}\"");
            if bytes.last() == Some(&b'\n') && contains(&bytes, needle.as_bytes()) {
                return Ok((c.offset, None));
            }
        }
    }
    // The log changed under the cursor: find the line again by id.
    let chunk = hub.read_lines_from(MESSAGES, 0)?;
    let needle = format!("\"id\":\"{id}\"");
    for (offset, line) in chunk.lines() {
        if contains(line, needle.as_bytes()) {
            return Ok((offset + line.len() as u64 + 1, None));
        }
    }
    Ok((0, c.ts))
}

/// The unread messages for `me` (escalations it acknowledged are skipped).
pub fn unread(hub: &Hub, reg: &Registry, me: &str) -> anyhow::Result<Unread> {
    let cursor = reg.sessions.get(me).and_then(|s| s.cursor.as_ref());
    let (from, floor) = start(hub, cursor)?;
    let chunk = hub.read_lines_from(MESSAGES, from)?;
    let mine = format!("\"{me}\"");
    let mut items = Vec::new();
    let mut last = None;
    for (offset, line) in chunk.lines() {
        let here = offset + line.len() as u64 + 1;
        // Lines that cannot be for `me` are skipped unparsed, except the last
        // one, which the new cursor must name.
        let candidate = contains(line, b"\"broadcast\"") || contains(line, mine.as_bytes());
        if !candidate && here < chunk.end() {
            continue;
        }
        let m: Message = hub.parse_line(MESSAGES, offset, line)?;
        let at = Cursor {
            offset: here,
            id: Some(m.id.clone()),
            len: line.len() as u64 + 1,
            ts: Some(m.ts),
        };
        let acked = reg
            .escalations
            .get(&m.id)
            .is_some_and(|e| e.acked.contains_key(me));
        if candidate && m.addressed_to(me) && floor.is_none_or(|f| m.ts > f) && !acked {
            items.push((m, at.clone()));
        }
        last = Some(at);
    }
    Ok(Unread { items, end: last })
}

pub fn unread_count(hub: &Hub, reg: &Registry, me: &str) -> anyhow::Result<usize> {
    Ok(unread(hub, reg, me)?.items.len())
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let deadline = crate::clock::deadline(args.wait.as_deref())?;
    if args.limit == Some(0) {
        return Err(usage("--limit 0 shows nothing; give 1 or more, or leave it out for all").into());
    }
    let hub = ctx.hub();
    loop {
        let seen_len = hub.log_len(MESSAGES);
        let report = if args.peek {
            hub.read(|reg| {
                let me = ctx.me_read(reg)?;
                Ok(read_with_cursor(hub, reg, &me, args)?.0)
            })?
        } else {
            mutate(ctx, |tx| {
                let me = ctx.me_tx(tx)?;
                let (report, cursor) = read_with_cursor(hub, &tx.reg, &me, args)?;
                touch(tx, &me);
                if let (Some(c), Some(s)) = (cursor, tx.reg.sessions.get_mut(&me)) {
                    s.cursor = Some(c);
                }
                Ok(report)
            })?
        };
        let got_some = report.messages.iter().any(|m| m.unread);
        match deadline {
            Some(d) if !got_some => {
                if Instant::now() >= d {
                    return Err(timeout(format!(
                        "no message arrived for {} within {}",
                        report.session,
                        args.wait.as_deref().unwrap_or("")
                    ))
                    .hint("run `coord inbox --wait 5m` again to keep waiting")
                    .into());
                }
                while hub.log_len(MESSAGES) == seen_len && Instant::now() < d {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
            _ => return print(ctx, &report, args),
        }
    }
}

fn read_with_cursor(
    hub: &Hub,
    reg: &Registry,
    me: &str,
    args: &Args,
) -> anyhow::Result<(Report, Option<Cursor>)> {
    let pending = unread(hub, reg, me)?;
    let take = args.limit.unwrap_or(usize::MAX).min(pending.items.len());
    // All unread shown: read up to the end; else up to the last one shown.
    let cursor = if take == pending.items.len() {
        pending.end.clone()
    } else {
        Some(pending.items[take - 1].1.clone())
    };
    let report = report_from(hub, me, pending, args, take)?;
    Ok((report, cursor))
}

fn report_from(hub: &Hub, me: &str, pending: Unread, args: &Args, take: usize) -> anyhow::Result<Report> {
    let total = pending.items.len();
    let remaining = if args.peek { total } else { total - take };
    let messages: Vec<Item> = if args.all {
        let unread_ids: std::collections::HashSet<String> =
            pending.items.iter().map(|(m, _)| m.id.clone()).collect();
        let chunk = hub.read_lines_from(MESSAGES, 0)?;
        let mut all = Vec::new();
        for (offset, line) in chunk.lines() {
            let m: Message = hub.parse_line(MESSAGES, offset, line)?;
            if m.addressed_to(me) || m.from == me {
                let unread = unread_ids.contains(&m.id);
                all.push(Item { message: m, unread });
            }
        }
        let skip = all.len().saturating_sub(args.limit.unwrap_or(usize::MAX));
        all.into_iter().skip(skip).collect()
    } else {
        pending
            .items
            .into_iter()
            .take(take)
            .map(|(message, _)| Item {
                message,
                unread: true,
            })
            .collect()
    };
    Ok(Report {
        session: me.to_string(),
        messages,
        remaining,
    })
}

fn print(ctx: &Ctx, report: &Report, args: &Args) -> anyhow::Result<()> {
    if ctx.out.json {
        return print_json(report);
    }
    let mut text = String::new();
    for item in &report.messages {
        text.push_str(&format_message(&item.message, item.unread && args.all));
    }
    write_stdout(&text)?;
    let shown = report.messages.iter().filter(|m| m.unread).count();
    let verb = if args.peek { "left unread" } else { "marked read" };
    let more = if report.remaining > 0 && !args.peek {
        format!("; {} more unread, run `coord inbox` again", report.remaining)
    } else {
        String::new()
    };
    if shown == 0 && !args.all {
        ctx.out.status("no unread messages");
    } else {
        ctx.out.status(&format!("{shown} unread shown, {verb}{more}"));
    }
    Ok(())
}

/// `m-... 2026-...Z alice -> bob [warning] Subject` and the body indented.
pub fn format_message(m: &Message, mark_unread: bool) -> String {
    let mut s = format!(
        "{}{} {} {} -> {} [{}] {}",
        if mark_unread { "* " } else { "" },
        m.id,
        format_time(m.ts),
        m.from,
        sanitize(&m.to, false),
        m.level.as_str(),
        sanitize(&m.subject, false)
    );
    if let Some(r) = &m.reply_to {
        s.push_str(&format!(" (reply to {r})"));
    }
    s.push('\n');
    for line in sanitize(&m.body, true).lines() {
        s.push_str("    ");
        s.push_str(line);
        s.push('\n');
    }
    s
}
