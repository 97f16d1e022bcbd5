//! How is a query answered?
//!
//! 1. The query is parsed ([`crate::query`]) and each word analyzed like the documents were.
//! 2. Each word is expanded against the dictionary, locally and before any postings are read:
//!    its exact stem, then (for the word being typed or `word*`) dictionary terms it is a prefix
//!    of, then, only for a word the dictionary does not know, terms within a typo distance (1
//!    edit from 5 characters, 2 from 9, never in the first character). Exact matches weigh 1,
//!    prefix matches [`PREFIX_WEIGHT`], typo matches [`TYPO_WEIGHT`] per edit. A cut
//!    dictionary ([`crate::dict`]) is read part by part; parts the source lacks are listed in
//!    [`Prepared::dictionary_needs`] for the loader to fetch before preparing again.
//! 3. Postings are decoded per expanded term and scored with BM25F: per-field term frequencies,
//!    normalized by each field's length and weighted by the schema, summed, then saturated.
//!    A word's score in a document is its best expansion's.
//! 4. Clauses are ANDed, rarest first, later clauses scored only on the surviving documents (a
//!    word with no expansion at all is dropped); when no document matches them all, the query
//!    falls back to OR. Exclusions remove documents. Phrases check positions.
//! 5. The top `limit` documents (score descending, then document id) get their `id`, `title`
//!    and `url` from the hit-display store.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use fst::{IntoStreamer, Streamer};
use serde::Serialize;

use crate::dict::{prefix_end, PartView};
use crate::error::{Error, Result};
use crate::fuzzy::Levenshtein;
use std::ops::Range;

use crate::index::Index;
use crate::postings::{PositionList, PostingList};
use crate::query::{parse, Item, Occur};
use crate::source::{DataFile, DataSource};
use crate::terminfo::TermInfo;

mod topk;
pub use topk::RankStats;

/// Weight of a prefix match relative to an exact one.
pub const PREFIX_WEIGHT: f32 = 0.7;
/// Weight of a match per typo: one edit ×0.5, two ×0.25.
pub const TYPO_WEIGHT: f32 = 0.5;
/// The longest word (in characters) whose one-edit variants are stemmed and looked up when no
/// term is within its typo distance (about 55 lookups per character).
pub const MAX_VARIANT_CHARS: usize = 24;

/// Budgets of one search. Hitting one is an [`Error::LimitExceeded`], except
/// `max_expansions`, which keeps the best expansions (by weight, then the rarest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchLimits {
    /// Dictionary terms a word may expand to (prefix and typo matches together).
    pub max_expansions: usize,
    /// Steps a typo automaton may take over the dictionary, per word.
    pub max_automaton_steps: u64,
    /// Prefix completions examined per word (more is an error: type more letters).
    pub max_prefix_candidates: usize,
    /// Bytes a stored-field chunk may decompress to.
    pub max_chunk_bytes: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            max_expansions: 64,
            max_automaton_steps: 2_000_000,
            max_prefix_candidates: 100_000,
            max_chunk_bytes: 8 << 20,
        }
    }
}

/// How to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchOptions {
    /// Hits to return.
    pub limit: usize,
    /// The last word matches as a prefix (search as you type).
    pub prefix: bool,
    /// Typo tolerance.
    pub typos: bool,
    /// Rank every document matching any word (OR) instead of AND with fallback.
    pub any: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 10,
            prefix: true,
            typos: true,
            any: false,
        }
    }
}

/// One result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hit {
    /// The document's `id`.
    pub id: String,
    /// Its `title` (empty if it has none).
    pub title: String,
    /// Its `url` (empty if it has none).
    pub url: String,
    /// Its score; higher is better.
    pub score: f32,
}

/// The answer to a query.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SearchResults {
    /// Documents that matched.
    pub total: usize,
    /// The best of them, best first.
    pub hits: Vec<Hit>,
}

/// A scored document list, ascending by document.
type Scored = Vec<(u32, f32)>;

/// One expansion of a word.
#[derive(Clone, Debug)]
struct Expansion {
    ord: u64,
    weight: f32,
    doc_freq: u32,
}

/// A query item resolved against the dictionary, before any postings are read.
#[derive(Clone, Debug)]
enum Planned {
    /// A word: its expansions, the fields it may match.
    Word {
        expansions: Vec<Expansion>,
        mask: u16,
    },
    /// A phrase: each term's ordinal (`None` when absent) and relative position.
    Phrase {
        terms: Vec<(Option<u64>, u32)>,
        mask: u16,
    },
}

