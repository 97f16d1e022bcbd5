//! The reference path: every match scored, clause by clause (what block-max ranking in
//! [`super::topk`] is checked against), and phrase matching, which both paths use.

use super::best::{Best, Rank};
use super::sets::{gallop, intersect_with, merge, subtract};
use super::{
    and_first, Boosts, Expansion, Loaded, Planned, Prepared, Scored, SearchOptions, Searcher,
};
use crate::error::Result;
use crate::postings::PositionList;

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// Scores every match: the number of matching documents and the top `opts.limit`.
    pub(super) fn exhaustive_top(
        &mut self,
        prepared: &Prepared,
        opts: &SearchOptions,
        filter: Option<&[u32]>,
    ) -> Result<super::Ranked> {
        let must = &prepared.must;
        let boost = self.boosts(prepared);
        // The documents where every clause so far matched in a name field, and as written
        // (with the boosts).
        let (mut named, mut formed): (Option<Vec<u32>>, Option<Vec<u32>>) = (None, None);
        // AND runs rarest clause first and scores later clauses only on the surviving
        // candidates; with no document matching all, fall back to OR.
        let mut matched: Option<Scored> = None;
        if and_first(opts.any, must.len(), prepared.long) {
            let (mut acc, n, f) = self.clause(&must[0], None, boost)?;
            narrow(&mut named, n);
            narrow(&mut formed, f);
            for clause in &must[1..] {
                if acc.is_empty() {
                    break;
                }
                let docs: Vec<u32> = acc.iter().map(|x| x.0).collect();
                let (scored, n, f) = self.clause(clause, Some(&docs), boost)?;
                narrow(&mut named, n);
                narrow(&mut formed, f);
                acc = intersect_with(&acc, &scored, |x, y| (x.0, x.1 + y.1));
            }
            if let Some(f) = filter {
                acc = keep_only(&acc, f);
            }
            if !acc.is_empty() {
                matched = Some(acc);
            }
        }
        let mut matched = match matched {
            Some(m) => m,
            // Only filters (and exclusions): every document they accept, unscored.
            None if must.is_empty() && !prepared.has_text => filter
                .unwrap_or_default()
                .iter()
                .map(|&d| (d, 0.0))
                .collect(),
            None => {
                (named, formed) = (None, None);
                let mut acc = Vec::new();
                for clause in must {
                    let (scored, n, f) = self.clause(clause, None, boost)?;
                    narrow(&mut named, n);
                    narrow(&mut formed, f);
                    acc = merge(&acc, &scored, |x, y| x + y);
                }
                match filter {
                    Some(f) => keep_only(&acc, f),
                    None => acc,
                }
            }
        };
        for clause in &prepared.must_not {
            if matched.is_empty() {
                break;
            }
            let docs: Vec<u32> = matched.iter().map(|x| x.0).collect();
            let (excluded, ..) = self.clause(clause, Some(&docs), Boosts::default())?;
            matched = subtract(&matched, &excluded);
        }
        if boost.any() {
            let (named, formed) = (named.unwrap_or_default(), formed.unwrap_or_default());
            let (mut j, mut k) = (0, 0);
            for m in matched.iter_mut() {
                j = gallop(&named, j, m.0);
                k = gallop(&formed, k, m.0);
                let factor = boost.factor(named.get(j) == Some(&m.0), formed.get(k) == Some(&m.0));
                m.1 *= factor;
            }
        }
        let total = matched.len();
        let ids: Vec<u32> = matched.iter().map(|x| x.0).collect();
        let mut best = Best::new(opts.limit.min(total));
        for &(doc, score) in &matched {
            best.offer(Rank(score, doc));
        }
        Ok((total, best.into_sorted(), ids))
    }

    /// Which boosts apply to `prepared`'s matches (both ranking paths ask): a short query of two
    /// or more clauses; [`super::NAMES_BOOST`] with name fields.
    pub(super) fn boosts(&self, prepared: &Prepared) -> Boosts {
        let short = !prepared.long && prepared.must.len() >= 2;
        Boosts {
            names: short && self.names != 0,
            forms: short,
        }
    }

    /// Scores a clause (alternatives summed), only on `filter`'s documents when given, and, as
    /// `boost` asks, the documents where it matches in a name field and those where it matches
    /// as written (a phrase never does either).
    pub(super) fn clause(
        &mut self,
        alternatives: &[Planned],
        filter: Option<&[u32]>,
        boost: Boosts,
    ) -> Result<(Scored, Vec<u32>, Vec<u32>)> {
        let mut out = Vec::new();
        let (mut in_names, mut in_forms) = (Vec::new(), Vec::new());
        for p in alternatives {
            let scored = match p {
                Planned::Word { expansions, mask } => {
                    let mut acc: Scored = Vec::new();
                    for e in expansions {
                        let named = boost.names.then_some(&mut in_names);
                        let s = self.score_term(e, *mask, filter, named)?;
                        if boost.forms && e.form {
                            in_forms.extend(s.iter().map(|x| x.0));
                        }
                        acc = if acc.is_empty() {
                            s
                        } else {
                            merge(&acc, &s, f32::max)
                        };
                    }
                    acc
                }
                Planned::Phrase { terms, mask } => self.phrase(terms, *mask, filter)?,
            };
            out = if out.is_empty() {
                scored
            } else {
                merge(&out, &scored, |x, y| x + y)
            };
        }
        in_names.sort_unstable();
        in_names.dedup();
        in_forms.sort_unstable();
        in_forms.dedup();
        Ok((out, in_names, in_forms))
    }

    pub(super) fn load(&mut self, ord: u64) -> Result<Loaded> {
        if let Some(l) = self.cache.get(&ord) {
            return Ok(l.clone());
        }
        let info = self.term_info(ord)?;
        let list = self.index.postings_from(&info, self.src)?;
        let loaded = std::rc::Rc::new((info, list));
        self.cache.insert(ord, loaded.clone());
        Ok(loaded)
    }

    pub(super) fn score_term(
        &mut self,
        e: &Expansion,
        allowed: u16,
        filter: Option<&[u32]>,
        mut named: Option<&mut Vec<u32>>,
    ) -> Result<Scored> {
        let ord = e.ord;
        // Scored on candidates only: decode just the blocks that may hold them (not cached,
        // since such a list is partial), unless the whole list is at hand.
        let loaded = match filter {
            Some(docs) if !self.cache.contains_key(&ord) => {
                let info = self.term_info(ord)?;
                let list = self.index.postings_for(&info, self.src, docs)?;
                std::rc::Rc::new((info, list))
            }
            _ => self.load(ord)?,
        };
        let (info, list) = &*loaded;
        let idf = self.idf(info.doc_freq) * e.weight;
        let mut out = Vec::with_capacity(filter.map_or(list.len(), |f| f.len().min(list.len())));
        let mut filter = Filter::new(filter);
        for i in 0..list.len() {
            let (doc, mask) = (list.docs[i], list.masks[i]);
            if mask & allowed == 0 {
                continue;
            }
            match filter.check(doc) {
                Step::Keep => {}
                Step::Skip => continue,
                Step::Done => break,
            }
            let tfs = list.tfs_of(i);
            out.push((
                doc,
                idf * self.expansion_bm25f(doc, mask, tfs, allowed, e.completion)?,
            ));
            match named.as_deref_mut() {
                Some(n) if mask & allowed & self.names != 0 => n.push(doc),
                _ => {}
            }
        }
        Ok(out)
    }

    /// Documents where the terms occur at their relative positions in one field.
    pub(super) fn phrase(
        &mut self,
        terms: &[(Option<u64>, u32)],
        allowed: u16,
        filter: Option<&[u32]>,
    ) -> Result<Scored> {
        let mut loaded: Vec<(Loaded, PositionList, u32)> = Vec::new();
        for &(ord, pos) in terms {
            let Some(ord) = ord else {
                return Ok(Vec::new()); // a phrase word that no document has: no match
            };
            let l = self.load(ord)?;
            let positions = self.index.positions_from(&l.0, &l.1, self.src)?;
            loaded.push((l, positions, pos));
        }
        let mut cursors = vec![0usize; loaded.len()];
        let mut out = Vec::new();
        let first = &loaded[0].0 .1;
        let mut filter = Filter::new(filter);
        'docs: for i0 in 0..first.len() {
            let doc = first.docs[i0];
            match filter.check(doc) {
                Step::Keep => {}
                Step::Skip => continue,
                Step::Done => break,
            }
            let mut idx = vec![i0];
            for (t, (l, _, _)) in loaded.iter().enumerate().skip(1) {
                let list = &l.1;
                let c = &mut cursors[t];
                while *c < list.len() && list.docs[*c] < doc {
                    *c += 1;
                }
                if *c >= list.len() {
                    break 'docs;
                }
                if list.docs[*c] != doc {
                    continue 'docs;
                }
                idx.push(*c);
            }
            let common = loaded
                .iter()
                .zip(&idx)
                .fold(allowed, |m, ((l, _, _), &i)| m & l.1.masks[i]);
            if common == 0 {
                continue;
            }
            let limit = self.limits.max_phrase_checks;
            let mut checks = self.state.borrow().phrase_checks;
            let found = phrase_in_doc(&loaded, &idx, common, &mut checks, limit);
            self.state.borrow_mut().phrase_checks = checks;
            match found {
                Some(true) => {}
                Some(false) => continue,
                None => {
                    // Over the budget: the phrase keeps the documents found so far.
                    self.truncate();
                    break 'docs;
                }
            }
            let mut score = 0.0;
            for ((l, _, _), &i) in loaded.iter().zip(&idx) {
                score += self.idf(l.0.doc_freq)
                    * self.bm25f(doc, l.1.masks[i], l.1.tfs_of(i), common)?;
            }
            out.push((doc, score));
        }
        Ok(out)
    }
}

