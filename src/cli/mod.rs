//! The command-line door: parse with clap, read the environment once, open
//! the hub, call one application function, render its report, print the
//! notices, and turn an error into its exit code. The only layer that
//! prints or reads the environment.

pub mod commands;
pub mod env;
pub mod ui;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::Ctx;
use crate::core::error::{Kind, Result};
use commands::*;
use ui::Ui;

/// Coordinate many coding sessions on one repository through plain files.
#[derive(Parser, Debug)]
#[command(
    name = "coord",
    version,
    about,
    max_term_width = 100,
    after_help = "\
Workflow:
  coord start --name NAME --role ROLE     once per session (safe to repeat)
  coord claim task NAME                   before touching it; exit 3 if held
  coord heartbeat ACTION TARGET PHASE N%  as the work moves
  coord inbox                             read what others sent
  coord release --all; coord stop         when done

Examples:
  coord claim file 'src/auth/**' --for 2h
  coord send @backend \"schema changed\" \"Rebase before you push.\"
  coord status --short
  coord brief                             writes coordination/CURRENT_STATE.md"
)]
pub struct Cli {
    /// The hub folder (default: COORD_HUB, else the hub of the repository
    /// found by walking up: `.git/coord/`, or `coordination/` outside git)
    #[arg(long, global = true, value_name = "DIR")]
    pub hub: Option<PathBuf>,
    /// Act as this session (default: COORD_SESSION, else the session bound to this agent or shell)
    #[arg(long, short = 's', global = true, value_name = "ID")]
    pub session: Option<String>,
    /// Print JSON on stdout: one line off a terminal, indented on one
    /// (`--json=pretty` or `--json=compact` to choose)
    #[arg(
        long,
        global = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "auto",
        value_name = "STYLE"
    )]
    pub json: Option<ui::JsonStyle>,
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
    Renew(renew::Args),
    Send(send::Args),
    Inbox(inbox::Args),
    Ack(ack::Args),
    Brief(brief::Args),
    Log(log::Args),
    Doctor(doctor::Args),
    Whoami(whoami::Args),
    Prime(prime::Args),
    Guard(guard::Args),
    Install(guard::InstallArgs),
    Hook(hook::Args),
    Mcp(mcp::Args),
    Dashboard(dashboard::Args),
    Claims(claims::Args),
    Prune(prune::Args),
    Sync(sync::Args),
    /// Move messages and events older than a limit into monthly files under archive/
    Archive(prune::Args),
    Who(claims::WhoArgs),
    Task(plan::TaskArgs),
    Tasks(plan::TasksArgs),
    Ready(plan::ReadyArgs),
    Milestone(plan::MilestoneArgs),
    Gate(plan::GateArgs),
    Gates(plan::GatesArgs),
    Reserve(plan::ReserveArgs),
    Unreserve(plan::UnreserveArgs),
    Reservations(plan::ReservationsArgs),
    Handoff(plan::HandoffArgs),
    Accept(plan::AcceptArgs),
    Kpi(kpi::Args),
    Completions(completions::Args),
    MergeDriver(merge_driver::Args),
    Man(completions::ManArgs),
}

/// Run coord with these arguments; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    run_on(args, ui::Console::Std)
}

/// Run coord in-process and return its exit code, stdout and stderr.
pub fn run_captured(args: impl IntoIterator<Item = OsString>) -> (i32, ui::Captured) {
    let buffer = std::rc::Rc::new(std::cell::RefCell::new(ui::Captured::default()));
    let code = run_on(args, ui::Console::Buffer(buffer.clone()));
    let captured = buffer.borrow().clone();
    (code, captured)
}