impl Planned {
    /// Upper bound of the documents it can match (to order the AND rarest first).
    fn cost(&self, index_docs: u32, df: impl Fn(u64) -> u32) -> u64 {
        match self {
            Planned::Word { expansions, .. } => expansions.iter().map(|e| e.doc_freq as u64).sum(),
            Planned::Phrase { terms, .. } => terms
                .iter()
                .map(|(o, _)| o.map(&df).unwrap_or(0) as u64)
                .min()
                .unwrap_or(0)
                .min(index_docs as u64),
        }
    }
}

type Loaded = std::rc::Rc<(TermInfo, PostingList)>;

/// A query resolved against the dictionary: how to score it. Where each of its terms has its
/// data stays in the [`Searcher`] that prepared it.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    must: Vec<Vec<Planned>>,
    must_not: Vec<Vec<Planned>>,
    /// Dictionary parts it could not read (a cut dictionary whose parts are not loaded yet):
    /// their indexes in the router and their byte ranges in the `terms` pack.
    missing: Vec<(usize, Range<u64>)>,
    /// The same ranges, as [`Prepared::dictionary_needs`] lists them.
    missing_ranges: Vec<(DataFile, Range<u64>)>,
}

impl Prepared {
    /// The dictionary parts it lacked, by index in the router.
    pub fn missing_parts(&self) -> impl Iterator<Item = usize> + '_ {
        self.missing.iter().map(|(i, _)| *i)
    }

    /// The dictionary parts it lacked: when not empty, load them and prepare again (the words
    /// that needed them were resolved as if absent). Typo expansion waits for the parts of a
    /// word's exact and prefix lookups, so a word may take two rounds.
    pub fn dictionary_needs(&self) -> &[(DataFile, Range<u64>)] {
        &self.missing_ranges
    }

    /// `Err(NotLoaded)` naming the first dictionary part it still lacks, if any.
    pub fn require_complete(&self) -> Result<()> {
        match self.missing.first() {
            None => Ok(()),
            Some((_, r)) => Err(Error::NotLoaded {
                file: DataFile::Terms.name(),
                start: r.start,
                end: r.end,
            }),
        }
    }
}

/// The bytes of a dictionary part, checked, shared by the lookups of one search.
type PartBytes = Arc<[u8]>;

/// One query word as analyzed: folded, stemmed, at its position.
#[derive(Clone, Debug)]
struct Word {
    folded: String,
    stem: String,
    position: u32,
}

/// One query item as analyzed.
#[derive(Clone, Debug)]
struct AnalyzedItem {
    words: Vec<Word>,
    phrase: bool,
    prefix: bool,
    mask: u16,
}

/// What one query has resolved so far, kept across the rounds of a lazy query: its parse and
/// analysis (done once), its definite lookups and complete word expansions, where its terms'
/// data is, and the dictionary parts it read.
#[derive(Default)]
pub(crate) struct QueryState {
    /// The text and prefix flag the analysis below is of.
    key: Option<(String, bool)>,
    clauses: Vec<(Occur, Vec<AnalyzedItem>)>,
    /// Point lookups with a definite answer (found or absent).
    lookups: HashMap<Vec<u8>, Option<u64>>,
    /// Expansions of (folded word, prefix, typos) computed with every part they needed.
    expanded: HashMap<(String, bool, bool), Vec<Expansion>>,
    infos: HashMap<u64, TermInfo>,
    parts: HashMap<usize, PartBytes>,
    /// Dictionary parts the source lacked in the current round.
    missing: Vec<usize>,
}

impl QueryState {
    /// A fresh state: one per query (counted).
    pub(crate) fn new() -> Self {
        crate::counters::bump(|c| c.searchers += 1);
        QueryState::default()
    }
}

/// A point lookup in the dictionary.
enum Lookup {
    Found(u64),
    Absent,
    /// The part that would hold it is not loaded.
    NotLoaded,
}

