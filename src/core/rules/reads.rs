//! What each session has read, through a merge. A side's read state is a
//! cursor in its own message log (everything up to it is read) and a list
//! of pending ids (messages behind the cursor that are still unread). Logs
//! are ordered differently on each side (a merge sorts by time then id, and
//! a clone appends in the order things happen), so a cursor cannot simply
//! be carried over: the merged state is computed from the sets.
//!
//! A message is read after the merge when it was read on either side (the
//! read sets are united: what a session has read only moves forward,
//! whatever the clocks say and whichever record won the session merge). The
//! merged cursor sits at the furthest line, in the merged order, that either
//! side's cursor covered; the messages for the session behind it that
//! neither side had read become pending. So every message reaches each
//! recipient exactly once.
//!
//! The cost follows what is unread and what is new, not the log: each side
//! is indexed once, and per session only the lines past its cursor on one
//! side, the lines that side did not have, and its pending list are looked
//! at.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::core::clock::Time;
use crate::core::model::{Cursor, Session};

/// One line of the merged message log: what routing needs, and where it ends.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: String,
    pub ts: Time,
    pub from: String,
    pub to: String,
    /// `None` for a broadcast: everyone but the sender.
    pub recipients: Option<Vec<String>>,
    /// The byte offset just past this line, and its length with the newline.
    pub end: u64,
    pub len: u64,
}

impl Line {
    fn addressed_to(&self, session: &str) -> bool {
        match &self.recipients {
            Some(list) => list.iter().any(|r| r == session),
            None => self.to == "broadcast" && self.from != session,
        }
    }
}

/// One side of the merge: its log's ids in its own order with their end
/// offsets, and its sessions.
pub struct Side<'a> {
    pub log: Vec<(String, u64)>,
    pub sessions: &'a BTreeMap<String, Session>,
}

/// A side, indexed.
struct Indexed<'a> {
    side: &'a Side<'a>,
    at: HashMap<&'a str, usize>,
    /// For each line of the side's log, the furthest merged place among it
    /// and the lines before it.
    reach: Vec<usize>,
}

impl<'a> Indexed<'a> {
    fn new(side: &'a Side<'a>, merged_at: &HashMap<&str, usize>) -> Indexed<'a> {
        let at = side
            .log
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.as_str(), i))
            .collect();
        let mut reach = Vec::with_capacity(side.log.len());
        let mut far = 0;
        for (id, _) in &side.log {
            if let Some(p) = merged_at.get(id.as_str()) {
                far = far.max(*p + 1);
            }
            reach.push(far);
        }
        Indexed { side, at, reach }
    }

    /// How many lines of this side's log the session has read past (its
    /// cursor), found by the cursor's id, else by its offset.
    fn covered(&self, s: &Session) -> usize {
        let Some(c) = &s.cursor else { return 0 };
        if let Some(i) = c.id.as_deref().and_then(|id| self.at.get(id)) {
            return i + 1;
        }
        self.side.log.partition_point(|(_, end)| *end <= c.offset)
    }
}

