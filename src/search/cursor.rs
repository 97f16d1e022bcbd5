//! Where a pruned ranking's scores come from ([`super::topk`]): per expansion of a query word,
//! a cursor over its postings blocks (document ids and block bounds for matching, whole blocks
//! for scoring), or its scores computed in advance; and what reading them in windows of
//! document ids needs (the matches in a window, the order of the windows).

use std::borrow::Cow;
use std::ops::Range;

use super::sets::{gallop, Bounded, ClauseMatches};
use super::Scored;
use super::WINDOW_POSTINGS;
use crate::error::Result;
use crate::postings::{Block, Blocks, Columns, Layout, BLOCK};

/// Where one expansion's scores come from.
pub(super) enum Source<'a> {
    /// Scored in advance (a term of one block, a format 1 term, a phrase): (document, score),
    /// ascending, the documents of those where it is in a name field and of those where it
    /// matches as written (each ascending), and how far ranking has read each.
    Exact {
        list: Scored,
        named: Vec<u32>,
        pos: usize,
        npos: usize,
        formed: Vec<u32>,
        fpos: usize,
    },
    /// Read block by block.
    Blocks(Box<TermCursor<'a>>),
}

/// One term's postings, read block by block.
pub(super) struct TermCursor<'a> {
    pub(super) data: Cow<'a, [u8]>,
    pub(super) df: u32,
    pub(super) doc_count: u32,
    pub(super) fields: usize,
    pub(super) layout: Layout,
    /// IDF times the expansion's weight.
    pub(super) idfw: f32,
    /// Fields the word may match.
    pub(super) allowed: u16,
    /// A prefix completion (`Searcher::expansion_bm25f`).
    pub(super) completion: bool,
    /// The word as written (`Expansion::form`).
    pub(super) form: bool,
    /// Whether `allowed` covers every field (then masks need no decoding to match).
    pub(super) all_fields: bool,
    /// Per block: its last document, where it starts, the bound of its scores.
    pub(super) lasts: Vec<u32>,
    pub(super) starts: Vec<usize>,
    pub(super) bounds: Vec<f32>,
    /// The first block whose last document is at or after the document being ranked.
    pub(super) at: usize,
    /// The block decoded in `block`.
    pub(super) decoded: Option<usize>,
    pub(super) block: Block,
    pub(super) pos: usize,
    /// Blocks decoded whole for ranking.
    pub(super) decodes: usize,
}