/// Searches one index.
pub struct Searcher<'a, D> {
    index: &'a Index<D>,
    src: &'a dyn DataSource,
    limits: SearchLimits,
    cache: HashMap<u64, Loaded>,
    /// Score every match instead of pruning (see [`Searcher::exhaustive`]).
    exhaustive: bool,
    /// What ranking the last query took.
    stats: RankStats,
    /// What the query has resolved so far.
    state: RefCell<QueryState>,
}

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// A searcher over a single-file `index` with default limits.
    pub fn new(index: &'a Index<D>) -> Self {
        Searcher::with_source(index, index)
    }

    /// A searcher whose postings, positions and stored chunks come from `src` (a lazy loader's
    /// cache, for a split index).
    pub fn with_source(index: &'a Index<D>, src: &'a dyn DataSource) -> Self {
        Searcher::resume(index, src, QueryState::new())
    }

    /// A searcher continuing a query whose state an earlier step kept (a lazy query between
    /// two fetches): nothing it resolved is done again.
    pub(crate) fn resume(index: &'a Index<D>, src: &'a dyn DataSource, state: QueryState) -> Self {
        Searcher {
            index,
            src,
            limits: SearchLimits::default(),
            cache: HashMap::new(),
            exhaustive: false,
            stats: RankStats::default(),
            state: RefCell::new(state),
        }
    }

    /// The query's state, for the next step of a lazy query.
    pub(crate) fn into_state(self) -> QueryState {
        self.state.into_inner()
    }

    /// Scores every match (whole postings lists, merged clause by clause) instead of ranking
    /// with block-max pruning ([`topk`]). The results are the same (the tests compare the
    /// two); this is the reference the pruned path is checked and benchmarked against.
    pub fn exhaustive(mut self, yes: bool) -> Self {
        self.exhaustive = yes;
        self
    }

    /// What ranking the last query took: matches, documents scored, blocks decoded (all zero
    /// after an exhaustive search).
    pub fn stats(&self) -> RankStats {
        self.stats
    }

    /// Sets the limits.
    pub fn with_limits(mut self, limits: SearchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Answers `query` (single-file index, or a source that holds everything needed).
    pub fn search(&mut self, query: &str, opts: &SearchOptions) -> Result<SearchResults> {
        let prepared = self.prepare(query, opts)?;
        prepared.require_complete()?;
        let (total, top) = self.execute(&prepared, opts)?;
        Ok(SearchResults {
            total,
            hits: self.hits(&top)?,
        })
    }

    /// Parses `query` and resolves every item against the dictionary; reads no postings. Called
    /// again on the same searcher for the same query (after fetching the dictionary parts it
    /// lacked), it reuses the parse, the analysis and every definite lookup.
    pub fn prepare(&self, query: &str, opts: &SearchOptions) -> Result<Prepared> {
        let key = (query.to_string(), opts.prefix);
        if self.state.borrow().key.as_ref() != Some(&key) {
            let clauses = self.analyze(query, opts.prefix);
            let mut state = self.state.borrow_mut();
            // What an earlier query of this searcher read is not this one's.
            *state = QueryState {
                key: Some(key),
                clauses,
                ..QueryState::default()
            };
        }
        self.state.borrow_mut().missing.clear();
        let clauses = std::mem::take(&mut self.state.borrow_mut().clauses);
        let planned = self.plan_clauses(&clauses, opts);
        self.state.borrow_mut().clauses = clauses;
        let mut prepared = planned?;
        let docs = self.index.doc_count();
        let df = |ord: u64| self.term_info(ord).map(|t| t.doc_freq).unwrap_or(0);
        let cost = |c: &Vec<Planned>| c.iter().map(|p| p.cost(docs, df)).sum::<u64>();
        // Costs computed once per clause (and a small comparator: this is cheap to compile).
        prepared.must.sort_by_cached_key(cost);
        let mut missing = std::mem::take(&mut self.state.borrow_mut().missing);
        missing.sort_unstable();
        missing.dedup();
        if let Some(router) = self.index.router() {
            prepared.missing = missing
                .into_iter()
                .map(|i| (i, router.parts()[i].range.clone()))
                .collect();
        }
        prepared.missing_ranges = prepared
            .missing
            .iter()
            .map(|(_, r)| (DataFile::Terms, r.clone()))
            .collect();
        Ok(prepared)
    }

    /// Parses and analyzes a query (once per query: counted).
    fn analyze(&self, query: &str, prefix: bool) -> Vec<(Occur, Vec<AnalyzedItem>)> {
        crate::counters::bump(|c| c.parses += 1);
        let analyzer = self.index.analyzer();
        parse(query, prefix)
            .clauses
            .iter()
            .map(|clause| {
                let items = clause
                    .items
                    .iter()
                    .map(|item| {
                        let mut words = Vec::new();
                        analyzer.analyze_folded(&item.text, |t| {
                            words.push(Word {
                                stem: analyzer.stem(&t.term).into_owned(),
                                folded: t.term.to_string(),
                                position: t.position,
                            })
                        });
                        AnalyzedItem {
                            words,
                            phrase: item.phrase,
                            prefix: item.prefix,
                            // An unknown or unindexed field (`http://…`, a typo): its text is
                            // searched in every field.
                            mask: self.field_mask(item).unwrap_or(u16::MAX),
                        }
                    })
                    .collect();
                (clause.occur, items)
            })
            .collect()
    }

    /// Resolves analyzed clauses against the dictionary.
    fn plan_clauses(
        &self,
        clauses: &[(Occur, Vec<AnalyzedItem>)],
        opts: &SearchOptions,
    ) -> Result<Prepared> {
        let mut prepared = Prepared::default();
        for (occur, items) in clauses {
            let mut alternatives = Vec::new();
            for item in items {
                if let Some(p) = self.plan(item, opts)? {
                    alternatives.push(p);
                }
            }
            if alternatives.is_empty() {
                continue; // nothing in the dictionary: the word is dropped, not an empty result
            }
            match occur {
                Occur::Must => prepared.must.push(alternatives),
                Occur::MustNot => prepared.must_not.push(alternatives),
            }
        }
        Ok(prepared)
    }

    /// The byte ranges scoring `prepared` reads: postings of every expansion, and positions of
    /// phrase terms. (Stored fields come after, from [`Searcher::stored_needs`].)
    pub fn needs(&self, prepared: &Prepared) -> Result<Vec<(DataFile, Range<u64>)>> {
        let state = self.state.borrow();
        let info = |ord: u64| {
            state
                .infos
                .get(&ord)
                .ok_or_else(|| Error::corrupt(format!("term {ord} was not prepared")))
        };
        let mut out = Vec::new();
        for p in prepared.must.iter().chain(&prepared.must_not).flatten() {
            match p {
                Planned::Word { expansions, .. } => {
                    for e in expansions {
                        out.push((DataFile::Postings, info(e.ord)?.postings.clone()));
                    }
                }
                Planned::Phrase { terms, .. } => {
                    for ord in terms.iter().filter_map(|t| t.0) {
                        let info = info(ord)?;
                        out.push((DataFile::Postings, info.postings.clone()));
                        out.push((DataFile::Positions, info.positions.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Scores a prepared query: the number of matching documents and the top `opts.limit`
    /// (document, score) pairs, best first.
    pub fn execute(
        &mut self,
        prepared: &Prepared,
        opts: &SearchOptions,
    ) -> Result<(usize, Vec<(u32, f32)>)> {
        self.cache.clear();
        self.stats = RankStats::default();
        if !self.exhaustive {
            let r = self.top_k(prepared, opts.any, opts.limit);
            self.cache.clear();
            return r;
        }
        let must = &prepared.must;
        // AND runs rarest clause first and scores later clauses only on the surviving
        // candidates; with no document matching all, fall back to OR.
        let mut matched: Option<Scored> = None;
        if !opts.any && must.len() > 1 {
            let mut acc = self.clause(&must[0], None)?;
            for clause in &must[1..] {
                if acc.is_empty() {
                    break;
                }
                let docs: Vec<u32> = acc.iter().map(|x| x.0).collect();
                let scored = self.clause(clause, Some(&docs))?;
                acc = intersect(&acc, &scored);
            }
            if !acc.is_empty() {
                matched = Some(acc);
            }
        }
        let mut matched = match matched {
            Some(m) => m,
            None => {
                let mut acc = Vec::new();
                for clause in must {
                    acc = merge(&acc, &self.clause(clause, None)?, |x, y| x + y);
                }
                acc
            }
        };
        for clause in &prepared.must_not {
            if matched.is_empty() {
                break;
            }
            let docs: Vec<u32> = matched.iter().map(|x| x.0).collect();
            let excluded = self.clause(clause, Some(&docs))?;
            matched = subtract(&matched, &excluded);
        }
        let total = matched.len();
        let k = opts.limit.min(total);
        let by_rank = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if k > 0 && k < matched.len() {
            matched.select_nth_unstable_by(k - 1, by_rank);
            matched.truncate(k);
        }
        matched.sort_unstable_by(by_rank);
        matched.truncate(k);
        self.cache.clear();
        Ok((total, matched))
    }

    /// The ranges that showing `top` reads (hit-display chunks; none when the dictionary holds
    /// them).
    pub fn stored_needs(&self, top: &[(u32, f32)]) -> Result<Vec<(DataFile, Range<u64>)>> {
        if self.index.display_resident() {
            return Ok(Vec::new());
        }
        top.iter()
            .map(|&(doc, _)| {
                let (file, c) = self.index.hit_chunk_of(doc)?;
                Ok((
                    file,
                    c.offset as u64..c.offset as u64 + c.compressed_len as u64,
                ))
            })
            .collect()
    }

    /// The hits for `top`, with their `id`, `title` and `url`.
    pub fn hits(&self, top: &[(u32, f32)]) -> Result<Vec<Hit>> {
        let docs: Vec<u32> = top.iter().map(|t| t.0).collect();
        let fields = self
            .index
            .hit_fields_from(&docs, self.limits.max_chunk_bytes, self.src)?;
        Ok(top
            .iter()
            .zip(fields)
            .map(|(&(_, score), [id, title, url])| Hit {
                id,
                title,
                url,
                score,
            })
            .collect())
    }

    /// Scores a clause (alternatives summed), only on `filter`'s documents when given.
    fn clause(&mut self, alternatives: &[Planned], filter: Option<&[u32]>) -> Result<Scored> {
        let mut out = Vec::new();
        for p in alternatives {
            let scored = match p {
                Planned::Word { expansions, mask } => {
                    let mut acc: Scored = Vec::new();
                    for e in expansions {
                        let s = self.score_term(e.ord, *mask, e.weight, filter)?;
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
        Ok(out)
    }

    /// Field bits an item may match: all indexed fields, or the one it names.
    fn field_mask(&self, item: &Item) -> Option<u16> {
        match &item.field {
            None => Some(u16::MAX),
            Some(name) => {
                let f = self.index.schema().field(name)?;
                let bit = self.index.indexed_fields().iter().position(|&g| g == f)?;
                Some(1 << bit)
            }
        }
    }

    /// Resolves an analyzed item against the dictionary.
    fn plan(&self, item: &AnalyzedItem, opts: &SearchOptions) -> Result<Option<Planned>> {
        let mask = item.mask;
        let words = &item.words;
        if words.is_empty() {
            return Ok(None);
        }
        if item.phrase || words.len() > 1 {
            let base = words[0].position;
            let terms = words
                .iter()
                .map(|w| {
                    let ord = match self.lookup(w.stem.as_bytes())? {
                        Lookup::Found(ord) => {
                            self.term_info(ord)?;
                            Some(ord)
                        }
                        Lookup::Absent | Lookup::NotLoaded => None,
                    };
                    Ok((ord, w.position - base))
                })
                .collect::<Result<_>>()?;
            return Ok(Some(Planned::Phrase { terms, mask }));
        }
        let word = &words[0];
        let key = (word.folded.clone(), item.prefix, opts.typos);
        let known = self.state.borrow().expanded.get(&key).cloned();
        let expansions = match known {
            Some(e) => e,
            None => {
                let (e, complete) =
                    self.expand(&word.folded, &word.stem, item.prefix, opts.typos)?;
                if complete {
                    self.state.borrow_mut().expanded.insert(key, e.clone());
                }
                e
            }
        };
        if expansions.is_empty() {
            return Ok(None);
        }
        Ok(Some(Planned::Word { expansions, mask }))
    }

    /// Dictionary terms for one folded word (and its stem), best weight per term, at most
    /// `max_expansions`, and whether every dictionary part they needed was there.
    fn expand(
        &self,
        folded: &str,
        stem: &str,
        prefix: bool,
        typos: bool,
    ) -> Result<(Vec<Expansion>, bool)> {
        let analyzer = self.index.analyzer();
        let mut found: HashMap<u64, f32> = HashMap::new();
        let mut add = |ord: u64, w: f32| {
            let e = found.entry(ord).or_insert(0.0);
            *e = e.max(w);
        };
        let mut exact = false;
        // Some part a lookup needed is not loaded: typos wait for the next round.
        let mut unsure = false;
        let mut keys = vec![stem];
        if stem != folded {
            keys.push(folded);
        }
        // The stem's own term: an exact match, never a prefix completion.
        let mut stem_ord = None;
        for key in keys {
            match self.lookup(key.as_bytes())? {
                Lookup::Found(ord) => {
                    add(ord, 1.0);
                    exact = true;
                    if key == stem {
                        stem_ord = Some(ord);
                    }
                }
                Lookup::NotLoaded => unsure = true,
                Lookup::Absent => {}
            }
        }
        let mut completions = false;
        // Prefix completions as (ordinal, document frequency): a contiguous ordinal range per
        // part, read without walking their keys.
        let mut prefixed: Vec<(u64, u32)> = Vec::new();
        if prefix {
            // Terms the typed word is a prefix of.
            let lo = folded.as_bytes();
            let hi = prefix_end(lo);
            let limit = self.limits.max_prefix_candidates;
            let first_at_or_after = |part: &PartView<'_>, key: &[u8]| {
                part.map
                    .range()
                    .ge(key)
                    .into_stream()
                    .next()
                    .map(|(_, o)| o)
            };
            let complete = self.each_part(lo, hi.as_deref(), |base, part| {
                let Some(start) = first_at_or_after(part, lo) else {
                    return Ok(());
                };
                let end = hi
                    .as_deref()
                    .and_then(|h| first_at_or_after(part, h))
                    .unwrap_or(part.map.len() as u64);
                if end.saturating_sub(start) as usize + prefixed.len() > limit {
                    return Err(Error::LimitExceeded {
                        what: "prefix candidates per word",
                        limit: limit as u64,
                    });
                }
                for local in start..end {
                    prefixed.push((base + local, part.doc_freq(local)?));
                }
                Ok(())
            })?;
            prefixed.retain(|&(ord, _)| Some(ord) != stem_ord);
            completions = !prefixed.is_empty();
            unsure |= !complete;
            // Stems are cut-down words: when nothing starts with the typed word, a stem that it
            // extends by at most three characters is what the finished word will most likely
            // stem to ("runnin" → "run").
            if !completions && !exact && !unsure {
                let min_len = folded.len().saturating_sub(3).max(3);
                for end in (min_len..folded.len()).rev() {
                    if !folded.is_char_boundary(end) {
                        continue;
                    }
                    match self.lookup(&folded.as_bytes()[..end])? {
                        Lookup::Found(ord) => {
                            completions = true;
                            add(ord, PREFIX_WEIGHT);
                        }
                        Lookup::NotLoaded => unsure = true,
                        Lookup::Absent => {}
                    }
                }
            }
        }
        // Typos are corrected only for words the dictionary does not know (as a whole word,
        // or, for the word being typed, as the start of one), never in the first character.
        let chars = folded.chars().count();
        let mut typo_count = 0usize;
        if typos && chars >= 5 && !exact && !completions && !unsure {
            let max = if chars >= 9 { 2 } else { 1 };
            let first = &folded[..folded.chars().next().map_or(0, char::len_utf8)];
            let hi = prefix_end(first.as_bytes());
            // Matched on the stem (the finished word) and on the word as typed (for the word
            // being typed, as a prefix).
            let mut targets = vec![(stem, false)];
            if prefix {
                targets.push((folded, true));
            } else if stem != folded {
                // The stemmer may cut a misspelled word differently ("zephy" → "zephi"): the
                // word as typed is matched too ("zephy" is one edit from "zephyr").
                targets.push((folded, false));
            }
            for (target, as_prefix) in targets {
                let Some(aut) =
                    Levenshtein::new(target, max, as_prefix, self.limits.max_automaton_steps)
                else {
                    continue;
                };
                let aut = aut.first_char_fixed();
                let walked = self.each_part(first.as_bytes(), hi.as_deref(), |base, part| {
                    let mut stream = part.map.search_with_state(&aut).into_stream();
                    while let Some((_, ord, state)) = stream.next() {
                        let d = aut.distance(&state);
                        if d > 0 {
                            add(base + ord, TYPO_WEIGHT.powi(d as i32));
                            typo_count += 1;
                        }
                    }
                    Ok(())
                })?;
                unsure |= !walked;
                if aut.exhausted() {
                    return Err(Error::LimitExceeded {
                        what: "typo automaton steps per word",
                        limit: self.limits.max_automaton_steps,
                    });
                }
            }
            // The dictionary holds stems, and a typo can change how a word stems ("pmbble"
            // keeps its "e", "pebble" → "pebbl"): when nothing is within reach of the word or
            // its stem, the stems of the words one edit from the typed word are looked up.
            if !prefix && typo_count == 0 && chars <= MAX_VARIANT_CHARS {
                let mut tried = std::collections::HashSet::new();
                for variant in one_edit_variants(folded) {
                    let stem = analyzer.stem(&variant).into_owned();
                    if tried.insert(stem.clone()) {
                        match self.lookup(stem.as_bytes())? {
                            Lookup::Found(ord) => add(ord, TYPO_WEIGHT),
                            Lookup::NotLoaded => unsure = true,
                            Lookup::Absent => {}
                        }
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(found.len() + prefixed.len());
        for (ord, doc_freq) in prefixed {
            match found.get_mut(&ord) {
                Some(w) => *w = w.max(PREFIX_WEIGHT),
                None => out.push(Expansion {
                    ord,
                    weight: PREFIX_WEIGHT,
                    doc_freq,
                }),
            }
        }
        for (ord, weight) in found {
            out.push(Expansion {
                ord,
                weight,
                doc_freq: self.read_doc_freq(ord)?,
            });
        }
        // Keep the best: by weight, then the rarest first (rare completions are the
        // distinctive ones and score highest under BM25), then by ordinal (deterministic, and
        // a total order, so selecting then sorting equals sorting everything).
        let better = |a: &Expansion, b: &Expansion| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.doc_freq.cmp(&b.doc_freq))
                .then(a.ord.cmp(&b.ord))
        };
        let keep = self.limits.max_expansions;
        if keep > 0 && out.len() > keep {
            out.select_nth_unstable_by(keep - 1, better);
        }
        out.truncate(keep);
        out.sort_unstable_by_key(|e| e.ord);
        // Remember where the kept ones' data is.
        for e in &out {
            self.term_info(e.ord)?;
        }
        Ok((out, !unsure))
    }

    /// The bytes of dictionary part `i`: checked when they arrived (a lazy query's source
    /// holds them so), or read from the source and checked now; `None` (and recorded as
    /// missing) when the source lacks them.
    fn part(&self, i: usize) -> Result<Option<PartBytes>> {
        if let Some(p) = self.state.borrow().parts.get(&i) {
            return Ok(Some(p.clone()));
        }
        let router = self
            .index
            .router()
            .ok_or_else(|| Error::corrupt("a dictionary part of a whole dictionary"))?;
        let got: PartBytes = match self.src.checked_part(i) {
            Some(bytes) => bytes,
            None => match self
                .src
                .read(DataFile::Terms, router.parts()[i].range.clone())
            {
                Ok(bytes) => {
                    PartView::open(&bytes, router.part_terms(i), true)?;
                    Arc::from(&*bytes)
                }
                Err(Error::NotLoaded { .. }) => {
                    self.state.borrow_mut().missing.push(i);
                    return Ok(None);
                }
                Err(e) => return Err(e),
            },
        };
        self.state.borrow_mut().parts.insert(i, got.clone());
        Ok(Some(got))
    }

    /// Runs `f(first ordinal, part)` on every dictionary part that may hold keys in `lo..hi`
    /// (`hi` `None`: unbounded); a whole dictionary is one part. Returns whether every such
    /// part was loaded.
    fn each_part(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        mut f: impl FnMut(u64, &PartView<'_>) -> Result<()>,
    ) -> Result<bool> {
        let Some(router) = self.index.router() else {
            use crate::index::SectionKind;
            let view = PartView::over(
                self.index.section_bytes(SectionKind::Terms),
                self.index.section_bytes(SectionKind::TermInfo),
                false,
            )?;
            f(0, &view)?;
            return Ok(true);
        };
        let mut complete = true;
        for i in router.parts_in(lo, hi) {
            match self.part(i)? {
                Some(bytes) => {
                    let view = PartView::open(&bytes, router.part_terms(i), false)?;
                    f(router.parts()[i].ord_base, &view)?;
                }
                None => complete = false,
            }
        }
        Ok(complete)
    }

    /// Looks `key` up (once per query: a definite answer is kept).
    fn lookup(&self, key: &[u8]) -> Result<Lookup> {
        if let Some(known) = self.state.borrow().lookups.get(key) {
            return Ok(known.map_or(Lookup::Absent, Lookup::Found));
        }
        let mut found = None;
        let hi = [key, &[0]].concat();
        let complete = self.each_part(key, Some(&hi), |base, part| {
            if let Some(ord) = part.map.get(key) {
                found = Some(base + ord);
            }
            Ok(())
        })?;
        if found.is_some() || complete {
            self.state.borrow_mut().lookups.insert(key.to_vec(), found);
        }
        Ok(match (found, complete) {
            (Some(ord), _) => Lookup::Found(ord),
            (None, true) => Lookup::Absent,
            (None, false) => Lookup::NotLoaded,
        })
    }

    /// Where term `ord`'s data is.
    fn term_info(&self, ord: u64) -> Result<TermInfo> {
        if let Some(info) = self.state.borrow().infos.get(&ord) {
            return Ok(info.clone());
        }
        let info = self.read_term_info(ord)?;
        self.state.borrow_mut().infos.insert(ord, info.clone());
        Ok(info)
    }

    /// Where term `ord`'s data is, read from the dictionary.
    fn read_term_info(&self, ord: u64) -> Result<TermInfo> {
        self.read_dictionary(ord, |i, o| i.term_info(o), |p, o| p.term_info(o))
    }

    /// Term `ord`'s document frequency alone, read from the dictionary.
    fn read_doc_freq(&self, ord: u64) -> Result<u32> {
        self.read_dictionary(ord, |i, o| i.term_doc_freq(o), |p, o| p.doc_freq(o))
    }

    /// Reads term `ord`'s entry from the whole dictionary (`whole`) or from its part (`part`,
    /// with the ordinal within the part).
    fn read_dictionary<T>(
        &self,
        ord: u64,
        whole: impl Fn(&Index<D>, u64) -> Result<T>,
        part: impl Fn(&PartView<'_>, u64) -> Result<T>,
    ) -> Result<T> {
        match self.index.router() {
            None => whole(self.index, ord),
            Some(router) => {
                let i = router
                    .part_of_ord(ord)
                    .ok_or_else(|| Error::corrupt(format!("term ordinal {ord} out of range")))?;
                let entry = &router.parts()[i];
                let bytes = self.part(i)?.ok_or(Error::NotLoaded {
                    file: DataFile::Terms.name(),
                    start: entry.range.start,
                    end: entry.range.end,
                })?;
                part(
                    &PartView::open(&bytes, router.part_terms(i), false)?,
                    ord - entry.ord_base,
                )
            }
        }
    }

    fn load(&mut self, ord: u64) -> Result<Loaded> {
        if let Some(l) = self.cache.get(&ord) {
            return Ok(l.clone());
        }
        let info = self.term_info(ord)?;
        let list = self.index.postings_from(&info, self.src)?;
        let loaded = std::rc::Rc::new((info, list));
        self.cache.insert(ord, loaded.clone());
        Ok(loaded)
    }

    fn idf(&self, doc_freq: u32) -> f32 {
        let n = self.index.doc_count() as f32;
        let df = doc_freq as f32;
        libm::logf(1.0 + (n - df + 0.5) / (df + 0.5))
    }

    /// BM25F of one term in one document: `tfs` per set bit of `mask`, restricted to `allowed`.
    fn bm25f(&self, doc: u32, mask: u16, tfs: &[u32], allowed: u16) -> f32 {
        let s = self.index.scorer();
        s.saturate(s.tilde(|bit| self.index.field_len(doc, bit), mask, tfs, allowed))
    }

    fn score_term(
        &mut self,
        ord: u64,
        allowed: u16,
        weight: f32,
        filter: Option<&[u32]>,
    ) -> Result<Scored> {
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
        let idf = self.idf(info.doc_freq) * weight;
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
            out.push((doc, idf * self.bm25f(doc, mask, list.tfs_of(i), allowed)));
        }
        Ok(out)
    }

    /// Documents where the terms occur at their relative positions in one field.
    fn phrase(
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
            if common == 0 || !phrase_in_doc(&loaded, &idx, common) {
                continue;
            }
            let mut score = 0.0;
            for ((l, _, _), &i) in loaded.iter().zip(&idx) {
                score +=
                    self.idf(l.0.doc_freq) * self.bm25f(doc, l.1.masks[i], l.1.tfs_of(i), common);
            }
            out.push((doc, score));
        }
        Ok(out)
    }
}

/// The words one edit (a deletion, insertion, substitution or transposition of adjacent
/// characters) from `word`, never in its first character. Inserted and substituted characters
/// are `a`–`z` and the word's own.
fn one_edit_variants(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut alphabet: Vec<char> = ('a'..='z').chain(chars.iter().copied()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let mut out = Vec::new();
    let make = |v: &[char]| v.iter().collect::<String>();
    for i in 1..=chars.len() {
        if i < chars.len() {
            let mut v = chars.clone();
            v.remove(i);
            out.push(make(&v));
            if i + 1 < chars.len() && chars[i] != chars[i + 1] {
                let mut v = chars.clone();
                v.swap(i, i + 1);
                out.push(make(&v));
            }
        }
        for &c in &alphabet {
            let mut v = chars.clone();
            v.insert(i, c);
            out.push(make(&v));
            if i < chars.len() && chars[i] != c {
                let mut v = chars.clone();
                v[i] = c;
                out.push(make(&v));
            }
        }
    }
    out
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
    fn new(docs: Option<&'f [u32]>) -> Self {
        Filter { docs, at: 0 }
    }

    fn check(&mut self, doc: u32) -> Step {
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

/// Whether the phrase occurs in one of the `common` fields of the document at `idx`.
fn phrase_in_doc(loaded: &[(Loaded, PositionList, u32)], idx: &[usize], common: u16) -> bool {
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
                let want = p + entry.2;
                if positions(t, bit).binary_search(&want).is_err() {
                    continue 'starts;
                }
            }
            return true;
        }
    }
    false
}

/// Union of two lists; documents in both get `f` of their scores.
fn merge(a: &Scored, b: &Scored, f: impl Fn(f32, f32) -> f32) -> Scored {
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

/// Documents in both, scores summed.
fn intersect(a: &Scored, b: &Scored) -> Scored {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let mut j = 0;
    for &(doc, s) in a {
        // Gallop through the longer list.
        let mut step = 1;
        while j + step < b.len() && b[j + step].0 < doc {
            j += step;
            step *= 2;
        }
        while j < b.len() && b[j].0 < doc {
            j += 1;
        }
        if j < b.len() && b[j].0 == doc {
            out.push((doc, s + b[j].1));
        }
    }
    out
}

/// Documents of `a` not in `b`.
fn subtract(a: &Scored, b: &Scored) -> Scored {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|&(doc, _)| {
            while j < b.len() && b[j].0 < doc {
                j += 1;
            }
            !(j < b.len() && b[j].0 == doc)
        })
        .collect()
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
            prop_assert_eq!(docs(&intersect(&va, &vb)), a.intersection(&b).copied().collect::<Vec<_>>());
            prop_assert_eq!(docs(&subtract(&va, &vb)), a.difference(&b).copied().collect::<Vec<_>>());
            for (_, s) in intersect(&va, &vb) { prop_assert_eq!(s, 2.0); }
        }
    }
}
