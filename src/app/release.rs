//! Give a claim back, or all of this session's claims.

use serde::Serialize;

use super::claim::claim_key;
use super::Ctx;
use crate::core::error::Result;
use crate::core::rules::{claims, Effects};

/// One claim (`kind` and `name`), or with neither, every claim held.
#[derive(Debug, Clone, Default)]
pub struct ReleaseRequest {
    pub claim: Option<(String, String)>,
}

#[derive(Debug, Serialize)]
pub struct ReleaseReport {
    pub released: Vec<String>,
}

pub fn release(ctx: &Ctx, req: &ReleaseRequest) -> Result<ReleaseReport> {
    let wanted = match &req.claim {
        Some((kind, name)) => Some(claim_key(kind, name)?.0),
        None => None,
    };
    let released = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let mut fx = Effects::default();
        let keys = claims::give_back(&mut tx.reg, &me, wanted.as_deref(), tx.now, &mut fx)?;
        tx.apply(fx);
        Ok(keys)
    })?;
    Ok(ReleaseReport { released })
}
