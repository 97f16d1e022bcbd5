//! How is a query answered?
//!
//! 1. The query is parsed ([`crate::query`]) and each word analyzed like the documents were.
//! 2. Each word is expanded against the dictionary, locally and before any postings are read:
//!    its exact stem, then (for the word being typed or `word*`) dictionary terms it is a prefix
//!    of, then, only for a word the dictionary does not know, terms within a typo distance (1
//!    edit from 5 characters, 2 from 9, never in the first character). Exact matches weigh 1,
//!    prefix matches [`PREFIX_WEIGHT`] (from format 7 in the name fields, less elsewhere:
//!    [`PREFIX_ELSEWHERE`]), typo matches [`TYPO_WEIGHT`] per edit. A cut
//!    dictionary ([`crate::dict`]) is read part by part; parts the source lacks are listed in
//!    [`Prepared::dictionary_needs`] for the loader to fetch before preparing again.
//! 3. Postings are decoded per expanded term and scored with BM25F: per-field term frequencies,
//!    normalized by each field's length and weighted by the schema, summed, then saturated.
//!    A word's score in a document is its best expansion's.
//! 4. Clauses are ANDed, rarest first, later clauses scored only on the surviving documents (a
//!    word with no expansion at all is dropped); when no document matches them all, the query
//!    falls back to OR. Exclusions remove documents. Phrases check positions. A match whose
//!    every word is in a name field gains [`NAMES_BOOST`]; one whose every word matches as
//!    written, [`FORMS_BOOST`].
//! 5. The top `limit` documents (score descending, then document id) get their `id`, `title`
//!    and `url` from the hit-display store.

use std::cell::RefCell;

use crate::error::{Error, Result};
use std::ops::Range;

use crate::index::Index;
use crate::postings::PostingList;
use crate::source::{DataFile, DataSource};
use crate::terminfo::TermInfo;

mod answer;
mod best;
mod cursor;
mod exhaustive;
mod expand;
mod long;
mod needs;
mod plan;
mod quick;
mod refine;
mod sets;
mod snippet;
mod topk;

pub use plan::Cost;
pub(crate) use plan::QueryState;
pub use refine::{FacetCounts, Refine, Sort, MAX_OFFSET};
pub(crate) use snippet::MAX_SNIPPET_CHARS;
pub use snippet::{highlight_html, highlight_text, Snippet, DEFAULT_SNIPPET_CHARS};
pub use topk::RankStats;

/// Postings a pruned ranking matches and ranks at once, about: a query whose terms hold more
/// reads the documents in windows of ids that hold this many on average (8 bytes and a bound
/// each while the window is ranked), never a common word's whole list.
pub const WINDOW_POSTINGS: usize = 4096;

