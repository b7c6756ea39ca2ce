//! Time: the clock a command reads (pinned for tests, live otherwise),
//! durations as users type them, and the short forms we print ("5m ago", "1h20m left").

use chrono::{DateTime, SecondsFormat, Timelike, Utc};

use crate::core::error::{usage, CoordError};

pub type Time = DateTime<Utc>;

/// The hub's time zone (`time.zone`): `UTC`, a fixed offset (`+05:30`), or
/// an IANA name (`Europe/Paris`) that follows its daylight-saving rules,
/// from the database built into coord (no system files needed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Fixed(chrono::FixedOffset),
    Named(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("UTC is an offset"))
    }
}

impl Zone {
    /// `UTC`/`Z`, `+HH:MM`/`-HH:MM`, or an IANA zone name.
    pub fn parse(text: &str) -> Option<Zone> {
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return Some(Zone::default());
        }
        let (sign, rest) = match text.as_bytes().first()? {
            b'+' => (1, &text[1..]),
            b'-' => (-1, &text[1..]),
            _ => return text.parse::<chrono_tz::Tz>().ok().map(Zone::Named),
        };
        let (h, m) = rest.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        if h > 14 || m > 59 {
            return None;
        }
        chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Zone::Fixed)
    }

    /// `t` on the zone's wall clock.
    pub fn local(&self, t: Time) -> chrono::NaiveDateTime {
        match self {
            Zone::Fixed(z) => t.with_timezone(z).naive_local(),
            Zone::Named(z) => t.with_timezone(z).naive_local(),
        }
    }

    /// The zone's date at `t`.
    pub fn date(&self, t: Time) -> chrono::NaiveDate {
        self.local(t).date()
    }

    /// `t` on the zone's wall clock, formatted (`%H:%M`).
    pub fn format(&self, t: Time, fmt: &str) -> String {
        self.local(t).format(fmt).to_string()
    }

    /// The instant a wall-clock time names: the earlier of two when the
    /// clocks go back; when they go forward past it, the first instant
    /// after the gap.
    pub fn instant(&self, local: chrono::NaiveDateTime) -> Option<Time> {
        use chrono::TimeZone;
        let pick = |l: chrono::NaiveDateTime| match self {
            Zone::Fixed(z) => z.from_local_datetime(&l).earliest().map(|t| t.to_utc()),
            Zone::Named(z) => z.from_local_datetime(&l).earliest().map(|t| t.to_utc()),
        };
        if let Some(t) = pick(local) {
            return Some(t);
        }
        // In a gap (02:30 on the night the clocks go forward): the wall
        // clock skipped it; the gap ends at the next valid minute.
        (1..=180).find_map(|m| pick(local + chrono::Duration::minutes(m)))
    }
}

/// Where a command's time comes from. `Fixed` pins it (`COORD_NOW`, for
/// tests, demos and replays); `System` reads the clock afresh on every call,
/// so each `--wait` attempt and each `--watch` frame sees the present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Fixed(Time),
    System,
}

impl Clock {
    pub fn now(&self) -> Time {
        match self {
            Clock::Fixed(t) => *t,
            Clock::System => whole_seconds(Utc::now()),
        }
    }
}

/// Hub files keep whole seconds: shorter lines, and ordering finer than a
/// second means nothing across machines anyway.
pub fn whole_seconds(t: Time) -> Time {
    t.with_nanosecond(0).unwrap_or(t)
}

pub fn parse_time(text: &str) -> Option<Time> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The form every hub file uses: UTC, whole seconds, `Z`.
pub fn format_time(t: Time) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parse a duration such as `90m`, `1h30m`, `2h`, `45s`, `1d`, `500ms`.
/// A bare number is refused (minutes or seconds? say which). Must be positive.
pub fn parse_duration(text: &str) -> Result<chrono::Duration, CoordError> {
    let s = text.trim();
    let bad = || {
        usage(format!(
            "duration {text:?} does not parse; write it like 90m, 1h30m, 2h, 45s or 1d"
        ))
    };
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = s.parse::<u64>() {
        if n == 0 {
            return positive(chrono::Duration::zero(), text);
        }
        return Err(usage(format!(
            "duration {text:?} has no unit; write {s}m for minutes (or {s}s, {s}h, {s}d)"
        )));
    }
    let mut total_ms: i128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_ms: f64 = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" | "sec" | "secs" => 1_000.0,
            "m" | "min" | "mins" => 60_000.0,
            "h" | "hr" | "hrs" => 3_600_000.0,
            "d" | "day" | "days" => 86_400_000.0,
            "w" => 7.0 * 86_400_000.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total_ms += (value * unit_ms).round() as i128;
        if total_ms > 100 * 365 * 86_400_000 {
            return Err(usage(format!("duration {text:?} is longer than 100 years")));
        }
    }
    positive(chrono::Duration::milliseconds(total_ms as i64), text)
}

fn positive(d: chrono::Duration, text: &str) -> Result<chrono::Duration, CoordError> {
    if d <= chrono::Duration::zero() {
        Err(usage(format!(
            "duration {text:?} is not positive; give a length such as 30m"
        )))
    } else {
        Ok(d)
    }
}

/// The instant a `--wait DUR` runs out (real time: waiting is for other
/// processes, not for the pinned clock), or `None` without `--wait`.
pub fn deadline(wait: Option<&str>) -> Result<Option<std::time::Instant>, CoordError> {
    let Some(text) = wait else { return Ok(None) };
    let d = parse_duration(text)?;
    Ok(Some(std::time::Instant::now() + d.to_std().unwrap_or_default()))
}

