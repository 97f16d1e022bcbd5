//! Which hash do a query's own maps use? A multiply-rotate one (FxHash's scheme) instead of
//! std's SipHash: their keys are term ordinals, dictionary part numbers and a query's own words,
//! few and bounded by the query's budgets, so a keyed hash buys nothing against a hostile query
//! (its work is bounded by its size either way) and SipHash costs more than the lookups.
//!
//! Natively only: in the search `.wasm` this hasher made the 500-query run execute 1.0% more
//! instructions and the module 4.3 KB (gzip) larger, so there the maps keep std's.

use std::collections::{HashMap, HashSet};
#[cfg(any(test, not(target_arch = "wasm32")))]
use std::hash::BuildHasherDefault;

/// A map of a query's own.
#[cfg(not(target_arch = "wasm32"))]
pub(super) type Map<K, V> = HashMap<K, V, BuildHasherDefault<Quick>>;
#[cfg(target_arch = "wasm32")]
pub(super) type Map<K, V> = HashMap<K, V>;

/// A set of a query's own.
#[cfg(not(target_arch = "wasm32"))]
pub(super) type Set<T> = HashSet<T, BuildHasherDefault<Quick>>;
#[cfg(target_arch = "wasm32")]
pub(super) type Set<T> = HashSet<T>;

/// Not built into the `.wasm`, which keeps std's hasher.
#[cfg(any(test, not(target_arch = "wasm32")))]
mod hasher {
    use std::hash::Hasher;

    /// The hasher: each word of input rotated in and multiplied by an odd constant (so the high
    /// bits, which the table's control bytes take, depend on every input bit).
    #[derive(Default, Clone, Copy)]
    pub struct Quick(u64);

    const K: u64 = 0x517c_c1b7_2722_0a95;

    impl Quick {
        fn add(&mut self, word: u64) {
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
    }

    impl Hasher for Quick {
        fn write(&mut self, bytes: &[u8]) {
            let mut chunks = bytes.chunks_exact(8);
            for c in &mut chunks {
                self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                let mut last = [0u8; 8];
                last[..rest.len()].copy_from_slice(rest);
                self.add(u64::from_le_bytes(last));
            }
        }

        fn write_u8(&mut self, n: u8) {
            self.add(n.into());
        }

        fn write_u32(&mut self, n: u32) {
            self.add(n.into());
        }

        fn write_u64(&mut self, n: u64) {
            self.add(n);
        }

        fn write_usize(&mut self, n: usize) {
            self.add(n as u64);
        }

        fn finish(&self) -> u64 {
            self.0
        }
    }
}
#[cfg(any(test, not(target_arch = "wasm32")))]
pub(super) use hasher::Quick;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(t: &T) -> u64 {
        BuildHasherDefault::<Quick>::default().hash_one(t)
    }

    #[test]
    fn keys_that_differ_hash_apart() {
        // Ordinals in a row, and strings that differ in one byte, in their length, or only
        // past the first eight bytes.
        let ords: Set<u64> = (0..10_000u64).map(|o| hash(&o)).collect();
        assert_eq!(ords.len(), 10_000);
        let words = [
            "",
            "a",
            "ab",
            "abcdefgh",
            "abcdefghi",
            "abcdefghj",
            "abcdefgh\0",
        ];
        let hashes: Set<u64> = words.iter().map(|w| hash(&w.to_string())).collect();
        assert_eq!(hashes.len(), words.len());
        // The high seven bits (the table's control bytes) take many values over a run of ords.
        let tops: Set<u64> = (0..1_000u64).map(|o| hash(&o) >> 57).collect();
        assert!(tops.len() > 100, "{}", tops.len());
    }

    #[test]
    fn maps_work_as_maps() {
        let mut m: Map<(String, bool), u32> = Map::default();
        for i in 0..1_000u32 {
            m.insert((i.to_string(), i % 2 == 0), i);
        }
        assert_eq!(m.len(), 1_000);
        assert_eq!(m.get(&("17".to_string(), false)), Some(&17));
        assert_eq!(m.get(&("17".to_string(), true)), None);
    }
}
