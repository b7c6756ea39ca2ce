//! `coord release`: give a claim back, or all of this session's claims.

use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::{conflict, not_found, usage};
use crate::model::Claim;
use crate::ops::{mutate, release, touch};
use crate::render::{print_json, write_stdout};
use crate::rules::{glob, validate};

/// Give claims back: `release TYPE NAME`, or `release --all`
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "TYPE", required_unless_present = "all")]
    pub kind: Option<String>,
    #[arg(required_unless_present = "all")]
    pub name: Option<String>,
    /// Release every claim this session holds
    #[arg(long, conflicts_with_all = ["kind", "name"])]
    pub all: bool,
}

#[derive(Serialize)]
struct Report {
    released: Vec<String>,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<()> {
    let wanted = match (&args.kind, &args.name) {
        (Some(kind), Some(name)) => {
            validate::claim_type(kind)?;
            validate::text("claim name", name, validate::MAX_TEXT)?;
            let name = if kind == "file" {
                glob::normalize(name)?
            } else {
                validate::no_padding("claim name", name)?;
                name.clone()
            };
            Some(Claim::key(kind, &name))
        }
        _ if args.all => None,
        _ => return Err(usage("release needs TYPE and NAME, or --all").into()),
    };
    let released = mutate(ctx, |tx| {
        let me = ctx.me_tx(tx)?;
        let keys: Vec<String> = match &wanted {
            None => tx
                .reg
                .claims
                .iter()
                .filter(|(_, c)| c.holder.as_deref() == Some(me.as_str()))
                .map(|(k, _)| k.clone())
                .collect(),
            Some(key) => match tx.reg.claims.get(key).and_then(|c| c.holder.clone()) {
                Some(h) if h == me => vec![key.clone()],
                Some(h) => {
                    return Err(conflict(format!("{key} is held by {h}, not by you ({me})"))
                        .hint(format!(
                            "only {h} can release it; ask with `coord send {h} SUBJECT`"
                        ))
                        .into())
                }
                None => {
                    return Err(not_found(format!("you ({me}) do not hold {key}"))
                        .hint("see your claims with `coord status`")
                        .into())
                }
            },
        };
        touch(tx, &me);
        for key in &keys {
            release(tx, key, &me, "claim.released", &format!("released by {me}"));
        }
        Ok(keys)
    })?;
    if ctx.out.json {
        return print_json(&Report { released });
    }
    if released.is_empty() {
        ctx.out.status("you held no claims; nothing released");
    }
    let mut text = String::new();
    for key in &released {
        text.push_str(&format!("released {key}\n"));
    }
    write_stdout(&text)
}
