//! Acknowledge a message. Acknowledging a critical message closes it; an
//! emergency stays open (and on everyone else's screen) until someone
//! resolves it.

use serde::Serialize;

use super::Ctx;
use crate::core::error::{not_found, Result};
use crate::core::rules::messages::{self, check_message_id, Acked};
use crate::core::rules::{touch, Effects};

#[derive(Debug, Clone, Default)]
pub struct AckRequest {
    pub id: String,
    /// Close the escalation for everyone.
    pub resolve: bool,
}

#[derive(Debug, Serialize)]
pub struct AckReport {
    pub id: String,
    pub session: String,
    pub acknowledged: bool,
    /// The escalation is closed (resolved, or a critical acknowledged).
    pub closed: bool,
}

pub fn ack(ctx: &Ctx, req: &AckRequest) -> Result<AckReport> {
    check_message_id(&req.id)?;
    let id = &req.id;
    let report = ctx.mutate(|tx| {
        let me = ctx.me_tx(tx)?;
        let now = tx.now;
        let mut fx = Effects::default();
        let lead = ctx.hub.config.is_lead(&me);
        let closed = match messages::ack_escalation(&mut tx.reg, &me, id, req.resolve, lead, now, &mut fx) {
            Some(outcome) => outcome? == Acked::Closed,
            None => {
                let m = tx.find_message(id)?.ok_or_else(|| {
                    not_found(format!("no message {id} in this hub"))
                        .hint("check the id with `coord inbox --all`")
                })?;
                messages::ack_message(&m, &me, &mut fx)?;
                false
            }
        };
        tx.apply(fx);
        touch(&mut tx.reg, &me, now);
        Ok(AckReport {
            id: id.clone(),
            session: me,
            acknowledged: true,
            closed,
        })
    })?;
    ctx.forget_emergency(&report.id);
    Ok(report)
}
