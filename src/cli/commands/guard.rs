//! `coord guard` (the pre-commit check) and `coord install git` (the hook
//! that runs it).

use crate::app::claims::{guard, GuardReport};
use crate::app::install::{install_agents_md, install_git};
use crate::app::install_agent::{install_agent, Tool};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::{conflict, usage, Result};
use crate::core::text::{command_line, sanitize, shell_line};
use crate::store::git;

/// Refuse a commit that stages files inside other sessions' live file claims (run by the pre-commit hook)
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(ui: &Ui, ctx: &Ctx, _args: &Args) -> Result<()> {
    let cwd = crate::cli::env::location(None)?.cwd;
    let paths = git::staged(&cwd)?;
    let report = guard(ctx, &paths)?;
    if report.blocked.is_empty() {
        return if ui.json { ui.json(&report) } else { Ok(()) };
    }
    // A refusal is an error; in JSON its details are the report.
    let details = serde_json::to_value(&report).unwrap_or_default();
    Err(refusal(&report).details(details))
}

fn refusal(r: &GuardReport) -> crate::core::error::CoordError {
    let mut lines = Vec::new();
    let mut first_holder = None;
    for b in &r.blocked {
        let holders: Vec<String> = b
            .claims
            .iter()
            .map(|c| {
                let holder = c.holder.as_deref().unwrap_or("?");
                first_holder.get_or_insert_with(|| holder.to_string());
                format!(
                    "{} ({}, {})",
                    sanitize(holder, false),
                    sanitize(&c.key, false),
                    c.left()
                )
            })
            .collect();
        lines.push(format!(
            "{} is claimed by {}",
            sanitize(&b.path, false),
            holders.join(", ")
        ));
    }
    let holder = first_holder.unwrap_or_default();
    let ask = command_line(&["send", &holder, &format!("may I commit {}?", r.blocked[0].path)]);
    let mut e = conflict(format!(
        "commit refused: {} staged file{} inside other sessions' claims",
        r.blocked.len(),
        if r.blocked.len() == 1 { " is" } else { "s are" }
    ));
    for l in lines {
        e = e.hint(l);
    }
    e.hint(format!("ask the holder: {ask}"))
        .hint(format!(
            "or unstage: {}",
            shell_line(&["git", "restore", "--staged", "--", &r.blocked[0].path])
        ))
        .hint("or bypass once: COORD_GUARD=off git commit ..., or git commit --no-verify")
}

/// Wire coord in: `git` (the pre-commit guard), `agents-md` (a section of AGENTS.md), `claude`, `codex`, `cursor` (their hooks)
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// What to wire coord into
    #[arg(value_enum)]
    pub target: Target,
    /// Remove coord's part and put back what it replaced
    #[arg(long)]
    pub uninstall: bool,
    /// claude: write .claude/settings.local.json (yours alone) instead of .claude/settings.json
    #[arg(long)]
    pub local: bool,
    /// claude, codex, cursor: the role of the sessions the hooks register
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// codex: write nothing; ask Codex whether it will run coord's hooks here (exit 1 if not)
    #[arg(long, conflicts_with_all = ["uninstall", "trust"])]
    pub check: bool,
    /// codex: also trust this project and coord's hooks in Codex (through `codex app-server`)
    #[arg(long, conflicts_with = "uninstall")]
    pub trust: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Target {
    /// The pre-commit hook that runs `coord guard`
    Git,
    /// coord's marked section of AGENTS.md (the protocol, for any agent)
    AgentsMd,
    /// Claude Code's hooks, in .claude/settings.json
    Claude,
    /// Codex's hooks, in .codex/hooks.json
    Codex,
    /// Cursor's hooks, in .cursor/hooks.json
    Cursor,
}

pub fn run_install(ui: &Ui, args: &InstallArgs) -> Result<()> {
    let cwd = crate::cli::env::location(None)?.cwd;
    let exe = std::env::current_exe()
        .map_err(|e| crate::core::error::failure(format!("cannot find coord's own path: {e}")))?;
    if args.local && !matches!(args.target, Target::Claude) {
        return Err(usage(
            "--local is for `coord install claude` only (.claude/settings.local.json)",
        ));
    }
    if args.role.is_some() && matches!(args.target, Target::Git | Target::AgentsMd) {
        return Err(usage(
            "--role is for the agent tools' hooks: `coord install claude|codex|cursor --role ROLE`",
        ));
    }
    if (args.check || args.trust) && !matches!(args.target, Target::Codex) {
        return Err(usage(
            "--check and --trust are for `coord install codex` (Codex's trust in its hooks)",
        ));
    }
    if args.check {
        return codex_trust(ui, &cwd, false, true);
    }
    let report = match args.target {
        Target::Git => install_git(&cwd, &exe, args.uninstall)?,
        Target::AgentsMd => install_agents_md(&cwd, args.uninstall)?,
        Target::Claude => install_agent(
            &cwd,
            Tool::Claude,
            args.local,
            args.role.as_deref(),
            args.uninstall,
        )?,
        Target::Codex => install_agent(&cwd, Tool::Codex, false, args.role.as_deref(), args.uninstall)?,
        Target::Cursor => install_agent(&cwd, Tool::Cursor, false, args.role.as_deref(), args.uninstall)?,
    };
    if ui.report(&report)? {
        return Ok(());
    }
    let chained = match &report.chained {
        Some(p) if args.uninstall => format!("; {} is back in place", p.display()),
        Some(p) => format!("; it runs {} after its check", p.display()),
        None => String::new(),
    };
    ui.status(&format!("{} {}{chained}", report.action, report.path.display()));
    if matches!(args.target, Target::Claude | Target::Codex | Target::Cursor) && !args.uninstall {
        if let Some(warning) = crate::app::install_agent::login_path_warning(&exe) {
            ui.alert(&warning);
        }
    }
    if matches!(args.target, Target::Codex) && !args.uninstall {
        return codex_trust(ui, &cwd, args.trust, args.trust);
    }
    Ok(())
}

/// Ask Codex whether it will run coord's hooks here (and with `trust`,
/// trust them first). `strict`: not ready is an error (exit 1); else only
/// said, with the next step.
fn codex_trust(ui: &Ui, cwd: &std::path::Path, trust: bool, strict: bool) -> Result<()> {
    use crate::app::codex_trust::{check, program};
    use crate::app::install_agent::{codex_events, hooks_file, Tool};
    let (top, file) = hooks_file(cwd, Tool::Codex, false);
    let next = "run `coord install codex --trust`, or start `codex` here, trust the project and review coord's hooks with /hooks";
    let Some(codex) = program() else {
        let e = crate::core::error::failure(
            "codex is not on PATH, so coord cannot ask it whether it trusts this project and coord's hooks",
        )
        .hint("install Codex, then run `coord install codex --check`");
        if strict {
            return Err(e);
        }
        ui.status(&format!(
            "note: {}; {}",
            e.message,
            e.hint_text().unwrap_or_default()
        ));
        return Ok(());
    };
    if !file.is_file() {
        return Err(crate::core::error::not_found(format!(
            "{} is missing: coord's hooks are not installed here",
            file.display()
        ))
        .hint("run `coord install codex`"));
    }
    let state = check(&codex, &top, &file, trust)?;
    if ui.json && !trust && strict {
        // `--check`: the state is the answer (after an install, the
        // install's report was).
        ui.json(&state)?;
    }
    let line = state.summary(codex_events());
    if state.ready {
        ui.status(&line);
        return Ok(());
    }
    if strict {
        return Err(crate::core::error::failure(line).hint(next));
    }
    ui.alert(&format!("{line}: {next}"));
    Ok(())
}
