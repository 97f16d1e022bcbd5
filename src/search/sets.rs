//! Operations on ascending document lists, written once for both ranking paths: plain lists
//! of documents (`u32`) and scored lists (`(document, score)`).

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
    let n: usize = lists.iter().map(Vec::len).sum();
    if n < docs as usize / 16 {
        let mut all: Vec<u32> = lists.concat();
        all.sort_unstable();
        all.dedup();
        return all;
    }
    // Many documents: a bitmap over the collection.
    let mut bits = vec![0u64; (docs as usize).div_ceil(64)];
    for &d in lists.iter().flatten() {
        if let Some(w) = bits.get_mut(d as usize / 64) {
            *w |= 1 << (d % 64);
        }
    }
    let mut out = Vec::with_capacity(n.min(docs as usize));
    for (i, &w) in bits.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            out.push(i as u32 * 64 + w.trailing_zeros());
            w &= w - 1;
        }
    }
    out
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
