//! Views of the claims alone: every live claim (or this session's, or one
//! type's), and who holds a given file, without claiming it.

use serde::Serialize;

use super::views::{held_claims, ClaimView};
use super::Ctx;
use crate::core::error::Result;
use crate::core::model::Registry;
use crate::core::rules::{claims::fold, glob, validate};

#[derive(Debug, Clone, Default)]
pub struct ClaimsRequest {
    /// Only the acting session's.
    pub mine: bool,
    /// Only claims of this type.
    pub kind: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClaimsReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub me: Option<String>,
    pub claims: Vec<ClaimView>,
}

pub fn claims(ctx: &Ctx, req: &ClaimsRequest) -> Result<ClaimsReport> {
    if let Some(kind) = &req.kind {
        validate::claim_type(kind)?;
    }
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.read(|reg| {
        let me = if req.mine || ctx.hints.named() {
            Some(ctx.me_read(reg, now)?)
        } else {
            ctx.me_read(reg, now).ok()
        };
        let claims = held_claims(reg, now, cfg)
            .into_iter()
            .filter(|c| c.live)
            .filter(|c| !req.mine || c.holder == me)
            .filter(|c| req.kind.as_ref().is_none_or(|k| *k == c.kind))
            .collect();
        Ok(ClaimsReport { me, claims })
    })
}

#[derive(Debug, Serialize)]
pub struct WhoReport {
    pub path: String,
    /// Live file claims whose glob covers the path.
    pub claims: Vec<ClaimView>,
}

/// Who holds `path` (a file relative to the repository root), by live file
/// claims whose glob matches it (compared folded, as claims conflict).
pub fn who(ctx: &Ctx, path: &str) -> Result<WhoReport> {
    validate::text("path", path, validate::MAX_TEXT)?;
    let path = glob::normalize(path)?;
    let now = ctx.now();
    let cfg = &ctx.hub.config;
    ctx.hub.read(|reg| {
        let claims = covering(&held_claims(reg, now, cfg), &path);
        Ok(WhoReport { path, claims })
    })
}

/// The live file claims among `claims` whose glob covers `path`.
pub(crate) fn covering(claims: &[ClaimView], path: &str) -> Vec<ClaimView> {
    let folded = fold(path);
    claims
        .iter()
        .filter(|c| c.live && c.kind == "file" && glob::overlap(&fold(&c.name), &folded))
        .cloned()
        .collect()
}

#[derive(Debug, Serialize)]
pub struct GuardReport {
    /// The committing session, when one is found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub me: Option<String>,
    /// How many staged paths were checked.
    pub checked: usize,
    /// Staged paths inside live file claims of other sessions.
    pub blocked: Vec<WhoReport>,
}

/// Which of `paths` (staged for a commit) are inside live file claims of
/// sessions other than the acting one. Without an acting session every
/// holder counts. A path no claim could name (it fails the claim rules) is
/// not covered by any claim and passes.
pub fn guard(ctx: &Ctx, paths: &[String]) -> Result<GuardReport> {
    ctx.hub.read(|reg| guard_in(ctx, reg, paths))
}

/// `guard` over a registry already read (the hook reads it once for all
/// its checks).
pub(crate) fn guard_in(ctx: &Ctx, reg: &Registry, paths: &[String]) -> Result<GuardReport> {
    let now = ctx.now();
    let me = ctx.me_if_any(reg, now)?;
    if paths.is_empty() {
        return Ok(GuardReport {
            me,
            checked: 0,
            blocked: Vec::new(),
        });
    }
    let others: Vec<ClaimView> = held_claims(reg, now, &ctx.hub.config)
        .into_iter()
        .filter(|c| me.is_none() || c.holder != me)
        .collect();
    let blocked = paths
        .iter()
        .filter_map(|p| glob::normalize(p).ok())
        .filter_map(|path| {
            let claims = covering(&others, &path);
            (!claims.is_empty()).then_some(WhoReport { path, claims })
        })
        .collect();
    Ok(GuardReport {
        me,
        checked: paths.len(),
        blocked,
    })
}
