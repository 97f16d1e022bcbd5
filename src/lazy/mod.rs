//! How is a split index searched without downloading it whole?
//!
//! Sans-IO at its heart: [`LazyIndex`] holds the current [`Version`] (the manifest and the
//! resident dictionary) and a [`PageStore`] (a byte-budgeted page cache, counters, remembered
//! failures). For a query, a [`Query`] machine says which byte ranges it needs (pages the cache
//! lacks, coalesced into as few requests as possible); a [`Checker`] checks what a loader brings
//! (page CRCs, or the whole file's SHA-256 when a host ignores `Range`) before the machine or
//! the cache sees it; the machine searches once everything is there. Nothing enters the cache
//! before it is checked, so a failed, short or corrupt response never poisons it.
//!
//! A query runs in phases: the dictionary parts its words need (a cut dictionary only; with a
//! word's own parts, those its typo corrections would walk when they are few, else a second
//! round), postings (and positions, for phrases) of its expanded terms, then
//! the hit-display chunks of its top hits (none when the dictionary holds them). Each phase is
//! one request per data file it touches, or fewer; pages already cached cost nothing.
//!
//! Each operation (open or refresh, query, prefetch) is a state machine ([`machine`]) that
//! says which bytes it needs and takes them when they arrive; [`PageStore`] holds what
//! outlives one operation (the page cache, counters, remembered failures). Drivers are short
//! loops around them: [`drive`] natively over a [`Loader`] (a directory, or memory),
//! [`Shared::run`] for async hosts (the wasm binding's `fetch`). Both retry by one rule
//! ([`Retry`]); a host's options are checked by [`options`].

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::cache::{CacheStats, PageCache};
use crate::error::Error;
use crate::search::{SearchOptions, SearchResults};
use crate::source::{DataFile, WorkingSet};

pub mod flight;
mod host;
mod loader;
pub mod machine;
pub mod options;
mod stats;
mod version;

pub use crate::cache::ENTRY_OVERHEAD;
pub use host::{Location, Shared};
pub use loader::{DirLoader, Loader, MemoryLoader};
pub use machine::{CacheMode, Checked, Checker, Machine, Need, Open, Prefetch, Query, Step};
pub use version::{
    parse_manifest, parse_manifest_with, read_manifest, read_manifest_with, PageKey, Request,
    Version,
};

/// Pages left unfetched between two needed ranges before they become separate requests.
pub const MAX_GAP_PAGES: u32 = 4;

/// Rounds of dictionary-part fetches one query may take: its words' exact and prefix lookups,
/// then the first-character parts of the words that need typo expansion, then the parts of
/// the stems of one-edit variants of a word nothing was within reach of.
pub const MAX_DICTIONARY_ROUNDS: usize = 3;

/// How many data files a split index has.
const FILES: usize = DataFile::ALL.len();

/// The most pages one missed page of a data file may bring along (its aligned block), by
/// file, once a store's misses on that file have grown its read-ahead ([`PageStore::plan`]).
/// Hit display: 64 pages (256 KiB with 4 KiB pages), so that the top hits of later queries
/// fall in blocks already cached (Debian, 500 warm queries, 8 MiB: hit-display requests 1.02
/// → 0.06 per query, bytes +13%). The others read what they need: postings read ahead
/// cost more bytes and evictions than the requests they saved (BENCHMARKS.md, "Warm
/// requests").
pub const MAX_READ_AHEAD_PAGES: [u32; FILES] = read_ahead_caps();

/// Growth of a file's read-ahead per round that misses it: 1, 4, 16, 64 pages.
const READ_AHEAD_GROWTH: u32 = 4;

const fn read_ahead_caps() -> [u32; FILES] {
    let mut caps = [1; FILES];
    caps[DataFile::Display as usize] = 64;
    caps
}

/// Default cache budget natively and in browsers.
pub const DEFAULT_CACHE_BYTES: usize = 32 << 20;

/// What can go wrong while loading a split index: the one error type of every loader.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The host answered with an HTTP error status.
    Http {
        /// File name.
        name: String,
        /// Status code.
        status: u16,
    },
    /// The request failed before a response (connection refused or reset, DNS…).
    Network {
        /// File name.
        name: String,
        /// What failed.
        message: String,
    },
    /// The request took longer than its timeout.
    Timeout {
        /// File name.
        name: String,
        /// The timeout, in milliseconds.
        ms: u32,
    },
    /// The caller aborted.
    Aborted,
    /// The data is wrong (corrupt, truncated, mismatched hash) or a budget was hit.
    Index(Error),
}

