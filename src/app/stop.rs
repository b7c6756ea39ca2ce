//! End this session and give back everything it holds.

use serde::Serialize;

use super::Ctx;
use crate::core::error::Result;
use crate::core::rules::{claims, Effects};

#[derive(Debug, Serialize)]
pub struct StopReport {
    pub session: String,
    pub released: Vec<String>,
}

pub fn stop(ctx: &Ctx) -> Result<StopReport> {
    ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let mut fx = Effects::default();
        let released = claims::end_session(&mut tx.reg, &me, tx.now, &mut fx);
        tx.apply(fx);
        tx.bindings_mut()?.sessions.remove(&me);
        Ok(StopReport {
            session: me,
            released,
        })
    })
}
