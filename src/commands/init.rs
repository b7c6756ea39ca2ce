//! `coord init`: create the hub, or fill in whatever files it lacks. Never
//! touches a file that exists.

use serde::Serialize;

use crate::config::{Durability, DEFAULT_TOML};
use crate::ctx::Ctx;
use crate::model::{sorted_json_pretty, Registry};
use crate::render::{print_json, write_stdout};
use crate::store::{self, EVENTS, GITATTRIBUTES, GITIGNORE, LOCK, MESSAGES, REGISTRY};

/// Create the hub (idempotent: only missing files are written)
#[derive(clap::Args, Debug)]
pub struct Args {}

#[derive(Serialize)]
struct Report {
    hub: String,
    created: Vec<String>,
}

pub fn run(ctx: &Ctx, _args: &Args) -> anyhow::Result<()> {
    let loc = store::locate(ctx.hub_flag.as_deref(), ctx.hub_env.as_deref(), &ctx.cwd, true)?;
    let dir = loc.dir;
    std::fs::create_dir_all(&dir).map_err(|e| {
        crate::error::hub(format!(
            "cannot create the hub folder {}: {e}; check permissions or pass --hub DIR",
            dir.display()
        ))
    })?;
    // Two inits at once must not both write: take the hub lock first.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK))?;
    fs2::FileExt::lock_exclusive(&lock)?;
    let registry = sorted_json_pretty(&Registry::new()) + "\n";
    let files: [(&str, &str); 6] = [
        (REGISTRY, &registry),
        (MESSAGES, ""),
        (EVENTS, ""),
        (crate::config::FILE, DEFAULT_TOML),
        (".gitignore", GITIGNORE),
        (".gitattributes", GITATTRIBUTES),
    ];
    let mut created = Vec::new();
    for (name, text) in files {
        if !dir.join(name).exists() {
            store::write_atomic(&dir, name, text.as_bytes(), Durability::Full)?;
            created.push(name.to_string());
        }
    }
    drop(lock);
    let hub = dir.display().to_string();
    if ctx.out.json {
        return print_json(&Report { hub, created });
    }
    if created.is_empty() {
        ctx.out.status(&format!("hub already at {hub}; nothing to do"));
    } else {
        ctx.out.status(&format!(
            "created hub at {hub}; next: `coord start --name NAME --role ROLE`"
        ));
    }
    write_stdout(&format!("{hub}\n"))
}