impl LoadError {
    /// A short, stable name for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::Http { .. } => "HttpStatus",
            LoadError::Network { .. } => "Network",
            LoadError::Timeout { .. } => "Timeout",
            LoadError::Aborted => "AbortError",
            LoadError::Index(e) => e.code(),
        }
    }

    /// Whether trying again may help (network errors, timeouts, 5xx and 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            LoadError::Http { status, .. } => *status >= 500 || *status == 429,
            LoadError::Network { .. } | LoadError::Timeout { .. } => true,
            // A corrupt or short body may be a transfer problem: one more try is cheap.
            LoadError::Index(
                Error::Corrupt { .. } | Error::Truncated { .. } | Error::ChecksumMismatch { .. },
            ) => true,
            _ => false,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Http { name, status: 404 } => write!(
                f,
                "{name} was not found; check that the index directory is served next to its \
                 manifest.json"
            ),
            LoadError::Http { name, status } => write!(
                f,
                "fetching {name} answered HTTP {status}; check that the index directory is served \
                 next to its manifest.json"
            ),
            LoadError::Network { name, message } => {
                write!(
                    f,
                    "fetching {name} failed: {message}; check the network and the URL"
                )
            }
            LoadError::Timeout { name, ms } => {
                write!(
                    f,
                    "fetching {name} took longer than {ms} ms; raise timeoutMs or check the host"
                )
            }
            LoadError::Aborted => write!(f, "the search was aborted"),
            LoadError::Index(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<Error> for LoadError {
    fn from(e: Error) -> Self {
        LoadError::Index(e)
    }
}

/// When and how long to wait before trying a failed request again: the one retry rule of
/// every driver (network errors, timeouts, 5xx, 429 and failed checks; never other 4xx or an
/// abort), with jittered exponential backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Tries after the first.
    pub retries: u32,
    /// The first wait, doubled per failure.
    pub backoff_ms: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 3,
            backoff_ms: 100,
        }
    }
}

impl Retry {
    /// No retries.
    pub const NONE: Retry = Retry {
        retries: 0,
        backoff_ms: 0,
    };

    /// After `failures` failed tries (the last failing with `error`), the wait before the next
    /// one, or `None` to give up. `jitter` in `[0, 1)` spreads the wait over `[0.5, 1.5)` of
    /// `backoff · 2^failures`.
    pub fn delay_ms(&self, failures: u32, error: &LoadError, jitter: f64) -> Option<u32> {
        if !error.is_retryable() || failures > self.retries {
            return None;
        }
        let base = self.backoff_ms as f64 * (1u64 << failures.min(10)) as f64;
        Some((base * (0.5 + jitter.clamp(0.0, 1.0))) as u32)
    }
}

/// Request and transfer counters of a lazy index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Requests sent (retries included).
    pub requests: u64,
    /// Bytes received.
    pub bytes_fetched: u64,
    /// Requests retried.
    pub retries: u64,
    /// Requests aborted.
    pub aborted: u64,
    /// Responses refused (bad status, wrong length, failed check).
    pub rejected: u64,
    /// Round trips: the fetch rounds of the operations run, each a batch of requests that
    /// wait on none of each other (a driver may send them all at once), counted by
    /// [`PageStore::step`] whatever the driver.
    pub round_trips: u64,
}

impl LoadStats {
    /// The sum of two sets of counters.
    pub fn add(&self, o: &LoadStats) -> LoadStats {
        LoadStats {
            requests: self.requests + o.requests,
            bytes_fetched: self.bytes_fetched + o.bytes_fetched,
            retries: self.retries + o.retries,
            aborted: self.aborted + o.aborted,
            rejected: self.rejected + o.rejected,
            round_trips: self.round_trips + o.round_trips,
        }
    }

    /// What happened since `earlier` (counters of the same store): one query's wire cost
    /// when taken before and after it.
    pub fn since(&self, earlier: &LoadStats) -> LoadStats {
        LoadStats {
            requests: self.requests.saturating_sub(earlier.requests),
            bytes_fetched: self.bytes_fetched.saturating_sub(earlier.bytes_fetched),
            retries: self.retries.saturating_sub(earlier.retries),
            aborted: self.aborted.saturating_sub(earlier.aborted),
            rejected: self.rejected.saturating_sub(earlier.rejected),
            round_trips: self.round_trips.saturating_sub(earlier.round_trips),
        }
    }
}

/// What one operation (a query, an open) cost on the wire: the requests it waited on (a fetch
/// shared with another query counts for both), the bytes they brought, and its round trips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wire {
    /// Requests the operation needed answered.
    pub requests: u64,
    /// Bytes of their checked answers.
    pub bytes: u64,
    /// Rounds of requests it waited on, one after another.
    pub round_trips: u64,
}

