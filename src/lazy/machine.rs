//! The operations on a split index as state machines: each says what bytes it needs
//! ([`Machine::step`] → [`Step::Fetch`]), takes them when they arrive ([`Machine::supply`]),
//! and ends with its answer ([`Step::Done`]). They do no I/O: a driver (the native loop in
//! [`super::drive`], the wasm binding's async loop) brings the bytes.
//!
//! A [`Query`]'s phases: dictionary parts, postings (and positions), field norms (when they
//! are paged: split layout 4), hit display, and, when asked for, snippets (document-store
//! chunks; fetched with the hit-display round when there is one).
//!
//! A [`Query`] keeps one searcher state for the whole query: the query is parsed and analyzed
//! once, lookups done in one dictionary round are kept for the next, and a dictionary part is
//! walked once, when its bytes arrive, and cached checked.

use std::ops::Range;
use std::sync::Arc;

use super::{LoadError, PageStore, Version, MAX_DICTIONARY_ROUNDS};
use crate::dict::PartView;
use crate::error::Error;
use crate::search::{Prepared, QueryState, SearchOptions, SearchResults, Searcher};
use crate::source::{DataFile, WorkingSet};
use crate::split::{check_file, Manifest, DICTIONARY_ALIAS};

use super::version::Request;

/// What a machine needs brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// A whole file: the manifest (`fresh`: past any HTTP cache) or a dictionary.
    File {
        /// Its name, relative to the manifest.
        name: String,
        /// Whether a cached copy will not do.
        fresh: bool,
        /// Asked for on speculation: its failure is no error (the machine goes without it),
        /// and it is not retried.
        optional: bool,
    },
    /// A byte range of a data file.
    Range(Request),
}

impl Need {
    /// The file's name, relative to the manifest.
    pub fn name(&self) -> &str {
        match self {
            Need::File { name, .. } => name,
            Need::Range(r) => &r.name,
        }
    }

    /// The byte range to ask for (`None`: the whole file).
    pub fn range(&self) -> Option<Range<u64>> {
        match self {
            Need::File { .. } => None,
            Need::Range(r) => Some(r.file_range()),
        }
    }

    /// Whether a cached copy will not do.
    pub fn fresh(&self) -> bool {
        matches!(self, Need::File { fresh: true, .. })
    }

    /// Whether it is asked for on speculation (a failure is not an error).
    pub fn optional(&self) -> bool {
        matches!(self, Need::File { optional: true, .. })
    }

    /// The retry rule for it: `retry`, or none for a speculative request (waiting out a
    /// failure would hold up a round that can do without it).
    pub fn retry(&self, retry: super::Retry) -> super::Retry {
        match self.optional() {
            true => super::Retry::NONE,
            false => retry,
        }
    }

    /// How a host with an HTTP cache of its own (a browser) should ask for it: past that cache
    /// for a fresh file and for every range; the dictionary's alias, a mutable file that a
    /// layout 6 reader opens the index from, revalidated (a copy the server says is current
    /// costs a `304`, not the file). Chromium's HTTP cache lets one request per URL at a time
    /// through, so the ranges of one file that a round sends together would wait on one
    /// another (measured: 11 sequential requests for a cold query's 7 rounds, 7 without the
    /// cache); the engine's page cache and the Service Worker keep what was fetched.
    pub fn cache_mode(&self) -> CacheMode {
        match self {
            Need::Range(_) | Need::File { fresh: true, .. } => CacheMode::NoStore,
            Need::File { name, .. } if name == DICTIONARY_ALIAS => CacheMode::Revalidate,
            Need::File { .. } => CacheMode::Default,
        }
    }
}

/// How a need is asked of a host's HTTP cache ([`Need::cache_mode`]): the `cache` option of
/// `fetch` ([`CacheMode::fetch_option`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// As the response's headers say.
    Default,
    /// Past the cache, and not kept in it.
    NoStore,
    /// A cached copy only when the server confirms it.
    Revalidate,
}

impl CacheMode {
    /// The `cache` option of `fetch` (`""`: none).
    pub fn fetch_option(self) -> &'static str {
        match self {
            CacheMode::Default => "",
            CacheMode::NoStore => "no-store",
            CacheMode::Revalidate => "no-cache",
        }
    }
}

