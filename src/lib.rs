//! coord: many agent sessions on one repository, coordinated through a
//! folder of plain files. `run` is the whole program; `main.rs` only maps its
//! result to an exit code, so tests and examples can use the same code.

pub mod clock;
pub mod commands;
pub mod config;
pub mod ctx;
pub mod error;
pub mod identity;
pub mod ids;
pub mod model;
pub mod ops;
pub mod render;
pub mod rules;
pub mod store;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::commands::*;
use crate::ctx::Ctx;
use crate::error::Kind;
use crate::render::Out;

/// Coordinate many coding sessions on one repository through plain files.
#[derive(Parser, Debug)]
#[command(name = "coord", version, about, max_term_width = 100)]
pub struct Cli {
    /// The hub folder (default: COORD_HUB, else `coordination/` found by walking up)
    #[arg(long, global = true, value_name = "DIR")]
    pub hub: Option<PathBuf>,
    /// Act as this session (default: COORD_SESSION, else the session started from this agent or shell)
    #[arg(long, short = 's', global = true, value_name = "ID")]
    pub session: Option<String>,
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// Print no status lines on stderr (errors and emergencies still show)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Init(init::Args),
    Start(start::Args),
    Stop(stop::Args),
    Status(status::Args),
    Heartbeat(heartbeat::Args),
    Claim(claim::Args),
    Release(release::Args),
    Send(send::Args),
    Inbox(inbox::Args),
    Ack(ack::Args),
    Brief(brief::Args),
    Doctor(doctor::Args),
}

/// Run coord with these arguments; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return 0;
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return Kind::Usage.code();
        }
        Err(e) => {
            eprintln!("{}", usage_line(&e));
            return Kind::Usage.code();
        }
    };
    let out = Out::detect(cli.json, cli.quiet);
    let mut ctx = match Ctx::new(cli.hub.clone(), cli.session.clone(), out) {
        Ok(ctx) => ctx,
        Err(e) => return report(&e, &out),
    };
    let result = dispatch(&mut ctx, &cli.command);
    ctx.flush_banner();
    match result {
        Ok(()) => 0,
        Err(e) => report(&e, &out),
    }
}

fn dispatch(ctx: &mut Ctx, command: &Command) -> anyhow::Result<()> {
    // Every command but init needs an existing hub; doctor opens it even
    // with broken settings, which it then reports.
    if !matches!(command, Command::Init(_)) {
        ctx.open_hub(matches!(command, Command::Doctor(_)))?;
    }
    let ctx = &*ctx;
    match command {
        Command::Init(args) => init::run(ctx, args),
        Command::Start(args) => start::run(ctx, args),
        Command::Stop(args) => stop::run(ctx, args),
        Command::Status(args) => status::run(ctx, args),
        Command::Heartbeat(args) => heartbeat::run(ctx, args),
        Command::Claim(args) => claim::run(ctx, args),
        Command::Release(args) => release::run(ctx, args),
        Command::Send(args) => send::run(ctx, args),
        Command::Inbox(args) => inbox::run(ctx, args),
        Command::Ack(args) => ack::run(ctx, args),
        Command::Brief(args) => brief::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args),
    }
}

/// clap's error as one line: its first sentence and where to read more.
fn usage_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("error: invalid command line")
        .trim_end();
    let tip = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
        .map(|t| format!("; {t}"))
        .unwrap_or_default();
    let usage = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .and_then(|u| u.split_whitespace().nth(1))
        .filter(|sub| !sub.starts_with('[') && !sub.starts_with('<'))
        .map(|sub| format!("coord {sub} --help"))
        .unwrap_or_else(|| "coord --help".to_string());
    format!("{first}{tip}; see `{usage}`")
}

#[derive(Serialize)]
struct ErrorReport<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: i32,
    kind: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

/// Print an error as one line on stderr (and as JSON on stdout with
/// `--json`); return its exit code.
fn report(err: &anyhow::Error, out: &Out) -> i32 {
    let kind = error::kind_of(err);
    let known = error::find(err);
    let line = match known {
        Some(e) if err.chain().count() == 1 => e.to_string(),
        _ => format!("{err:#}"),
    };
    eprintln!("error: {line}");
    if out.json {
        let report = ErrorReport {
            error: ErrorBody {
                code: kind.code(),
                kind: kind.name(),
                message: known
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| format!("{err:#}")),
                hint: known.and_then(|e| e.hint.as_deref()),
                details: known.and_then(|e| e.details.as_ref()),
            },
        };
        let _ = render::print_json(&report);
    }
    kind.code()
}