/// Weight of a prefix match relative to an exact one.
pub const PREFIX_WEIGHT: f32 = 0.7;
/// A prefix completion matched outside the name fields (the indexed fields of the largest
/// weight, when some field weighs less) counts this share of what it counts in them: a word
/// being typed most likely names a title (`multi` → the *multiprocessing* page, not a page
/// whose body says "multiline" once). So does the exact term of a lone word being typed when
/// some of its completions are in a name field (`rand` finds the *random* page before the one
/// that says `ssl.RAND_add`).
pub const PREFIX_ELSEWHERE: f32 = 0.3;
/// Set in an [`Expansion`]'s ordinal: the term is read through its name-field postings only
/// ([`crate::terminfo::TermInfo::names_postings`], format 7): a much-used completion of a word
/// being typed counts where it names a document, without decoding its long list (its other
/// matches would count [`PREFIX_ELSEWHERE`] only).
pub(crate) const NAMES_VIEW: u64 = 1 << 62;
/// A prefix completion's IDF is at least this share of a one-document term's: the name a
/// prefix was typed for may be a common word of the corpus (`multiprocessing` in the Python
/// docs), which plain IDF would rank below every rare completion.
pub const PREFIX_IDF_FLOOR: f32 = 0.3;
/// Weight of a match on the stem alone when the index also holds the word as written
/// ([`crate::analysis::AnalyzerConfig::surface_forms`]) and the query word differs from its
/// stem, in a query of fewer than [`long::LONG_QUERY_CLAUSES`] words: a typed word means its form
/// (`gets executed` is not `executing`), as much as a one-edit correction would.
pub const STEM_WEIGHT: f32 = 0.5;
/// The same in a long query, where a question's wording differs from its answer's more.
pub const LONG_STEM_WEIGHT: f32 = 0.8;
/// A match of a short query of two or more words where each matches in a name field (format 7)
/// scores this many times its sum (`logging howto`: *Logging HOWTO* before *Python HOWTOs*,
/// whose body lists the other titles). Not for long queries, nor through a phrase.
pub const NAMES_BOOST: f32 = 1.1;
/// A match of a short query of two or more words where each word matches as written (not only
/// through a stem it shares with other words, a correction or a completion) scores this many
/// times its sum: `interfacing stdin` finds the one description that says both before the titles
/// that say *stdin* and whose bodies say *interface*. Not for long queries, nor through a phrase.
pub const FORMS_BOOST: f32 = 1.5;
/// Weight of a match per typo: one edit ×0.5, two ×0.25.
pub const TYPO_WEIGHT: f32 = 0.5;
/// An exact word in at most this many documents still gets typo corrections (beside its own
/// matches, which weigh more): a slip may be some document's rare word.
pub const RARE_EXACT_DF: u32 = 2;
/// The longest word (in characters) whose one-edit variants are stemmed and looked up when no
/// term is within its typo distance (about 55 lookups per character).
pub const MAX_VARIANT_CHARS: usize = 24;
/// Most dictionary parts a word's possible corrections may add to the round that brings the
/// word's own part (`Searcher::want_parts`).
pub const SPECULATIVE_PARTS: usize = 3;

/// The most hits one search returns, whatever `limit` asks for.
pub const MAX_LIMIT: usize = 10_000;

/// The cost model of one search: every kind of work a query can multiply has a budget. Over a
/// budget a query degrades instead of failing: it drops its least useful parts (words past
/// `max_words`, the weakest expansions past `max_data_bytes`, completions of a prefix with too
/// many, typo corrections past the step or lookup budgets, phrase checks past
/// `max_phrase_checks`) and says so ([`SearchResults::truncated`]). Only a damaged index or a
/// stored chunk over `max_chunk_bytes` is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchLimits {
    /// Dictionary terms a word may expand to (prefix and typo matches together); the best are
    /// kept (by weight, then the rarest).
    pub max_expansions: usize,
    /// Steps a typo automaton may take over the dictionary, per word.
    pub max_automaton_steps: u64,
    /// Steps every typo automaton of one query may take together.
    pub max_query_automaton_steps: u64,
    /// Prefix completions examined per word (past it, the prefix is not completed).
    pub max_prefix_candidates: usize,
    /// Bytes of query text read (the rest is ignored).
    pub max_query_bytes: usize,
    /// Words of one query, every `OR` alternative and phrase word counted.
    pub max_words: usize,
    /// Dictionary look-ups of one-edit variants of misspelled words, per query.
    pub max_variant_lookups: usize,
    /// Bytes of postings and positions one query may read.
    pub max_data_bytes: u64,
    /// Position look-ups phrase matching may make, per query.
    pub max_phrase_checks: u64,
    /// Bytes a stored-field chunk may decompress to.
    pub max_chunk_bytes: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            max_expansions: 64,
            max_automaton_steps: 2_000_000,
            max_query_automaton_steps: 4_000_000,
            max_prefix_candidates: 100_000,
            max_query_bytes: 4096,
            max_words: 64,
            max_variant_lookups: 8_000,
            max_data_bytes: 32 << 20,
            max_phrase_checks: 4_000_000,
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
    /// Give each hit a snippet of its body this many characters long, with highlights
    /// (`None`, the default: no snippets, and no store reads).
    pub snippets: Option<usize>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 10,
            prefix: true,
            typos: true,
            any: false,
            snippets: None,
        }
    }
}

