//! `coord init`: create the hub, or fill in whatever files it lacks. Never
//! touches a file that exists.

use serde::Serialize;

use crate::ctx::Ctx;
use crate::render::{print_json, write_stdout};
use crate::store;

/// Create the hub (idempotent: only missing files are written)
#[derive(clap::Args, Debug)]
pub struct Args {}

#[derive(Serialize)]
struct Report {
    hub: String,
    created: Vec<String>,
}

pub fn run(ctx: &Ctx, _args: &Args) -> anyhow::Result<()> {
    let dir = store::locate(ctx.hub_flag.as_deref(), ctx.hub_env.as_deref(), &ctx.cwd, true)?;
    let created = store::create(&dir)?;
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