/// Everything `stats()` reports of a lazy index: cache and request counters, and the wire cost
/// of the last operation that finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Cache counters.
    pub cache: CacheStats,
    /// Request counters.
    pub load: LoadStats,
    /// Whether the index is split (the other counters are zero for a single file).
    pub split: bool,
    /// Requests in flight now.
    pub in_flight: u64,
    /// The last finished operation's requests, bytes and round trips.
    pub last: Wire,
}

/// What outlives one operation on a split index: the byte-budgeted page cache (pages and
/// checked dictionary parts), the request counters, and the files that failed with a status
/// that will not change until a refresh.
pub struct PageStore {
    cache: PageCache<PageKey>,
    stats: LoadStats,
    failed: HashMap<String, u16>,
    /// Pages a missed page brings along, by file: 1, times 4 per round that misses the file, up
    /// to [`MAX_READ_AHEAD_PAGES`] and an eighth of the cache's pages (a cold query reads only
    /// what it needs; a store that keeps missing reads in bigger aligned blocks).
    read_ahead: [u32; FILES],
    last: Wire,
}

impl PageStore {
    /// An empty store with a cache of `cache_bytes`.
    pub fn new(cache_bytes: usize) -> Self {
        PageStore {
            cache: PageCache::new(cache_bytes),
            stats: LoadStats::default(),
            failed: HashMap::new(),
            read_ahead: [1; FILES],
            last: Wire::default(),
        }
    }

    /// Cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Request counters.
    pub fn load_stats(&self) -> LoadStats {
        self.stats
    }

    /// Splits `needs` into pages already cached (moved into `ws`) and requests for the rest.
    pub fn plan(
        &mut self,
        version: &Version,
        needs: &[(DataFile, Range<u64>)],
        ws: &mut WorkingSet,
    ) -> crate::Result<Vec<Need>> {
        let mut missing = Vec::new();
        for (file, page) in version.pages_of(needs)? {
            if ws.has_page(file, page) {
                continue;
            }
            match self.cache.get(&version.key(file, page)) {
                Some(p) => ws.insert_page(file, page, p),
                None => missing.push((file, page)),
            }
        }
        self.read_ahead(version, &mut missing, ws);
        Ok(version
            .requests(&missing)
            .into_iter()
            .map(Need::Range)
            .collect())
    }

    /// Adds to `missing` (pages to fetch, sorted) the other pages of each one's aligned block
    /// of the file's read-ahead that neither the cache nor `ws` holds, then grows the
    /// read-ahead of every file that missed.
    fn read_ahead(
        &mut self,
        version: &Version,
        missing: &mut Vec<(DataFile, u32)>,
        ws: &WorkingSet,
    ) {
        let pages = version.pages();
        let ps = pages.page_size as u64;
        let mut extra = Vec::new();
        let mut missed = [false; FILES];
        for &(file, page) in missing.iter() {
            missed[file as usize] = true;
            let block = self.read_ahead[file as usize];
            if block <= 1 {
                continue;
            }
            let count = pages.len_of(file).div_ceil(ps) as u32;
            let start = page / block * block;
            let end = (start + block).min(count);
            let held = |p: u32| ws.has_page(file, p) || self.cache.contains(&version.key(file, p));
            // The block's pages from its first to its last one not held, those held between
            // them too: one request, not one per hole.
            let (Some(first), Some(last)) = (
                (start..end).find(|&p| !held(p)),
                (start..end).rev().find(|&p| !held(p)),
            ) else {
                continue;
            };
            extra.extend((first..=last).filter(|&p| p != page).map(|p| (file, p)));
        }
        if !extra.is_empty() {
            missing.extend(extra);
            missing.sort_unstable();
            missing.dedup();
        }
        // At most an eighth of the cache's pages: a block must stay cached long enough to pay.
        let cap = (self.cache.budget() as u64 / (ps + ENTRY_OVERHEAD as u64) / 8).clamp(1, 64);
        for (f, m) in missed.iter().enumerate() {
            if *m {
                self.read_ahead[f] = (self.read_ahead[f] * READ_AHEAD_GROWTH)
                    .min(MAX_READ_AHEAD_PAGES[f])
                    .min(cap as u32);
            }
        }
    }

