//! Operations on ascending document lists, written once for both ranking paths: plain lists
//! of documents (`u32`) and scored lists (`(document, score)`).

use std::ops::Range;

use super::Scored;

/// An element of an ascending list: its document.
pub(super) trait Doc {
    fn doc(&self) -> u32;
}

impl Doc for u32 {
    fn doc(&self) -> u32 {
        *self
    }
}

impl Doc for (u32, f32) {
    fn doc(&self) -> u32 {
        self.0
    }
}

/// The first index at or after `from` whose document is not below `key`, galloping from
/// `from` (cheap when it is near, logarithmic when far).
pub(super) fn gallop<T: Doc>(list: &[T], from: usize, key: u32) -> usize {
    let mut lo = from;
    let mut step = 1;
    let mut hi = from;
    while hi < list.len() && list[hi].doc() < key {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    let hi = hi.min(list.len());
    lo + list[lo..hi].partition_point(|x| x.doc() < key)
}

/// `f` of the elements of `a` and `b` with the same document, walking `a` and galloping
/// through `b` (pass the shorter list as `a`).
pub(super) fn intersect_with<A: Doc, B: Doc, O>(
    a: &[A],
    b: &[B],
    f: impl Fn(&A, &B) -> O,
) -> Vec<O> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let mut j = 0;
    for x in a {
        j = gallop(b, j, x.doc());
        if j == b.len() {
            break;
        }
        if b[j].doc() == x.doc() {
            out.push(f(x, &b[j]));
        }
    }
    out
}

/// The elements of `a` whose document is not in `b`.
pub(super) fn subtract<A: Doc + Copy, B: Doc>(a: &[A], b: &[B]) -> Vec<A> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|x| {
            j = gallop(b, j, x.doc());
            !(j < b.len() && b[j].doc() == x.doc())
        })
        .collect()
}

/// Union of two scored lists; documents in both get `f` of their scores.
pub(super) fn merge(a: &Scored, b: &Scored, f: impl Fn(f32, f32) -> f32) -> Scored {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, f(a[i].1, b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The union of ascending lists of documents below `docs`.
pub(super) fn union(mut lists: Vec<Vec<u32>>, docs: u32) -> Vec<u32> {
    lists.retain(|l| !l.is_empty());
    if lists.len() <= 1 {
        return lists.pop().unwrap_or_default();
    }
    let n = lists.iter().map(Vec::len).sum();
    union_each(n, 0..docs, &mut |f| {
        lists.iter().flatten().for_each(|&d| f(d))
    })
}

/// The documents of ascending lists (of documents in `window`, or of scored documents),
/// ascending, once each: read in place, without a copy of each list.
pub(super) fn union_of<T: Doc>(lists: &[&[T]], window: Range<u32>) -> Vec<u32> {
    let n = lists.iter().map(|l| l.len()).sum();
    union_each(n, window, &mut |f| {
        lists.iter().for_each(|l| l.iter().for_each(|x| f(x.doc())))
    })
}

/// Passes documents, one by one, to the function it is given.
type EachDoc<'a> = dyn FnMut(&mut dyn FnMut(u32)) + 'a;

/// The union of the `n` documents (in `window`, repeats allowed) that `each` passes to its
/// argument, ascending: one body for every kind of list (the search `.wasm` carries it once).
fn union_each(n: usize, window: Range<u32>, each: &mut EachDoc<'_>) -> Vec<u32> {
    let span = window.end.saturating_sub(window.start) as usize;
    if n < span / 16 {
        let mut all: Vec<u32> = Vec::with_capacity(n);
        each(&mut |d| all.push(d));
        all.sort();
        all.dedup();
        return all;
    }
    // Many documents: a bitmap over the window.
    let lo = window.start;
    let mut bits = vec![0u64; span.div_ceil(64)];
    each(&mut |d| {
        let i = d.wrapping_sub(lo) as usize;
        if let Some(w) = bits.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    });
    let count: usize = bits.iter().map(|w| w.count_ones() as usize).sum();
    let mut out = Vec::with_capacity(count);
    for (i, &w) in bits.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            out.push(lo + i as u32 * 64 + w.trailing_zeros());
            w &= w - 1;
        }
    }
    out
}

