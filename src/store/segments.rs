//! The logs travel on the hub branch cut into hourly segments
//! (`MESSAGES/2026-03-09T11.jsonl`), each line in the hour of its time, so a
//! sync writes, sends and reads only the hours that changed: an hour gone
//! by never changes again unless a late line from another machine lands in
//! it. The live hub keeps one file per log; its lines are kept in segment
//! order (hour by hour, file order within an hour), which a merge gives and
//! local appends keep unless a clock runs behind a line already there.

use std::collections::BTreeMap;

use super::{EVENTS, MESSAGES};

/// The folder on the branch that holds a log's segments.
pub fn folder(log: &str) -> &'static str {
    if log == MESSAGES {
        "MESSAGES"
    } else {
        "EVENTS"
    }
}

/// The log a branch folder holds.
pub fn log_of(folder: &str) -> Option<&'static str> {
    match folder {
        "MESSAGES" => Some(MESSAGES),
        "EVENTS" => Some(EVENTS),
        _ => None,
    }
}

/// A segment's file name: `2026-03-09T11.jsonl`, exactly.
pub fn segment_name(name: &str) -> bool {
    let Some(hour) = name.strip_suffix(".jsonl") else {
        return false;
    };
    let b = hour.as_bytes();
    b.len() == 13
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            _ => c.is_ascii_digit(),
        })
}

/// The hour of a log line (`2026-03-09T11`), from its `ts`. Lines coord
/// writes end with it (keys sorted); anything else is parsed.
fn hour_of(line: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"ts\":\"";
    let tail_ok = line.len() >= KEY.len() + 22 && line.ends_with(b"Z\"}") && {
        let at = line.len() - 22 - KEY.len();
        &line[at..at + KEY.len()] == KEY
    };
    let stamp = if tail_ok {
        std::str::from_utf8(&line[line.len() - 22..line.len() - 2])
            .ok()?
            .to_string()
    } else {
        #[derive(serde::Deserialize)]
        struct Head {
            ts: String,
        }
        serde_json::from_slice::<Head>(line).ok()?.ts
    };
    // A stamp as coord writes it (`2026-03-09T11:59:53Z`, UTC) names its
    // hour outright; anything else is parsed and brought to UTC.
    let b = stamp.as_bytes();
    let canonical = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if canonical {
        return Some(stamp[..13].to_string());
    }
    let t = crate::core::clock::stamp::parse(&stamp)?;
    Some(t.format("%Y-%m-%dT%H").to_string())
}

/// A log cut into segments.
#[derive(Debug, Default)]
pub struct Split {
    /// Hour to the lines of that hour, in file order.
    pub segments: BTreeMap<String, Vec<u8>>,
    /// The file is in segment order (joining the segments gives it back).
    pub in_order: bool,
    /// Lines without a time coord can read (not records): left out.
    pub dropped: usize,
}

pub fn split(log: &[u8]) -> Split {
    let mut out = Split {
        in_order: true,
        ..Split::default()
    };
    let mut last: Option<String> = None;
    for line in log.split_inclusive(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        if body.is_empty() {
            continue;
        }
        let Some(hour) = hour_of(body).filter(|_| line.ends_with(b"\n")) else {
            out.dropped += 1;
            out.in_order = false;
            continue;
        };
        if last.as_ref().is_some_and(|l| *l > hour) {
            out.in_order = false;
        }
        out.segments
            .entry(hour.clone())
            .or_default()
            .extend_from_slice(line);
        last = Some(hour);
    }
    out
}

/// The log the segments make, hour by hour.
pub fn join<'a>(segments: impl IntoIterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for s in segments {
        out.extend_from_slice(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, ts: &str) -> String {
        format!("{{\"id\":\"{id}\",\"ts\":\"{ts}\"}}\n")
    }

    #[test]
    fn lines_go_to_the_hour_of_their_time_and_join_gives_the_log_back() {
        let log = [
            line("a", "2026-03-09T10:59:59Z"),
            line("c", "2026-03-09T11:00:00Z"),
            line("b", "2026-03-09T11:00:00Z"),
        ]
        .concat();
        let s = split(log.as_bytes());
        assert!(s.in_order);
        assert_eq!(
            s.segments.keys().collect::<Vec<_>>(),
            ["2026-03-09T10", "2026-03-09T11"]
        );
        assert_eq!(
            join(s.segments.values()),
            log.as_bytes(),
            "file order kept within an hour"
        );
        let late = [
            line("x", "2026-03-09T11:00:00Z"),
            line("y", "2026-03-09T10:00:00Z"),
        ]
        .concat();
        assert!(!split(late.as_bytes()).in_order);
        let odd = "{\"ts\":\"2026-03-09T12:00:00Z\",\"id\":\"z\"}\nnot json\n{\"id\":\"o\",\"ts\":\"2026-03-09T13:30:00+01:00\"}\n";
        let s = split(odd.as_bytes());
        assert_eq!(
            (s.segments.len(), s.dropped),
            (1, 1),
            "an offset is brought to UTC"
        );
    }

    #[test]
    fn segment_names_are_exact() {
        assert!(segment_name("2026-03-09T11.jsonl"));
        for bad in [
            "2026-03-09T1.jsonl",
            "../x.jsonl",
            "2026-03-09T11.jsonl.sh",
            "2026-03-09 11.jsonl",
        ] {
            assert!(!segment_name(bad), "{bad}");
        }
    }
}
