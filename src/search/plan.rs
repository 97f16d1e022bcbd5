//! How is a query resolved against the dictionary? Parsing and analysis (once per query),
//! point lookups, prefix completions and typo expansion over a whole or cut dictionary, and
//! where each kept term's data is.

use std::sync::Arc;

use super::quick::Map;
use super::{Expansion, Planned, Prepared, SearchOptions, Searcher, NAMES_VIEW};
use crate::dict::PartView;
use crate::error::{Error, Result};
use crate::index::Index;
use crate::query::{parse, Item, Occur};
use crate::source::DataFile;
use crate::terminfo::TermInfo;

/// The bytes of a dictionary part, checked, shared by the lookups of one search.
type PartBytes = Arc<[u8]>;

/// One query word as analyzed: folded, stemmed, at its position.
#[derive(Clone, Debug)]
pub(super) struct Word {
    pub(super) folded: String,
    stem: String,
    position: u32,
}

/// One query item as analyzed.
#[derive(Clone, Debug)]
pub(super) struct AnalyzedItem {
    pub(super) words: Vec<Word>,
    pub(super) phrase: bool,
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
    lookups: Map<Vec<u8>, Option<u64>>,
    /// Expansions of (folded word, prefix, typos) computed with every part they needed.
    expanded: Map<(String, bool, bool), Vec<Expansion>>,
    pub(super) infos: Map<u64, TermInfo>,
    pub(super) parts: Map<usize, PartBytes>,
    /// Dictionary parts the source lacked in the current round.
    pub(super) missing: Vec<usize>,
    /// The analysis dropped text or words over their budgets.
    analysis_truncated: bool,
    /// A long query (see [`super::long`]).
    pub(super) long: bool,
    /// This query dropped a part to stay within a budget.
    pub(super) truncated: bool,
    /// Typo automaton steps and variant look-ups spent in the current resolution pass.
    pub(super) steps: u64,
    pub(super) variant_lookups: usize,
    /// Position look-ups phrase matching made.
    pub(super) phrase_checks: u64,
    /// Words analyzed, and bytes of postings and positions planned.
    pub(super) words: usize,
    data_bytes: u64,
    /// Filters written in the query (`field:value` on facet fields), one per clause.
    filters: Vec<crate::facets::Filter>,
    /// Whether the query has a text clause that must match, other than `field:value` on facet
    /// fields (without one, a query whose words all dropped selects its filters' documents).
    has_text: bool,
    /// Filters, facets, sort and offset asked for beside the query text.
    pub(super) refine: super::Refine,
    /// Facet counts of the last execution.
    pub(super) facet_counts: super::FacetCounts,
    /// The last execution's matches, ascending, kept until facets are counted over them.
    pub(super) matched: Vec<u32>,
}

/// What one query spent, against [`super::SearchLimits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Words analyzed (`max_words`).
    pub words: usize,
    /// Bytes of postings and positions planned (`max_data_bytes`).
    pub data_bytes: u64,
    /// Typo automaton steps in the last resolution pass (`max_query_automaton_steps`).
    pub automaton_steps: u64,
    /// Look-ups of one-edit variants in the last resolution pass (`max_variant_lookups`).
    pub variant_lookups: usize,
    /// Position look-ups of phrase matching (`max_phrase_checks`).
    pub phrase_checks: u64,
}

impl QueryState {
    /// What the query spent so far.
    pub(super) fn cost(&self) -> Cost {
        Cost {
            words: self.words,
            data_bytes: self.data_bytes,
            automaton_steps: self.steps,
            variant_lookups: self.variant_lookups,
            phrase_checks: self.phrase_checks,
        }
    }

    /// Sets the filters, facets, sort and page (kept when the query text changes).
    pub(crate) fn set_refine(&mut self, refine: super::Refine) {
        self.refine = refine.normalized();
    }

    /// A fresh state: one per query (counted).
    pub(crate) fn new() -> Self {
        crate::counters::bump(|c| c.searchers += 1);
        QueryState::default()
    }
}

