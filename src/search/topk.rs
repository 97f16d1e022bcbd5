//! How are the top `k` found without scoring every match?
//!
//! Window by window: the document ids are cut into windows holding about
//! [`WINDOW_POSTINGS`](super::WINDOW_POSTINGS)
//! postings of the query's terms (one for most queries), read best first
//! ([`super::cursor::windows`]), each matched and ranked before the next while the best `k`
//! so far carry over; AND is tried in every window before OR. In each window, two passes over
//! the query's terms, each read block by block from its postings bytes:
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
//! 2. **Rank.** Until `k` are kept, the window's `k` matches of highest bound are scored
//!    first, which sets the bar (the `k`-th best score) high at once; then, in id order, only
//!    the matches whose bound beats the bar are scored, and only their blocks' frequencies are
//!    decoded (block-max pruning with per-document bounds, after Ding and Suel's block-max
//!    indexes). Every score is
//!    computed exactly as scoring every match would ([`Searcher::exhaustive`]), summed in the
//!    same order, so the two paths return identical results, which the tests check.

use std::ops::Range;

use super::best::{best_of, Best, Rank};
use super::cursor::{clause_matches, in_window, windows, Clause, Source, TermCursor};
use super::sets::{
    bounds_of, gallop, intersect_with, matched_docs, subtract, union, ClauseMatches,
};
use super::{and_first, Boosts, Expansion, Planned, Prepared, Scored, Searcher};
use crate::error::Result;
use crate::postings::{decode_postings_for, Block, Blocks};
use crate::source::DataFile;