/// One result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The document's `id`.
    pub id: String,
    /// Its `title` (empty if it has none).
    pub title: String,
    /// Its `url` (empty if it has none).
    pub url: String,
    /// Its score; higher is better.
    pub score: f32,
    /// The best passage of its body, when snippets were asked for ([`SearchOptions::snippets`])
    /// and it has body text.
    pub snippet: Option<String>,
    /// What the query matched in `snippet`: `[start, end)` in UTF-16 code units (see
    /// [`Snippet`]).
    pub highlights: Option<Vec<[u32; 2]>>,
    /// Its values of the facet fields counted ([`Refine::facets`]): `{field: [values]}`.
    pub facets: Option<HitFacets>,
}

/// The answer to a query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchResults {
    /// Documents that matched.
    pub total: usize,
    /// The best of them, best first.
    pub hits: Vec<Hit>,
    /// Whether the query went over a budget of [`SearchLimits`] and was answered without some
    /// of its parts (absent from JSON when false).
    pub truncated: bool,
    /// Facet counts over every matching document, when facets were asked for ([`Refine`]):
    /// `{field: {value: count}}` (absent from JSON when empty).
    pub facets: FacetCounts,
}

/// What a query reads of paged field norms ([`Searcher::norm_needs`]): ranges of the norms
/// pack, and the documents that may be scored when they are few.
pub type NormNeeds = (Vec<(DataFile, Range<u64>)>, Option<Vec<u32>>);

/// A scored document list, ascending by document.
type Scored = Vec<(u32, f32)>;

/// What ranking found: the number of matches, the best (document, score) pairs, best first,
/// and every match (ascending) when it was asked to keep them (for facet counts).
type Ranked = (usize, Vec<(u32, f32)>, Vec<u32>);

/// One hit's values of the facet fields counted.
pub type HitFacets = std::collections::BTreeMap<String, Vec<String>>;

/// One expansion of a word.
#[derive(Clone, Debug)]
struct Expansion {
    ord: u64,
    weight: f32,
    doc_freq: u32,
    /// Documents holding the term in a name field (a completion's, format 7; else 0).
    names: u32,
    /// A prefix completion (or the exact term of a lone word being typed whose completions
    /// name documents): scored at full weight in the name fields, at [`PREFIX_ELSEWHERE`] of
    /// it in the others.
    completion: bool,
    /// The word as written (or its stem where the two are one): not a stem it only shares with
    /// other words, a correction or a completion ([`FORMS_BOOST`]).
    form: bool,
}

/// Which boosts a query's matches may get (both ranking paths ask [`Searcher::boosts`]): the
/// product of [`NAMES_BOOST`] when every clause matches in a name field and [`FORMS_BOOST`] when
/// every clause matches as written.
#[derive(Clone, Copy, Debug, Default)]
struct Boosts {
    names: bool,
    forms: bool,
}

impl Boosts {
    fn any(self) -> bool {
        self.names || self.forms
    }

    /// The factor of a match that is `named` and `formed` (computed alike on both paths).
    fn factor(self, named: bool, formed: bool) -> f32 {
        let mut f = 1.0f32;
        if self.names && named {
            f *= NAMES_BOOST;
        }
        if self.forms && formed {
            f *= FORMS_BOOST;
        }
        f
    }
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
    /// The query's own filters (`field:value` clauses on facet fields).
    filter: Option<crate::facets::Filter>,
    /// Whether a clause of text other than `field:value` on facet fields must match (when none
    /// and no word is left, the filters alone select the documents).
    has_text: bool,
    /// A long query ([`long`]): ranked as OR.
    long: bool,
}