thread_local! {
    /// What an in-process run reads as its stdin (`run_captured_with_input`).
    static INPUT: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// `run_captured` with `input` as stdin (what an agent tool pipes to a hook:
/// the scripted day feeds its hooks this way).
pub fn run_captured_with_input(
    args: impl IntoIterator<Item = OsString>,
    input: Vec<u8>,
) -> (i32, ui::Captured) {
    INPUT.with(|i| *i.borrow_mut() = Some(input));
    let out = run_captured(args);
    INPUT.with(|i| *i.borrow_mut() = None);
    out
}

/// Up to `limit` bytes of stdin (or of the input an in-process run was given).
pub fn read_input(limit: u64) -> std::io::Result<String> {
    use std::io::Read;
    if let Some(bytes) = INPUT.with(|i| i.borrow_mut().take()) {
        let end = bytes.len().min(limit as usize);
        return String::from_utf8(bytes[..end].to_vec())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e));
    }
    let mut text = String::new();
    std::io::stdin().take(limit).read_to_string(&mut text)?;
    Ok(text)
}

/// Run coord in-process on `hub` as `session` (when given), captured: what
/// the MCP server and the dashboard do for each call, so that they check,
/// refuse and answer exactly as the CLI does.
pub fn run_as(hub: Option<&std::path::Path>, session: Option<&str>, args: &[&str]) -> (i32, ui::Captured) {
    let mut argv: Vec<OsString> = vec!["coord".into()];
    if let Some(hub) = hub {
        argv.extend(["--hub".into(), hub.into()]);
    }
    if let Some(s) = session {
        argv.extend(["--session".into(), s.into()]);
    }
    argv.extend(args.iter().map(OsString::from));
    run_captured(argv)
}

fn run_on(args: impl IntoIterator<Item = OsString>, console: ui::Console) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    if let Some((hub, hook_args)) = hook::quick_args(&args) {
        // The agent hooks run on every tool call: their plain form skips
        // building the whole command tree (see hook::quick_args).
        let ui = Ui::detect(None, false, console);
        return match hook::run(&ui, hub, &hook_args) {
            Ok(()) => 0,
            Err(e) => ui.error(&e),
        };
    }
    // The command tree is built once (it is most of a bare start-up) and
    // serves both the stray-option check and the parse.
    let cmd = <Cli as clap::CommandFactory>::command();
    if let Some(line) = stray_option(&cmd, &args) {
        console.err_line(&line);
        return Kind::Usage.code();
    }
    let parsed = cmd
        .try_get_matches_from(args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = Ui::detect(None, false, console).out(&e.render().to_string());
            return 0;
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            console.err_line(e.render().to_string().trim_end());
            return Kind::Usage.code();
        }
        Err(e) => {
            console.err_line(&usage_line(&e));
            return Kind::Usage.code();
        }
    };
    let ui = Ui::detect(cli.json, cli.quiet, console);
    match execute(&ui, cli) {
        Ok(()) => 0,
        Err(e) => ui.error(&e),
    }
}

fn execute(ui: &Ui, cli: Cli) -> Result<()> {
    let location = env::location(cli.hub)?;
    // Commands that need no hub.
    match &cli.command {
        Command::Init(args) => return init::run(ui, &location, args),
        Command::Completions(args) => return completions::run(ui, args),
        Command::Man(args) => return completions::run_man(ui, args),
        Command::MergeDriver(args) => return merge_driver::run(ui, args),
        Command::Install(args) => return guard::run_install(ui, args),
        Command::Hook(args) => return hook::run(ui, location.flag.clone(), args),
        Command::Mcp(args) => return mcp::run(ui, location.flag.clone(), cli.session.clone(), args),
        Command::Dashboard(args) => {
            return dashboard::run(ui, location.flag.clone(), cli.session.clone(), args)
        }
        Command::Guard(_) if env::guard_off() => {
            ui.status("coord guard is off (COORD_GUARD=off): this commit was not checked");
            return Ok(());
        }
        // Outside a coord repository there is nothing to guard.
        Command::Guard(_) if location.find().is_err() => return Ok(()),
        _ => {}
    }
    // doctor opens the hub even with broken settings, which it then reports.
    let lenient = matches!(cli.command, Command::Doctor(_));
    let mut ctx = Ctx::open(&location, env::options(cli.session, lenient)?)?;
    let quiet = ui.quiet;
    let console = ui.console.clone();
    ctx.hub.on_lock_wait(move |line| {
        if !quiet {
            console.err_line(line);
        }
    });
    ctx.hub
        .set_lock_label(&format!("coord {}", command_name(&cli.command)));
    let result = dispatch(ui, &ctx, &cli.command);
    ui.notices(&ctx.take_notices());
    result
}

