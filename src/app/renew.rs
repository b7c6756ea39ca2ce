//! Push back the deadline of this session's deadlined claims (leases need
//! no renewing).

use serde::Serialize;

use super::claim::claim_key;
use super::Ctx;
use crate::core::clock::{parse_duration, Time};
use crate::core::error::{not_found, usage, Result};
use crate::core::rules::{claims, Effects};

#[derive(Debug, Clone, Default)]
pub struct RenewRequest {
    /// One claim (`kind`, `name`), or with `None` every deadlined claim held.
    pub claim: Option<(String, String)>,
    /// A new length, as typed; default: each claim's own.
    pub for_: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Renewed {
    pub key: String,
    #[serde(serialize_with = "crate::core::clock::stamp::serialize")]
    pub expires: Time,
}

#[derive(Debug, Serialize)]
pub struct RenewReport {
    pub renewed: Vec<Renewed>,
}

pub fn renew(ctx: &Ctx, req: &RenewRequest) -> Result<RenewReport> {
    let wanted = match &req.claim {
        Some((kind, name)) => Some(claim_key(kind, name)?.0),
        None => None,
    };
    let cfg = &ctx.hub.config;
    let length = req.for_.as_deref().map(parse_duration).transpose()?;
    if let Some(l) = length.filter(|l| *l > cfg.max_for) {
        return Err(usage(format!(
            "{} is longer than claims.max_for ({}); renew for less",
            crate::core::clock::short_duration(l),
            crate::core::clock::short_duration(cfg.max_for)
        )));
    }
    let renewed = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let keys = match &wanted {
            Some(key) => {
                if tx.reg.claims.get(key).and_then(|c| c.holder.as_deref()) != Some(me.as_str()) {
                    return Err(not_found(format!("you ({me}) do not hold {key}"))
                        .hint("see your claims with `coord claims --mine`"));
                }
                vec![key.clone()]
            }
            None => claims::held_by(&tx.reg, &me),
        };
        let mut fx = Effects::default();
        let done = claims::renew(&mut tx.reg, &me, &keys, length, tx.now, &mut fx);
        tx.apply(fx);
        Ok(done)
    })?;
    Ok(RenewReport {
        renewed: renewed
            .into_iter()
            .map(|(key, expires)| Renewed { key, expires })
            .collect(),
    })
}