    /// Moves the checked dictionary parts among `parts` that the cache holds into `ws`, and
    /// plans requests for the rest.
    pub fn plan_parts(
        &mut self,
        version: &Version,
        parts: &[usize],
        ws: &mut WorkingSet,
    ) -> crate::Result<Vec<Need>> {
        let router = version
            .index
            .router()
            .ok_or_else(|| Error::corrupt("dictionary parts of a whole dictionary"))?;
        let mut ranges = Vec::new();
        for &i in parts {
            if ws.has_part(i) {
                continue;
            }
            let entry = router
                .parts()
                .get(i)
                .ok_or_else(|| Error::corrupt(format!("dictionary part {i} out of range")))?;
            match self.cache.get(&version.part_key(i)) {
                Some(bytes) => ws.insert_part(i, bytes),
                None => ranges.push((DataFile::Terms, entry.range.clone())),
            }
        }
        self.plan(version, &ranges, ws)
    }

    fn insert_page(&mut self, version: &Version, file: DataFile, page: u32, bytes: Arc<[u8]>) {
        self.cache.insert(version.key(file, page), bytes);
    }

    fn insert_part(&mut self, version: &Version, part: usize, bytes: Arc<[u8]>) {
        self.cache.insert(version.part_key(part), bytes);
    }

    /// The whole data range of `file` when all its pages, charged as the cache charges them,
    /// fit in the room left in the budget (so prefetching never evicts); else `None`.
    pub fn prefetch_range(&self, version: &Version, file: DataFile) -> Option<Range<u64>> {
        let pages = version.pages();
        let len = pages.len_of(file);
        let charge = pages.page_count(file) as u64
            * (pages.page_size as u64 + crate::cache::ENTRY_OVERHEAD as u64);
        let room = self.cache.budget().saturating_sub(self.cache.bytes_held()) as u64;
        (len > 0 && charge <= room).then_some(0..len)
    }

    /// `Err` when `need`'s file failed before with a status that will not change until a
    /// refresh (it is not asked for again).
    pub fn refuse(&self, need: &Need) -> Result<(), LoadError> {
        match self.failed.get(need.name()) {
            Some(&status) => Err(LoadError::Http {
                name: need.name().to_string(),
                status,
            }),
            None => Ok(()),
        }
    }

    /// Records how a request for `need` ended after its retries: remembers a failure that will
    /// not change until a refresh.
    pub fn finished<T>(&mut self, need: &Need, result: &Result<T, LoadError>) {
        if let Err(e @ LoadError::Http { status, .. }) = result {
            if !e.is_retryable() {
                self.failed.insert(need.name().to_string(), *status);
            }
        }
    }

    /// Adds the counters of requests a driver made.
    pub fn count(&mut self, stats: &LoadStats) {
        self.stats = self.stats.add(stats);
    }

    /// The wire cost of the last operation that finished.
    pub fn last(&self) -> Wire {
        self.last
    }

    /// One step of `machine` for a driver: its answer (recorded as the last operation's cost,
    /// `wire`), or the requests of its next round, counted as a round trip. A request for a
    /// file that failed for good before is refused here, not sent.
    pub fn step<M: Machine>(
        &mut self,
        machine: &mut M,
        wire: &mut Wire,
    ) -> Result<Step<M::Output>, LoadError> {
        let step = machine.step(self)?;
        match &step {
            Step::Done(_) => self.last = *wire,
            Step::Fetch(needs) => {
                for need in needs {
                    self.refuse(need)?;
                }
                wire.round_trips += 1;
                self.stats.round_trips += 1;
            }
        }
        Ok(step)
    }

    /// Hands how the request for `need` ended (after its retries) to `machine`, counting it in
    /// `wire` and remembering a failure that will not change until a refresh.
    pub fn supply<M: Machine>(
        &mut self,
        machine: &mut M,
        need: &Need,
        result: Result<Checked, LoadError>,
        wire: &mut Wire,
    ) -> Result<(), LoadError> {
        self.finished(need, &result);
        wire.requests += 1;
        let data = match result {
            // A speculative request that failed: the machine goes without it.
            Err(_) if need.optional() => return Ok(()),
            result => result?,
        };
        // The bytes asked for: a range's stored pages (with their CRC trailers), or a file.
        wire.bytes += match need {
            Need::Range(req) => req.range.end - req.range.start,
            Need::File { .. } => data.len() as u64,
        };
        machine.supply(self, need, data)
    }

    /// Forgets remembered failures (a refresh: the files may be there now).
    pub fn forget_failures(&mut self) {
        self.failed.clear();
    }
}

/// A split index searched through a native [`Loader`]: the version searches start on, and the
/// store they share.
pub struct LazyIndex {
    version: Arc<Version>,
    store: PageStore,
    retry: Retry,
}

impl LazyIndex {
    /// A lazy index over an opened version, with a cache of `cache_bytes`.
    pub fn new(version: Version, cache_bytes: usize) -> Self {
        LazyIndex {
            version: Arc::new(version),
            store: PageStore::new(cache_bytes),
            retry: Retry::NONE,
        }
    }

