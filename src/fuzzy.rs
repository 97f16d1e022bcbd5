//! How are typos matched against the dictionary?
//!
//! [`Levenshtein`] is an [`fst::Automaton`] that runs the optimal-string-alignment distance
//! (insertions, deletions, substitutions and adjacent transpositions each cost one edit) over the
//! dictionary's bytes, one dynamic-programming row per character. In prefix mode a term matches
//! once any of its prefixes is within the distance, for search-as-you-type with typos.
//! [`Levenshtein::first_char_fixed`] also requires the key's first character to equal the
//! query's (Lucene's `prefix_length` of 1): the searcher uses it, so a typo expansion walks one
//! first-character subtree of the dictionary (and, in a split index, fetches only the
//! dictionary parts of that character).
//!
//! Every step is counted against a budget: a traversal that takes more steps than allowed stops
//! and is reported through [`Levenshtein::exhausted`], which the searcher turns into an error.

use std::cell::Cell;

use fst::Automaton;

/// Longest query word, in characters, that gets typo matching.
pub const MAX_CHARS: usize = 32;

/// Most edits an automaton allows.
pub const MAX_EDITS: u8 = 3;

/// Cells of a row's band: columns `i − max ..= i + max` of row `i`.
const BAND: usize = 2 * MAX_EDITS as usize + 1;

/// One automaton state: the band of the last two DP rows and a partly read UTF-8 character.
/// Row `i` (after `i` characters) holds column `j` at `j − i + max`; every column outside the
/// band is at least `max + 1` away, so it is the cap. Small, as fst's streams copy a state per
/// transition.
#[derive(Clone, Debug)]
pub struct LevState {
    row: [u8; BAND],
    prev_row: [u8; BAND],
    /// The query positions (bit `j` for the `j`-th character) equal to the last character read
    /// (0 before the first).
    prev_eq: u32,
    /// Characters read (the row's index), saturating: past the query's length plus `max`
    /// every distance is `cap` anyway.
    depth: u16,
    pending: u32,
    pending_need: u8,
    dead: bool,
    /// Prefix mode: some prefix already matched; every extension matches.
    matched: bool,
    /// Smallest distance reached (prefix mode) or the current distance.
    best: u8,
}

/// A bounded Levenshtein (OSA) automaton over UTF-8 keys.
#[derive(Debug)]
pub struct Levenshtein {
    query: Vec<char>,
    /// For each ASCII character, the query positions equal to it (bit `j` for the `j`-th).
    eq_ascii: [u32; 128],
    max: u8,
    prefix: bool,
    first_fixed: bool,
    steps: Cell<u64>,
    budget: u64,
}

impl Levenshtein {
    /// An automaton accepting keys within `max` edits of `query` (or, with `prefix`, keys with
    /// a prefix within `max` edits). `None` when `query` is longer than [`MAX_CHARS`] or `max`
    /// above [`MAX_EDITS`].
    pub fn new(query: &str, max: u8, prefix: bool, budget: u64) -> Option<Levenshtein> {
        let query: Vec<char> = query.chars().collect();
        if query.len() > MAX_CHARS || max > MAX_EDITS {
            return None;
        }
        let mut eq_ascii = [0u32; 128];
        for (j, &c) in query.iter().enumerate() {
            if c.is_ascii() {
                eq_ascii[c as usize] |= 1 << j;
            }
        }
        Some(Levenshtein {
            query,
            eq_ascii,
            max,
            prefix,
            first_fixed: false,
            steps: Cell::new(0),
            budget,
        })
    }

    /// Also requires a key's first character to equal the query's first character (no typo
    /// in the first letter). No effect for an empty query.
    pub fn first_char_fixed(mut self) -> Self {
        self.first_fixed = true;
        self
    }

    /// Steps taken so far (at most the budget).
    pub fn steps(&self) -> u64 {
        self.steps.get().min(self.budget)
    }

    /// Whether the traversal hit the step budget (its results are then incomplete).
    pub fn exhausted(&self) -> bool {
        self.steps.get() > self.budget
    }

    /// The distance recorded in a matching state.
    pub fn distance(&self, state: &LevState) -> u8 {
        if self.prefix {
            state.best
        } else {
            self.at(&state.row, state.depth, self.query.len())
        }
    }

