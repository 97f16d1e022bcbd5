//! The best `k` documents found so far, kept while ranking reads the matches window by window
//! ([`super::topk`]): score descending, then document ascending.

use std::cmp::{Ordering, Reverse};
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

/// Puts the `k` first elements of `v` under `cmp` (a total order) in `v[..k]`, in no particular
/// order: `select_nth_unstable_by(k - 1, cmp)`'s effect, in a fraction of its code (the search
/// `.wasm` carried 7.7 KB of `core`'s median-of-medians for two element types). Quickselect,
/// the pivot the median of three places drawn by a fixed-seed generator (the median of the
/// first, middle and last elements met expansion lists that took 4,000–5,000 comparisons for
/// 256 elements; drawn: 575 on average);
/// after `2 log2 n + 8` rounds the range left is sorted instead, so the work stays O(n log n)
/// whatever the order.
pub(super) fn select_first<T>(v: &mut [T], k: usize, cmp: impl Fn(&T, &T) -> Ordering) {
    if k == 0 || k >= v.len() {
        return;
    }
    let (mut lo, mut hi) = (0, v.len());
    let mut rounds = 2 * (usize::BITS - v.len().leading_zeros()) + 8;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    // Invariant: every element before `lo` precedes every element from `lo` on, every element
    // from `hi` on follows every element before `hi`, and `lo < k < hi`.
    while hi - lo > 8 && rounds > 0 {
        rounds -= 1;
        // Three places drawn at random (a fixed seed: the same input, the same work), their
        // median the pivot: no input order makes every round a bad one.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (hi - lo) as u64;
        let at = |shift: u32| lo + ((seed >> shift) % len) as usize;
        let (a, mid, last) = (at(0), at(21), at(42));
        v.swap(lo, a);
        // The median of the three (the first now at `lo`), moved to `mid`, then to `lo`.
        if cmp(&v[mid], &v[lo]).is_lt() {
            v.swap(mid, lo);
        }
        if cmp(&v[last], &v[mid]).is_lt() {
            v.swap(last, mid);
            if cmp(&v[mid], &v[lo]).is_lt() {
                v.swap(mid, lo);
            }
        }
        v.swap(lo, mid);
        let mut store = lo + 1;
        for i in lo + 1..hi {
            if cmp(&v[i], &v[lo]).is_lt() {
                v.swap(i, store);
                store += 1;
            }
        }
        let p = store - 1;
        v.swap(lo, p);
        // `v[p]` is in its sorted place: before it precede, after it follow.
        match p.cmp(&k) {
            Ordering::Less => lo = p + 1,
            Ordering::Greater => hi = p,
            Ordering::Equal => return,
        }
        if lo >= k || hi <= k {
            return;
        }
    }
    v[lo..hi].sort_unstable_by(cmp);
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
        /// Selecting the first `k` puts in `v[..k]` what sorting puts there, for lists with
        /// repeated values (ties broken by position) and every `k`.
        #[test]
        fn select_first_takes_the_sorted_prefix(values in proptest::collection::vec(0u8..30, 0..400), k in 0usize..420) {
            let mut v: Vec<(u8, usize)> = values.iter().copied().zip(0..).collect();
            let mut want = v.clone();
            want.sort();
            select_first(&mut v, k, |a, b| a.cmp(b));
            let mut got = v.clone();
            got[..k.min(v.len())].sort();
            prop_assert_eq!(&got[..k.min(v.len())], &want[..k.min(v.len())]);
            got.sort();
            prop_assert_eq!(got, want);
            // Equal elements (a comparison on the value alone): the same values come first.
            let mut w: Vec<u8> = values.clone();
            select_first(&mut w, k, |a, b| a.cmp(b));
            let n = k.min(w.len());
            w[..n].sort();
            let mut sorted = values.clone();
            sorted.sort();
            prop_assert_eq!(&w[..n], &sorted[..n]);
        }

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