/// Documents, ascending, each with a bound of its score.
pub(super) type Bounded = Vec<(u32, f32)>;

/// Per alternative of a clause, per source, its matches with their bounds.
pub(super) type ClauseMatches = Vec<Vec<Bounded>>;

/// The documents of clauses' matches (all in `window`), ascending, once each.
pub(super) fn matched_docs(clauses: &[ClauseMatches], window: Range<u32>) -> Vec<u32> {
    let lists: Vec<&[(u32, f32)]> = clauses
        .iter()
        .flatten()
        .flatten()
        .map(Vec::as_slice)
        .collect();
    union_of(&lists, window)
}

/// The bound of each of `matched`'s scores from its clauses' matches: per clause, its
/// alternatives' bounds summed (an alternative's is its best source's), clauses summed, in the
/// order (and association) the exact score sums them. A clause of one alternative adds it
/// straight to the total (0 + a is a), and an alternative of one source its bounds straight to
/// the clause's (the largest of one is itself): the per-clause and per-alternative arrays are
/// made only when needed.
pub(super) fn bounds_of(matches: &[ClauseMatches], matched: &[u32]) -> Vec<f32> {
    let n = matched.len();
    let mut bounds = vec![0.0f32; n];
    let mut clause_bounds: Vec<f32> = Vec::new();
    let mut alt_bounds: Vec<f32> = Vec::new();
    for m in matches {
        let one_alt = m.len() == 1;
        if !one_alt {
            clause_bounds.clear();
            clause_bounds.resize(n, 0.0);
        }
        for alt in m {
            let one_source = alt.len() == 1;
            let to = match (one_alt, one_source) {
                (true, true) => &mut bounds,
                (false, true) => &mut clause_bounds,
                (_, false) => {
                    alt_bounds.clear();
                    alt_bounds.resize(n, 0.0);
                    &mut alt_bounds
                }
            };
            for list in alt {
                let mut j = 0;
                for &(d, b) in list {
                    j = gallop(matched, j, d);
                    if j == n {
                        break;
                    }
                    if matched[j] == d {
                        to[j] = if one_source { to[j] + b } else { to[j].max(b) };
                    }
                }
            }
            if !one_source {
                let into = if one_alt {
                    &mut bounds
                } else {
                    &mut clause_bounds
                };
                into.iter_mut().zip(&alt_bounds).for_each(|(c, a)| *c += a);
            }
        }
        if !one_alt {
            bounds
                .iter_mut()
                .zip(&clause_bounds)
                .for_each(|(t, c)| *t += c);
        }
    }
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scored(docs: &[u32]) -> Scored {
        docs.iter().map(|&d| (d, 1.0)).collect()
    }

    proptest! {
        #[test]
        fn set_operations_match_sets(a in proptest::collection::btree_set(0u32..200, 0..80),
                                     b in proptest::collection::btree_set(0u32..200, 0..80)) {
            let (va, vb) = (scored(&a.iter().copied().collect::<Vec<_>>()), scored(&b.iter().copied().collect::<Vec<_>>()));
            let docs = |s: &Scored| s.iter().map(|x| x.0).collect::<Vec<_>>();
            prop_assert_eq!(docs(&merge(&va, &vb, |x, y| x + y)), a.union(&b).copied().collect::<Vec<_>>());
            prop_assert_eq!(docs(&intersect_with(&va, &vb, |x, y| (x.0, x.1 + y.1))), a.intersection(&b).copied().collect::<Vec<_>>());
            prop_assert_eq!(docs(&subtract(&va, &vb)), a.difference(&b).copied().collect::<Vec<_>>());
            for (_, s) in intersect_with(&va, &vb, |x, y| (x.0, x.1 + y.1)) { prop_assert_eq!(s, 2.0); }
        }
    }
}
