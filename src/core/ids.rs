//! Ids that two machines can mint offline without ever colliding: a time
//! prefix (so ids sort roughly by age) and 40 random bits from the OS.
//! A seed (the CLI takes it from `COORD_ID_SEED`) swaps the OS randomness
//! for a hash of the seed and a salt the caller derives from the hub (log
//! lengths under the lock), so a scripted demo reproduces its files byte for
//! byte.

use std::io::Read;

use crate::core::clock::Time;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

#[derive(Debug, Clone, Copy, Default)]
pub struct IdSource {
    seed: Option<u64>,
}

impl IdSource {
    /// OS randomness without a seed; repeatable ids with one.
    pub fn new(seed: Option<&str>) -> Self {
        IdSource {
            seed: seed.map(|s| fnv1a(s.as_bytes())),
        }
    }

    pub fn is_seeded(&self) -> bool {
        self.seed.is_some()
    }

    /// 64 bits: from the seed and `salt` when seeded, else from the OS.
    pub fn bits(&self, salt: u64) -> u64 {
        match self.seed {
            Some(seed) => splitmix(seed ^ splitmix(salt)),
            None => os_random().unwrap_or_else(|| fallback_random(salt)),
        }
    }

    /// `m-<time>-<random>` for messages, `e-...` for events.
    pub fn mint(&self, prefix: char, now: Time, salt: u64) -> String {
        let secs = now.timestamp().max(0) as u64;
        let mut out = String::with_capacity(18);
        out.push(prefix);
        out.push('-');
        out.push_str(&base32(secs, 7));
        out.push('-');
        out.push_str(&base32(self.bits(salt) >> 24, 8));
        out
    }
}

/// An id the same on every machine for the same `seed`: for what several
/// machines may each write once (the message telling a holder it lost a
/// claim in a merge), so the union of their logs keeps one.
pub fn derived(prefix: char, at: Time, seed: &str) -> String {
    let secs = at.timestamp().max(0) as u64;
    format!(
        "{prefix}-{}-{}",
        base32(secs, 7),
        base32(fnv1a(seed.as_bytes()) >> 24, 8)
    )
}

fn base32(mut n: u64, width: usize) -> String {
    let mut buf = vec![b'0'; width];
    for slot in buf.iter_mut().rev() {
        *slot = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8(buf).unwrap_or_default()
}

/// Fill `buf` from the system's randomness (/dev/urandom): ids, and the
/// dashboard's write token.
pub fn os_random_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf))
}

fn os_random() -> Option<u64> {
    let mut bytes = [0u8; 8];
    os_random_bytes(&mut bytes).ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Without /dev/urandom: the clock's nanoseconds, the pid and the address of
/// a stack slot, mixed. Unique enough for ids; never used for secrets.
fn fallback_random(salt: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    let addr = &local as *const u8 as u64;
    splitmix(nanos ^ (std::process::id() as u64).rotate_left(32) ^ addr ^ salt)
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const ADJECTIVES: &[&str] = &[
    "amber", "brisk", "calm", "clever", "cobalt", "coral", "crisp", "dusty", "eager", "fern", "gentle",
    "golden", "hazel", "jade", "keen", "lively", "lucid", "mellow", "misty", "nimble", "noble", "olive",
    "plucky", "quiet", "rapid", "rustic", "sage", "silver", "steady", "sunny", "swift", "tidy", "vivid",
    "warm", "witty", "zesty",
];
const NOUNS: &[&str] = &[
    "badger", "beaver", "comet", "crane", "falcon", "finch", "fox", "heron", "ibis", "lark", "lynx",
    "marten", "otter", "owl", "panda", "pike", "puffin", "quail", "raven", "robin", "seal", "sparrow",
    "stoat", "swift", "tern", "tiger", "trout", "vole", "walrus", "wren",
];

/// A readable session id such as `quiet-otter`, not in `taken`.
pub fn readable_name(ids: &IdSource, salt: u64, taken: impl Fn(&str) -> bool) -> String {
    for attempt in 0..64u64 {
        let bits = ids.bits(salt.wrapping_add(attempt));
        let adj = ADJECTIVES[(bits % ADJECTIVES.len() as u64) as usize];
        let noun = NOUNS[((bits >> 16) % NOUNS.len() as u64) as usize];
        let name = if attempt < 16 {
            format!("{adj}-{noun}")
        } else {
            format!("{adj}-{noun}-{}", (bits >> 32) % 1000)
        };
        if !taken(&name) {
            return name;
        }
    }
    format!("session-{}", base32(ids.bits(salt ^ 0xffff), 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat_and_differ_by_salt() {
        let ids = IdSource { seed: Some(7) };
        let now = crate::core::clock::parse_time("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(ids.mint('m', now, 1), ids.mint('m', now, 1));
        assert_ne!(ids.mint('m', now, 1), ids.mint('m', now, 2));
        assert!(ids.mint('m', now, 1).starts_with("m-"));
        assert_eq!(ids.mint('m', now, 1).len(), 18);
    }

    #[test]
    fn os_ids_differ() {
        let ids = IdSource { seed: None };
        let now = crate::core::clock::parse_time("2026-01-01T00:00:00Z").unwrap();
        let a: std::collections::HashSet<String> = (0..1000).map(|i| ids.mint('m', now, i)).collect();
        assert_eq!(a.len(), 1000);
    }

    #[test]
    fn readable_names_avoid_taken() {
        let ids = IdSource { seed: Some(1) };
        let first = readable_name(&ids, 0, |_| false);
        let second = readable_name(&ids, 0, |n| n == first);
        assert_ne!(first, second);
        assert!(crate::core::rules::validate::session_id(&first).is_ok());
    }
}
