//! Check every hub file and say what is wrong; with `fix`, repair what is
//! safe to repair (the storage layer does the work, under the lock).

use serde::Serialize;

use super::Ctx;
use crate::core::error::{hub, Result};
use crate::store::Finding;

#[derive(Debug, Clone, Default)]
pub struct DoctorRequest {
    pub fix: bool,
}

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub healthy: bool,
    pub findings: Vec<Finding>,
    pub fixed: Vec<Finding>,
    pub backups: Vec<String>,
    /// What is worth knowing and is not a problem (a test hub stays
    /// healthy): journal entries made under a pinned clock.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl DoctorReport {
    /// An unhealthy hub is exit 5, after the findings are shown.
    pub fn verdict(&self, fixing: bool) -> Result<()> {
        if self.healthy {
            return Ok(());
        }
        let n = self.findings.len();
        Err(hub(format!(
            "the hub has {n} problem{}",
            if n == 1 { "" } else { "s" }
        ))
        .hint(if self.findings.iter().any(|f| f.fixable) && !fixing {
            "run `coord doctor --fix` to repair what is safe to repair"
        } else {
            "fix the files named above by hand or restore them from git"
        }))
    }
}

pub fn doctor(ctx: &Ctx, req: &DoctorRequest) -> Result<DoctorReport> {
    let r = ctx.hub.doctor(req.fix, ctx.now())?;
    let mut notes = Vec::new();
    // An unreadable journal is a finding already.
    let (pinned, lapses) = ctx.hub.pinned_entries().unwrap_or((0, 0));
    if pinned > 0 {
        notes.push(format!(
            "EVENTS.jsonl: {pinned} entr{} made under a pinned clock ({lapses} of them lapsed a claim): their times are not real; expected in a test or demo hub, not in a team's",
            if pinned == 1 { "y was" } else { "ies were" }
        ));
    }
    Ok(DoctorReport {
        healthy: r.findings.is_empty(),
        findings: r.findings,
        fixed: r.fixed,
        backups: r.backups,
        notes,
    })
}