    fn cap(&self) -> u8 {
        self.max + 1
    }

    /// Column `j` of row `i` held in `band` (the cap outside it).
    fn at(&self, band: &[u8; BAND], i: u16, j: usize) -> u8 {
        let k = (j + self.max as usize).wrapping_sub(i as usize);
        match band.get(k) {
            Some(&v) if k <= 2 * self.max as usize => v,
            _ => self.cap(),
        }
    }

    /// The query positions equal to `c` (bit `j` for the `j`-th character).
    fn eq(&self, c: char) -> u32 {
        match self.eq_ascii.get(c as usize) {
            Some(&m) => m,
            None => (self.query.iter().enumerate())
                .filter(|&(_, &q)| q == c)
                .fold(0, |m, (j, _)| m | 1 << j),
        }
    }

    fn step(&self, s: &LevState, c: char) -> LevState {
        self.step_eq(s, self.eq(c))
    }

    /// The state after a character equal to the query positions `eq` (bit `j` for the `j`-th).
    fn step_eq(&self, s: &LevState, eq: u32) -> LevState {
        match self.max {
            0 => self.step_band::<0>(s, eq),
            1 => self.step_band::<1>(s, eq),
            2 => self.step_band::<2>(s, eq),
            _ => self.step_band::<{ MAX_EDITS as usize }>(s, eq),
        }
    }

    /// [`Self::step_eq`] for `max` = `MAX` (a loop of known length, unrolled).
    #[allow(clippy::needless_range_loop)] // `k` indexes both rows and the new one
    fn step_band<const MAX: usize>(&self, s: &LevState, eq: u32) -> LevState {
        let m = self.query.len();
        let max = MAX;
        let cap = self.cap();
        let i = s.depth as usize + 1;
        let mut row = [cap; BAND];
        let mut min = cap;
        // Column j = i − max + k of row i, left to right. Row i − 1 holds column j at k + 1
        // (a deletion) and column j − 1 at k (a substitution); row i − 2 holds column j − 2 at
        // k too (a transposition); row i holds column j − 1 at k − 1 (an insertion).
        let mut left = cap;
        for k in 0..=2 * MAX {
            // Below 0 (wrapped) or past the query: outside the matrix, the cap.
            let j = (i + k).wrapping_sub(max);
            let v = if j > m {
                cap
            } else if j == 0 {
                i.min(cap as usize) as u8
            } else {
                let above = if k < 2 * max { s.row[k + 1] } else { cap };
                let cost = (eq >> (j - 1) & 1 == 0) as u8;
                let mut v = (above + 1).min(left + 1).min(s.row[k] + cost);
                if j > 1 && s.prev_eq >> (j - 1) & eq >> (j - 2) & 1 == 1 {
                    v = v.min(s.prev_row[k] + 1);
                }
                v.min(cap)
            };
            row[k] = v;
            left = v;
            min = min.min(v);
        }
        let mut next = s.clone();
        next.prev_row = s.row;
        next.row = row;
        next.prev_eq = eq;
        next.depth = s.depth.saturating_add(1);
        next.dead = min > self.max || (self.first_fixed && s.depth == 0 && m > 0 && eq & 1 == 0);
        let d = self.at(&next.row, next.depth, m);
        if self.prefix && d <= self.max {
            next.matched = true;
            next.best = next.best.min(d);
        }
        next
    }
}

impl fst::Automaton for Levenshtein {
    type State = LevState;

    fn start(&self) -> LevState {
        // Row 0: column j is j (insertions), the cap past it or outside the query.
        let cap = self.cap();
        let max = self.max as usize;
        let m = self.query.len();
        let mut row = [cap; BAND];
        for (k, r) in row.iter_mut().enumerate().take(2 * max + 1).skip(max) {
            let j = k - max;
            if j <= m {
                *r = (j as u8).min(cap);
            }
        }
        let d = self.at(&row, 0, m);
        // With the first character fixed, nothing matches before a first character is read.
        let early = self.prefix && d <= self.max && !(self.first_fixed && m > 0);
        LevState {
            row,
            prev_row: [cap; BAND],
            prev_eq: 0,
            depth: 0,
            pending: 0,
            pending_need: 0,
            dead: false,
            matched: early,
            best: if early { d } else { u8::MAX },
        }
    }