/// An optional ascending list of the documents worth scoring, walked alongside ascending
/// candidates.
struct Filter<'f> {
    docs: Option<&'f [u32]>,
    at: usize,
}

/// What to do with a candidate.
enum Step {
    Keep,
    Skip,
    /// The filter is exhausted: no later candidate can pass.
    Done,
}

impl<'f> Filter<'f> {
    pub(super) fn new(docs: Option<&'f [u32]>) -> Self {
        Filter { docs, at: 0 }
    }

    pub(super) fn check(&mut self, doc: u32) -> Step {
        let Some(docs) = self.docs else {
            return Step::Keep;
        };
        while self.at < docs.len() && docs[self.at] < doc {
            self.at += 1;
        }
        match docs.get(self.at) {
            None => Step::Done,
            Some(&d) if d == doc => Step::Keep,
            Some(_) => Step::Skip,
        }
    }
}

/// Whether the phrase occurs in one of the `common` fields of the document at `idx`.
/// `None` when the check would take more than `limit` position look-ups in all (`checks`
/// counts them across the query).
fn phrase_in_doc(
    loaded: &[(Loaded, PositionList, u32)],
    idx: &[usize],
    common: u16,
    checks: &mut u64,
    limit: u64,
) -> Option<bool> {
    // Positions of term `t` in field `bit` of its posting `idx[t]`.
    let positions = |t: usize, bit: u32| -> &[u32] {
        let (l, pos, _) = &loaded[t];
        let i = idx[t];
        let mask = l.1.masks[i] as u32;
        let k = l.1.tf_start[i] as usize + (mask & ((1 << bit) - 1)).count_ones() as usize;
        &pos.positions[pos.start[k] as usize..pos.start[k + 1] as usize]
    };
    for bit in 0..16u32 {
        if common & (1 << bit) == 0 {
            continue;
        }
        'starts: for &p in positions(0, bit) {
            for (t, entry) in loaded.iter().enumerate().skip(1) {
                if *checks >= limit {
                    return None;
                }
                *checks += 1;
                let want = p + entry.2;
                if positions(t, bit).binary_search(&want).is_err() {
                    continue 'starts;
                }
            }
            return Some(true);
        }
    }
    Some(false)
}

/// `named` (documents, ascending; `None` before the first clause) kept to those also in `n`.
fn narrow(named: &mut Option<Vec<u32>>, n: Vec<u32>) {
    *named = Some(match named.take() {
        None => n,
        Some(m) => intersect_with(&m, &n, |&d, _| d),
    });
}

/// The entries of ascending `scored` whose document is in ascending `docs`.
fn keep_only(scored: &Scored, docs: &[u32]) -> Scored {
    let mut j = 0;
    scored
        .iter()
        .copied()
        .filter(|&(d, _)| {
            while j < docs.len() && docs[j] < d {
                j += 1;
            }
            j < docs.len() && docs[j] == d
        })
        .collect()
}
