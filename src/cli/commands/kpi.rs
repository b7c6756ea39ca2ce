//! `coord kpi`: the coordination's own numbers over a window.

use crate::app::kpi::kpi;
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::clock::{format_time, short_duration};
use crate::core::error::Result;
use crate::core::text::sanitize;

/// Coordination KPIs from the journal: collisions, steals, uptime, response times, tasks done
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The window: 24h, 7d... (default 7d)
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let r = kpi(ctx, args.since.as_deref())?;
    if ui.report(&r)? {
        return Ok(());
    }
    let mut out = format!("since {}\n", format_time(r.since));
    out.push_str(&format!(
        "claims: {} collisions refused, {} stolen, {} lapsed; {} overlapping edits told\n",
        r.collisions, r.stolen, r.lapsed, r.overlaps
    ));
    out.push_str(&format!("time to read: {}\n", r.time_to_read.describe()));
    out.push_str(&format!("time to reply: {}\n", r.time_to_reply.describe()));
    out.push_str(&format!(
        "time to acknowledge (critical, emergency): {}\n",
        r.time_to_ack.describe()
    ));
    let days: Vec<String> = r.done_per_day.iter().map(|(d, n)| format!("{d} {n}")).collect();
    out.push_str(&format!(
        "tasks done per day: {}\n",
        if days.is_empty() {
            "none".to_string()
        } else {
            days.join(", ")
        }
    ));
    out.push_str(&format!(
        "lead time (ready to done): {}\n",
        r.lead_time.describe()
    ));
    for u in &r.uptime {
        out.push_str(&format!(
            "uptime {}: {}% ({})\n",
            sanitize(&u.session, false),
            u.percent,
            short_duration(chrono::Duration::seconds(u.live_seconds))
        ));
    }
    ui.out(&out)
}