    fn is_match(&self, s: &LevState) -> bool {
        let no_first = self.first_fixed && !self.query.is_empty() && s.depth == 0;
        !s.dead
            && !no_first
            && s.pending_need == 0
            && (s.matched || self.at(&s.row, s.depth, self.query.len()) <= self.max)
    }

    fn can_match(&self, s: &LevState) -> bool {
        !s.dead
    }

    fn will_always_match(&self, s: &LevState) -> bool {
        s.matched && !s.dead
    }

    fn accept(&self, s: &LevState, byte: u8) -> LevState {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if s.dead || steps > self.budget {
            let mut d = s.clone();
            d.dead = true;
            return d;
        }
        self.advance(s, byte)
    }
}

impl Levenshtein {
    /// The state after `byte`, taken no step of the budget for.
    fn advance(&self, s: &LevState, byte: u8) -> LevState {
        if s.matched {
            return s.clone();
        }
        let mut st = s.clone();
        let c = if st.pending_need == 0 {
            match byte {
                0x00..=0x7f => byte as char,
                0xc0..=0xdf => {
                    st.pending = (byte & 0x1f) as u32;
                    st.pending_need = 1;
                    return st;
                }
                0xe0..=0xef => {
                    st.pending = (byte & 0x0f) as u32;
                    st.pending_need = 2;
                    return st;
                }
                0xf0..=0xf7 => {
                    st.pending = (byte & 0x07) as u32;
                    st.pending_need = 3;
                    return st;
                }
                _ => {
                    st.dead = true; // not valid UTF-8: no term of ours
                    return st;
                }
            }
        } else {
            st.pending = (st.pending << 6) | (byte & 0x3f) as u32;
            st.pending_need -= 1;
            if st.pending_need > 0 {
                return st;
            }
            match char::from_u32(st.pending) {
                Some(c) => c,
                None => {
                    st.dead = true;
                    return st;
                }
            }
        };
        st.pending = 0;
        self.step(&st, c)
    }

    /// Calls `found(key, value, distance)` for each key of `fst` that the automaton matches, in
    /// key order: the keys, values and distances that streaming `fst` through it
    /// (`search_with_state`) gives, for less work. The stream steps the automaton for every
    /// transition out of a node it reaches and reads the node each one leads to; the walk steps
    /// it for the query's own ASCII characters alone (every other character leaves it in one
    /// state, stepped once per node) and reads no node that a transition's state cannot match
    /// from. Each transition looked at is a step of the budget; past the budget the walk stops
    /// and [`Self::exhausted`] says so.
    pub fn walk<D: AsRef<[u8]>>(
        &self,
        fst: &fst::raw::Fst<D>,
        mut found: impl FnMut(&[u8], u64, u8),
    ) {
        // A query of ASCII characters: its letters, ascending. A node with more transitions
        // than these, from which a character of no query position is a dead end, is walked by
        // looking its transitions for these letters up.
        let mut letters: Vec<u8> = Vec::new();
        if self.query.iter().all(char::is_ascii) {
            letters = self.query.iter().map(|&c| c as u8).collect();
            letters.sort_unstable();
            letters.dedup();
        }
        let start = self.start();
        let root = fst.root();
        if root.is_final() && self.is_match(&start) {
            found(&[], root.final_output().value(), self.distance(&start));
        }
        let mut key: Vec<u8> = Vec::new();
        let mut stack = vec![self.frame(&letters, root, start, fst::raw::Output::zero())];
        while let Some(top) = stack.last_mut() {
            let at = top.next;
            let t = if top.state.dead {
                None
            } else if top.by_letter {
                letters.get(at).map(|&b| top.node.find_input(b))
            } else {
                (at < top.node.len()).then_some(Some(at))
            };
            let Some(t) = t else {
                stack.pop();
                key.pop();
                continue;
            };
            top.next += 1;
            let steps = self.steps.get() + 1;
            self.steps.set(steps);
            if steps > self.budget {
                return;
            }
            let Some(t) = t.map(|i| top.node.transition(i)) else {
                continue;
            };
            let s = &top.state;
            let next = if s.matched || s.pending_need > 0 || t.inp >= 0x80 {
                self.advance(s, t.inp)
            } else {
                match self.eq_ascii[t.inp as usize] {
                    0 => (top.other.get_or_insert_with(|| self.step_eq(s, 0))).clone(),
                    eq => self.step_eq(s, eq),
                }
            };
            if next.dead {
                continue;
            }
            let node = fst.node(t.addr);
            let out = top.out.cat(t.out);
            key.push(t.inp);
            if node.is_final() && self.is_match(&next) {
                found(
                    &key,
                    out.cat(node.final_output()).value(),
                    self.distance(&next),
                );
            }
            stack.push(self.frame(&letters, node, next, out));
        }
    }
}

