//! A tiny seeded random source (SplitMix64) for the scenario and the fault plan.
//!
//! Why not a crate: the tenant must be identical for a given seed on every platform and every future
//! version of the sim, so that exported files, API answers and the answer key agree record for record.
//! A fixed, documented algorithm in twenty lines gives that; a general-purpose RNG crate may change its
//! stream between versions.

/// SplitMix64: fast, well distributed, and splittable by mixing a seed with a slot key.
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Self {
        Prng(seed)
    }

    /// An independent stream for a slot (e.g. mailbox × hour) of the tenant with `seed`.
    pub fn for_slot(seed: u64, parts: &[u64]) -> Self {
        let mut x = mix(seed ^ 0x5EED_7DE0_A4C0_FFEE);
        for p in parts {
            x = mix(x ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        Prng(x)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A random version-4 GUID, lower case, as Microsoft prints record ids.
    pub fn guid(&mut self) -> String {
        guid_from(self.next_u64(), self.next_u64())
    }
}

/// The SplitMix64 finaliser.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Formats 128 bits as a version-4 GUID.
pub fn guid_from(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

/// A stable 64-bit hash of a string (FNV-1a then mixed), for deriving per-name streams.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    mix(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_guid_shape() {
        let mut a = Prng::for_slot(7, &[1, 2]);
        let mut b = Prng::for_slot(7, &[1, 2]);
        assert_eq!(a.next_u64(), b.next_u64());
        let g = a.guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert_ne!(Prng::for_slot(7, &[1, 3]).next_u64(), Prng::for_slot(7, &[1, 2]).next_u64());
    }
}