/// Set each session's cursor and pending list in `merged` (the merged
/// registry's sessions) from what the two sides had read. `log` is the
/// merged message log.
pub fn merge_reads(log: &[Line], a: &Side, b: &Side, merged: &mut BTreeMap<String, Session>) {
    let merged_at: HashMap<&str, usize> = log.iter().enumerate().map(|(i, l)| (l.id.as_str(), i)).collect();
    let sides = [Indexed::new(a, &merged_at), Indexed::new(b, &merged_at)];
    // Lines each side did not have, in merged order.
    let missing: [Vec<usize>; 2] = [0, 1].map(|k| {
        (0..log.len())
            .filter(|p| !sides[k].at.contains_key(log[*p].id.as_str()))
            .collect()
    });
    for (id, session) in merged.iter_mut() {
        // Per side: how far its cursor covers, and its pending set.
        let view: Vec<(usize, BTreeSet<&str>)> = sides
            .iter()
            .map(|s| match s.side.sessions.get(id) {
                Some(known) => (
                    s.covered(known),
                    known.pending.iter().map(String::as_str).collect(),
                ),
                None => (0, BTreeSet::new()),
            })
            .collect();
        let unread_on = |k: usize, p: usize| -> bool {
            let line = &log[p];
            match sides[k].at.get(line.id.as_str()) {
                None => true,
                Some(i) => *i >= view[k].0 || view[k].1.contains(line.id.as_str()),
            }
        };
        // The merged cursor: past every line either side's cursor covered.
        let reach = (0..2)
            .map(|k| match view[k].0 {
                0 => 0,
                n => sides[k].reach[n - 1],
            })
            .max()
            .unwrap_or(0);
        // Candidates for pending, from the side with fewer: the lines past
        // its cursor, the lines it did not have, and its pending list.
        let cost = |k: usize| sides[k].side.log.len() - view[k].0 + missing[k].len() + view[k].1.len();
        let k = if cost(0) <= cost(1) { 0 } else { 1 };
        let mut candidates: BTreeSet<usize> = missing[k].iter().copied().collect();
        candidates.extend(
            sides[k].side.log[view[k].0..]
                .iter()
                .chain(
                    view[k]
                        .1
                        .iter()
                        .filter_map(|p| sides[k].at.get(p).map(|i| &sides[k].side.log[*i])),
                )
                .filter_map(|(id, _)| merged_at.get(id.as_str()).copied()),
        );
        let was_pending = |line: &Line| view.iter().any(|v| v.1.contains(line.id.as_str()));
        session.pending = candidates
            .into_iter()
            .filter(|p| *p < reach && unread_on(0, *p) && unread_on(1, *p))
            .map(|p| &log[p])
            // A broadcast from before the session began is not for it,
            // unless a side already counted it as unread.
            .filter(|l| {
                l.addressed_to(id) && (l.recipients.is_some() || l.ts >= session.started || was_pending(l))
            })
            .map(|l| l.id.clone())
            .collect();
        session.cursor = match reach {
            0 => None,
            n => {
                let l = &log[n - 1];
                Some(Cursor {
                    id: Some(l.id.clone()),
                    len: l.len,
                    offset: l.end,
                    ts: Some(l.ts),
                })
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rules::fixtures::t;

    fn line(id: &str, at: &str, to: &str) -> Line {
        Line {
            id: id.into(),
            ts: t(at),
            from: "x".into(),
            to: to.into(),
            recipients: (to != "broadcast").then(|| vec![to.to_string()]),
            end: 0,
            len: 0,
        }
    }

    /// A merged log with end offsets of 10 bytes a line.
    fn log(lines: Vec<Line>) -> Vec<Line> {
        lines
            .into_iter()
            .enumerate()
            .map(|(i, mut l)| {
                l.end = (i as u64 + 1) * 10;
                l.len = 10;
                l
            })
            .collect()
    }

    fn side(ids: &[&str]) -> Vec<(String, u64)> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| (id.to_string(), (i as u64 + 1) * 10))
            .collect()
    }

    fn reader(cursor: Option<&str>, pending: &[&str]) -> Session {
        let mut s = Session::new(t("08:00:00"));
        s.cursor = cursor.map(|id| Cursor {
            id: Some(id.into()),
            len: 10,
            offset: 0,
            ts: None,
        });
        s.pending = pending.iter().map(|p| p.to_string()).collect();
        s
    }

    fn merged(log_: &[Line], a: (&[&str], Option<Session>), b: (&[&str], Option<Session>)) -> Session {
        let sessions = |s: Option<Session>| -> BTreeMap<String, Session> {
            s.map(|s| [("ann".to_string(), s)].into()).unwrap_or_default()
        };
        let (sa, sb) = (sessions(a.1), sessions(b.1));
        let mut out: BTreeMap<String, Session> = sa.clone();
        out.extend(sb.clone());
        merge_reads(
            log_,
            &Side {
                log: side(a.0),
                sessions: &sa,
            },
            &Side {
                log: side(b.0),
                sessions: &sb,
            },
            &mut out,
        );
        out.remove("ann").unwrap()
    }

    #[test]
    fn a_message_read_on_either_side_stays_read_whichever_record_won() {
        // ann read m1..m3 on A; B still has the record from before she read.
        let l = log(vec![
            line("m1", "09:00:00", "ann"),
            line("m2", "09:00:00", "ann"),
            line("m3", "09:00:00", "broadcast"),
        ]);
        let s = merged(
            &l,
            (&["m1", "m2", "m3"], Some(reader(Some("m3"), &[]))),
            (&["m1", "m2", "m3"], Some(reader(None, &[]))),
        );
        assert_eq!(s.cursor.unwrap().id.as_deref(), Some("m3"));
        assert!(s.pending.is_empty());
    }

    #[test]
    fn messages_sent_here_in_the_same_second_and_sorted_before_the_cursor_stay_unread() {
        // On A (the reader's clone) m9 was appended after m5 was read; the
        // merge sorts m9 first (same second, smaller id).
        let l = log(vec![line("m5", "09:00:00", "ann"), line("m9", "09:00:00", "ann")]);
        let l = vec![l[1].clone(), l[0].clone()];
        let l = log(l);
        let s = merged(&l, (&["m5", "m9"], Some(reader(Some("m5"), &[]))), (&[], None));
        assert_eq!(s.pending, ["m9"]);
        assert_eq!(s.cursor.unwrap().id.as_deref(), Some("m5"));
    }

    #[test]
    fn pending_on_one_side_and_read_on_the_other_is_read() {
        let l = log(vec![line("m1", "09:00:00", "ann"), line("m2", "09:01:00", "ann")]);
        let s = merged(
            &l,
            (&["m1", "m2"], Some(reader(Some("m2"), &["m1"]))),
            (&["m1", "m2"], Some(reader(Some("m1"), &[]))),
        );
        assert!(s.pending.is_empty(), "{:?}", s.pending);
        let s = merged(
            &l,
            (&["m1", "m2"], Some(reader(Some("m2"), &["m1"]))),
            (&["m1"], Some(reader(None, &[]))),
        );
        assert_eq!(s.pending, ["m1"]);
    }

    #[test]
    fn the_merge_of_reads_is_symmetric() {
        let l = log(vec![
            line("m1", "09:00:00", "ann"),
            line("m2", "09:00:00", "broadcast"),
            line("m3", "09:00:00", "ann"),
            line("m4", "09:00:01", "bob"),
        ]);
        let a = (&["m3", "m1", "m4"][..], Some(reader(Some("m1"), &[])));
        let b = (&["m2", "m1"][..], Some(reader(Some("m2"), &[])));
        let x = merged(&l, (a.0, a.1.clone()), (b.0, b.1.clone()));
        let y = merged(&l, b, a);
        assert_eq!(x.pending, y.pending);
        assert_eq!(x.cursor, y.cursor);
        // m3 was read on A (before m1 there): not pending; m2 read on B.
        assert!(x.pending.is_empty(), "{:?}", x.pending);
    }
}