/// `1h20m`, `45m`, `30s`, `2d3h`: the two largest units, for humans.
pub fn short_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        if hours > 0 {
            format!("{days}d{hours}h")
        } else {
            format!("{days}d")
        }
    } else if hours > 0 {
        if mins > 0 {
            format!("{hours}h{mins}m")
        } else {
            format!("{hours}h")
        }
    } else if mins > 0 {
        format!("{mins}m")
    } else {
        format!("{s}s")
    }
}

/// "5m ago", "just now", or "in 3m" for a time ahead of `now` (a skewed clock).
pub fn ago(t: Time, now: Time) -> String {
    let d = now - t;
    if d < chrono::Duration::zero() {
        format!("in {}", short_duration(-d))
    } else if d < chrono::Duration::seconds(5) {
        "just now".to_string()
    } else {
        format!("{} ago", short_duration(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        let m = |n| chrono::Duration::minutes(n);
        assert_eq!(parse_duration("90m"), Ok(m(90)));
        assert_eq!(parse_duration("1h30m"), Ok(m(90)));
        assert_eq!(parse_duration("2h"), Ok(m(120)));
        assert_eq!(parse_duration("1.5h"), Ok(m(90)));
        assert!(parse_duration("45").unwrap_err().message.contains("45m"));
        assert_eq!(parse_duration("1d"), Ok(m(1440)));
        assert_eq!(parse_duration("30s"), Ok(chrono::Duration::seconds(30)));
        assert_eq!(parse_duration("250ms"), Ok(chrono::Duration::milliseconds(250)));
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in [
            "",
            "0",
            "0m",
            "-5m",
            "m",
            "5x",
            "h1",
            "1h-",
            "1..5h",
            "999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn short_forms() {
        let s = chrono::Duration::seconds;
        assert_eq!(short_duration(s(30)), "30s");
        assert_eq!(short_duration(s(300)), "5m");
        assert_eq!(short_duration(s(4800)), "1h20m");
        assert_eq!(short_duration(s(7200)), "2h");
        assert_eq!(short_duration(s(97200)), "1d3h");
        let now = parse_time("2026-01-01T10:00:00Z").unwrap();
        assert_eq!(ago(now - s(2), now), "just now");
        assert_eq!(ago(now - s(600), now), "10m ago");
        assert_eq!(ago(now + s(600), now), "in 10m");
    }
}

/// Fast paths for the one timestamp shape every hub file uses
/// (`2026-03-02T09:00:00Z`); anything else goes through chrono. A registry of
/// 1,000 claims holds thousands of timestamps, and chrono's general parser
/// and formatter were a visible share of every command.
pub mod stamp {
    use chrono::{Datelike, NaiveDate, SecondsFormat, Timelike};
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Time;

    /// Parse `YYYY-MM-DDTHH:MM:SSZ` by hand, or fall back to RFC 3339.
    pub fn parse(text: &str) -> Option<Time> {
        let b = text.as_bytes();
        let fixed = b.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z';
        if fixed {
            let num = |r: std::ops::Range<usize>| -> Option<u32> {
                b[r].iter().try_fold(0u32, |n, c| {
                    c.is_ascii_digit().then(|| n * 10 + (c - b'0') as u32)
                })
            };
            let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
            return Some(
                date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?
                    .and_utc(),
            );
        }
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    /// What chrono's own serde writes (`AutoSi`), built by hand for the
    /// common case of whole seconds in years 0-9999.
    pub fn format(t: &Time) -> String {
        let y = t.year();
        if t.nanosecond() != 0 || !(0..=9999).contains(&y) {
            return t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        }
        let mut out = [0u8; 20];
        let mut put = |at: usize, n: u32, width: usize| {
            for i in 0..width {
                out[at + width - 1 - i] = b'0' + (n / 10u32.pow(i as u32) % 10) as u8;
            }
        };
        put(0, y as u32, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second(), 2);
        out[4] = b'-';
        out[7] = b'-';
        out[10] = b'T';
        out[13] = b':';
        out[16] = b':';
        out[19] = b'Z';
        String::from_utf8_lossy(&out).into_owned()
    }

    pub fn serialize<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn serialize_opt<S: Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(t)),
            None => s.serialize_none(),
        }
    }

    /// Read a timestamp through the fast path (`deserialize_with`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        Stamp::deserialize(d).map(|s| s.0)
    }

    /// A timestamp read through the fast path.
    pub struct Stamp(pub Time);

    impl<'de> Deserialize<'de> for Stamp {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            parse(&text)
                .map(Stamp)
                .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time")))
        }
    }

    /// An optional timestamp (JSON `null` or absent is `None`).
    pub struct OptStamp(pub Option<Time>);

    impl<'de> Deserialize<'de> for OptStamp {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(OptStamp(Option::<Stamp>::deserialize(d)?.map(|s| s.0)))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_fast_path_agrees_with_chrono() {
            for text in [
                "2026-03-02T09:00:00Z",
                "1999-12-31T23:59:59Z",
                "0001-01-01T00:00:00Z",
                "2024-02-29T12:34:56Z",
            ] {
                let t = parse(text).unwrap();
                assert_eq!(t, chrono::DateTime::parse_from_rfc3339(text).unwrap());
                assert_eq!(format(&t), text);
                assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", format(&t)));
            }
            // Other shapes fall back to chrono.
            let t = parse("2026-03-02T10:00:00.5+01:00").unwrap();
            assert_eq!(format(&t), "2026-03-02T09:00:00.500Z");
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", format(&t)));
            for bad in [
                "2026-02-30T09:00:00Z",
                "2026-03-02T25:00:00Z",
                "2026-03-02T09:00:0xZ",
                "yesterday",
            ] {
                assert!(parse(bad).is_none(), "{bad}");
            }
        }
    }
}