impl Prepared {
    /// The dictionary parts it lacked, by index in the router.
    pub fn missing_parts(&self) -> impl Iterator<Item = usize> + '_ {
        self.missing.iter().map(|(i, _)| *i)
    }

    /// The dictionary parts it lacked: when not empty, load them and prepare again (the words
    /// that needed them were resolved as if absent). Typo expansion waits for the parts of a
    /// word's exact and prefix lookups; the parts it would walk are asked for with them when
    /// they are few ([`SPECULATIVE_PARTS`]), else a word may take two rounds.
    pub fn dictionary_needs(&self) -> impl Iterator<Item = (DataFile, Range<u64>)> + '_ {
        self.missing
            .iter()
            .map(|(_, r)| (DataFile::Terms, r.clone()))
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

/// Searches one index.
pub struct Searcher<'a, D> {
    index: &'a Index<D>,
    src: &'a dyn DataSource,
    limits: SearchLimits,
    cache: quick::Map<u64, Loaded>,
    /// Score every match instead of pruning (see [`Searcher::exhaustive`]).
    exhaustive: bool,
    /// What ranking the last query took.
    stats: RankStats,
    /// Document ids ranking reads at once, when set ([`Searcher::window`]).
    window: Option<u32>,
    /// What the query has resolved so far.
    state: RefCell<QueryState>,
    /// The name fields (bits of indexed fields): those of the largest weight when some
    /// indexed field weighs less, else none; none before format 7 (scored as before).
    names: u16,
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
            cache: quick::Map::default(),
            exhaustive: false,
            stats: RankStats::default(),
            window: None,
            state: RefCell::new(state),
            names: if index.has_names() {
                index.scorer().name_fields()
            } else {
                0
            },
        }
    }

    /// The query's state, for the next step of a lazy query.
    pub(crate) fn into_state(self) -> QueryState {
        self.state.into_inner()
    }

    /// Scores every match (whole postings lists, merged clause by clause) instead of ranking
    /// with block-max pruning (`search::topk`). The results are the same (the tests compare the
    /// two); this is the reference the pruned path is checked and benchmarked against.
    pub fn exhaustive(mut self, yes: bool) -> Self {
        self.exhaustive = yes;
        self
    }

    /// Ranks `docs` document ids at a time (at least 1) instead of windows sized by
    /// [`WINDOW_POSTINGS`]. The results do not depend on it (the tests rank with many sizes);
    /// this is for them and for benchmarks.
    #[doc(hidden)]
    pub fn window(mut self, docs: u32) -> Self {
        self.window = Some(docs);
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
        let mut hits = self.hits(&top)?;
        if let Some(chars) = opts.snippets {
            self.add_snippets(&prepared, &top, &mut hits, chars)?;
        }
        Ok(SearchResults {
            total,
            hits,
            truncated: self.truncated(),
            facets: self.facet_counts(),
        })
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
        self.state.borrow_mut().phrase_checks = 0;
        // A limit is clamped: never more hits than documents, nor than MAX_LIMIT.
        let limit = opts
            .limit
            .min(MAX_LIMIT)
            .min(self.index.doc_count() as usize);
        let refine = self.state.borrow().refine.clone();
        let filter = self.filter_docs(prepared)?;
        let by_field = self.sort_field(refine.sort.as_ref())?;
        let offset = refine.offset.min(MAX_OFFSET);
        // Every match is scored for a sort by field; by score, the best offset + limit.
        let k = match by_field {
            Some(_) => usize::MAX,
            None => offset.saturating_add(limit),
        };
        let opts = &SearchOptions { limit: k, ..*opts };
        let keep = !refine.facets.is_empty();
        let f = filter.as_deref();
        let r = match self.exhaustive || by_field.is_some() {
            false => self.top_k(prepared, opts.any, k, f, keep),
            true => self.exhaustive_top(prepared, opts, f),
        };
        self.cache.clear();
        let (total, mut top, matched) = r?;
        // Counted when the hits are made (a split index fetches the column blocks between).
        self.state.borrow_mut().matched = matched;
        if let Some((field, desc)) = by_field {
            self.sort_by_field(&mut top, field, desc)?;
        }
        Ok((total, refine::page(top, refine.offset, limit)))
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

    /// Whether the query went over a budget (and was answered without some of its parts).
    pub fn truncated(&self) -> bool {
        self.state.borrow().truncated
    }

    /// What the last query spent, against its [`SearchLimits`].
    pub fn cost(&self) -> Cost {
        self.state.borrow().cost()
    }

    /// Records that the query dropped a part to stay within its budget.
    fn truncate(&self) {
        self.state.borrow_mut().truncated = true;
    }

    /// The hits for `top`, with their `id`, `title` and `url`.
    pub fn hits(&self, top: &[(u32, f32)]) -> Result<Vec<Hit>> {
        let docs: Vec<u32> = top.iter().map(|t| t.0).collect();
        let fields = self
            .index
            .hit_fields_from(&docs, self.limits.max_chunk_bytes, self.src)?;
        let mut facets = self.hit_facets(&docs)?.into_iter();
        self.count_facets()?;
        Ok(top
            .iter()
            .zip(fields)
            .map(|(&(_, score), [id, title, url])| Hit {
                id,
                title,
                url,
                score,
                snippet: None,
                highlights: None,
                facets: facets.next().flatten(),
            })
            .collect())
    }

    /// Gives `hits` (made from `top`) their snippets and highlights (see
    /// [`Searcher::snippets`]).
    pub fn add_snippets(
        &self,
        prepared: &Prepared,
        top: &[(u32, f32)],
        hits: &mut [Hit],
        chars: usize,
    ) -> Result<()> {
        for (hit, s) in hits.iter_mut().zip(self.snippets(prepared, top, chars)?) {
            if let Some(s) = s {
                hit.snippet = Some(s.text);
                hit.highlights = Some(s.highlights);
            }
        }
        Ok(())
    }

    fn idf(&self, doc_freq: u32) -> f32 {
        let n = self.index.doc_count() as f32;
        let df = doc_freq as f32;
        libm::logf(1.0 + (n - df + 0.5) / (df + 0.5))
    }

    /// BM25F of one term in one document: `tfs` per set bit of `mask`, restricted to `allowed`.
    /// The document's field lengths come from the index or, when they are paged, the source
    /// (`Err(NotLoaded)` when it lacks them: [`Searcher::norm_needs`] says which to bring).
    fn bm25f(&self, doc: u32, mask: u16, tfs: &[u32], allowed: u16) -> Result<f32> {
        let s = self.index.scorer();
        let codes = self.index.norms_from(doc, self.src)?;
        let len = |bit| Index::<D>::field_len(&codes, bit);
        Ok(s.saturate(s.tilde(len, mask, tfs, allowed)))
    }

    /// [`Searcher::bm25f`] of one expansion: a completion's score where it is in a name
    /// field, [`PREFIX_ELSEWHERE`] of it where it is not (never more than `bm25f` over
    /// `allowed`, so ranking bounds hold).
    fn expansion_bm25f(
        &self,
        doc: u32,
        mask: u16,
        tfs: &[u32],
        allowed: u16,
        completion: bool,
    ) -> Result<f32> {
        let all = self.bm25f(doc, mask, tfs, allowed)?;
        let named = allowed & self.names;
        if !completion || named == 0 || mask & named != 0 {
            return Ok(all);
        }
        Ok(PREFIX_ELSEWHERE * all)
    }
}

/// Whether a query of `clauses` words is matched with AND first (then OR when nothing matches
/// every word): not with `any`, not for one word, not for a long query ([`long`]: as asked,
/// before function words and words the dictionary lacks were dropped). Both ranking paths ask.
pub(crate) fn and_first(any: bool, clauses: usize, long: bool) -> bool {
    // `long` counts the query's own words; the planned clauses may be more (a dotted name's
    // components), which keeps a short query short.
    !any && !long && clauses >= 2
}