/// Bytes that passed [`Checker::check`], ready for [`Machine::supply`].
#[derive(Clone, Debug)]
pub enum Checked {
    /// The pages of a range, each checked against the page table.
    Pages(Vec<(u32, Arc<[u8]>)>),
    /// A whole file, as it came (a dictionary is checked when its version opens).
    File(Arc<Vec<u8>>),
}

impl Checked {
    /// Its bytes.
    pub fn len(&self) -> usize {
        match self {
            Checked::Pages(pages) => pages.iter().map(|(_, p)| p.len()).sum(),
            Checked::File(f) => f.len(),
        }
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks bytes where they arrive, before a machine sees them: a fetch shared by several
/// queries checks once, and a failed check is retried like a failed transfer.
#[derive(Clone)]
pub struct Checker(Option<Arc<Version>>);

impl Checker {
    /// Checks the response `body` to `need`.
    pub fn check(&self, need: &Need, body: Vec<u8>) -> crate::Result<Checked> {
        match (need, &self.0) {
            (Need::File { .. }, _) => Ok(Checked::File(Arc::new(body))),
            (Need::Range(req), Some(v)) => v.check(req, &body).map(Checked::Pages),
            (Need::Range(_), None) => Err(Error::corrupt("a range of an index not opened yet")),
        }
    }
}

/// What a machine wants next.
#[derive(Debug)]
pub enum Step<T> {
    /// These bytes, then [`Machine::supply`] each, then step again.
    Fetch(Vec<Need>),
    /// The answer.
    Done(T),
}

/// One operation on a split index, without I/O.
pub trait Machine {
    /// Its answer.
    type Output;
    /// What it needs next, or its answer.
    fn step(&mut self, store: &mut PageStore) -> Result<Step<Self::Output>, LoadError>;
    /// Checks responses to its needs (cloneable, for checking where the bytes arrive).
    fn checker(&self) -> Checker;
    /// Takes the checked bytes of one need.
    fn supply(
        &mut self,
        store: &mut PageStore,
        need: &Need,
        data: Checked,
    ) -> Result<(), LoadError>;
}

/// Adds checked pages to the working set and the cache; the dictionary parts they hold whole
/// are walked once, now, and kept checked (their raw pages are not cached). Parts a query did
/// not ask for are kept too: with parts smaller than a page (a tiny `--dictionary-part-bytes`)
/// dropping them cost the soak test half again as many requests, for fewer cache entries.
fn take_pages(
    store: &mut PageStore,
    version: &Version,
    need: &Need,
    data: Checked,
    ws: &mut WorkingSet,
) -> Result<(), LoadError> {
    let (Need::Range(req), Checked::Pages(pages)) = (need, data) else {
        return Err(Error::corrupt("a whole file supplied for a range").into());
    };
    if req.file != DataFile::Terms {
        for (page, bytes) in pages {
            store.insert_page(version, req.file, page, bytes.clone());
            ws.insert_page(req.file, page, bytes);
        }
        return Ok(());
    }
    let Some(router) = version.index.router() else {
        return Ok(());
    };
    let ps = version.pages().page_size as u64;
    let (Some(first), Some(last)) = (pages.first(), pages.last()) else {
        return Ok(());
    };
    let start = first.0 as u64 * ps;
    let end = last.0 as u64 * ps + last.1.len() as u64;
    let parts = router.parts();
    let from = parts.partition_point(|p| p.range.start < start);
    for (i, part) in parts.iter().enumerate().skip(from) {
        if part.range.end > end {
            break;
        }
        let mut bytes = Vec::with_capacity((part.range.end - part.range.start) as usize);
        for (page, data) in &pages {
            let base = *page as u64 * ps;
            let a = part.range.start.max(base);
            let b = part.range.end.min(base + data.len() as u64);
            if a < b {
                bytes.extend_from_slice(&data[(a - base) as usize..(b - base) as usize]);
            }
        }
        PartView::open(&bytes, router.part_terms(i), true)?;
        let bytes: Arc<[u8]> = bytes.into();
        store.insert_part(version, i, bytes.clone());
        ws.insert_part(i, bytes);
    }
    Ok(())
}

/// Where a query is.
enum Phase {
    /// Resolving its words; `rounds` of dictionary parts fetched so far.
    Dictionary { rounds: usize },
    /// Reading postings (and positions) to score.
    Postings(Prepared),
    /// Reading the field norms of the documents it may score (paged norms only); `needs`, once
    /// computed from the postings, are kept for the step after their round.
    Norms {
        prepared: Prepared,
        needs: Option<Vec<(DataFile, Range<u64>)>>,
    },
    /// Reading the hit-display chunks of the top hits (and, with snippets, their document
    /// store chunks in the same round).
    Display {
        total: usize,
        top: Vec<(u32, f32)>,
        prepared: Prepared,
    },
    /// Reading the document-store chunks of the top hits, for their snippets (already there
    /// when the display round brought them: a request only when hit display is resident).
    Snippets {
        total: usize,
        top: Vec<(u32, f32)>,
        prepared: Prepared,
        hits: Vec<crate::search::Hit>,
        chars: usize,
    },
    /// Answered.
    Finished,
}

/// One query on a split index.
pub struct Query {
    version: Arc<Version>,
    text: String,
    opts: SearchOptions,
    ws: WorkingSet,
    state: Option<QueryState>,
    phase: Phase,
}

impl Query {
    /// A query on `version`.
    pub fn new(version: Arc<Version>, text: &str, opts: SearchOptions) -> Query {
        let ws = WorkingSet::new(version.pages().page_size);
        Query {
            version,
            text: text.to_string(),
            opts,
            ws,
            state: Some(QueryState::new()),
            phase: Phase::Dictionary { rounds: 0 },
        }
    }

    /// Sets the query's filters, facets, sort and page.
    pub fn refine(mut self, refine: crate::search::Refine) -> Query {
        if let Some(state) = &mut self.state {
            state.set_refine(refine);
        }
        self
    }

    /// The answer, once its hits are made.
    fn answer(&mut self, total: usize, hits: Vec<crate::search::Hit>) -> SearchResults {
        let truncated = self.with_searcher(|s| Ok(s.truncated())).unwrap_or(true);
        let facets = self
            .with_searcher(|s| Ok(s.facet_counts()))
            .unwrap_or_default();
        SearchResults {
            total,
            hits,
            truncated,
            facets,
        }
    }

    /// Runs `f` with the query's searcher (its state kept from step to step).
    fn with_searcher<T>(
        &mut self,
        f: impl FnOnce(&mut Searcher<'_, Vec<u8>>) -> crate::Result<T>,
    ) -> crate::Result<T> {
        let state = self.state.take().unwrap_or_default();
        let mut s = Searcher::resume(&self.version.index, &self.ws, state);
        let out = f(&mut s);
        self.state = Some(s.into_state());
        out
    }
}

impl Machine for Query {
    type Output = SearchResults;

    fn step(&mut self, store: &mut PageStore) -> Result<Step<SearchResults>, LoadError> {
        loop {
            match std::mem::replace(&mut self.phase, Phase::Finished) {
                Phase::Dictionary { rounds } => {
                    let (text, opts) = (self.text.clone(), self.opts);
                    let prepared = self.with_searcher(|s| s.prepare(&text, &opts))?;
                    let parts: Vec<usize> = prepared.missing_parts().collect();
                    if !parts.is_empty() && rounds < MAX_DICTIONARY_ROUNDS {
                        self.phase = Phase::Dictionary { rounds: rounds + 1 };
                        let needs = store.plan_parts(&self.version, &parts, &mut self.ws)?;
                        if !needs.is_empty() {
                            return Ok(Step::Fetch(needs));
                        }
                        continue; // every part was cached: resolve again
                    }
                    // Never expected after the rounds: each brings all it asked for.
                    prepared.require_complete()?;
                    self.phase = Phase::Postings(prepared);
                }
                Phase::Postings(prepared) => {
                    let needs = self.with_searcher(|s| {
                        let mut needs = s.needs(&prepared)?;
                        needs.extend(s.filter_needs(&prepared)?);
                        Ok(needs)
                    })?;
                    let fetch = store.plan(&self.version, &needs, &mut self.ws)?;
                    if !fetch.is_empty() {
                        self.phase = Phase::Postings(prepared);
                        return Ok(Step::Fetch(fetch));
                    }
                    self.phase = Phase::Norms {
                        prepared,
                        needs: None,
                    };
                }
                Phase::Norms { prepared, needs } => {
                    let (needs, few) = match needs {
                        Some(needs) => (needs, None),
                        None => {
                            let few = self.opts.limit.min(crate::search::MAX_LIMIT);
                            self.with_searcher(|s| s.norm_needs(&prepared, few))?
                        }
                    };
                    let mut fetch = store.plan(&self.version, &needs, &mut self.ws)?;
                    if !fetch.is_empty() {
                        // Every match will be a hit (there are no more documents to score than
                        // hits asked for): their hit-display chunks (and, with snippets, their
                        // document-store chunks) come in the norms' round.
                        if let Some(docs) = few {
                            let top: Vec<(u32, f32)> = docs.iter().map(|&d| (d, 0.0)).collect();
                            let snippets = self.opts.snippets.is_some();
                            let shown = self.with_searcher(|s| {
                                let mut needs = s.stored_needs(&top)?;
                                if snippets {
                                    needs.extend(s.snippet_needs(&top)?);
                                }
                                Ok(needs)
                            })?;
                            fetch.extend(store.plan(&self.version, &shown, &mut self.ws)?);
                        }
                        self.phase = Phase::Norms {
                            prepared,
                            needs: Some(needs),
                        };
                        return Ok(Step::Fetch(fetch));
                    }
                    let opts = self.opts;
                    let (total, top) = self.with_searcher(|s| s.execute(&prepared, &opts))?;
                    self.phase = Phase::Display {
                        total,
                        top,
                        prepared,
                    };
                }
                Phase::Display {
                    total,
                    top,
                    prepared,
                } => {
                    let snippets = self.opts.snippets;
                    let needs = self.with_searcher(|s| {
                        let mut needs = s.stored_needs(&top)?;
                        // Facet column blocks (counts and hits' values) in the same round.
                        needs.extend(s.facet_needs(&top)?);
                        // Snippets' chunks come in the same round when hits need one.
                        if snippets.is_some() && !needs.is_empty() {
                            needs.extend(s.snippet_needs(&top)?);
                        }
                        Ok(needs)
                    })?;
                    let fetch = store.plan(&self.version, &needs, &mut self.ws)?;
                    if !fetch.is_empty() {
                        self.phase = Phase::Display {
                            total,
                            top,
                            prepared,
                        };
                        return Ok(Step::Fetch(fetch));
                    }
                    let hits = self.with_searcher(|s| s.hits(&top))?;
                    match snippets {
                        Some(chars) => {
                            self.phase = Phase::Snippets {
                                total,
                                top,
                                prepared,
                                hits,
                                chars,
                            }
                        }
                        None => return Ok(Step::Done(self.answer(total, hits))),
                    }
                }
                Phase::Snippets {
                    total,
                    top,
                    prepared,
                    mut hits,
                    chars,
                } => {
                    let needs = self.with_searcher(|s| s.snippet_needs(&top))?;
                    let fetch = store.plan(&self.version, &needs, &mut self.ws)?;
                    if !fetch.is_empty() {
                        self.phase = Phase::Snippets {
                            total,
                            top,
                            prepared,
                            hits,
                            chars,
                        };
                        return Ok(Step::Fetch(fetch));
                    }
                    self.with_searcher(|s| s.add_snippets(&prepared, &top, &mut hits, chars))?;
                    return Ok(Step::Done(self.answer(total, hits)));
                }
                Phase::Finished => return Err(Error::corrupt("a finished query stepped").into()),
            }
        }
    }

    fn checker(&self) -> Checker {
        Checker(Some(self.version.clone()))
    }

    fn supply(
        &mut self,
        store: &mut PageStore,
        need: &Need,
        data: Checked,
    ) -> Result<(), LoadError> {
        take_pages(store, &self.version, need, data, &mut self.ws)
    }
}

/// Opening a split index, or refreshing one. An open asks first for the dictionary under its
/// fixed alias ([`DICTIONARY_ALIAS`]) alone: from layout 6 it holds its manifest, and the
/// index opens with that one request. Otherwise (an older layout, no alias, or one that does
/// not open) it asks for the manifest, keeps the alias when it is the file the manifest names,
/// else fetches that file in one more round. A refresh asks for the manifest alone (it most
/// often names the version already open), and answers `None` when it does.
pub struct Open {
    read: fn(&[u8]) -> crate::Result<Manifest>,
    current: Option<Arc<Version>>,
    /// Whether the alias alone is asked for first.
    alias_first: bool,
    /// Whether the alias was asked for (its answer, if any, is in `alias`).
    asked_alias: bool,
    manifest: Option<Manifest>,
    manifest_bytes: Option<Arc<Vec<u8>>>,
    /// What the alias brought (`None` when not asked for, or when it failed).
    alias: Option<Arc<Vec<u8>>>,
    dictionary: Option<Arc<Vec<u8>>>,
}

impl Open {
    /// Opens with `read` reading a manifest's JSON (natively [`super::read_manifest`]; the
    /// wasm binding uses the host's `JSON.parse`); with `current`, a refresh of it.
    /// `alias_first`: whether an open starts from the dictionary's alias (layout 6: one
    /// request); a host opening a manifest other than `manifest.json` (one version pinned)
    /// says no.
    pub fn new(
        read: fn(&[u8]) -> crate::Result<Manifest>,
        current: Option<Arc<Version>>,
        alias_first: bool,
    ) -> Open {
        Open {
            read,
            current,
            alias_first,
            asked_alias: false,
            manifest: None,
            manifest_bytes: None,
            alias: None,
            dictionary: None,
        }
    }

    /// The alias's need: revalidated past an HTTP cache ([`Need::cache_mode`]), optional (the
    /// manifest's path goes without it).
    fn alias_need() -> Need {
        Need::File {
            name: DICTIONARY_ALIAS.into(),
            fresh: false,
            optional: true,
        }
    }

    /// The version the alias describes by itself (layout 6), if it does and opens. Otherwise
    /// the alias is kept only when it has no manifest (an older layout's, checked against
    /// `manifest.json` next), and dropped when it does not open: the manifest's path fetches
    /// the dictionary it names.
    fn open_alias(&mut self) -> Option<Version> {
        let alias = self.alias.take()?;
        match Version::embedded_manifest(&alias, self.read) {
            Ok(Some(manifest)) => {
                let bytes = Arc::try_unwrap(alias).unwrap_or_else(|shared| (*shared).clone());
                Version::open_hashed(manifest, bytes).ok()
            }
            Ok(None) => {
                self.alias = Some(alias);
                None
            }
            Err(_) => None,
        }
    }
}

impl Machine for Open {
    type Output = Option<Version>;

    fn step(&mut self, store: &mut PageStore) -> Result<Step<Option<Version>>, LoadError> {
        let opening = self.current.is_none();
        if opening && self.alias_first && self.manifest.is_none() && self.manifest_bytes.is_none() {
            if !self.asked_alias {
                self.asked_alias = true;
                // Not where the alias is known to be missing.
                if store.refuse(&Self::alias_need()).is_ok() {
                    return Ok(Step::Fetch(vec![Self::alias_need()]));
                }
            } else if let Some(version) = self.open_alias() {
                return Ok(Step::Done(Some(version)));
            }
        }
        if self.manifest.is_none() {
            let Some(bytes) = self.manifest_bytes.take() else {
                let mut needs = vec![Need::File {
                    name: "manifest.json".into(),
                    fresh: true,
                    optional: false,
                }];
                // Not on a refresh, nor when asked already, nor where the alias is known to be
                // missing.
                if opening && !self.asked_alias && store.refuse(&Self::alias_need()).is_ok() {
                    self.asked_alias = true;
                    needs.push(Self::alias_need());
                }
                return Ok(Step::Fetch(needs));
            };
            let manifest = (self.read)(&bytes)?;
            manifest.validate()?;
            if self
                .current
                .as_ref()
                .is_some_and(|v| v.manifest == manifest)
            {
                return Ok(Step::Done(None));
            }
            // The alias is kept only when it is the very file the manifest names.
            if let Some(alias) = self.alias.take() {
                if check_file(&manifest.dictionary, &alias).is_ok() {
                    self.dictionary = Some(alias);
                }
            }
            self.manifest = Some(manifest);
        }
        let manifest = self.manifest.as_ref().expect("set above");
        match self.dictionary.take() {
            None => Ok(Step::Fetch(vec![Need::File {
                name: manifest.dictionary.name.clone(),
                fresh: false,
                optional: false,
            }])),
            Some(bytes) => {
                let bytes = Arc::try_unwrap(bytes).unwrap_or_else(|shared| (*shared).clone());
                let manifest = self.manifest.take().expect("set above");
                Ok(Step::Done(Some(Version::open(manifest, bytes)?)))
            }
        }
    }

    fn checker(&self) -> Checker {
        Checker(None)
    }

    fn supply(
        &mut self,
        _store: &mut PageStore,
        need: &Need,
        data: Checked,
    ) -> Result<(), LoadError> {
        let Checked::File(bytes) = data else {
            return Err(Error::corrupt("a range supplied for a whole file").into());
        };
        match need {
            Need::File { name, .. } if name == "manifest.json" => self.manifest_bytes = Some(bytes),
            Need::File { name, .. } if name == DICTIONARY_ALIAS => self.alias = Some(bytes),
            _ => self.dictionary = Some(bytes),
        }
        Ok(())
    }
}

/// Fills the cache with whole data files in [`DataFile::PREFETCH_ORDER`], each when it fits in
/// the room left in the budget (so prefetching never evicts). Answers the bytes cached.
pub struct Prefetch {
    version: Arc<Version>,
    next: usize,
    ws: WorkingSet,
}

impl Prefetch {
    /// Prefetches `version`.
    pub fn new(version: Arc<Version>) -> Prefetch {
        Prefetch {
            version,
            next: 0,
            ws: WorkingSet::default(),
        }
    }
}

impl Machine for Prefetch {
    type Output = u64;

    fn step(&mut self, store: &mut PageStore) -> Result<Step<u64>, LoadError> {
        while let Some(&file) = DataFile::PREFETCH_ORDER.get(self.next) {
            self.next += 1;
            // Pages of one file at a time: the cache holds them, the query does not.
            self.ws = WorkingSet::new(self.version.pages().page_size);
            if let Some(range) = store.prefetch_range(&self.version, file) {
                let needs = store.plan(&self.version, &[(file, range)], &mut self.ws)?;
                if !needs.is_empty() {
                    return Ok(Step::Fetch(needs));
                }
            }
        }
        Ok(Step::Done(store.cache_stats().bytes_held))
    }

    fn checker(&self) -> Checker {
        Checker(Some(self.version.clone()))
    }

    fn supply(
        &mut self,
        store: &mut PageStore,
        need: &Need,
        data: Checked,
    ) -> Result<(), LoadError> {
        take_pages(store, &self.version, need, data, &mut self.ws)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_a_fresh_manifest_go_past_an_http_cache_and_the_alias_is_revalidated() {
        let file = |fresh| Need::File {
            name: "x".into(),
            fresh,
            optional: false,
        };
        let range = Need::Range(Request {
            file: DataFile::Postings,
            name: "postings.bin".into(),
            range: 0..4100,
            offset: 0,
            pages: 0..1,
        });
        let alias = Need::File {
            name: DICTIONARY_ALIAS.into(),
            fresh: false,
            optional: true,
        };
        for (need, mode, option) in [
            (file(true), CacheMode::NoStore, "no-store"),
            (file(false), CacheMode::Default, ""),
            (range, CacheMode::NoStore, "no-store"),
            (alias, CacheMode::Revalidate, "no-cache"),
        ] {
            assert_eq!(need.cache_mode(), mode, "{need:?}");
            assert_eq!(mode.fetch_option(), option);
        }
    }
}
