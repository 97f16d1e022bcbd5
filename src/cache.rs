//! How is fetched data kept within a byte budget?
//!
//! [`PageCache`] is a least-recently-used map (the `lru` crate) from page keys to shared page
//! bytes, with a hard byte budget: every entry is charged its length plus
//! [`ENTRY_OVERHEAD`], and an insert evicts least-recently-used pages until the new one fits.
//! A page larger than the whole budget is not cached. The charged total never exceeds the
//! budget, after any operation.

use std::hash::Hash;
use std::sync::Arc;

/// Bytes charged per entry on top of its data (key, reference count, list links).
pub const ENTRY_OVERHEAD: usize = 64;

/// Counters of a cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found their page.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Pages evicted to make room.
    pub evictions: u64,
    /// Bytes charged now (data plus overhead).
    pub bytes_held: u64,
    /// The budget.
    pub budget: u64,
    /// Pages held now.
    pub entries: u64,
}

/// A byte-budgeted LRU cache of immutable pages.
pub struct PageCache<K: Hash + Eq> {
    map: lru::LruCache<K, Arc<[u8]>>,
    used: usize,
    budget: usize,
    stats: CacheStats,
}

impl<K: Hash + Eq + Clone> PageCache<K> {
    /// An empty cache that will hold at most `budget` charged bytes.
    pub fn new(budget: usize) -> Self {
        PageCache {
            map: lru::LruCache::unbounded(),
            used: 0,
            budget,
            stats: CacheStats {
                budget: budget as u64,
                ..Default::default()
            },
        }
    }

    fn charge(page: &[u8]) -> usize {
        page.len() + ENTRY_OVERHEAD
    }

    /// The page under `key`, marking it recently used.
    pub fn get(&mut self, key: &K) -> Option<Arc<[u8]>> {
        match self.map.get(key) {
            Some(p) => {
                self.stats.hits += 1;
                Some(p.clone())
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Whether `key` is held (no effect on order or counters).
    pub fn contains(&self, key: &K) -> bool {
        self.map.contains(key)
    }

    /// Adds a page, evicting least-recently-used pages until it fits. Returns whether it was
    /// kept (a page larger than the budget is not).
    pub fn insert(&mut self, key: K, page: Arc<[u8]>) -> bool {
        let cost = Self::charge(&page);
        if let Some(old) = self.map.pop(&key) {
            self.used -= Self::charge(&old);
        }
        if cost > self.budget {
            self.sync();
            return false;
        }
        while self.used + cost > self.budget {
            match self.map.pop_lru() {
                Some((_, old)) => {
                    self.used -= Self::charge(&old);
                    self.stats.evictions += 1;
                }
                None => break,
            }
        }
        self.used += cost;
        self.map.put(key, page);
        self.sync();
        true
    }

    #[cfg(test)]
    /// Drops every page.
    pub fn clear(&mut self) {
        self.map.clear();
        self.used = 0;
        self.sync();
    }

    /// Charged bytes held now.
    pub fn bytes_held(&self) -> usize {
        self.used
    }

    /// The budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    fn sync(&mut self) {
        self.stats.bytes_held = self.used as u64;
        self.stats.entries = self.map.len() as u64;
    }

    #[cfg(test)]
    /// Sum of the charges of the pages held, recomputed (for tests).
    pub fn recount(&self) -> usize {
        self.map.iter().map(|(_, p)| Self::charge(p)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, usize),
        Get(u8),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), 0usize..3000).prop_map(|(k, n)| Op::Insert(k, n)),
            3 => any::<u8>().prop_map(Op::Get),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #[test]
        fn never_holds_more_than_its_budget(budget in 0usize..20_000, ops in proptest::collection::vec(op(), 0..300)) {
            let mut c: PageCache<u8> = PageCache::new(budget);
            for op in ops {
                match op {
                    Op::Insert(k, n) => {
                        let kept = c.insert(k, vec![k; n].into());
                        prop_assert_eq!(kept, n + ENTRY_OVERHEAD <= budget);
                        if kept {
                            prop_assert_eq!(c.get(&k).unwrap().len(), n);
                        }
                    }
                    Op::Get(k) => {
                        if let Some(p) = c.get(&k) { prop_assert!(p.iter().all(|&b| b == k)); }
                    }
                    Op::Clear => c.clear(),
                }
                prop_assert!(c.bytes_held() <= budget);
                prop_assert_eq!(c.bytes_held(), c.recount());
                prop_assert_eq!(c.stats().bytes_held as usize, c.bytes_held());
            }
        }
    }

    #[test]
    fn evicts_least_recently_used_first() {
        let mut c: PageCache<u8> = PageCache::new(3 * (100 + ENTRY_OVERHEAD));
        for k in 0..3 {
            assert!(c.insert(k, vec![0; 100].into()));
        }
        c.get(&0);
        c.insert(3, vec![0; 100].into());
        assert!(c.contains(&0) && !c.contains(&1) && c.contains(&2) && c.contains(&3));
        assert_eq!(c.stats().evictions, 1);
        assert!(
            !c.insert(9, vec![0; 10_000].into()),
            "a page above the budget is not kept"
        );
    }
}
