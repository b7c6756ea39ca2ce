//! coord.toml: the settings. Every key has a default. Two files may set
//! keys: the team's `coord.toml` at the top of the repository (committed, so
//! code review governs it) and the hub's own `coord.toml` (this clone's,
//! written by `coord init` with every key commented out), whose keys
//! override the team's. Neither travels through `coord sync`: settings that
//! govern safety and authority are never a peer's to change. A missing key
//! takes its default, a bad value is a hub problem (exit 5) naming the file.

use std::path::Path;

use serde::Deserialize;

use crate::core::clock::parse_duration;
use crate::core::error::{hub, CoordError, Result};

pub const FILE: &str = "coord.toml";

/// The file `coord init` writes: every setting at its default, explained.
pub const DEFAULT_TOML: &str = r#"# coord settings for this clone. Every key is shown, commented out, at its
# default. The team's settings are in coord.toml at the top of the
# repository (committed, so code review governs them); a key set here
# overrides the team's value for this clone only (`coord status` says so).
# Settings never travel through `coord sync`.

[liveness]
# A session with no sign of life for this long is shown as stale.
# stale_after = "30m"
# After this long it is gone: its claims lapse and anyone may take them.
# gone_after = "2h"

[claims]
# How long a claim lasts when neither --hours nor --for is given: "lease"
# (as long as its holder is live), or a length such as "2h".
# default_for = "lease"
# The longest claim anyone may take or renew in one go.
# max_for = "24h"

[messages]
# Largest message body, in bytes.
# max_body = 65536

[brief]
# How far back CURRENT_STATE.md looks when --since is not given.
# since = "24h"
# At most this many recent messages and activity lines are listed; the rest
# are counted, so the page stays readable however long the logs grow.
# max_messages = 30
# max_events = 60
# The sessions and claims tables list at most this many rows each.
# max_rows = 100

[roles]
# The sessions (by id) with lead rights: they resolve any escalation, and
# take over a live session with `coord start --name ID --replace`. Only this
# list grants them; a role given at `coord start --role` is a label.
# lead = []

[time]
# Times read from the hub more than this far in the future are not trusted:
# the next change brings them back to now (a skewed or hostile clock).
# max_skew = "10m"
# The zone reservations are written and shown in: "UTC", a fixed offset such
# as "+02:00", or a zone name such as "Europe/Paris" (which follows its
# daylight-saving changes; the zone database is built into coord).
# zone = "UTC"

[prune]
# `coord prune` and `coord archive` act on what is older than this.
# older_than = "30d"
# Prune on every change (ended and gone sessions, released claims).
# auto = false

[sync]
# The branch `coord sync` carries the hub on, in every clone and the remote.
# branch = "coord"

[hooks]
# `coord hook pre-tool-use` also denies an agent's edits to files its session
# has not claimed (naming the `coord claim file PATH` to run).
# require_claim = false
# The conflict radar: two live sessions editing one file (or files under one
# claim) that neither holds within this window are told, and shown as
# "overlapping edits" until a claim covers them or the window passes.
# overlap_window = "30m"

[limits]
# The hub refuses to grow past these (one hostile or runaway writer must not
# make every command slow for everyone).
# sessions = 10000
# claims = 100000

