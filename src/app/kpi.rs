//! `coord kpi`: how the coordination itself is going, from the journal,
//! the messages and the plan of a window: collisions, steals and lapses,
//! how long sessions stayed live, how fast messages are read, answered and
//! acknowledged, tasks done per day and their lead time.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::Ctx;
use crate::core::clock::{parse_duration, Time};
use crate::core::config::Config;
use crate::core::error::Result;
use crate::core::model::{Level, Registry};
use crate::core::plan::TaskState;
use crate::store::{Hub, KpiRecords};

/// A count and the median of durations, in seconds.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Timing {
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_seconds: Option<i64>,
}

impl Timing {
    /// "median 4m (12)", or "none".
    pub fn describe(&self) -> String {
        match self.median_seconds {
            Some(s) => format!(
                "median {} ({})",
                crate::core::clock::short_duration(chrono::Duration::seconds(s)),
                self.count
            ),
            None => "none".to_string(),
        }
    }

    pub fn of(mut secs: Vec<i64>) -> Timing {
        secs.sort_unstable();
        let n = secs.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(secs[n / 2]),
            _ => Some((secs[n / 2 - 1] + secs[n / 2]) / 2),
        };
        Timing {
            count: n,
            median_seconds: median,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Uptime {
    pub session: String,
    /// From its first sign of life in the window to its last.
    pub live_seconds: i64,
    /// That, as a share of the time from its start in the window to now
    /// (or its end).
    pub percent: u8,
}

#[derive(Debug, Serialize)]
pub struct KpiReport {
    pub since: Time,
    pub now: Time,
    /// Claims refused because another session held them.
    pub collisions: usize,
    pub stolen: usize,
    pub lapsed: usize,
    /// Overlapping edits the conflict radar told (`edits.overlap`).
    pub overlaps: usize,
    pub uptime: Vec<Uptime>,
    /// From sending to first reading, per reader.
    pub time_to_read: Timing,
    /// From a message to its reply (`--reply-to`).
    pub time_to_reply: Timing,
    /// From a critical or emergency message to each acknowledgement (or
    /// its resolution).
    pub time_to_ack: Timing,
    /// `YYYY-MM-DD` (hub zone) to the number of tasks done that day.
    pub done_per_day: BTreeMap<String, usize>,
    /// From a task being ready (its last blocker cleared) to done.
    pub lead_time: Timing,
}

/// The journal entries the KPIs count.
const KINDS: &[&str] = &[
    "claim.refused",
    "claim.stolen",
    "claim.lapsed",
    "edits.overlap",
    "message.read",
    "message.acked",
    "escalation.closed",
];

/// Those of `KINDS` whose target is a message (timed from its sending).
const ABOUT_MESSAGES: &[&str] = &["message.read", "message.acked", "escalation.closed"];

pub fn kpi(ctx: &Ctx, since: Option<&str>) -> Result<KpiReport> {
    let window = parse_duration(since.unwrap_or("7d"))?;
    let now = ctx.now();
    ctx.hub.read(|reg| compute(&ctx.hub, reg, now, window))
}

/// The KPIs of the `window` before `now`.
pub fn compute(hub: &Hub, reg: &Registry, now: Time, window: chrono::Duration) -> Result<KpiReport> {
    let cutoff = now - window;
    let records = hub.kpi_records(cutoff, KINDS, ABOUT_MESSAGES)?;
    Ok(from_records(&hub.config, reg, now, cutoff, &records))
}

/// The briefing's reads of the logs (its tails and the KPIs' records, each
/// log's window read once) for the `window` before `now`.
pub fn recent(hub: &Hub, now: Time, window: chrono::Duration) -> Result<crate::store::Recent> {
    let cfg = &hub.config;
    hub.recent_with_kpi(
        now - window,
        (cfg.max_messages, cfg.max_events),
        KINDS,
        ABOUT_MESSAGES,
    )
}

/// The KPIs from the records `Hub::kpi_records` gives for `cutoff`.
pub fn from_records(
    cfg: &Config,
    reg: &Registry,
    now: Time,
    cutoff: Time,
    records: &KpiRecords,
) -> KpiReport {
    let (events, messages) = (&records.events, &records.messages);
    let sent: HashMap<&str, (Time, Level)> = messages
        .iter()
        .map(|m| (m.id.as_str(), (m.ts, m.level)))
        .collect();
    let count = |kind: &str| records.counts.get(kind).copied().unwrap_or(0);
    // Seconds from a message (by the event's target) to the event.
    let after_message = |kinds: &[&str], want: &dyn Fn(Level) -> bool| -> Vec<i64> {
        events
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()))
            .filter_map(|e| {
                let (ts, level) = sent.get(e.target.as_deref()?)?;
                want(*level).then(|| (e.ts - *ts).num_seconds().max(0))
            })
            .collect()
    };
    let replies: Vec<i64> = messages
        .iter()
        .filter_map(|m| {
            let (ts, _) = sent.get(m.reply_to.as_deref()?)?;
            Some((m.ts - *ts).num_seconds().max(0))
        })
        .collect();
    {
        let uptime = reg
            .sessions
            .iter()
            .filter_map(|(id, s)| {
                let start = s.started.max(cutoff);
                let last = s.ended.unwrap_or(s.last_seen).min(now);
                if last < cutoff {
                    return None;
                }
                let span = (s.ended.unwrap_or(now).min(now) - start).num_seconds().max(1);
                let live = (last - start).num_seconds().max(0);
                Some(Uptime {
                    session: id.clone(),
                    live_seconds: live,
                    percent: (live * 100 / span).clamp(0, 100) as u8,
                })
            })
            .collect();
        let mut done_per_day = BTreeMap::new();
        let mut leads = Vec::new();
        for t in reg.plan.tasks.values().filter(|t| t.state == TaskState::Done) {
            let Some(done) = t.done.filter(|d| *d >= cutoff) else {
                continue;
            };
            let day = cfg.zone.format(done, "%Y-%m-%d");
            *done_per_day.entry(day).or_insert(0) += 1;
            if let Some(ready) = t.ready {
                leads.push((done - ready).num_seconds().max(0));
            }
        }
        KpiReport {
            since: cutoff,
            now,
            collisions: count("claim.refused"),
            stolen: count("claim.stolen"),
            lapsed: count("claim.lapsed"),
            overlaps: count("edits.overlap"),
            uptime,
            time_to_read: Timing::of(after_message(&["message.read"], &|_| true)),
            time_to_reply: Timing::of(replies.clone()),
            time_to_ack: Timing::of(after_message(&["message.acked", "escalation.closed"], &|l| {
                l >= Level::Critical
            })),
            done_per_day,
            lead_time: Timing::of(leads),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Timing;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(Timing::of(vec![]).median_seconds, None);
        assert_eq!(Timing::of(vec![30, 10, 20]).median_seconds, Some(20));
        assert_eq!(Timing::of(vec![40, 10, 20, 30]).median_seconds, Some(25));
    }
}
