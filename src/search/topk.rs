//! How are the top `k` found without scoring every match?
//!
//! In two passes over the query's terms, each read block by block from its postings bytes:
//!
//! 1. **Match.** The matching documents are found from document ids alone (plus field masks for
//!    a field-restricted word), never from frequencies: the rarest clause's documents, narrowed
//!    by each later clause, whose blocks without a candidate are skipped through the skip table;
//!    when no document matches every clause, the union of all of them (OR); then exclusions
//!    are removed. `total` is exact. Each match found gets an upper bound of its score: every
//!    term that holds it bounds its score by the impact byte of the block it sits in
//!    ([`crate::bm25`]) times its IDF (a term short enough to have no skip table, a phrase, and
//!    a format 1 term are scored in advance and bound by their exact scores); per clause the
//!    best term of each alternative counts, clauses add up.
//! 2. **Rank.** The `k` matches of highest bound are scored first, which sets the bar (the
//!    `k`-th best score) high at once; then, in id order, only the matches whose bound beats
//!    the bar are scored, and only their blocks' frequencies are decoded (block-max pruning
//!    with per-document bounds, after Ding and Suel's block-max indexes). Every score is
//!    computed exactly as scoring every match would ([`Searcher::exhaustive`]), summed in the
//!    same order, so the two paths return identical results, which the tests check.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::sets::{
    bounds_of, gallop, intersect_with, matched_docs, subtract, union, Bounded, ClauseMatches,
};

/// Documents in both ascending lists, walking the shorter.
fn intersect_shorter(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    intersect_with(a, b, |&d, _| d)
}
use super::{and_first, Expansion, Planned, Prepared, Scored, Searcher, NAMES_BOOST};
use crate::error::Result;
use crate::postings::{decode_postings_for, Block, Blocks, Columns, Layout};
use crate::source::DataFile;

/// What ranking the last query took (from [`Searcher::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RankStats {
    /// Documents that matched.
    pub matched: usize,
    /// Documents scored (the rest were pruned).
    pub scored: usize,
    /// Postings blocks of the terms read block by block.
    pub blocks: usize,
    /// Of those, blocks decoded whole (frequencies too) to score a document.
    pub blocks_decoded: usize,
}

/// Where one expansion's scores come from.
enum Source<'a> {
    /// Scored in advance (a term of one block, a format 1 term, a phrase): (document, score),
    /// ascending, the documents of those where it is in a name field (ascending), and how far
    /// ranking has read each.
    Exact {
        list: Scored,
        named: Vec<u32>,
        pos: usize,
        npos: usize,
    },
    /// Read block by block.
    Blocks(Box<TermCursor<'a>>),
}