[storage]
# "full": fsync every file and its folder (survives power loss).
# "normal": fsync files, not folders. "none": leave it to the OS
# (survives coord being killed, not the machine losing power).
# durability = "full"
# How long a command waits for another coord to finish with the hub (exit 6).
# lock_timeout = "10s"
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
    None,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub stale_after: chrono::Duration,
    pub gone_after: chrono::Duration,
    /// `None`: a claim without --for is a lease.
    pub default_for: Option<chrono::Duration>,
    pub max_for: chrono::Duration,
    pub max_body: usize,
    pub brief_since: chrono::Duration,
    pub max_messages: usize,
    pub max_events: usize,
    pub max_rows: usize,
    /// `roles.lead`: the sessions with lead rights.
    pub leads: Vec<String>,
    pub max_skew: chrono::Duration,
    /// `time.zone`: reservations' times are in it.
    pub zone: crate::core::clock::Zone,
    pub zone_name: String,
    pub max_sessions: usize,
    pub max_claims: usize,
    pub prune_older_than: chrono::Duration,
    pub sync_branch: String,
    pub prune_auto: bool,
    pub require_claim: bool,
    /// The conflict radar's window (`hooks.overlap_window`).
    pub overlap_window: chrono::Duration,
    pub durability: Durability,
    pub lock_timeout: std::time::Duration,
    /// Keys this clone's file sets to a value other than the team file's.
    pub overrides: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let d = |s| parse_duration(s).unwrap_or_else(|_| chrono::Duration::minutes(30));
        Config {
            stale_after: d("30m"),
            gone_after: d("2h"),
            default_for: None,
            max_for: d("24h"),
            max_body: 65536,
            brief_since: d("24h"),
            max_messages: 30,
            max_events: 60,
            max_rows: 100,
            leads: Vec::new(),
            max_skew: d("10m"),
            zone: crate::core::clock::Zone::default(),
            zone_name: "UTC".to_string(),
            max_sessions: 10_000,
            max_claims: 100_000,
            prune_older_than: d("30d"),
            sync_branch: "coord".to_string(),
            prune_auto: false,
            require_claim: false,
            overlap_window: d("30m"),
            durability: Durability::Full,
            lock_timeout: std::time::Duration::from_secs(10),
            overrides: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    liveness: RawLiveness,
    #[serde(default)]
    claims: RawClaims,
    #[serde(default)]
    messages: RawMessages,
    #[serde(default)]
    brief: RawBrief,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    roles: RawRoles,
    #[serde(default)]
    time: RawTime,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    prune: RawPrune,
    #[serde(default)]
    sync: RawSync,
    #[serde(default)]
    hooks: RawHooks,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    require_claim: Option<bool>,
    overlap_window: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSync {
    branch: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPrune {
    older_than: Option<String>,
    auto: Option<bool>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    lead: Option<Vec<String>>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTime {
    max_skew: Option<String>,
    zone: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    sessions: Option<i64>,
    claims: Option<i64>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLiveness {
    stale_after: Option<String>,
    gone_after: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawClaims {
    default_for: Option<String>,
    max_for: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMessages {
    max_body: Option<i64>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBrief {
    since: Option<String>,
    max_messages: Option<i64>,
    max_events: Option<i64>,
    max_rows: Option<i64>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    durability: Option<String>,
    lock_timeout: Option<String>,
}

impl Config {
    /// Whether session `id` has lead rights (`roles.lead`).
    pub fn is_lead(&self, id: &str) -> bool {
        self.leads.iter().any(|l| l == id)
    }

    /// Settings from the bytes of one `coord.toml` at `path` (for
    /// messages); `None` (no file) means all defaults.
    pub fn from_file(path: &Path, bytes: Option<Vec<u8>>) -> Result<Config> {
        Self::layered(None, bytes.map(|b| (path, b)))
    }

    /// Settings from the team's file, then this clone's file over it (each
    /// key the clone's file sets wins). Each file must be valid on its own;
    /// an error names the file and line.
    pub fn layered(team: Option<(&Path, Vec<u8>)>, local: Option<(&Path, Vec<u8>)>) -> Result<Config> {
        // Each file parsed once; one file alone is its settings as they are.
        let read = |path: &Path, bytes: Vec<u8>| -> Result<(Config, String)> {
            let text = String::from_utf8(bytes).map_err(|e| {
                let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                hub(format!(
                    "{} line {} is not valid UTF-8; fix or delete the file",
                    path.display(),
                    upto.iter().filter(|b| **b == b'\n').count() + 1
                ))
            })?;
            let config = Self::parse_text(&text).map_err(|e| hub(format!("{}: {e}", path.display())))?;
            Ok((config, text))
        };
        let team = team.map(|(p, b)| read(p, b)).transpose()?;
        let local = local.map(|(p, b)| read(p, b)).transpose()?;
        let ((_, team), (_, local)) = match (team, local) {
            (None, None) => return Ok(Config::default()),
            (Some((c, _)), None) | (None, Some((c, _))) => return Ok(c),
            (Some(t), Some(l)) => (t, l),
        };
        // Both valid on their own (checked above), so these parse.
        let table =
            |text: &str| toml::from_str::<toml::Table>(text).map_err(|e| hub(e.message().to_string()));
        let (merged, overrides) = overlay(table(&team)?, table(&local)?);
        let raw: RawFile = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| hub(e.message().to_string()))?;
        let mut c = Self::from_raw(raw).map_err(hub)?;
        c.overrides = overrides;
        Ok(c)
    }

    /// Parse settings text; the error (a hub error, without the file's
    /// name) says which key and how to fix it.
    pub fn parse(text: &str) -> Result<Config> {
        Self::parse_text(text).map_err(hub)
    }

    fn parse_text(text: &str) -> std::result::Result<Config, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let first = e.message().lines().next().unwrap_or("invalid TOML").to_string();
            match line {
                Some(l) => format!("line {l}: {first}; fix it or delete the line to use the default"),
                None => format!("{first}; fix it or delete the line to use the default"),
            }
        })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawFile) -> std::result::Result<Config, String> {
        let mut c = Config::default();
        let dur =
            |key: &str, v: &Option<String>, into: &mut chrono::Duration| -> std::result::Result<(), String> {
                if let Some(s) = v {
                    *into = parse_duration(s).map_err(|e: CoordError| format!("{key}: {}", e.message))?;
                }
                Ok(())
            };
        dur(
            "liveness.stale_after",
            &raw.liveness.stale_after,
            &mut c.stale_after,
        )?;
        dur("liveness.gone_after", &raw.liveness.gone_after, &mut c.gone_after)?;
        c.default_for = match raw.claims.default_for.as_deref() {
            None | Some("lease") => None,
            Some(text) => Some(
                parse_duration(text)
                    .map_err(|e| format!("claims.default_for: {} (or \"lease\")", e.message))?,
            ),
        };
        dur("claims.max_for", &raw.claims.max_for, &mut c.max_for)?;
        dur("brief.since", &raw.brief.since, &mut c.brief_since)?;
        dur("time.max_skew", &raw.time.max_skew, &mut c.max_skew)?;
        dur("prune.older_than", &raw.prune.older_than, &mut c.prune_older_than)?;
        if let Some(branch) = raw.sync.branch {
            if branch.is_empty() || branch.contains(|c: char| c.is_whitespace() || c.is_control() || c == ':')
            {
                return Err(format!("sync.branch = {branch:?} is not a branch name"));
            }
            c.sync_branch = branch;
        }
        if let Some(zone) = raw.time.zone {
            c.zone = crate::core::clock::Zone::parse(&zone).ok_or_else(|| {
                format!("time.zone = {zone:?} is not a zone coord knows; use \"UTC\", an offset such as \"+02:00\", or a zone name such as \"Europe/Paris\"")
            })?;
            c.zone_name = zone;
        }
        if let Some(auto) = raw.prune.auto {
            c.prune_auto = auto;
        }
        if let Some(require) = raw.hooks.require_claim {
            c.require_claim = require;
        }
        dur(
            "hooks.overlap_window",
            &raw.hooks.overlap_window,
            &mut c.overlap_window,
        )?;
        if let Some(lead) = raw.roles.lead {
            c.leads = lead;
        }
        let count = |key: &str,
                     v: Option<i64>,
                     lo: i64,
                     hi: i64,
                     into: &mut usize|
         -> std::result::Result<(), String> {
            if let Some(n) = v {
                if n < lo || n > hi {
                    return Err(format!("{key} = {n} is out of range; use {lo} to {hi}"));
                }
                *into = n as usize;
            }
            Ok(())
        };
        count(
            "messages.max_body",
            raw.messages.max_body,
            1,
            16 << 20,
            &mut c.max_body,
        )?;
        count(
            "brief.max_messages",
            raw.brief.max_messages,
            0,
            10_000,
            &mut c.max_messages,
        )?;
        count(
            "brief.max_events",
            raw.brief.max_events,
            0,
            10_000,
            &mut c.max_events,
        )?;
        count("brief.max_rows", raw.brief.max_rows, 1, 100_000, &mut c.max_rows)?;
        count(
            "limits.sessions",
            raw.limits.sessions,
            1,
            10_000_000,
            &mut c.max_sessions,
        )?;
        count(
            "limits.claims",
            raw.limits.claims,
            1,
            10_000_000,
            &mut c.max_claims,
        )?;
        if let Some(d) = &raw.storage.durability {
            c.durability = match d.as_str() {
                "full" => Durability::Full,
                "normal" => Durability::Normal,
                "none" => Durability::None,
                other => {
                    return Err(format!(
                        "storage.durability = {other:?} is not one of \"full\", \"normal\", \"none\""
                    ))
                }
            };
        }
        if let Some(s) = &raw.storage.lock_timeout {
            let d = parse_duration(s).map_err(|e| format!("storage.lock_timeout: {}", e.message))?;
            c.lock_timeout = d.to_std().map_err(|e| format!("storage.lock_timeout: {e}"))?;
        }
        if c.gone_after <= c.stale_after {
            return Err("liveness.gone_after must be longer than liveness.stale_after".to_string());
        }
        if c.default_for.is_some_and(|d| d > c.max_for) {
            return Err("claims.default_for must not be longer than claims.max_for".to_string());
        }
        Ok(c)
    }
}

/// `top` over `base`, section by section; the keys `top` sets to another
/// value than `base` does (`section.key`).
fn overlay(mut base: toml::Table, top: toml::Table) -> (toml::Table, Vec<String>) {
    let mut overrides = Vec::new();
    for (section, value) in top {
        match (base.get_mut(&section), value) {
            (Some(toml::Value::Table(into)), toml::Value::Table(keys)) => {
                for (key, v) in keys {
                    if into.get(&key).is_some_and(|old| *old != v) {
                        overrides.push(format!("{section}.{key}"));
                    }
                    into.insert(key, v);
                }
            }
            (_, value) => {
                base.insert(section, value);
            }
        }
    }
    (base, overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clone_file_overrides_the_team_file_key_by_key_and_says_which() {
        let team = "[hooks]\nrequire_claim = true\n[roles]\nlead = [\"lead\", \"owner\"]\n";
        let local = "[hooks]\nrequire_claim = false\n[liveness]\nstale_after = \"10m\"\n";
        let p = Path::new("coord.toml");
        let c = Config::layered(Some((p, team.into())), Some((p, local.into()))).unwrap();
        assert!(!c.require_claim);
        assert_eq!(c.leads, ["lead", "owner"]);
        assert_eq!(c.stale_after, chrono::Duration::minutes(10));
        assert_eq!(c.overrides, ["hooks.require_claim"]);
        let c = Config::layered(Some((p, team.into())), Some((p, DEFAULT_TOML.into()))).unwrap();
        assert!(c.require_claim, "the commented template overrides nothing");
        assert!(c.overrides.is_empty());
        let e = Config::layered(
            Some((Path::new("team.toml"), b"[hooks]\nrequire_claim = 3\n".to_vec())),
            None,
        )
        .unwrap_err();
        assert!(e.message.starts_with("team.toml: line 2"), "{}", e.message);
    }

    #[test]
    fn default_file_parses_to_defaults() {
        let c = Config::parse(DEFAULT_TOML).unwrap();
        let d = Config::default();
        assert_eq!(c.stale_after, d.stale_after);
        assert_eq!(c.gone_after, d.gone_after);
        assert_eq!(c.max_body, d.max_body);
        assert_eq!(c.max_messages, d.max_messages);
        assert_eq!(c.durability, d.durability);
        assert_eq!(c.lock_timeout, d.lock_timeout);
    }

    #[test]
    fn missing_keys_default_and_bad_values_name_the_key() {
        let c = Config::parse("[liveness]\nstale_after = \"10m\"\n").unwrap();
        assert_eq!(c.stale_after, chrono::Duration::minutes(10));
        assert_eq!(c.gone_after, chrono::Duration::hours(2));
        let e = Config::parse_text("[liveness]\nstale_after = \"soon\"\n").unwrap_err();
        assert!(e.contains("liveness.stale_after"), "{e}");
        let e = Config::parse_text("[brief]\nmax_events = -1\n").unwrap_err();
        assert!(e.contains("brief.max_events"), "{e}");
        let e = Config::parse_text("[liveness]\nstale_after = \"3h\"\n").unwrap_err();
        assert!(e.contains("gone_after"), "{e}");
        let e = Config::parse_text("[storage]\ndurability = \"maybe\"\n").unwrap_err();
        assert!(e.contains("durability"), "{e}");
        assert!(Config::parse("[nope]\n").is_err());
    }
}