impl TermCursor<'_> {
    fn blocks(&self) -> Result<Blocks<'_>> {
        Blocks::open(
            &self.data,
            self.df,
            self.doc_count,
            self.fields,
            self.layout,
        )
    }

    /// The first document block `k` may hold (the one after block `k − 1`'s last).
    fn first_doc(&self, k: usize) -> u32 {
        match k {
            0 => 0,
            _ => self.lasts[k - 1].saturating_add(1),
        }
    }

    fn prev(&self, k: usize) -> i64 {
        if k == 0 {
            -1
        } else {
            self.lasts[k - 1] as i64
        }
    }

    /// Appends its matching documents in `window` (among `candidates` when given: only their
    /// blocks are decoded, and only they are kept), each with the bound of its score (its
    /// block's). `block` is room to decode into.
    pub(super) fn bounded(
        &self,
        candidates: Option<&[u32]>,
        window: &Range<u32>,
        out: &mut Bounded,
        block: &mut Block,
    ) -> Result<()> {
        let blocks = self.blocks()?;
        let columns = if self.all_fields {
            Columns::Docs
        } else {
            Columns::Masks
        };
        // The blocks that hold documents of the window.
        let first = self.lasts.partition_point(|&l| l < window.start);
        // (Block k starts after block k − 1's last document.)
        let starts_below = |&l: &u32| (l as u64) + 1 < window.end as u64;
        let end = (self.lasts.partition_point(starts_below) + 1).min(self.lasts.len());
        // At most one per posting of those blocks, per document of the window and per
        // candidate: reserved once, not grown by doubling. The count is the file's word, so
        // it is also held to 8 per byte of postings (a damaged one then only grows the list
        // as it is read).
        let postings = (first..end)
            .map(|k| blocks.block_len(k))
            .sum::<usize>()
            .min(window.len())
            .min(self.data.len().saturating_mul(8));
        out.reserve(candidates.map_or(postings, |c| c.len().min(postings)));
        let mut c = 0usize;
        for k in first..end {
            let prev = self.prev(k);
            if let Some(cands) = candidates {
                while c < cands.len() && cands[c] as i64 <= prev {
                    c += 1;
                }
                if c == cands.len() {
                    break;
                }
                if cands[c] > self.lasts[k] {
                    continue;
                }
            }
            blocks.decode(k, self.starts[k], prev, columns, block)?;
            let (block, bound) = (&*block, self.bounds[k]);
            let matching = block
                .docs
                .iter()
                .enumerate()
                .filter(|&(_, d)| window.contains(d))
                .filter(|&(i, _)| self.all_fields || block.masks[i] & self.allowed != 0)
                .map(|(_, &d)| d);
            match candidates {
                None => out.extend(matching.map(|d| (d, bound))),
                // A query's later clauses, in the earlier ones' documents: keeping the others
                // would hold a common word's whole list for nothing.
                Some(cands) => {
                    for d in matching {
                        c = gallop(cands, c, d);
                        if c == cands.len() {
                            break;
                        }
                        if cands[c] == d {
                            out.push((d, bound));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Moves to the first block whose last document is at or after `doc`.
    fn seek(&mut self, doc: u32) {
        while self.at < self.lasts.len() && self.lasts[self.at] < doc {
            self.at += 1;
        }
    }

    /// Back to the first block that may hold `doc`, for another pass.
    pub(super) fn rewind_to(&mut self, doc: u32) {
        self.at = self.lasts.partition_point(|&l| l < doc);
        self.pos = 0;
    }

    /// Its posting of `doc` if it matches there: the field mask and frequencies.
    pub(super) fn posting(&mut self, doc: u32) -> Result<Option<(u16, &[u32])>> {
        self.seek(doc);
        let k = self.at;
        if k == self.lasts.len() {
            return Ok(None);
        }
        if self.decoded != Some(k) {
            self.pos = 0;
            let mut block = std::mem::take(&mut self.block);
            let decoded =
                self.blocks()?
                    .decode(k, self.starts[k], self.prev(k), Columns::All, &mut block);
            self.block = block;
            self.decoded = None;
            decoded?;
            self.decoded = Some(k);
            self.decodes += 1;
        }
        let docs = &self.block.docs;
        self.pos = gallop(docs, self.pos, doc);
        let i = self.pos;
        if i < docs.len() && docs[i] == doc && self.block.masks[i] & self.allowed != 0 {
            Ok(Some((self.block.masks[i], self.block.tfs_of(i))))
        } else {
            Ok(None)
        }
    }
}

impl Source<'_> {
    /// See [`TermCursor::bounded`]; a list scored in advance holds only matches, each bound by
    /// its exact score.
    pub(super) fn bounded(
        &self,
        candidates: Option<&[u32]>,
        window: &Range<u32>,
        out: &mut Bounded,
        block: &mut Block,
    ) -> Result<()> {
        match self {
            Source::Exact { list, .. } => {
                let from = list.partition_point(|x| x.0 < window.start);
                let to = list.partition_point(|x| x.0 < window.end);
                let list = &list[from..to];
                match candidates {
                    None => out.extend_from_slice(list),
                    Some(c) => {
                        let mut j = 0;
                        for &(d, s) in list {
                            j = gallop(c, j, d);
                            if j == c.len() {
                                break;
                            }
                            if c[j] == d {
                                out.push((d, s));
                            }
                        }
                    }
                }
            }
            Source::Blocks(t) => t.bounded(candidates, window, out, block)?,
        }
        Ok(())
    }

    /// Its exact score at `doc` if it matches there (`doc` ascending from call to call).
    pub(super) fn exact_at(list: &Scored, pos: &mut usize, doc: u32) -> Option<f32> {
        *pos = gallop(list, *pos, doc);
        list.get(*pos).filter(|x| x.0 == doc).map(|x| x.1)
    }

    /// Back to `doc`, for a pass over the documents from there.
    pub(super) fn rewind_to(&mut self, doc: u32) {
        match self {
            Source::Exact {
                list,
                named,
                pos,
                npos,
                formed,
                fpos,
            } => {
                *pos = list.partition_point(|x| x.0 < doc);
                *npos = named.partition_point(|&d| d < doc);
                *fpos = formed.partition_point(|&d| d < doc);
            }
            Source::Blocks(t) => t.rewind_to(doc),
        }
    }
}

/// A query's clause: its alternatives (summed), each a word's expansions (the best counts) or
/// a phrase.
pub(super) type Clause<'a> = Vec<Vec<Source<'a>>>;

/// Buckets of document ids the postings of a query are counted in, to cut its windows.
const BUCKETS: usize = 1024;

/// The windows of document ids a ranking of `must` reads (of `fixed` ids each when given),
/// in the order it reads them. Each holds about [`WINDOW_POSTINGS`] postings of the query's
/// terms (postings cluster: documents in name order put a prefix's completions side by side),
/// so most queries have one. They are read by the most a match in them may score (its
/// clauses' best block bounds summed), highest first, so that the best matches set the bar
/// early and the other windows' lower bounds are pruned (any order ranks the same).
pub(super) fn windows(must: &[Clause<'_>], docs: u32, fixed: Option<u32>) -> Vec<Range<u32>> {
    let sources = || must.iter().flatten().flatten();
    let starts: Vec<u32> = match fixed {
        Some(step) => (0..docs).step_by(step.max(1) as usize).collect(),
        None => {
            // Postings per bucket of ids: a block's spread evenly over the buckets it spans
            // (a difference array of rates), a list's counted where they are.
            let width = docs.div_ceil(BUCKETS as u32).max(1);
            let mut rate = vec![0.0f32; BUCKETS + 1];
            let mut count = vec![0.0f32; BUCKETS];
            for source in sources() {
                match source {
                    Source::Exact { list, .. } => {
                        for &(d, _) in list {
                            if let Some(c) = count.get_mut((d / width) as usize) {
                                *c += 1.0;
                            }
                        }
                    }
                    Source::Blocks(t) => {
                        let blocks = t.lasts.len();
                        for k in 0..blocks {
                            let first = t.first_doc(k);
                            let (b0, b1) =
                                ((first / width) as usize, (t.lasts[k] / width) as usize);
                            let (b0, b1) = (
                                b0.min(BUCKETS - 1),
                                b1.clamp(b0.min(BUCKETS - 1), BUCKETS - 1),
                            );
                            let len = (t.df as usize).saturating_sub(k * BLOCK).min(BLOCK);
                            let r = len as f32 / (b1 - b0 + 1) as f32;
                            rate[b0] += r;
                            rate[b1 + 1] -= r;
                        }
                    }
                }
            }
            let (mut starts, mut held, mut r) = (vec![0u32], 0.0f32, 0.0f32);
            for b in 0..BUCKETS {
                r += rate[b];
                let here = count[b] + r.max(0.0);
                let at = b as u32 * width;
                if held > 0.0 && held + here > WINDOW_POSTINGS as f32 && at < docs {
                    starts.push(at);
                    held = 0.0;
                }
                held += here;
            }
            starts
        }
    };
    let mut windows: Vec<Range<u32>> = (starts.iter().enumerate())
        .map(|(i, &lo)| lo..starts.get(i + 1).copied().unwrap_or(docs))
        .filter(|w| !w.is_empty())
        .collect();
    if windows.len() > 1 {
        let of = |d: u32| windows.partition_point(|w| w.end <= d);
        let mut most = vec![0.0f32; windows.len()];
        let (mut clause, mut alt) = (most.clone(), most.clone());
        for c in must {
            clause.fill(0.0);
            for a in c {
                alt.fill(0.0);
                for source in a {
                    let mut raise = |w: usize, b: f32| {
                        if let Some(m) = alt.get_mut(w) {
                            *m = m.max(b);
                        }
                    };
                    match source {
                        Source::Exact { list, .. } => {
                            list.iter().for_each(|&(d, b)| raise(of(d), b))
                        }
                        Source::Blocks(t) => {
                            for k in 0..t.lasts.len() {
                                for w in of(t.first_doc(k))..=of(t.lasts[k]) {
                                    raise(w, t.bounds[k]);
                                }
                            }
                        }
                    }
                }
                clause.iter_mut().zip(&alt).for_each(|(c, a)| *c += a);
            }
            most.iter_mut().zip(&clause).for_each(|(m, c)| *m += c);
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by(|&a, &b| most[b].total_cmp(&most[a]).then(a.cmp(&b)));
        windows = order.into_iter().map(|w| windows[w].clone()).collect();
    }
    windows
}

/// `list`'s documents in `window` (`list` ascending).
pub(super) fn in_window<'l>(list: &'l [u32], window: &Range<u32>) -> &'l [u32] {
    let from = list.partition_point(|&d| d < window.start);
    &list[from..from + list[from..].partition_point(|&d| d < window.end)]
}

/// A clause's matches in `window` per alternative and source (among `candidates`' blocks when
/// given; `block` is room to decode into).
pub(super) fn clause_matches(
    clause: &Clause<'_>,
    candidates: Option<&[u32]>,
    window: &Range<u32>,
    block: &mut Block,
) -> Result<ClauseMatches> {
    let mut out = Vec::with_capacity(clause.len());
    for alt in clause {
        let mut lists = Vec::with_capacity(alt.len());
        for source in alt {
            let mut v = Vec::new();
            source.bounded(candidates, window, &mut v, block)?;
            lists.push(v);
        }
        out.push(lists);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(docs: &std::collections::BTreeSet<u32>) -> Source<'static> {
        Source::Exact {
            list: docs.iter().map(|&d| (d, (d % 7) as f32)).collect(),
            named: Vec::new(),
            pos: 0,
            npos: 0,
            formed: Vec::new(),
            fpos: 0,
        }
    }

    proptest! {
        /// The windows cover every document once; each holds at most `WINDOW_POSTINGS`
        /// postings plus one bucket's; they are read by their best bound, highest first; a
        /// fixed size cuts windows of that many ids.
        #[test]
        fn windows_cover_the_documents(docs in 1u32..300_000,
                                       lists in proptest::collection::vec(
                                           proptest::collection::btree_set(0u32..300_000, 0..6000), 1..4),
                                       fixed in proptest::option::of(1u32..50_000)) {
            let lists: Vec<_> = lists.iter().map(|l| l.iter().copied().filter(|&d| d < docs).collect()).collect();
            let must: Vec<Clause<'static>> = vec![lists.iter().map(|l| vec![exact(l)]).collect()];
            let ws = windows(&must, docs, fixed);
            let mut sorted = ws.clone();
            sorted.sort_by_key(|w| w.start);
            prop_assert_eq!(sorted.first().map(|w| w.start), Some(0));
            prop_assert_eq!(sorted.last().map(|w| w.end), Some(docs));
            for pair in sorted.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
            }
            let width = docs.div_ceil(BUCKETS as u32).max(1);
            let in_w = |w: &Range<u32>| lists.iter().map(|l: &std::collections::BTreeSet<u32>| l.range(w.clone()).count()).sum::<usize>();
            let best = |w: &Range<u32>| lists.iter().map(|l| l.range(w.clone()).map(|&d| (d % 7) as f32).fold(0.0f32, f32::max)).sum::<f32>();
            match fixed {
                Some(step) => for w in &sorted {
                    prop_assert!(w.end - w.start == step || w.end == docs);
                },
                None => for w in &sorted {
                    // One bucket's postings beyond the target, at most.
                    let bucket = lists.iter().map(|l| {
                        (w.start..w.end).step_by(width as usize).map(|b| l.range(b..b.saturating_add(width)).count()).max().unwrap_or(0)
                    }).sum::<usize>();
                    prop_assert!(in_w(w) <= WINDOW_POSTINGS + bucket, "{:?} holds {}", w, in_w(w));
                },
            }
            for pair in ws.windows(2) {
                prop_assert!(best(&pair[0]) >= best(&pair[1]));
            }
        }
    }
}
