//! Keeping the hub small over months: `prune` forgets ended and gone
//! sessions and released claims (tokens keep their floor); `archive` moves
//! old messages and events into monthly files under `archive/`.

use serde::Serialize;

use super::Ctx;
use crate::core::clock::parse_duration;
use crate::core::error::Result;
use crate::core::rules::claims::{self, Pruned};
use crate::core::rules::Effects;
use crate::store::Archived;

#[derive(Debug, Clone, Default)]
pub struct PruneRequest {
    /// As typed; default: `prune.older_than` (30d).
    pub older_than: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PruneReport {
    #[serde(flatten)]
    pub pruned: Pruned,
}

pub fn prune(ctx: &Ctx, req: &PruneRequest) -> Result<PruneReport> {
    let cfg = &ctx.hub.config;
    let age = match &req.older_than {
        Some(t) => parse_duration(t)?,
        None => cfg.prune_older_than,
    };
    let pruned = ctx.mutate(|tx| {
        let mut fx = Effects::default();
        let pruned = claims::prune(&mut tx.reg, tx.now - age, tx.now, cfg, &mut fx);
        tx.apply(fx);
        Ok(pruned)
    })?;
    Ok(PruneReport { pruned })
}

#[derive(Debug, Serialize)]
pub struct ArchiveReport {
    #[serde(flatten)]
    pub archived: Archived,
}

pub fn archive(ctx: &Ctx, req: &PruneRequest) -> Result<ArchiveReport> {
    let age = match &req.older_than {
        Some(t) => parse_duration(t)?,
        None => ctx.hub.config.prune_older_than,
    };
    let cfg = &ctx.hub.config;
    let archived = ctx.mutate(|tx| {
        let now = tx.now;
        let live: Vec<String> = tx
            .reg
            .sessions
            .iter()
            .filter(|(_, s)| crate::core::rules::state(s, now, cfg).is_live())
            .map(|(id, _)| id.clone())
            .collect();
        let live: Vec<&str> = live.iter().map(String::as_str).collect();
        let done = tx.archive(tx.now - age, &live)?;
        if done.messages + done.events > 0 {
            let mut fx = Effects::default();
            fx.0.push(crate::core::rules::Effect::Event(
                crate::core::rules::EventDraft {
                    id: None,
                    kind: "hub.archived",
                    session: None,
                    target: None,
                    text: format!(
                        "moved {} messages and {} events older than {} to {}",
                        done.messages,
                        done.events,
                        crate::core::clock::short_duration(age),
                        done.files.join(", ")
                    ),
                    token: None,
                },
            ));
            tx.apply(fx);
        }
        Ok(done)
    })?;
    Ok(ArchiveReport { archived })
}