    /// Fetches the dictionary through `loader` (and `manifest.json` before layout 6) and opens
    /// it.
    pub fn open(loader: &mut dyn Loader, cache_bytes: usize) -> Result<LazyIndex, LoadError> {
        let mut store = PageStore::new(cache_bytes);
        let mut open = Open::new(read_manifest, None, true);
        let version = drive(&mut open, &mut store, loader, Retry::NONE)?
            .ok_or_else(|| LoadError::Index(Error::corrupt("no version to open")))?;
        Ok(LazyIndex {
            version: Arc::new(version),
            store,
            retry: Retry::NONE,
        })
    }

    /// Retries failed requests by `retry` (natively none by default: a file is there or not).
    pub fn set_retry(&mut self, retry: Retry) {
        self.retry = retry;
    }

    /// The version searches start on now.
    pub fn version(&self) -> Arc<Version> {
        self.version.clone()
    }

    /// Swaps to another version; searches holding the old one finish on it.
    pub fn set_version(&mut self, version: Version) {
        self.version = Arc::new(version);
        self.store.forget_failures();
    }

    /// Re-reads the manifest; when it names another dictionary, swaps to the new version.
    /// Pages of unchanged data files stay cached (their keys are content hashes). Returns
    /// whether the version changed.
    pub fn refresh(&mut self, loader: &mut dyn Loader) -> Result<bool, LoadError> {
        // A refresh is when files that failed may be there now.
        self.store.forget_failures();
        let mut open = Open::new(read_manifest, Some(self.version.clone()), false);
        match drive(&mut open, &mut self.store, loader, self.retry)? {
            Some(v) => {
                self.set_version(v);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.store.cache_stats()
    }

    /// Request counters.
    pub fn load_stats(&self) -> LoadStats {
        self.store.load_stats()
    }

    /// The store searches share.
    pub fn store(&mut self) -> &mut PageStore {
        &mut self.store
    }

    /// Answers `query`: dictionary parts, postings, scoring, hit display.
    pub fn search(
        &mut self,
        loader: &mut dyn Loader,
        query: &str,
        opts: &SearchOptions,
    ) -> Result<SearchResults, LoadError> {
        let mut q = Query::new(self.version.clone(), query, *opts);
        drive(&mut q, &mut self.store, loader, self.retry)
    }

    /// Answers `query` with filters, facets, sort and page ([`crate::search::Refine`]).
    pub fn search_refined(
        &mut self,
        loader: &mut dyn Loader,
        query: &str,
        opts: &SearchOptions,
        refine: crate::search::Refine,
    ) -> Result<SearchResults, LoadError> {
        let mut q = Query::new(self.version.clone(), query, *opts).refine(refine);
        drive(&mut q, &mut self.store, loader, self.retry)
    }

    /// Loads whole data files in [`DataFile::PREFETCH_ORDER`] (dictionary parts, hit display,
    /// postings, positions, store), each when it fits in the cache budget. Returns the bytes
    /// now cached.
    pub fn prefetch(&mut self, loader: &mut dyn Loader) -> Result<u64, LoadError> {
        let mut p = Prefetch::new(self.version.clone());
        drive(&mut p, &mut self.store, loader, self.retry)
    }
}

/// The native driver: steps `machine`, bringing what it needs through `loader` one request at
/// a time, retrying by `retry` (the same [`flight::transfer`] loop as the wasm driver's).
pub fn drive<M: Machine>(
    machine: &mut M,
    store: &mut PageStore,
    loader: &mut dyn Loader,
    retry: Retry,
) -> Result<M::Output, LoadError> {
    let mut wire = Wire::default();
    loop {
        let needs = match store.step(machine, &mut wire)? {
            Step::Done(out) => return Ok(out),
            Step::Fetch(needs) => needs,
        };
        let checker = machine.checker();
        for need in needs {
            let stats = std::cell::RefCell::new(LoadStats::default());
            let result = flight::transfer(
                need.retry(retry),
                &stats,
                || false,
                || std::future::ready(loader.fetch(need.name(), need.range())),
                |body| Ok(checker.check(&need, body)?),
                |ms| {
                    std::thread::sleep(std::time::Duration::from_millis(ms as u64));
                    std::future::ready(())
                },
                || 0.5,
            );
            let result = flight::now(result).unwrap_or_else(|| {
                Err(LoadError::Network {
                    name: need.name().to_string(),
                    message: "a blocking loader did not answer".into(),
                })
            });
            store.count(&stats.into_inner());
            store.supply(machine, &need, result, &mut wire)?;
        }
    }
}