/// One term's postings, read block by block.
struct TermCursor<'a> {
    data: Cow<'a, [u8]>,
    df: u32,
    doc_count: u32,
    fields: usize,
    layout: Layout,
    /// IDF times the expansion's weight.
    idfw: f32,
    /// Fields the word may match.
    allowed: u16,
    /// A prefix completion ([`Searcher::expansion_bm25f`]).
    completion: bool,
    /// Whether `allowed` covers every field (then masks need no decoding to match).
    all_fields: bool,
    /// Per block: its last document, where it starts, the bound of its scores.
    lasts: Vec<u32>,
    starts: Vec<usize>,
    bounds: Vec<f32>,
    /// The first block whose last document is at or after the document being ranked.
    at: usize,
    /// The block decoded in `block`.
    decoded: Option<usize>,
    block: Block,
    pos: usize,
    /// Blocks decoded whole for ranking.
    decodes: usize,
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

    fn prev(&self, k: usize) -> i64 {
        if k == 0 {
            -1
        } else {
            self.lasts[k - 1] as i64
        }
    }

    /// Appends its matching documents (among `candidates` when given: only their blocks are
    /// decoded, and only they are kept), each with the bound of its score (its block's).
    fn bounded(&self, candidates: Option<&[u32]>, out: &mut Bounded) -> Result<()> {
        let blocks = self.blocks()?;
        let columns = if self.all_fields {
            Columns::Docs
        } else {
            Columns::Masks
        };
        // At most one per posting, and per candidate: reserved once, not grown by doubling
        // (a common word's list is the largest allocation of a query). The count is the
        // file's word, so it is also held to the documents and to 8 per byte of postings (a
        // damaged one then only grows the list as it is read, as before).
        let postings = (self.df as usize)
            .min(self.doc_count as usize)
            .min(self.data.len().saturating_mul(8));
        out.reserve(candidates.map_or(postings, |c| c.len().min(postings)));
        let mut block = Block::default();
        let mut c = 0usize;
        for k in 0..self.lasts.len() {
            if let Some(cands) = candidates {
                let prev = self.prev(k);
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
            blocks.decode(k, self.starts[k], self.prev(k), columns, &mut block)?;
            let bound = self.bounds[k];
            let matching = block
                .docs
                .iter()
                .enumerate()
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

    /// Back to the first document, for another pass.
    fn rewind(&mut self) {
        self.at = 0;
        self.pos = 0;
    }

    /// Its posting of `doc` if it matches there: the field mask and frequencies.
    fn posting(&mut self, doc: u32) -> Result<Option<(u16, &[u32])>> {
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
    fn bounded(&self, candidates: Option<&[u32]>, out: &mut Bounded) -> Result<()> {
        match self {
            Source::Exact { list, .. } => match candidates {
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
            },
            Source::Blocks(t) => t.bounded(candidates, out)?,
        }
        Ok(())
    }

    /// Its exact score at `doc` if it matches there (`doc` ascending from call to call).
    fn exact_at(list: &Scored, pos: &mut usize, doc: u32) -> Option<f32> {
        *pos = gallop(list, *pos, doc);
        list.get(*pos).filter(|x| x.0 == doc).map(|x| x.1)
    }

    fn rewind(&mut self) {
        match self {
            Source::Exact { pos, npos, .. } => (*pos, *npos) = (0, 0),
            Source::Blocks(t) => t.rewind(),
        }
    }
}

/// A (score, document) pair ordered best-last: higher score, then lower document id.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rank(f32, u32);

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

/// A query's clause: its alternatives (summed), each a word's expansions (the best counts) or
/// a phrase.
type Clause<'a> = Vec<Vec<Source<'a>>>;

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// Ranks a prepared query with block-max pruning: the number of matches and the top `k`.
    pub(super) fn top_k(
        &mut self,
        prepared: &Prepared,
        any: bool,
        k: usize,
        filter: Option<&[u32]>,
        keep: bool,
    ) -> Result<super::Ranked> {
        let boost = self.names_boost(prepared);
        let mut must: Vec<Clause<'a>> = Vec::with_capacity(prepared.must.len());
        for c in &prepared.must {
            must.push(self.sources(c, boost)?);
        }
        let docs = self.index.doc_count();
        // Match: AND first (rarest clause first, later ones only in the candidates' blocks).
        let mut matches: Vec<ClauseMatches> = Vec::with_capacity(must.len());
        let mut matched: Vec<u32> = Vec::new();
        if and_first(any, must.len(), prepared.long) {
            for (i, c) in must.iter().enumerate() {
                if i > 0 && matched.is_empty() {
                    break;
                }
                let m = clause_matches(c, (i > 0).then_some(&matched[..]))?;
                let found = matched_docs(std::slice::from_ref(&m), docs);
                matched = if i == 0 {
                    found
                } else {
                    intersect_shorter(&matched, &found)
                };
                matches.push(m);
            }
            if let Some(f) = filter {
                matched = intersect_shorter(&matched, f);
            }
        }
        if must.is_empty() && !prepared.has_text {
            // Only filters (and exclusions): every document they accept, unscored.
            matched = filter.map(<[u32]>::to_vec).unwrap_or_default();
        } else if matched.is_empty() {
            // OR: every clause's documents (the first clause's are already whole).
            matches.truncate(1);
            for c in &must[matches.len()..] {
                matches.push(clause_matches(c, None)?);
            }
            matched = matched_docs(&matches, docs);
            if let Some(f) = filter {
                matched = intersect_shorter(&matched, f);
            }
        }
        for c in &prepared.must_not {
            if matched.is_empty() {
                break;
            }
            let excluded = clause_matches(&self.sources(c, false)?, Some(&matched))?;
            matched = subtract(
                &matched,
                &matched_docs(std::slice::from_ref(&excluded), docs),
            );
        }
        // Each match's bound (`bounds_of`): when every source was scored in advance, the exact
        // score itself.
        let n = matched.len();
        let mut bounds = bounds_of(&matches, &matched);
        drop(matches);
        // With the name boost, any match may be boosted: its bound is too, and the scores
        // summed in advance are not yet the exact ones.
        let all_exact = !boost
            && must
                .iter()
                .flatten()
                .flatten()
                .all(|s| matches!(s, Source::Exact { .. }));
        let total = matched.len();
        let (top, scored) = if all_exact {
            (best_k(&matched, &bounds, k), n)
        } else {
            // Inflated: a bound is summed from block bounds, which f32 rounds differently from
            // the exact terms.
            let most = if boost { NAMES_BOOST } else { 1.0 };
            bounds
                .iter_mut()
                .for_each(|b| *b = *b * most * 1.0001 + 1e-6);
            self.rank(&mut must, &matched, &bounds, k, boost)?
        };
        let mut stats = RankStats {
            matched: total,
            scored,
            ..RankStats::default()
        };
        for source in must.iter().flatten().flatten() {
            if let Source::Blocks(t) = source {
                stats.blocks += t.lasts.len();
                stats.blocks_decoded += t.decodes;
            }
        }
        self.stats = stats;
        let kept = match keep {
            true => matched,
            false => Vec::new(),
        };
        Ok((total, top, kept))
    }

    /// The best `k` of `matched` (ascending, with `bounds` of their scores), best first, and
    /// how many documents were scored. The `k` documents of highest bound are scored first,
    /// which sets a high bar early; then every other document whose bound can beat the `k`-th
    /// score so far is scored, in id order.
    fn rank(
        &self,
        clauses: &mut [Clause<'a>],
        matched: &[u32],
        bounds: &[f32],
        k: usize,
        boost: bool,
    ) -> Result<(Vec<(u32, f32)>, usize)> {
        let n = matched.len();
        if k == 0 || n == 0 {
            return Ok((Vec::new(), 0));
        }
        // The k highest bounds, through a min-heap of k (ties: the lower index first).
        let mut best: BinaryHeap<Reverse<Rank>> = BinaryHeap::with_capacity(k + 1);
        for (i, &b) in bounds.iter().enumerate() {
            let r = Rank(b, i as u32);
            if best.len() < k {
                best.push(Reverse(r));
            } else if best.peek().is_some_and(|w| r > w.0) {
                best.pop();
                best.push(Reverse(r));
            }
        }
        let mut first: Vec<u32> = best.into_iter().map(|r| r.0 .1).collect();
        first.sort_unstable();
        let mut heap: BinaryHeap<Reverse<Rank>> = BinaryHeap::with_capacity(k + 1);
        for &i in &first {
            let doc = matched[i as usize];
            heap.push(Reverse(Rank(self.score_at(clauses, doc, boost)?, doc)));
        }
        let mut scored = first.len();
        if n > k {
            clauses
                .iter_mut()
                .flatten()
                .flatten()
                .for_each(Source::rewind);
            let mut theta = heap.peek().map_or(f32::NEG_INFINITY, |r| r.0 .0);
            let mut next_first = first.iter().copied().peekable();
            for (i, (&doc, &bound)) in matched.iter().zip(bounds).enumerate() {
                if next_first.peek() == Some(&(i as u32)) {
                    next_first.next();
                    continue;
                }
                // A document whose bound only reaches the k-th score cannot beat it: its score
                // is below the bound.
                if bound <= theta {
                    continue;
                }
                let rank = Rank(self.score_at(clauses, doc, boost)?, doc);
                scored += 1;
                if heap.peek().is_some_and(|w| rank > w.0) {
                    heap.pop();
                    heap.push(Reverse(rank));
                    theta = heap.peek().map_or(f32::NEG_INFINITY, |r| r.0 .0);
                }
            }
        }
        let mut top: Vec<(u32, f32)> = heap.into_iter().map(|r| (r.0 .1, r.0 .0)).collect();
        top.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok((top, scored))
    }

    /// The exact score of `doc`: per clause its alternatives summed (a word's best expansion),
    /// clauses summed in order, then the name boost when `boost` and every clause matches in a
    /// name field, as [`Searcher::exhaustive`] computes it.
    fn score_at(&self, clauses: &mut [Clause<'a>], doc: u32, boost: bool) -> Result<f32> {
        let mut total: Option<f32> = None;
        let mut all_named = boost;
        for clause in clauses.iter_mut() {
            let mut sum: Option<f32> = None;
            let mut named = false;
            for alt in clause.iter_mut() {
                let mut best: Option<f32> = None;
                for source in alt.iter_mut() {
                    let s = match source {
                        Source::Exact {
                            list,
                            named: n,
                            pos,
                            npos,
                        } => {
                            let s = Source::exact_at(list, pos, doc);
                            if boost && s.is_some() {
                                *npos = gallop(n, *npos, doc);
                                named |= n.get(*npos) == Some(&doc);
                            }
                            s
                        }
                        Source::Blocks(t) => {
                            let (idfw, allowed, c) = (t.idfw, t.allowed, t.completion);
                            match t.posting(doc)? {
                                Some((mask, tfs)) => {
                                    named |= mask & allowed & self.names != 0;
                                    Some(idfw * self.expansion_bm25f(doc, mask, tfs, allowed, c)?)
                                }
                                None => None,
                            }
                        }
                    };
                    if let Some(v) = s {
                        best = Some(best.map_or(v, |b| b.max(v)));
                    }
                }
                if let Some(v) = best {
                    sum = Some(sum.map_or(v, |s| s + v));
                }
            }
            if let Some(v) = sum {
                total = Some(total.map_or(v, |t| t + v));
            }
            all_named &= named;
        }
        let total = total.unwrap_or(0.0);
        Ok(if all_named {
            total * NAMES_BOOST
        } else {
            total
        })
    }

    /// The sources of one clause's alternatives (with, when `named`, the documents where each
    /// source scored in advance matches in a name field).
    fn sources(&mut self, alternatives: &[Planned], named: bool) -> Result<Clause<'a>> {
        let mut out = Vec::with_capacity(alternatives.len());
        for p in alternatives {
            out.push(match p {
                Planned::Word { expansions, mask } => {
                    // The expansions scored in advance become one list (their best score per
                    // document), so ranking bounds and scores them in one step.
                    let mut exact: Vec<Scored> = Vec::new();
                    let mut in_names: Vec<Vec<u32>> = Vec::new();
                    let mut v = Vec::with_capacity(expansions.len());
                    for e in expansions {
                        match self.source(e, *mask, named)? {
                            Source::Exact { list, named: n, .. } => {
                                exact.push(list);
                                in_names.push(n);
                            }
                            cursor => v.push(cursor),
                        }
                    }
                    if !exact.is_empty() {
                        v.insert(
                            0,
                            Source::Exact {
                                list: best_of(exact),
                                named: union(in_names, self.index.doc_count()),
                                pos: 0,
                                npos: 0,
                            },
                        );
                    }
                    v
                }
                // A phrase never counts as matched in a name field.
                Planned::Phrase { terms, mask } => vec![Source::Exact {
                    list: self.phrase(terms, *mask, None)?,
                    named: Vec::new(),
                    pos: 0,
                    npos: 0,
                }],
            });
        }
        Ok(out)
    }

    /// One expansion's source: a cursor over its blocks when it has a skip table, else its
    /// scores in advance.
    fn source(&mut self, e: &Expansion, allowed: u16, named: bool) -> Result<Source<'a>> {
        let info = self.term_info(e.ord)?;
        let idfw = self.idf(info.doc_freq) * e.weight;
        let src: &'a dyn crate::source::DataSource = self.src;
        let data = src.read(DataFile::Postings, info.postings.clone())?;
        let (doc_count, fields) = (self.index.doc_count(), self.index.indexed_fields().len());
        let layout = self.index.postings_layout();
        let blocks = Blocks::open(&data, info.doc_freq, doc_count, fields, layout)?;
        if !blocks.has_skips() {
            let list = decode_postings_for(&data, info.doc_freq, doc_count, fields, layout, None)?;
            let mut scored = Vec::with_capacity(list.len());
            let mut in_names = Vec::new();
            for i in 0..list.len() {
                let (doc, mask) = (list.docs[i], list.masks[i]);
                if mask & allowed != 0 {
                    let tfs = list.tfs_of(i);
                    let s = self.expansion_bm25f(doc, mask, tfs, allowed, e.completion)?;
                    scored.push((doc, idfw * s));
                    if named && mask & allowed & self.names != 0 {
                        in_names.push(doc);
                    }
                }
            }
            return Ok(Source::Exact {
                list: scored,
                named: in_names,
                pos: 0,
                npos: 0,
            });
        }
        let n = blocks.len();
        let (mut lasts, mut starts, mut bounds) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let scorer = self.index.scorer();
        for k in 0..n {
            let (_, last, range) = blocks.entry(k)?;
            lasts.push(last);
            starts.push(range.start);
            bounds.push(idfw * scorer.bound(blocks.impact(k)));
        }
        let full: u32 = if fields >= 16 {
            0xffff
        } else {
            (1 << fields) - 1
        };
        Ok(Source::Blocks(Box::new(TermCursor {
            data,
            df: info.doc_freq,
            doc_count,
            fields,
            layout,
            idfw,
            allowed,
            completion: e.completion,
            all_fields: allowed as u32 & full == full,
            lasts,
            starts,
            bounds,
            at: 0,
            decoded: None,
            block: Block::default(),
            pos: 0,
            decodes: 0,
        })))
    }
}

/// Lists of (document, score) made one: each document once, with its best score.
fn best_of(mut lists: Vec<Scored>) -> Scored {
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

/// The best `k` of `docs` by `scores` (score descending, then document ascending).
fn best_k(docs: &[u32], scores: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut all: Vec<(u32, f32)> = docs.iter().copied().zip(scores.iter().copied()).collect();
    let by_rank = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if k > 0 && k < all.len() {
        all.select_nth_unstable_by(k - 1, by_rank);
    }
    all.truncate(k);
    all.sort_unstable_by(by_rank);
    all
}

/// A clause's matches per alternative and source (among `candidates`' blocks when given).
fn clause_matches(clause: &Clause<'_>, candidates: Option<&[u32]>) -> Result<ClauseMatches> {
    let mut out = Vec::with_capacity(clause.len());
    for alt in clause {
        let mut lists = Vec::with_capacity(alt.len());
        for source in alt {
            let mut v = Vec::new();
            source.bounded(candidates, &mut v)?;
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

    proptest! {
        #[test]
        fn set_operations_match_sets(lists in proptest::collection::vec(
                                         proptest::collection::btree_set(0u32..300, 0..120), 0..5),
                                     docs in 300u32..5000) {
            let lists: Vec<Vec<u32>> = lists.into_iter().map(|s| s.into_iter().collect()).collect();
            let mut want: Vec<u32> = lists.iter().flatten().copied().collect();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(&union(lists.clone(), docs), &want);
            // The same lists as scored matches, read in place: as one clause's alternative's
            // sources, and as one source in each of several clauses.
            let scored: Vec<Bounded> = lists.iter().map(|l| l.iter().map(|&d| (d, 1.0)).collect()).collect();
            let one: ClauseMatches = vec![scored.clone()];
            prop_assert_eq!(&matched_docs(std::slice::from_ref(&one), docs), &want);
            let many: Vec<ClauseMatches> = scored.into_iter().map(|l| vec![vec![l]]).collect();
            prop_assert_eq!(&matched_docs(&many, docs), &want);
            if lists.len() >= 2 {
                let (a, b) = (&lists[0], &lists[1]);
                let both: Vec<u32> = a.iter().copied().filter(|d| b.contains(d)).collect();
                let only: Vec<u32> = a.iter().copied().filter(|d| !b.contains(d)).collect();
                prop_assert_eq!(intersect_shorter(a, b), both);
                prop_assert_eq!(subtract(a, b), only);
            }
        }
    }
}
