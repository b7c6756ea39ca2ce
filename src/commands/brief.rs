//! `coord brief`: write CURRENT_STATE.md, the page a human lead reads.
//! Alerts first, then sessions, claims, recent messages and activity, each
//! capped with a count of the rest. The same state and the same `now` give
//! the same bytes; user text is escaped so it cannot break a table or inject
//! markup.

use std::ops::ControlFlow;

use serde::Serialize;

use super::heartbeat::describe;
use super::views::{held_claims, sessions, ClaimView, SessionView};
use crate::clock::{ago, format_time, parse_duration, short_duration, Time};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::usage;
use crate::model::{Event, Level, Message, Registry};
use crate::render::{print_json, progress_bar, write_stdout};
use crate::rules::{claim_alerts, Alert, State};
use crate::store::{Hub, EVENTS, MESSAGES, STATE};

/// (Re)write CURRENT_STATE.md, the briefing for humans
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the briefing instead of writing the file
    #[arg(long)]
    pub stdout: bool,
    /// How far back messages and activity go (default: brief.since, 24h)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true)]
    pub since: Option<String>,
}

#[derive(Serialize)]
struct Report {
    path: String,
    bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

/// Everything the page shows, gathered under one lock.
pub struct Brief {
    pub now: Time,
    pub since: chrono::Duration,
    pub alerts: Vec<Alert>,
    pub sessions: Vec<SessionView>,
    pub claims: Vec<ClaimView>,
    pub messages: Tail<Message>,
    pub events: Tail<Event>,
}

/// The newest records of a log within the window, and how many more there are.
pub struct Tail<T> {
    pub shown: Vec<T>,
    pub more: usize,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let hub = ctx.hub();
    let since = match &args.since {
        Some(s) => parse_duration(s).map_err(usage)?,
        None => hub.config.brief_since,
    };
    let markdown = hub.transact(ctx.now, |tx| {
        let brief = gather(tx.hub, &tx.reg, ctx.now, since)?;
        let text = render(&brief);
        if !args.stdout {
            tx.hub.write_atomic(STATE, text.as_bytes())?;
        }
        Ok(text)
    })?;
    let path = hub.path(STATE).display().to_string();
    if ctx.out.json {
        let bytes = markdown.len();
        let markdown = args.stdout.then_some(markdown);
        return print_json(&Report {
            path,
            bytes,
            markdown,
        });
    }
    if args.stdout {
        return write_stdout(&markdown);
    }
    ctx.out
        .status(&format!("wrote {path} ({} bytes)", markdown.len()));
    write_stdout(&format!("{path}\n"))
}

pub fn gather(hub: &Hub, reg: &Registry, now: Time, since: chrono::Duration) -> anyhow::Result<Brief> {
    let cfg: &Config = &hub.config;
    let cutoff = format_time(now - since);
    let mut alerts = message_alerts(reg, now);
    alerts.extend(claim_alerts(reg, now, cfg));
    Ok(Brief {
        now,
        since,
        alerts,
        sessions: sessions(reg, now, cfg, false),
        claims: held_claims(reg, now, cfg),
        messages: tail(hub, MESSAGES, &cutoff, cfg.max_messages, None)?,
        // Heartbeats are what the sessions table sums up; listing each one
        // would push everything else off the page.
        events: tail(
            hub,
            EVENTS,
            &cutoff,
            cfg.max_events,
            Some(b"\"kind\":\"session.heartbeat\""),
        )?,
    })
}

/// The newest `cap` records at or after `cutoff`, reading the log backwards;
/// older records in the window are counted from their `"ts"` without being
/// parsed. The log is in append order, so the scan stops at the first line
/// older than the window.
fn tail<T: serde::de::DeserializeOwned>(
    hub: &Hub,
    log: &str,
    cutoff: &str,
    cap: usize,
    skip: Option<&[u8]>,
) -> anyhow::Result<Tail<T>> {
    let mut shown = Vec::new();
    let mut more = 0;
    hub.rev_lines(log, |offset, line| {
        match line_ts(line) {
            Some(ts) if ts < cutoff.as_bytes() => return Ok(ControlFlow::Break(())),
            _ => {}
        }
        if skip.is_some_and(|s| crate::ops::contains(line, s)) {
            return Ok(ControlFlow::Continue(()));
        }
        if shown.len() < cap {
            shown.push(hub.parse_line(log, offset, line)?);
        } else {
            more += 1;
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(Tail { shown, more })
}

/// The raw `"ts"` value of a log line: every writer formats it the same way
/// (`2026-01-01T09:00:00Z`), so bytes compare like times.
fn line_ts(line: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"ts\":\"";
    // Keys are sorted and "ts" sorts last in messages and events, so the
    // time normally ends the line: `..."ts":"2026-01-01T09:00:00Z"}`.
    if let Some(head) = line.len().checked_sub(KEY.len() + 22) {
        if &line[head..head + KEY.len()] == KEY && line.ends_with(b"Z\"}") {
            return Some(&line[head + KEY.len()..line.len() - 2]);
        }
    }
    let text = std::str::from_utf8(line).ok()?;
    let at = text.rfind("\"ts\":\"")? + KEY.len();
    let len = line[at..].iter().position(|b| *b == b'"')?;
    Some(&line[at..at + len])
}

/// Open escalations, emergencies first, as alerts.
pub fn message_alerts(reg: &Registry, now: Time) -> Vec<Alert> {
    let mut list: Vec<_> = reg.escalations.iter().collect();
    list.sort_by(|a, b| {
        b.1.level
            .cmp(&a.1.level)
            .then(a.1.ts.cmp(&b.1.ts))
            .then(a.0.cmp(b.0))
    });
    list.into_iter()
        .map(|(id, e)| {
            let (kind, close) = match e.level {
                Level::Emergency => ("emergency", format!("resolve with: coord ack {id} --resolve")),
                _ => ("critical", format!("acknowledge with: coord ack {id}")),
            };
            let acked = if e.acked.is_empty() {
                "not acknowledged".to_string()
            } else {
                format!(
                    "acknowledged by {}",
                    e.acked.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            Alert {
                kind,
                target: Some(id.clone()),
                text: format!(
                    "{id} from {} to {} {}: {} ({acked}; {close})",
                    e.from,
                    e.to,
                    ago(e.ts, now),
                    e.subject
                ),
            }
        })
        .collect()
}

/// Escape user text for a Markdown table cell: one line, no markup, no HTML.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // Enough to stop every inline construct: with `<` and `[` escaped
            // no tag or link can open, so `>`, `!` and `(` stay readable.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(md).unwrap_or_default()
}

fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The page. Pure: the same `Brief` always gives the same bytes.
pub fn render(b: &Brief) -> String {
    let mut s = String::new();
    s.push_str("# Current state\n\n");
    s.push_str(&format!(
        "Generated by `coord brief` at {}. Do not edit: run `coord brief` to refresh.\n\n",
        format_time(b.now)
    ));

    s.push_str("## Alerts\n\n");
    if b.alerts.is_empty() {
        s.push_str("None.\n\n");
    } else {
        for a in &b.alerts {
            let label = a.kind.to_uppercase().replace('_', " ");
            s.push_str(&format!("- **{label}**: {}\n", md(&a.text)));
        }
        s.push('\n');
    }

    let count = |st: State| b.sessions.iter().filter(|v| v.state == st).count();
    s.push_str("## Sessions\n\n");
    s.push_str(&format!(
        "{} active, {} stale, {} gone.\n\n",
        count(State::Active),
        count(State::Stale),
        count(State::Gone)
    ));
    if !b.sessions.is_empty() {
        s.push_str("| Session | Role | State | Last seen | Doing | Progress |\n");
        s.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for v in &b.sessions {
            let mut doing = v.clone();
            doing.progress = None;
            let doing = if v.action.is_none() && v.target.is_none() && v.phase.is_none() && v.note.is_none() {
                String::new()
            } else {
                md(&describe(&doing))
            };
            let bar = match v.progress {
                Some(_) => format!("`{}`", progress_bar(v.progress)),
                None => String::new(),
            };
            s.push_str(&format!(
                "| {} | {} | {} | {} | {doing} | {bar} |\n",
                md(&v.id),
                opt(&v.role),
                v.state.as_str(),
                ago(v.last_seen, b.now)
            ));
        }
        s.push('\n');
    }

    s.push_str("## Claims\n\n");
    if b.claims.is_empty() {
        s.push_str("None.\n\n");
    } else {
        s.push_str("| Claim | Holder | Since | Time left | Token | Note |\n");
        s.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for c in &b.claims {
            let left = c.left();
            s.push_str(&format!(
                "| {} | {} | {} | {left} | {} | {} |\n",
                md(&c.key),
                opt(&c.holder),
                c.since.map(format_time).unwrap_or_default(),
                c.token,
                opt(&c.note)
            ));
        }
        s.push('\n');
    }

    let window = short_duration(b.since);
    let total = b.messages.shown.len() + b.messages.more;
    s.push_str(&format!(
        "## Messages (last {window}: {}, newest first{})\n\n",
        counted(total, "message"),
        if b.messages.more > 0 {
            format!("; {} not shown", b.messages.more)
        } else {
            String::new()
        }
    ));
    if b.messages.shown.is_empty() {
        s.push_str("None.\n\n");
    } else {
        s.push_str("| Time | From | To | Level | Subject |\n| --- | --- | --- | --- | --- |\n");
        for m in &b.messages.shown {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                format_time(m.ts),
                md(&m.from),
                md(&m.to),
                m.level.as_str(),
                md(&m.subject)
            ));
        }
        s.push('\n');
    }

    let total = b.events.shown.len() + b.events.more;
    s.push_str(&format!(
        "## Activity (last {window}: {}, newest first, heartbeats left out{})\n\n",
        counted(total, "event"),
        if b.events.more > 0 {
            format!("; {} not shown", b.events.more)
        } else {
            String::new()
        }
    ));
    if b.events.shown.is_empty() {
        s.push_str("None.\n");
    } else {
        s.push_str("| Time | Session | Event | What |\n| --- | --- | --- | --- |\n");
        for e in &b.events.shown {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                format_time(e.ts),
                opt(&e.session),
                md(&e.kind),
                md(&e.text)
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_escape_a_cell() {
        let hostile = [
            "a | b",
            "line\nbreak",
            "`code`",
            "<script>alert(1)</script>",
            "**bold** _em_ [link](http://x) ![img](y)",
            "\\| escaped pipe",
            "&lt; entity",
            "# heading",
            "\u{1b}[31mred",
        ];
        for h in hostile {
            let cell = md(h);
            assert!(!cell.contains('\n'), "{cell}");
            // Every pipe, backtick and angle bracket is escaped.
            let bytes: Vec<char> = cell.chars().collect();
            for (i, c) in bytes.iter().enumerate() {
                if matches!(c, '|' | '`' | '<' | '*' | '[' | '&') {
                    let backslashes = bytes[..i].iter().rev().take_while(|b| **b == '\\').count();
                    assert!(backslashes % 2 == 1, "unescaped {c} in {cell}");
                }
            }
            assert!(!cell.contains('\u{1b}'));
        }
    }

    #[test]
    fn ts_is_found_without_parsing() {
        let line = br#"{"from":"a","id":"m-1","ts":"2026-01-01T09:00:00Z"}"#;
        assert_eq!(line_ts(line), Some(&b"2026-01-01T09:00:00Z"[..]));
        assert_eq!(line_ts(b"{}"), None);
    }
}
