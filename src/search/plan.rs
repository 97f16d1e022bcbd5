//! How is a query resolved against the dictionary? Parsing and analysis (once per query),
//! point lookups, prefix completions and typo expansion over a whole or cut dictionary, and
//! where each kept term's data is.

use std::collections::HashMap;
use std::sync::Arc;

use fst::{IntoStreamer, Streamer};

use super::{Expansion, Planned, Prepared, SearchOptions, Searcher, PREFIX_WEIGHT};
use super::{MAX_VARIANT_CHARS, RARE_EXACT_DF, STEM_WEIGHT, TYPO_WEIGHT};
use crate::dict::{prefix_end, PartView};
use crate::error::{Error, Result};
use crate::fuzzy::{osa_distance, Levenshtein};
use crate::index::Index;
use crate::query::{parse, Item, Occur};
use crate::source::DataFile;
use crate::terminfo::TermInfo;

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
    pub(super) infos: HashMap<u64, TermInfo>,
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

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
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
        // The document frequency of the rarest exact term (a rare exact word may be a slip).
        let mut exact_df = u32::MAX;
        // Some part a lookup needed is not loaded: typos wait for the next round.
        let mut unsure = false;
        let mut keys = vec![stem];
        if stem != folded {
            keys.push(folded);
        }
        // The stem's own term: an exact match, never a prefix completion.
        let mut stem_ord = None;
        // With surface forms indexed, the word as written is matched in full and a stem it
        // only shares with other words weighs less.
        let surface_forms = analyzer.config().surface_forms;
        for key in keys {
            match self.lookup(key.as_bytes())? {
                Lookup::Found(ord) => {
                    let stem_only = surface_forms && key == stem && stem != folded;
                    add(ord, if stem_only { STEM_WEIGHT } else { 1.0 });
                    exact = true;
                    exact_df = exact_df.min(self.read_doc_freq(ord)?);
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
        }
        // Typos are corrected for words the dictionary does not know as a whole word (nor,
        // for the word being typed, as the start of one) or knows only as a very rare term
        // (a slip that happens to be some document's word), never in the first character.
        // (Corrections beside the completions of a word being typed were measured: +0.3 point
        // on typo queries, a loss on prefix queries, and noise on short prefixes.)
        let chars = folded.chars().count();
        let mut typo_count = 0usize;
        let rare_exact = exact && exact_df <= RARE_EXACT_DF;
        if typos && chars >= 5 && (!exact || rare_exact) && !completions && !unsure {
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
            let mut corrected: Vec<(Vec<u8>, f32)> = Vec::new();
            for (target, as_prefix) in targets {
                let Some(aut) =
                    Levenshtein::new(target, max, as_prefix, self.limits.max_automaton_steps)
                else {
                    continue;
                };
                let aut = aut.first_char_fixed();
                let walked = self.each_part(first.as_bytes(), hi.as_deref(), |base, part| {
                    let mut stream = part.map.search_with_state(&aut).into_stream();
                    while let Some((key, ord, state)) = stream.next() {
                        let d = aut.distance(&state);
                        if d > 0 {
                            // A term only whose start is within reach (the word being typed)
                            // is a weaker guess than a whole word within reach.
                            let mut w = TYPO_WEIGHT.powi(d as i32);
                            if as_prefix {
                                // Unless the whole term is within reach too (`strrongs` →
                                // `strongs`, not only `strongswan`).
                                // (Lengths further apart than the distance are not.)
                                let target_chars = target.chars().count();
                                let whole = match std::str::from_utf8(key) {
                                    Ok(k)
                                        if k.chars().count().abs_diff(target_chars)
                                            <= max as usize =>
                                    {
                                        osa_distance(target, k)
                                    }
                                    _ => usize::MAX,
                                };
                                w = if whole <= max as usize {
                                    TYPO_WEIGHT.powi(whole as i32)
                                } else {
                                    w * PREFIX_WEIGHT
                                };
                            }
                            add(base + ord, w);
                            typo_count += 1;
                            if surface_forms && !as_prefix {
                                corrected.push((key.to_vec(), w));
                            }
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
            // A correction that is a word as written also brings its stem (the documents
            // with the word's other forms), weighted as a stem-only match of it.
            for (key, w) in corrected {
                let Ok(word) = std::str::from_utf8(&key) else {
                    continue;
                };
                let stem = analyzer.stem(word);
                if stem != word {
                    match self.lookup(stem.as_bytes())? {
                        Lookup::Found(ord) => add(ord, w * STEM_WEIGHT),
                        Lookup::NotLoaded => unsure = true,
                        Lookup::Absent => {}
                    }
                }
            }
            // The dictionary holds stems, and a typo can change how a word stems ("pmbble"
            // keeps its "e", "pebble" → "pebbl"): when nothing is within reach of the word or
            // its stem, the stems of the words one edit from the typed word are looked up.
            if typo_count == 0 && chars <= MAX_VARIANT_CHARS {
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
        // Stems are cut-down words: when nothing starts with the word being typed and no
        // correction is within reach, a stem that it extends by at most three characters is
        // what the finished word will most likely stem to ("runnin" → "run").
        if prefix && !completions && !exact && !unsure && typo_count == 0 {
            let min_len = folded.len().saturating_sub(3).max(3);
            for end in (min_len..folded.len()).rev() {
                if !folded.is_char_boundary(end) {
                    continue;
                }
                match self.lookup(&folded.as_bytes()[..end])? {
                    Lookup::Found(ord) => add(ord, PREFIX_WEIGHT),
                    Lookup::NotLoaded => unsure = true,
                    Lookup::Absent => {}
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
    pub(super) fn term_info(&self, ord: u64) -> Result<TermInfo> {
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
