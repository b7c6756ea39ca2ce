//! `coord stop`: end this session and give back everything it holds.

use serde::Serialize;

use crate::ctx::Ctx;
use crate::ops::{mutate, release};
use crate::render::{print_json, write_stdout};

/// End this session and release its claims
#[derive(clap::Args, Debug)]
pub struct Args {}

#[derive(Serialize)]
struct Report {
    session: String,
    released: Vec<String>,
}

pub fn run(ctx: &Ctx, _args: &Args) -> anyhow::Result<()> {
    let report = mutate(ctx, |tx| {
        let me = ctx.me_tx(tx)?;
        let held: Vec<String> = tx
            .reg
            .claims
            .iter()
            .filter(|(_, c)| c.holder.as_deref() == Some(me.as_str()))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &held {
            release(
                tx,
                key,
                &me,
                "claim.released",
                &format!("released by {me} (session ended)"),
            );
        }
        let now = tx.now;
        if let Some(s) = tx.reg.sessions.get_mut(&me) {
            s.ended = Some(now);
            s.last_seen = now;
        }
        tx.bindings_mut()?.sessions.remove(&me);
        tx.event("session.ended", Some(&me), None, format!("{me} ended"));
        Ok(Report {
            session: me,
            released: held,
        })
    })?;
    if ctx.out.json {
        return print_json(&report);
    }
    let claims = match report.released.len() {
        0 => "it held no claims".to_string(),
        n => format!(
            "released {n} claim{}: {}",
            if n == 1 { "" } else { "s" },
            report.released.join(", ")
        ),
    };
    ctx.out
        .status(&format!("ended session {}; {claims}", report.session));
    write_stdout(&format!("{}\n", report.session))
}
