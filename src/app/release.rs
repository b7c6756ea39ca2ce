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
    if let (Some(key), Some((kind, name))) = (&wanted, &req.claim) {
        if let Some(done) = quick(ctx, key, kind, name)? {
            return done.map(|released| ReleaseReport { released });
        }
    }
    let released = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let mut fx = Effects::default();
        let keys = claims::give_back(&mut tx.reg, &me, wanted.as_deref(), tx.now, &mut fx)?;
        tx.apply(fx);
        Ok(keys)
    })?;
    Ok(ReleaseReport { released })
}

/// One claim given back on the hot path: its record from the digest and
/// the pulse, the same rule on that part of the registry, one pulse line
/// with the released record. `None`: the full path.
fn quick(ctx: &Ctx, key: &str, kind: &str, name: &str) -> Result<Option<Result<Vec<String>>>> {
    let now = ctx.now();
    ctx.hub.quick(now, |q| {
        let (_, name) = claim_key(kind, name)?;
        let Some(near) = super::claim::named(q, kind, &claims::fold(&name)) else {
            return Ok(None);
        };
        let Some((me, how, line)) = ctx.quick_me(q, now) else {
            return Ok(None);
        };
        let mut reg = q.registry_for(&me, &line.session);
        reg.claims = near.into_iter().filter(|(k, _)| k == key).collect();
        let before = reg.claims.clone();
        let mut fx = Effects::default();
        let keys = match claims::give_back(&mut reg, &me, Some(key), now, &mut fx) {
            Ok(keys) => keys,
            Err(e) => return Ok(Some(Err(e))),
        };
        let changed = super::claim::changed(&before, &reg);
        q.commit_records(fx, ctx.actor(&me, &how), now, now, changed, None)?;
        Ok(Some(Ok(keys)))
    })
}
