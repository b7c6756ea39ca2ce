//! Which session this command acts as, and how that was found.

use serde::Serialize;

use super::views::SessionView;
use super::{Ctx, How};
use crate::core::error::{hub, Result};

#[derive(Debug, Serialize)]
pub struct WhoamiReport {
    pub session: SessionView,
    pub how: How,
}

pub fn whoami(ctx: &Ctx) -> Result<WhoamiReport> {
    let now = ctx.now();
    ctx.hub.read(|reg| {
        let me = ctx.me_read(reg, now)?;
        let s = reg
            .sessions
            .get(&me)
            .ok_or_else(|| hub(format!("session {me} vanished from the registry")))?;
        let how = ctx
            .how()
            .ok_or_else(|| hub("identity was resolved without a source"))?;
        Ok(WhoamiReport {
            session: SessionView::new(&me, s, now, &ctx.hub.config),
            how,
        })
    })
}