fn dispatch(ui: &Ui, ctx: &Ctx, command: &Command) -> Result<()> {
    match command {
        // Handled before a hub is opened.
        Command::Init(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::MergeDriver(_)
        | Command::Install(_)
        | Command::Hook(_)
        | Command::Mcp(_)
        | Command::Dashboard(_) => Ok(()),
        Command::Start(args) => start::run(ui, ctx, args),
        Command::Stop(args) => stop::run(ui, ctx, args),
        Command::Status(args) => status::run(ui, ctx, args),
        Command::Heartbeat(args) => heartbeat::run(ui, ctx, args),
        Command::Claim(args) => claim::run(ui, ctx, args),
        Command::Release(args) => release::run(ui, ctx, args),
        Command::Renew(args) => renew::run(ui, ctx, args),
        Command::Send(args) => send::run(ui, ctx, args),
        Command::Inbox(args) => inbox::run(ui, ctx, args),
        Command::Ack(args) => ack::run(ui, ctx, args),
        Command::Brief(args) => brief::run(ui, ctx, args),
        Command::Doctor(args) => doctor::run(ui, ctx, args),
        Command::Whoami(args) => whoami::run(ui, ctx, args),
        Command::Prime(args) => prime::run(ui, ctx, args),
        Command::Guard(args) => guard::run(ui, ctx, args),
        Command::Claims(args) => claims::run(ui, ctx, args),
        Command::Log(args) => log::run(ui, ctx, args),
        Command::Prune(args) => prune::run(ui, ctx, args),
        Command::Sync(args) => sync::run(ui, ctx, args),
        Command::Archive(args) => prune::run_archive(ui, ctx, args),
        Command::Who(args) => claims::run_who(ui, ctx, args),
        Command::Task(args) => plan::run_task(ui, ctx, args),
        Command::Tasks(args) => plan::run_tasks(ui, ctx, args),
        Command::Ready(args) => plan::run_ready(ui, ctx, args),
        Command::Milestone(args) => plan::run_milestone(ui, ctx, args),
        Command::Gate(args) => plan::run_gate(ui, ctx, args),
        Command::Gates(args) => plan::run_gates(ui, ctx, args),
        Command::Reserve(args) => plan::run_reserve(ui, ctx, args),
        Command::Unreserve(args) => plan::run_unreserve(ui, ctx, args),
        Command::Reservations(args) => plan::run_reservations(ui, ctx, args),
        Command::Handoff(args) => plan::run_handoff(ui, ctx, args),
        Command::Accept(args) => plan::run_accept(ui, ctx, args),
        Command::Kpi(args) => kpi::run(ui, ctx, args),
    }
}

/// The subcommand's name (never its arguments, which may be private).
fn command_name(command: &Command) -> String {
    format!("{command:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("")
        .to_lowercase()
}

/// Free-text arguments take values that start with `-` (`coord send bob
/// "-1 on that"`), so clap would store a mistyped option (`--body`,
/// `--status`) as text. Any `--word` before a bare `--` that is not an
/// option of coord or of the subcommand is refused instead.
fn stray_option(cmd: &clap::Command, args: &[OsString]) -> Option<String> {
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The subcommand is the first word that names one and is not the value
    // of a global option (`coord -s status heartbeat`: a session called
    // "status").
    let takes_value = |w: &str| matches!(w, "--hub" | "--session" | "-s");
    let sub = words
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || !takes_value(&words[i - 1]))
        .find_map(|(_, w)| cmd.get_subcommands().find(|s| s.get_name() == w.as_str()))?;
    // `coord task add ...`: the nested subcommand's options count too.
    let nested = words
        .iter()
        .find_map(|w| sub.get_subcommands().find(|s| s.get_name() == w.as_str()));
    let known: Vec<String> = cmd
        .get_arguments()
        .chain(sub.get_arguments())
        .chain(nested.into_iter().flat_map(|n| n.get_arguments()))
        .filter_map(|a| a.get_long().map(str::to_string))
        .chain(["help".to_string(), "version".to_string()])
        .collect();
    for w in words.iter().take_while(|w| w.as_str() != "--") {
        let Some(name) = w.strip_prefix("--") else {
            continue;
        };
        let name = name.split('=').next().unwrap_or("");
        let looks_like_option = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
        if looks_like_option && !known.iter().any(|k| k == name) {
            return Some(format!(
                "error: unknown option --{name} for `coord {}`; see `coord {} --help` (text that starts with -- goes after a bare `--`)",
                sub.get_name(),
                sub.get_name()
            ));
        }
    }
    None
}

/// clap's error as one line: its first sentence and where to read more.
fn usage_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    if e.kind() == clap::error::ErrorKind::MissingRequiredArgument {
        // "missing NAME; usage: coord claim TYPE NAME"
        let missing: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix('<')?.strip_suffix('>').map(str::to_string))
            .collect();
        let usage = text
            .lines()
            .find_map(|l| l.strip_prefix("Usage: "))
            .map(|u| u.replace(['<', '>'], ""))
            .unwrap_or_default();
        if !missing.is_empty() && !usage.is_empty() {
            return format!("error: missing {}; usage: {usage}", missing.join(" and "));
        }
    }
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every option and argument of every command, nested ones included,
    /// says what it does in `--help`.
    #[test]
    fn every_option_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "coord", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }

    /// The command reference (docs/commands.md) cannot drift from the
    /// binary: every command, nested ones included, is named in it as
    /// `coord COMMAND`, and each of its options appears as `--OPTION` in
    /// the section that first names it.
    #[test]
    fn the_reference_names_every_command_and_option() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md");
        let doc = std::fs::read_to_string(&path).expect("docs/commands.md");
        // Sections, split at headings.
        let mut sections: Vec<String> = vec![String::new()];
        for line in doc.lines() {
            if line.starts_with("## ") || line.starts_with("### ") {
                sections.push(String::new());
            }
            let last = sections.last_mut().expect("one section");
            last.push_str(line);
            last.push('\n');
        }
        let root = super::Cli::command();
        let global: Vec<&str> = root.get_arguments().filter_map(|a| a.get_long()).collect();
        let mut missing = Vec::new();
        fn walk(
            cmd: &clap::Command,
            path: &str,
            sections: &[String],
            global: &[&str],
            missing: &mut Vec<String>,
        ) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let name = format!("{path} {}", sub.get_name());
                // Named as `coord NAME` followed by a space, a backquote or the end of a line.
                let named = |t: &str| {
                    t.match_indices(&name).any(|(i, _)| {
                        matches!(
                            t[i + name.len()..].chars().next(),
                            None | Some(' ' | '`' | '\n' | ',')
                        )
                    })
                };
                // Its own section (a heading that names it), else the first that does.
                let own = sections.iter().find(|s| s.lines().next().is_some_and(named));
                match own.or_else(|| sections.iter().find(|s| named(s))) {
                    None => missing.push(format!("`{name}` is not in docs/commands.md")),
                    Some(section) => {
                        for a in sub.get_arguments() {
                            let Some(long) = a.get_long() else { continue };
                            if global.contains(&long) || long == "help" {
                                continue;
                            }
                            let flag = format!("--{long}");
                            if !section.contains(&flag) {
                                missing.push(format!(
                                    "`{name} {flag}` is not in its section of docs/commands.md"
                                ));
                            }
                        }
                    }
                }
                walk(sub, &name, sections, global, missing);
            }
        }
        walk(&root, "coord", &sections, &global, &mut missing);
        assert!(missing.is_empty(), "the command reference misses: {missing:#?}");
    }
}