/// Documents in both ascending lists, walking the shorter.
fn intersect_shorter(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    intersect_with(a, b, |&d, _| d)
}

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

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// Ranks a prepared query with block-max pruning: the number of matches and the top `k`
    /// (and, when `keep`, every match). The documents are read in windows of ids (sized by
    /// [`WINDOW_POSTINGS`](super::WINDOW_POSTINGS)), each matched and ranked before the next: a query holds the
    /// matches of one window, never a common word's whole list.
    pub(super) fn top_k(
        &mut self,
        prepared: &Prepared,
        any: bool,
        k: usize,
        filter: Option<&[u32]>,
        keep: bool,
    ) -> Result<super::Ranked> {
        let boost = self.boosts(prepared);
        let mut must: Vec<Clause<'a>> = Vec::with_capacity(prepared.must.len());
        for c in &prepared.must {
            must.push(self.sources(c, boost)?);
        }
        let mut not: Vec<Clause<'a>> = Vec::new();
        // With a boost, any match may be boosted: its bound is too, and the scores summed in
        // advance are not yet the exact ones.
        let all_exact = !boost.any()
            && must
                .iter()
                .flatten()
                .flatten()
                .all(|s| matches!(s, Source::Exact { .. }));
        let docs = self.index.doc_count();
        let windows = windows(&must, docs, self.window);
        let only_filters = must.is_empty() && !prepared.has_text;
        let mut best = Best::new(k);
        let mut block = Block::default();
        let (mut total, mut scored, mut kept) = (0, 0, Vec::new());
        // AND first (rarest clause first, later ones only in the candidates' blocks); when
        // no document matches every clause (before exclusions), OR: every clause's documents.
        let and = and_first(any, must.len(), prepared.long);
        for and in [and, false].into_iter().take(1 + and as usize) {
            let mut found = 0;
            for window in windows.iter().cloned() {
                let (matches, mut matched) = match only_filters {
                    // Only filters (and exclusions): every document they accept, unscored.
                    true => (
                        Vec::new(),
                        in_window(filter.unwrap_or_default(), &window).to_vec(),
                    ),
                    false => window_matches(&must, and, &window, filter, &mut block)?,
                };
                found += matched.len();
                for (i, c) in prepared.must_not.iter().enumerate() {
                    if matched.is_empty() {
                        break;
                    }
                    if not.len() == i {
                        not.push(self.sources(c, Boosts::default())?);
                    }
                    let excluded = clause_matches(&not[i], Some(&matched), &window, &mut block)?;
                    let excluded = matched_docs(std::slice::from_ref(&excluded), window.clone());
                    matched = subtract(&matched, &excluded);
                }
                // Each match's bound (`bounds_of`): when every source was scored in advance,
                // the exact score itself.
                let mut bounds = bounds_of(&matches, &matched);
                if boost.forms {
                    // Raised by the boosts the match may gain: the name boost for any (a name
                    // match shows only once scored), the forms boost only where every clause
                    // holds the match as written (the others keep their pruning).
                    let formable = formable(&must, &matches, &matched);
                    let raise = |(b, f): (&mut f32, bool)| *b *= boost.factor(true, f);
                    bounds.iter_mut().zip(formable).for_each(raise);
                } else if boost.any() {
                    // The name boost alone: every match may gain it.
                    let most = boost.factor(true, false);
                    bounds.iter_mut().for_each(|b| *b *= most);
                }
                drop(matches);
                total += matched.len();
                scored += match all_exact {
                    true => {
                        // Only those that can enter (the heap's bar drops no tie: a rank equal
                        // to the bar with a lower id enters).
                        let bar = best.bar();
                        let can = |&(_, &b): &(&u32, &f32)| b >= bar;
                        let entering = matched.iter().zip(&bounds).filter(can);
                        entering.for_each(|(&d, &b)| best.offer(Rank(b, d)));
                        matched.len()
                    }
                    false => {
                        let start = window.start;
                        self.rank(&mut must, &matched, bounds, &mut best, boost, start)?
                    }
                };
                if keep {
                    kept.extend_from_slice(&matched);
                }
            }
            if found > 0 {
                break;
            }
        }
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
        // (The windows were read best first: the matches kept come in id order.)
        kept.sort_unstable();
        Ok((total, best.into_sorted(), kept))
    }

    /// Offers the matches of one window (`matched`, ascending, from `window_start`, with
    /// `bounds` of their scores) to `best`, and says how many it scored. Those of highest bound
    /// that can enter `best` are scored first, which raises the bar early; then, in id order,
    /// every other one whose bound beats the bar.
    fn rank(
        &self,
        clauses: &mut [Clause<'a>],
        matched: &[u32],
        mut bounds: Vec<f32>,
        best: &mut Best,
        boost: Boosts,
        window_start: u32,
    ) -> Result<usize> {
        // Inflated: a bound is summed from block bounds, which f32 rounds differently from
        // the exact terms (the boosts a match may gain are in its bound already).
        bounds.iter_mut().for_each(|b| *b = *b * 1.0001 + 1e-6);
        let rewind = |clauses: &mut [Clause<'a>]| {
            let sources = clauses.iter_mut().flatten().flatten();
            sources.for_each(|s| s.rewind_to(window_start));
        };
        // The highest bounds that can enter, as many as `best` keeps, through a min-heap
        // (ties: the lower index first).
        let bar = best.bar();
        let mut first = Best::new(if best.full() { 0 } else { best.k() });
        for (i, &b) in bounds.iter().enumerate() {
            if b > bar {
                first.offer(Rank(b, i as u32));
            }
        }
        let mut first: Vec<u32> = first.into_sorted().into_iter().map(|r| r.0).collect();
        first.sort_unstable();
        if !first.is_empty() {
            rewind(clauses);
        }
        for &i in &first {
            let doc = matched[i as usize];
            best.offer(Rank(self.score_at(clauses, doc, boost)?, doc));
        }
        let mut scored = first.len();
        if scored < matched.len() {
            rewind(clauses);
            let mut bar = best.bar();
            let mut next_first = first.iter().copied().peekable();
            for (i, (&doc, &bound)) in matched.iter().zip(&bounds).enumerate() {
                if next_first.peek() == Some(&(i as u32)) {
                    next_first.next();
                    continue;
                }
                // A document whose bound only reaches the k-th score cannot beat it: its score
                // is below the bound.
                if bound <= bar {
                    continue;
                }
                best.offer(Rank(self.score_at(clauses, doc, boost)?, doc));
                scored += 1;
                bar = best.bar();
            }
        }
        Ok(scored)
    }

    /// The exact score of `doc`: per clause its alternatives summed (a word's best expansion),
    /// clauses summed in order, then the boosts `boost` allows (every clause matches in a name
    /// field; every clause matches as written), as [`Searcher::exhaustive`] computes it.
    fn score_at(&self, clauses: &mut [Clause<'a>], doc: u32, boost: Boosts) -> Result<f32> {
        let mut total: Option<f32> = None;
        let (mut all_named, mut all_formed) = (true, true);
        for clause in clauses.iter_mut() {
            let mut sum: Option<f32> = None;
            let (mut named, mut formed) = (false, false);
            for alt in clause.iter_mut() {
                let mut best: Option<f32> = None;
                for source in alt.iter_mut() {
                    let s = match source {
                        Source::Exact {
                            list,
                            named: n,
                            pos,
                            npos,
                            formed: f,
                            fpos,
                        } => {
                            let s = Source::exact_at(list, pos, doc);
                            if boost.names && s.is_some() {
                                *npos = gallop(n, *npos, doc);
                                named |= n.get(*npos) == Some(&doc);
                            }
                            if boost.forms && s.is_some() {
                                *fpos = gallop(f, *fpos, doc);
                                formed |= f.get(*fpos) == Some(&doc);
                            }
                            s
                        }
                        Source::Blocks(t) => {
                            let (idfw, allowed, c) = (t.idfw, t.allowed, t.completion);
                            let form = t.form;
                            match t.posting(doc)? {
                                Some((mask, tfs)) => {
                                    named |= mask & allowed & self.names != 0;
                                    formed |= form;
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
            all_formed &= formed;
        }
        let total = total.unwrap_or(0.0);
        Ok(match boost.any() {
            true => total * boost.factor(all_named, all_formed),
            false => total,
        })
    }

    /// The sources of one clause's alternatives (with, as `boost` asks, the documents where
    /// each source scored in advance matches in a name field, and as written).
    fn sources(&mut self, alternatives: &[Planned], boost: Boosts) -> Result<Clause<'a>> {
        let mut out = Vec::with_capacity(alternatives.len());
        for p in alternatives {
            out.push(match p {
                Planned::Word { expansions, mask } => {
                    // The expansions scored in advance become one list (their best score per
                    // document), so ranking bounds and scores them in one step.
                    let mut exact: Vec<Scored> = Vec::new();
                    let mut in_names: Vec<Vec<u32>> = Vec::new();
                    let mut in_forms: Vec<Vec<u32>> = Vec::new();
                    let mut v = Vec::with_capacity(expansions.len());
                    for e in expansions {
                        match self.source(e, *mask, boost.names)? {
                            Source::Exact { list, named: n, .. } => {
                                if boost.forms && e.form {
                                    in_forms.push(list.iter().map(|x| x.0).collect());
                                }
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
                                formed: union(in_forms, self.index.doc_count()),
                                fpos: 0,
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
                    formed: Vec::new(),
                    fpos: 0,
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
                formed: Vec::new(),
                fpos: 0,
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
            form: e.form,
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

/// Per document of `matched`, whether every clause of `must` matches it as written
/// ([`super::FORMS_BOOST`]): through a cursor of a word as written, or a document of a list
/// scored in advance that is among its `formed`. `matches` are the clauses' matches, as
/// [`window_matches`] found them.
fn formable(must: &[Clause<'_>], matches: &[ClauseMatches], matched: &[u32]) -> Vec<bool> {
    let n = matched.len();
    let mut all = vec![matches.len() == must.len(); n];
    let mut here = vec![false; n];
    for (clause, m) in must.iter().zip(matches) {
        here.fill(false);
        for (alt, lists) in clause.iter().zip(m) {
            for (source, list) in alt.iter().zip(lists) {
                let formed: Option<&[u32]> = match source {
                    Source::Blocks(t) if t.form => None,
                    Source::Exact { formed, .. } if !formed.is_empty() => Some(formed),
                    _ => continue,
                };
                let (mut j, mut k) = (0, 0);
                for &(d, _) in list {
                    if let Some(f) = formed {
                        k = gallop(f, k, d);
                        if f.get(k) != Some(&d) {
                            continue;
                        }
                    }
                    j = gallop(matched, j, d);
                    if matched.get(j) == Some(&d) {
                        here[j] = true;
                    }
                }
            }
        }
        all.iter_mut().zip(&here).for_each(|(a, h)| *a &= h);
    }
    all
}

/// The matches in `window`, per clause, and their documents: with `and`, those of every
/// clause (rarest first, each later clause read only in the earlier ones' blocks), else
/// those of any; among `filter`'s documents when given.
fn window_matches(
    must: &[Clause<'_>],
    and: bool,
    window: &Range<u32>,
    filter: Option<&[u32]>,
    block: &mut Block,
) -> Result<(Vec<ClauseMatches>, Vec<u32>)> {
    let mut matches: Vec<ClauseMatches> = Vec::with_capacity(must.len());
    let mut matched: Vec<u32> = Vec::new();
    for (i, c) in must.iter().enumerate() {
        if and && i > 0 && matched.is_empty() {
            break;
        }
        let candidates = (and && i > 0).then_some(&matched[..]);
        let m = clause_matches(c, candidates, window, block)?;
        if and {
            let found = matched_docs(std::slice::from_ref(&m), window.clone());
            matched = match i {
                0 => found,
                _ => intersect_shorter(&matched, &found),
            };
        }
        matches.push(m);
    }
    if !and {
        matched = matched_docs(&matches, window.clone());
    }
    if let Some(f) = filter {
        matched = intersect_shorter(&matched, in_window(f, window));
    }
    Ok((matches, matched))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::sets::Bounded;
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
            prop_assert_eq!(&matched_docs(std::slice::from_ref(&one), 0..docs), &want);
            let many: Vec<ClauseMatches> = scored.into_iter().map(|l| vec![vec![l]]).collect();
            prop_assert_eq!(&matched_docs(&many, 0..docs), &want);
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