/// A point lookup in the dictionary.
pub(super) enum Lookup {
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
            let (mut clauses, analysis_truncated, filters, has_text) =
                self.analyze(query, opts.prefix);
            let config = self.index.analyzer().config();
            let long = super::long::drop_function_words(&config, &mut clauses);
            let words = clauses
                .iter()
                .flat_map(|c| &c.1)
                .map(|i| i.words.len())
                .sum();
            let mut state = self.state.borrow_mut();
            let refine = std::mem::take(&mut state.refine);
            // What an earlier query of this searcher read is not this one's.
            *state = QueryState {
                key: Some(key),
                clauses,
                analysis_truncated,
                long,
                words,
                filters,
                has_text,
                refine,
                ..QueryState::default()
            };
        }
        {
            // Budgets are per resolution pass (a lazy query may take a few).
            let mut state = self.state.borrow_mut();
            state.missing.clear();
            state.truncated = state.analysis_truncated;
            state.steps = 0;
            state.variant_lookups = 0;
        }
        let clauses = std::mem::take(&mut self.state.borrow_mut().clauses);
        let planned = self.plan_clauses(&clauses, opts);
        self.state.borrow_mut().clauses = clauses;
        let mut prepared = planned?;
        {
            let state = self.state.borrow();
            prepared.has_text = state.has_text;
            prepared.long = state.long;
            prepared.filter = match state.filters.len() {
                0 => None,
                1 => Some(state.filters[0].clone()),
                _ => Some(crate::facets::Filter::All(state.filters.clone())),
            };
        }
        self.keep_within_data_budget(&mut prepared)?;
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
        Ok(prepared)
    }

    /// Parses and analyzes a query (once per query: counted), within the text and word
    /// budgets: text past `max_query_bytes` is ignored, and so are words past `max_words`
    /// (`OR` alternatives and phrase words counted).
    #[allow(clippy::type_complexity)]
    fn analyze(
        &self,
        query: &str,
        prefix: bool,
    ) -> (
        Vec<(Occur, Vec<AnalyzedItem>)>,
        bool,
        Vec<crate::facets::Filter>,
        bool,
    ) {
        crate::counters::bump(|c| c.parses += 1);
        let analyzer = self.index.analyzer();
        let mut cut = query.len().min(self.limits.max_query_bytes);
        while !query.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut truncated = cut < query.len();
        let mut budget = self.limits.max_words;
        let mut clauses = Vec::new();
        let mut filters = Vec::new();
        let mut has_text = false;
        let facets = self.index.facets().ok().flatten();
        // The query's filters together (an `AND` of them) within one filter's node budget: a
        // clause past it is dropped, and the answer marked truncated, not refused.
        let mut filter_nodes = 1;
        for clause in parse(&query[..cut], prefix && cut == query.len()).clauses {
            if let Some(f) = facets.as_ref().and_then(|f| self.facet_clause(f, &clause)) {
                if filter_nodes + f.nodes() > crate::facets::MAX_FILTER_NODES {
                    truncated = true;
                    continue;
                }
                filter_nodes += f.nodes();
                filters.push(f);
                // A facet field that is also indexed (`tags`) still scores its words; one
                // that is not is only a filter.
                if clause.items.iter().any(|i| self.field_mask(i).is_none()) {
                    continue;
                }
            } else {
                has_text |= clause.occur == Occur::Must;
            }
            let mut items = Vec::new();
            let with_synonyms = self.with_synonyms(&clause.items);
            for item in &with_synonyms {
                let mut words = Vec::new();
                let word = |words: &mut Vec<Word>, t: crate::analysis::Token<'_>| {
                    words.push(Word {
                        stem: analyzer.stem(t.term).into_owned(),
                        folded: t.term.to_string(),
                        position: t.position,
                    })
                };
                analyzer.analyze_folded(&item.text, |t| word(&mut words, t));
                if words.is_empty() && item.prefix && !item.phrase {
                    // A stop word may be dropped as a whole word, but a prefix still
                    // completes (`in*`, or `in` being typed).
                    analyzer.analyze_folded_with_stop_words(&item.text, |t| word(&mut words, t));
                }
                if words.len() > budget {
                    words.truncate(budget);
                    truncated = true;
                }
                budget -= words.len();
                items.push(AnalyzedItem {
                    words,
                    phrase: item.phrase,
                    prefix: item.prefix,
                    // An unknown or unindexed field (`http://…`, a typo): its text is searched
                    // in every field.
                    mask: self.field_mask(item).unwrap_or(u16::MAX),
                });
                if budget == 0 {
                    break;
                }
            }
            truncated |= items.len() < with_synonyms.len();
            clauses.push((clause.occur, items));
            if budget == 0 {
                break;
            }
        }
        (clauses, truncated, filters, has_text)
    }

    /// A clause's items, each followed by its synonyms (the other words of its groups in the
    /// index's synonym table) as alternatives in the same field.
    fn with_synonyms(&self, items: &[Item]) -> Vec<Item> {
        let synonyms = self.index.synonyms();
        if synonyms.is_empty() {
            return items.to_vec();
        }
        let analyzer = self.index.analyzer();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(item.clone());
            let key = analyzer.synonym_key(&item.text);
            for w in synonyms.of(&key) {
                out.push(Item {
                    field: item.field.clone(),
                    text: w.to_string(),
                    phrase: item.phrase,
                    prefix: false,
                });
            }
        }
        out
    }

    /// The filter a clause is, when every item of it names a facet field (`tags:games`,
    /// `tags:devel::lang:*`): a value that exists is matched exactly, else a prefix item (`*`,
    /// or the word being typed) matches the values it starts.
    fn facet_clause(
        &self,
        facets: &crate::facets::Facets<'_>,
        clause: &crate::query::Clause,
    ) -> Option<crate::facets::Filter> {
        use crate::facets::Filter;
        let schema = self.index.schema();
        let mut any = Vec::new();
        for item in &clause.items {
            let name = item.field.as_ref()?;
            let field = facets.field(schema.field(name)?)?;
            any.push(match item.prefix && field.ordinal(&item.text).is_none() {
                true => Filter::Prefix {
                    field: name.clone(),
                    prefix: item.text.clone(),
                },
                false => Filter::Is {
                    field: name.clone(),
                    value: item.text.clone(),
                },
            });
        }
        let one = match any.len() {
            1 => any.pop()?,
            _ => Filter::Any(any),
        };
        Some(match clause.occur {
            Occur::Must => one,
            Occur::MustNot => Filter::Not(Box::new(one)),
        })
    }

    /// Drops the weakest expansions (lowest weight, then the largest data) until the postings
    /// and positions the query reads fit in `max_data_bytes`; phrases over it on their own are
    /// dropped too.
    fn keep_within_data_budget(&self, prepared: &mut Prepared) -> Result<()> {
        let limit = self.limits.max_data_bytes;
        let mut sizes: Vec<(f32, u64, usize, usize, usize)> = Vec::new();
        let mut total = 0u64;
        for (c, clause) in prepared.must.iter().chain(&prepared.must_not).enumerate() {
            for (a, alt) in clause.iter().enumerate() {
                match alt {
                    Planned::Word { expansions, .. } => {
                        for (e, x) in expansions.iter().enumerate() {
                            let info = self.term_info(x.ord)?;
                            let bytes = info.postings.end - info.postings.start;
                            total += bytes;
                            sizes.push((x.weight, bytes, c, a, e));
                        }
                    }
                    Planned::Phrase { terms, .. } => {
                        let mut bytes = 0;
                        for ord in terms.iter().filter_map(|t| t.0) {
                            let info = self.term_info(ord)?;
                            bytes += info.postings.end - info.postings.start;
                            bytes += info.positions.end - info.positions.start;
                        }
                        total += bytes;
                        sizes.push((0.0, bytes, c, a, usize::MAX));
                    }
                }
            }
        }
        self.state.borrow_mut().data_bytes = total;
        if total <= limit {
            return Ok(());
        }
        self.truncate();
        sizes.sort_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)));
        let mut drop: Vec<(usize, usize, usize)> = Vec::new();
        for (_, bytes, c, a, e) in sizes {
            if total <= limit {
                break;
            }
            total -= bytes;
            drop.push((c, a, e));
        }
        self.state.borrow_mut().data_bytes = total;
        // Remove from the back so indexes stay valid.
        drop.sort_unstable_by(|x, y| y.cmp(x));
        let must = prepared.must.len();
        for (c, a, e) in drop {
            let clause = match c < must {
                true => &mut prepared.must[c],
                false => &mut prepared.must_not[c - must],
            };
            match &mut clause[a] {
                Planned::Word { expansions, .. } if e != usize::MAX => {
                    expansions.remove(e);
                }
                _ => {
                    clause.remove(a);
                }
            }
        }
        for list in [&mut prepared.must, &mut prepared.must_not] {
            for clause in list.iter_mut() {
                clause.retain(
                    |p| !matches!(p, Planned::Word { expansions, .. } if expansions.is_empty()),
                );
            }
            list.retain(|c| !c.is_empty());
        }
        Ok(())
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
            // A dotted name (`json.JSONDecoder.raw_decode`): its components are searched as
            // words of their own, each required, since the page that defines it may say
            // `raw_decode` under `class json.JSONDecoder`; the name written whole, where it is
            // (its identifier parts are indexed, so those documents hold every component),
            // adds to the last component's score and ranks first. A `field:value` is split
            // only when nothing holds it whole (a facet value such as `devel::lang:python`).
            let unfielded = items.iter().all(|i| i.mask == u16::MAX);
            if *occur == Occur::Must && (unfielded || alternatives.is_empty()) {
                let mut parts = Vec::new();
                for part in self.components(items) {
                    if let Some(p) = self.plan(&part, opts)? {
                        parts.push(vec![p]);
                    }
                }
                if let Some(last) = parts.last_mut() {
                    last.append(&mut alternatives);
                    prepared.must.append(&mut parts);
                    continue;
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

    /// The components of a clause that is one name joined by `.` or `:` (`a.b.c` → `a`, `b`,
    /// `c`), each an item of its own (the last one still a prefix when the word was); none for
    /// any other clause.
    fn components(&self, items: &[AnalyzedItem]) -> Vec<AnalyzedItem> {
        let [item] = items else {
            return Vec::new();
        };
        // One word, or the words a name was cut into where a digit meets a dot
        // (`imaplib.IMAP4.utf8_enabled` → `imaplib.imap4`, `utf8_enabled`).
        let words = &item.words[..];
        if item.phrase || !words.iter().any(|w| w.folded.contains(['.', ':'])) {
            return Vec::new();
        }
        let Some(word) = words.first() else {
            return Vec::new();
        };
        let analyzer = self.index.analyzer();
        let mut parts: Vec<&str> = words
            .iter()
            .flat_map(|w| w.folded.split(['.', ':']))
            .filter(|p| p.chars().any(char::is_alphanumeric))
            .collect();
        // Within the word budget (the word itself was counted once).
        if parts.len() > self.limits.max_words {
            parts.truncate(self.limits.max_words);
            self.truncate();
        }
        let last = parts.len().saturating_sub(1);
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| AnalyzedItem {
                words: vec![Word {
                    folded: p.to_string(),
                    stem: analyzer.stem(p).into_owned(),
                    position: word.position,
                }],
                phrase: false,
                prefix: item.prefix && i == last,
                mask: item.mask,
            })
            .collect()
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
                        // No positions (only ever a written form, format 7): no phrase match.
                        Lookup::Found(ord) => {
                            let info = self.term_info(ord)?;
                            self.index.has_positions(&info).then_some(ord)
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

    /// The bytes of dictionary part `i`: checked when they arrived (a lazy query's source
    /// holds them so), or read from the source and checked now; `None` (and recorded as
    /// missing) when the source lacks them.
    pub(super) fn part(&self, i: usize) -> Result<Option<PartBytes>> {
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
    pub(super) fn each_part(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        mut f: impl FnMut(u64, &PartView<'_>) -> Result<()>,
    ) -> Result<bool> {
        let Some(router) = self.index.router() else {
            use crate::header::SectionKind;
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
    pub(super) fn lookup(&self, key: &[u8]) -> Result<Lookup> {
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

    /// Where term `ord`'s data is ([`NAMES_VIEW`] set: its name-field postings, as a term).
    pub(super) fn term_info(&self, ord: u64) -> Result<TermInfo> {
        if let Some(info) = self.state.borrow().infos.get(&ord) {
            return Ok(info.clone());
        }
        let info = self
            .read_term_info(ord & !NAMES_VIEW)?
            .view(ord & NAMES_VIEW != 0);
        self.state.borrow_mut().infos.insert(ord, info.clone());
        Ok(info)
    }

    /// Where term `ord`'s data is, read from the dictionary.
    pub(super) fn read_term_info(&self, ord: u64) -> Result<TermInfo> {
        self.read_dictionary(ord, |i, o| i.term_info(o), |p, o| p.term_info(o))
    }

    /// Term `ord`'s document frequency alone, read from the dictionary.
    pub(super) fn read_doc_freq(&self, ord: u64) -> Result<u32> {
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
