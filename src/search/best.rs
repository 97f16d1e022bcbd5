//! The best `k` documents found so far, kept while ranking reads the matches window by window
//! ([`super::topk`]): score descending, then document ascending.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Scored;

/// A (score, document) pair ordered best-last: higher score, then lower document id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rank(pub f32, pub u32);

impl Eq for Rank {}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// The best `k` offered so far, through a min-heap of `k`.
pub(super) struct Best {
    k: usize,
    heap: BinaryHeap<Reverse<Rank>>,
}

impl Best {
    pub(super) fn new(k: usize) -> Best {
        Best {
            k,
            // `k` is offset + limit, at most a few thousand; the heap grows to it.
            heap: BinaryHeap::with_capacity(k.min(64) + 1),
        }
    }

    /// How many it keeps.
    pub(super) fn k(&self) -> usize {
        self.k
    }

    /// Whether it holds `k` already (only then can a rank fail to enter).
    pub(super) fn full(&self) -> bool {
        self.heap.len() >= self.k
    }

    /// The score a rank must beat to enter: the worst kept once full, else none.
    pub(super) fn bar(&self) -> f32 {
        match self.full() {
            true => self.heap.peek().map_or(f32::INFINITY, |r| r.0 .0),
            false => f32::NEG_INFINITY,
        }
    }

    /// Keeps `r` if it is among the best `k` so far.
    pub(super) fn offer(&mut self, r: Rank) {
        if !self.full() {
            self.heap.push(Reverse(r));
        } else if self.heap.peek().is_some_and(|w| r > w.0) {
            self.heap.pop();
            self.heap.push(Reverse(r));
        }
    }

    /// The ranks kept, best first, as (document, score).
    pub(super) fn into_sorted(self) -> Vec<(u32, f32)> {
        let mut top: Vec<(u32, f32)> = self.heap.into_iter().map(|r| (r.0 .1, r.0 .0)).collect();
        top.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        top
    }
}

/// Lists of (document, score) made one: each document once, with its best score.
pub(super) fn best_of(mut lists: Vec<Scored>) -> Scored {
    if lists.len() == 1 {
        return lists.pop().unwrap_or_default();
    }
    let mut all: Scored = lists.concat();
    all.sort_unstable_by_key(|x| x.0);
    all.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 = kept.1.max(next.1);
        }
        same
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Offering ranks one by one keeps what sorting them all and taking `k` keeps.
        #[test]
        fn best_keeps_the_top_k(scores in proptest::collection::vec(0u8..20, 0..200), k in 0usize..30) {
            let mut best = Best::new(k);
            for (d, &s) in scores.iter().enumerate() {
                best.offer(Rank(s as f32, d as u32));
            }
            let mut want: Vec<(u32, f32)> = scores.iter().enumerate().map(|(d, &s)| (d as u32, s as f32)).collect();
            want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            want.truncate(k);
            prop_assert_eq!(best.into_sorted(), want);
        }
    }
}