impl Levenshtein {
    /// The walk's frame for `node`, reached in `state` through outputs `out`.
    fn frame<'f>(
        &self,
        letters: &[u8],
        node: fst::raw::Node<'f>,
        state: LevState,
        out: fst::raw::Output,
    ) -> Frame<'f> {
        let mut other = None;
        let mut by_letter = false;
        // (Not inside a character: its continuation bytes are not letters.)
        if !letters.is_empty()
            && node.len() > letters.len()
            && !state.matched
            && state.pending_need == 0
        {
            let o = self.step_eq(&state, 0);
            by_letter = o.dead;
            other = Some(o);
        }
        Frame {
            node,
            state,
            other,
            by_letter,
            next: 0,
            out,
        }
    }
}

/// A node of [`Levenshtein::walk`]'s depth-first walk.
struct Frame<'f> {
    node: fst::raw::Node<'f>,
    /// The automaton's state after the key that leads to the node.
    state: LevState,
    /// The state after a character that is in no query position, once stepped.
    other: Option<LevState>,
    /// That state is dead: the node's transitions are looked up by the query's letters.
    by_letter: bool,
    /// The next transition (or, by letter, the next letter) to look at.
    next: usize,
    /// The outputs of the transitions that lead to the node.
    out: fst::raw::Output,
}

