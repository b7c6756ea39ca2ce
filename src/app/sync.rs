//! Carry the hub through a git remote: `coord sync [--remote NAME]`.

use serde::Serialize;

use super::brief::{gather, render};
use super::Ctx;
use crate::core::error::Result;
use crate::store::{SyncPlan, Synced};

#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    /// Default: `origin`.
    pub remote: Option<String>,
    /// Default: `sync.branch` in coord.toml (`coord`).
    pub branch: Option<String>,
    /// Remote commits whose state is not taken (a broken or hostile push).
    pub skip: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SyncReport {
    #[serde(flatten)]
    pub synced: Synced,
}

pub fn sync(ctx: &Ctx, req: &SyncRequest) -> Result<SyncReport> {
    let remote = req.remote.clone().unwrap_or_else(|| "origin".to_string());
    let branch = req
        .branch
        .clone()
        .unwrap_or_else(|| ctx.hub.config.sync_branch.clone());
    crate::core::rules::validate::text("branch", &branch, 100)?;
    let now = ctx.now();
    let since = ctx.hub.config.brief_since;
    let plan = SyncPlan {
        remote: &remote,
        branch: &branch,
        skip: &req.skip,
        machine: &ctx.machine,
        now,
    };
    let synced = ctx
        .hub
        .sync(&plan, &|hub, reg| Ok(render(&gather(hub, reg, now, since)?)))?;
    Ok(SyncReport { synced })
}