/// The optimal-string-alignment distance between `a` and `b` (a reference for tests, and how the
/// searcher tells a whole-word correction among the terms a prefix automaton matched).
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = (a[i - 1] != b[j - 1]) as usize;
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use fst::{Automaton, IntoStreamer, Streamer};
    use proptest::prelude::*;

    fn run(aut: &Levenshtein, key: &str) -> Option<u8> {
        let mut s = aut.start();
        for &b in key.as_bytes() {
            s = aut.accept(&s, b);
        }
        aut.is_match(&s).then(|| aut.distance(&s))
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(q in "[abcé]{0,9}", k in "[abcé]{0,12}", max in 0u8..=MAX_EDITS) {
            let aut = Levenshtein::new(&q, max, false, u64::MAX).unwrap();
            let d = osa_distance(&q, &k);
            prop_assert_eq!(run(&aut, &k), (d <= max as usize).then_some(d as u8));
            let fixed = Levenshtein::new(&q, max, false, u64::MAX).unwrap().first_char_fixed();
            let same_first = q.is_empty() || k.chars().next() == q.chars().next();
            prop_assert_eq!(run(&fixed, &k), (d <= max as usize && same_first).then_some(d as u8));
        }

        #[test]
        fn prefix_mode_matches_some_prefix(q in "[abc]{0,8}", k in "[abc]{0,12}", max in 0u8..=MAX_EDITS) {
            let aut = Levenshtein::new(&q, max, true, u64::MAX).unwrap();
            let chars: Vec<char> = k.chars().collect();
            let best = (0..=chars.len()).map(|i| osa_distance(&q, &chars[..i].iter().collect::<String>())).min().unwrap();
            prop_assert_eq!(run(&aut, &k).is_some(), best <= max as usize);
        }
    }

    /// What streaming `map` through `aut` gives: (key, value, distance) in key order.
    fn streamed(map: &fst::Map<Vec<u8>>, aut: &Levenshtein) -> Vec<(Vec<u8>, u64, u8)> {
        let mut out = Vec::new();
        let mut stream = map.search_with_state(aut).into_stream();
        while let Some((k, v, s)) = stream.next() {
            out.push((k.to_vec(), v, aut.distance(&s)));
        }
        out
    }

    fn walked(map: &fst::Map<Vec<u8>>, aut: &Levenshtein) -> Vec<(Vec<u8>, u64, u8)> {
        let mut out = Vec::new();
        aut.walk(map.as_fst(), |k, v, d| out.push((k.to_vec(), v, d)));
        out
    }

    proptest! {
        #[test]
        fn the_walk_finds_what_the_stream_finds(
            keys in proptest::collection::btree_set("[abcxéè]{0,7}", 0..60),
            q in "[abcé]{0,6}",
            max in 0u8..=2,
            prefix: bool,
            fixed: bool,
        ) {
            let map = fst::Map::from_iter(keys.iter().enumerate().map(|(i, k)| (k, i as u64 * 7)))
                .unwrap();
            let make = || {
                let aut = Levenshtein::new(&q, max, prefix, u64::MAX).unwrap();
                if fixed { aut.first_char_fixed() } else { aut }
            };
            let (a, b) = (make(), make());
            prop_assert_eq!(walked(&map, &a), streamed(&map, &b));
            prop_assert!(a.steps() <= b.steps());
        }
    }

    #[test]
    fn the_walk_stops_at_its_budget() {
        let words: Vec<String> = (0..2000).map(|i| format!("w{i:05}")).collect();
        let map = fst::Map::from_iter(words.iter().map(|w| (w, 1))).unwrap();
        let all = walked(
            &map,
            &Levenshtein::new("w00000", 2, false, u64::MAX).unwrap(),
        );
        let aut = Levenshtein::new("w00000", 2, false, 100).unwrap();
        let some = walked(&map, &aut);
        assert!(aut.exhausted() && aut.steps() == 100);
        assert!(
            some.len() < all.len() && all.starts_with(&some),
            "{} of {}",
            some.len(),
            all.len()
        );
    }

    #[test]
    fn table() {
        // (query, key, max, prefix, matches)
        let cases = [
            ("strategy", "strategy", 1, false, true),
            ("stratgy", "strategy", 1, false, true),
            ("starategy", "strategy", 1, false, true),
            ("stretagy", "strategy", 1, false, false),
            ("stretagy", "strategy", 2, false, true),
            ("sxxxtegy", "strategy", 2, false, false),
            ("café", "cafe", 1, false, true),
            ("東京", "東京駅", 1, false, true),
            ("strat", "strategy", 0, true, true),
            ("strt", "strategy", 1, true, true),
            ("xyz", "strategy", 1, true, false),
            ("", "anything", 0, true, true),
        ];
        for (q, k, max, prefix, want) in cases {
            let aut = Levenshtein::new(q, max, prefix, u64::MAX).unwrap();
            assert_eq!(
                run(&aut, k).is_some(),
                want,
                "{q} ~ {k} max {max} prefix {prefix}"
            );
        }
        assert!(Levenshtein::new(&"a".repeat(33), 1, false, 10).is_none());
        assert!(Levenshtein::new("abc", MAX_EDITS + 1, false, 10).is_none());
        // With the first character fixed: (query, key, prefix, matches).
        for (q, k, prefix, want) in [
            ("stratgy", "strategy", false, true),
            ("xtrategy", "strategy", false, false),
            ("tsrategy", "strategy", false, false),
            ("étude", "etude", false, false),
            ("strt", "strategy", true, true),
            ("trat", "strategy", true, false),
        ] {
            let aut = Levenshtein::new(q, 1, prefix, u64::MAX)
                .unwrap()
                .first_char_fixed();
            assert_eq!(run(&aut, k).is_some(), want, "{q} ~ {k} prefix {prefix}");
        }
    }

    #[test]
    fn the_step_budget_stops_a_traversal() {
        let words: Vec<String> = (0..2000).map(|i| format!("w{i:05}")).collect();
        let set = fst::Set::from_iter(words.iter()).unwrap();
        let aut = Levenshtein::new("w00000", 2, false, 100);
        let aut = aut.unwrap();
        let mut stream = set.search(&aut).into_stream();
        let mut n = 0;
        while stream.next().is_some() {
            n += 1;
        }
        assert!(aut.exhausted());
        let full = Levenshtein::new("w00000", 2, false, u64::MAX).unwrap();
        let mut stream = set.search(&full).into_stream();
        let mut all = 0;
        while stream.next().is_some() {
            all += 1;
        }
        assert!(n < all && !full.exhausted(), "{n} vs {all}");
    }
}
