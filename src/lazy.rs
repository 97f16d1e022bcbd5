//! How is a split index searched without downloading it whole?
//!
//! Sans-IO at its heart: [`LazyIndex`] holds the manifest, the resident dictionary and a
//! byte-budgeted [`PageCache`]; for a query it says which byte ranges it needs
//! ([`LazyIndex::plan`]: pages the cache lacks, coalesced into as few requests as possible),
//! checks what a loader brings ([`LazyIndex::accept`]: page CRCs, or the whole file's SHA-256
//! when a host ignores `Range`), and searches once everything is there. Nothing enters the
//! cache before it is checked, so a failed, short or corrupt response never poisons it.
//!
//! A query runs in phases: the dictionary parts its words need (a cut dictionary only; a second
//! round for typo expansion), postings (and positions, for phrases) of its expanded terms, then
//! the hit-display chunks of its top hits (none when the dictionary holds them). Each phase is
//! one request per data file it touches, or fewer; pages already cached cost nothing.
//!
//! [`Loader`] is the I/O side natively (a directory, or memory); the wasm binding drives the
//! same steps with `fetch`.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::cache::{CacheStats, PageCache};
use crate::error::Error;
use crate::index::{DataFile, DataSource, Index, Pages};
use crate::search::{Prepared, SearchOptions, SearchResults, Searcher};
use crate::split::{check_file, unpack_file, Manifest, PACK_HEADER_LEN};

/// Pages left unfetched between two needed ranges before they become separate requests.
pub const MAX_GAP_PAGES: u32 = 4;

/// Rounds of dictionary-part fetches one query may take: its words' exact and prefix lookups,
/// then the first-character parts of the words that need typo expansion.
pub const MAX_DICTIONARY_ROUNDS: usize = 3;

/// Default cache budget natively and in browsers.
pub const DEFAULT_CACHE_BYTES: usize = 32 << 20;

/// What can go wrong while loading a split index.
#[derive(Debug)]
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

/// Cache key: (file identity from its content hash, page number).
pub type PageKey = (u64, u32);

/// One request of a fetch plan: a byte range of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The data file.
    pub file: DataFile,
    /// Its name (relative to the manifest).
    pub name: String,
    /// Byte range within the file (pack header included), for an HTTP `Range` header.
    pub range: Range<u64>,
    /// The pages it covers.
    pub pages: Range<u32>,
}

/// The pages one search reads, shared with the cache (no copies).
#[derive(Default)]
pub struct WorkingSet {
    pages: HashMap<(DataFile, u32), Arc<[u8]>>,
    page_size: u64,
}

impl WorkingSet {
    /// Bytes of page data held.
    pub fn bytes(&self) -> usize {
        self.pages.values().map(|p| p.len()).sum()
    }
}

impl DataSource for WorkingSet {
    fn read(&self, file: DataFile, range: Range<u64>) -> crate::Result<std::borrow::Cow<'_, [u8]>> {
        if range.start >= range.end {
            return Ok(std::borrow::Cow::Borrowed(&[]));
        }
        let ps = self.page_size;
        let missing = || Error::NotLoaded {
            file: file.name(),
            start: range.start,
            end: range.end,
        };
        if ps == 0 {
            return Err(missing()); // nothing planned yet, so nothing loaded
        }
        let (first, last) = ((range.start / ps) as u32, ((range.end - 1) / ps) as u32);
        if first == last {
            let p = self.pages.get(&(file, first)).ok_or_else(missing)?;
            let a = (range.start - first as u64 * ps) as usize;
            let b = (range.end - first as u64 * ps) as usize;
            return p
                .get(a..b)
                .map(std::borrow::Cow::Borrowed)
                .ok_or_else(missing);
        }
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        for page in first..=last {
            let p = self.pages.get(&(file, page)).ok_or_else(missing)?;
            let base = page as u64 * ps;
            let a = range.start.max(base) - base;
            let b = range.end.min(base + p.len() as u64) - base;
            out.extend_from_slice(p.get(a as usize..b as usize).ok_or_else(missing)?);
        }
        Ok(std::borrow::Cow::Owned(out))
    }
}

/// Request and transfer counters of a lazy index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
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
}

/// One version of a split index: its manifest and its resident dictionary.
pub struct Version {
    /// The manifest it was opened from.
    pub manifest: Manifest,
    /// The dictionary.
    pub index: Index<Vec<u8>>,
    ids: [u64; 5],
}

impl Version {
    /// Checks the manifest and the dictionary's bytes and opens it.
    pub fn open(manifest: Manifest, dictionary: Vec<u8>) -> crate::Result<Version> {
        manifest.validate()?;
        check_file(&manifest.dictionary, &dictionary)?;
        let index = Index::open(dictionary)?;
        index.verify()?;
        let pages = index
            .pages()
            .ok_or_else(|| Error::corrupt("the manifest's dictionary has no page table"))?;
        for f in DataFile::ALL {
            let entry = manifest.data_file(f);
            if entry.size != PACK_HEADER_LEN + pages.files[f as usize].0 {
                return Err(Error::corrupt(format!(
                    "{} is {} bytes, its page table says {}",
                    entry.name, entry.size, pages.files[f as usize].0
                )));
            }
        }
        let id =
            |f: DataFile| u64::from_str_radix(&manifest.data_file(f).sha256[..16], 16).unwrap_or(0);
        let ids = DataFile::ALL.map(id);
        Ok(Version {
            manifest,
            index,
            ids,
        })
    }

    fn pages(&self) -> &Pages {
        self.index.pages().expect("checked at open")
    }

    /// The cache key of a page.
    pub fn key(&self, file: DataFile, page: u32) -> PageKey {
        (self.ids[file as usize], page)
    }

    /// Pages that `needs` touches, per file, ascending. A range past the end of its file (a
    /// damaged dictionary) is an error, not a request.
    pub fn pages_of(
        &self,
        needs: &[(DataFile, Range<u64>)],
    ) -> crate::Result<Vec<(DataFile, u32)>> {
        let pages = self.pages();
        let ps = pages.page_size as u64;
        let mut out = Vec::new();
        for (file, r) in needs {
            if r.start >= r.end {
                continue;
            }
            let len = pages.files[*file as usize].0;
            if r.end > len {
                return Err(Error::Truncated {
                    what: file.name(),
                    needed: r.end,
                    available: len,
                });
            }
            for p in r.start / ps..=(r.end - 1) / ps {
                out.push((*file, p as u32));
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Coalesces missing pages into requests: runs separated by at most [`MAX_GAP_PAGES`].
    pub fn requests(&self, missing: &[(DataFile, u32)]) -> Vec<Request> {
        let pages = self.pages();
        let ps = pages.page_size as u64;
        let mut out: Vec<Request> = Vec::new();
        for &(file, page) in missing {
            if let Some(last) = out.last_mut() {
                if last.file == file && page <= last.pages.end + MAX_GAP_PAGES {
                    last.pages.end = page + 1;
                    continue;
                }
            }
            out.push(Request {
                file,
                name: self.manifest.data_file(file).name.clone(),
                range: 0..0,
                pages: page..page + 1,
            });
        }
        for r in &mut out {
            let len = pages.files[r.file as usize].0;
            let start = r.pages.start as u64 * ps;
            let end = (r.pages.end as u64 * ps).min(len);
            r.range = PACK_HEADER_LEN + start..PACK_HEADER_LEN + end;
        }
        out
    }

    /// Checks a response to `req` and returns its pages. `body` is either exactly the range
    /// asked for (HTTP 206) or the whole file (a host that ignores `Range`).
    pub fn check(&self, req: &Request, body: &[u8]) -> crate::Result<Vec<(u32, Arc<[u8]>)>> {
        let pages = self.pages();
        let ps = pages.page_size as u64;
        let (len, crcs) = &pages.files[req.file as usize];
        let entry = self.manifest.data_file(req.file);
        let want = req.range.end - req.range.start;
        let (data, base): (&[u8], u64) = if body.len() as u64 == want {
            (body, req.range.start - PACK_HEADER_LEN)
        } else if body.len() as u64 == entry.size {
            check_file(entry, body)?;
            let data = unpack_file(req.file, body)?;
            let start = (req.range.start - PACK_HEADER_LEN) as usize;
            let slice = data
                .get(start..start + want as usize)
                .ok_or(Error::Truncated {
                    what: "fetched file",
                    needed: (start as u64) + want,
                    available: data.len() as u64,
                })?;
            (slice, start as u64)
        } else {
            return Err(Error::Truncated {
                what: "fetched range",
                needed: want,
                available: body.len() as u64,
            });
        };
        let mut out = Vec::with_capacity(req.pages.len());
        let short = || Error::Truncated {
            what: "fetched range",
            needed: want,
            available: data.len() as u64,
        };
        for page in req.pages.clone() {
            let a = page as u64 * ps;
            let b = (a + ps).min(*len);
            let bytes = data
                .get((a.saturating_sub(base)) as usize..(b.saturating_sub(base)) as usize)
                .ok_or_else(short)?;
            let found = crate::codec::crc32(bytes);
            let expected = *crcs.get(page as usize).ok_or_else(short)?;
            if found != expected {
                return Err(Error::ChecksumMismatch {
                    section: req.file.name(),
                    expected,
                    found,
                });
            }
            out.push((page, Arc::from(bytes)));
        }
        Ok(out)
    }
}

/// The native, synchronous side of loading: brings a file or a byte range of it.
pub trait Loader {
    /// The bytes of `name` (relative to the manifest), the whole file or `range` of it.
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError>;
}

/// Files from a directory.
pub struct DirLoader(pub std::path::PathBuf);

impl Loader for DirLoader {
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        if name != "manifest.json" && !crate::split::valid_file_name(name) {
            return Err(LoadError::Index(Error::corrupt(format!(
                "refusing file name {name:?}"
            ))));
        }
        let path = self.0.join(name);
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::Http {
                name: name.into(),
                status: 404,
            },
            _ => LoadError::Network {
                name: name.into(),
                message: e.to_string(),
            },
        };
        match range {
            None => std::fs::read(&path).map_err(io),
            Some(r) => {
                use std::io::{Read, Seek, SeekFrom};
                let mut f = std::fs::File::open(&path).map_err(io)?;
                f.seek(SeekFrom::Start(r.start)).map_err(io)?;
                let mut buf = Vec::new();
                f.take(r.end - r.start).read_to_end(&mut buf).map_err(io)?;
                Ok(buf)
            }
        }
    }
}

/// Files held in memory; counts requests and bytes (for tests and benchmarks).
#[derive(Default)]
pub struct MemoryLoader {
    /// The files.
    pub files: HashMap<String, Vec<u8>>,
    /// Requests served.
    pub requests: u64,
    /// Bytes served.
    pub bytes: u64,
    /// Every request, in order: (name, range).
    pub log: Vec<(String, Option<Range<u64>>)>,
}

impl MemoryLoader {
    /// A loader serving a split index: its manifest and every file.
    pub fn from_split(split: &crate::split::SplitOutput) -> Self {
        let mut l = MemoryLoader::default();
        l.files.insert(
            "manifest.json".into(),
            serde_json::to_vec(&split.manifest).expect("a manifest serializes"),
        );
        for (name, bytes) in &split.files {
            l.files.insert(name.clone(), bytes.clone());
        }
        l
    }
}

impl Loader for MemoryLoader {
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        self.requests += 1;
        self.log.push((name.to_string(), range.clone()));
        let f = self.files.get(name).ok_or_else(|| LoadError::Http {
            name: name.into(),
            status: 404,
        })?;
        let out = match range {
            None => f.clone(),
            Some(r) => f
                .get(r.start as usize..(r.end as usize).min(f.len()))
                .unwrap_or(&[])
                .to_vec(),
        };
        self.bytes += out.len() as u64;
        Ok(out)
    }
}

/// A split index, searched through a [`Loader`], with a byte-budgeted page cache.
pub struct LazyIndex {
    version: Arc<Version>,
    cache: PageCache<PageKey>,
    stats: LoadStats,
    /// Files that failed with a non-retryable status, until the next refresh.
    failed: HashMap<String, u16>,
}

impl LazyIndex {
    /// A lazy index over an opened version, with a cache of `cache_bytes`.
    pub fn new(version: Version, cache_bytes: usize) -> Self {
        LazyIndex {
            version: Arc::new(version),
            cache: PageCache::new(cache_bytes),
            stats: LoadStats::default(),
            failed: HashMap::new(),
        }
    }

    /// Swaps to another version; searches holding the old one finish on it.
    pub fn set_version(&mut self, version: Version) {
        self.version = Arc::new(version);
        self.failed.clear();
    }

    /// Fetches `manifest.json` and the dictionary through `loader` and opens them.
    pub fn open(loader: &mut dyn Loader, cache_bytes: usize) -> Result<LazyIndex, LoadError> {
        let mut stats = LoadStats::default();
        let version = fetch_version(loader, &mut stats)?;
        let mut lazy = LazyIndex::new(version, cache_bytes);
        lazy.stats = stats;
        Ok(lazy)
    }

    /// The version searches start on now.
    pub fn version(&self) -> Arc<Version> {
        self.version.clone()
    }

    /// Re-reads the manifest; when it names another dictionary, swaps to the new version.
    /// Pages of unchanged data files stay cached (their keys are content hashes). Returns
    /// whether the version changed.
    pub fn refresh(&mut self, loader: &mut dyn Loader) -> Result<bool, LoadError> {
        // A refresh is when files that failed may be there now.
        self.failed.clear();
        let bytes = self.fetch(loader, "manifest.json", None)?;
        let manifest = parse_manifest(&bytes)?;
        if manifest == self.version.manifest {
            return Ok(false);
        }
        let dict = self.fetch(loader, &manifest.dictionary.name.clone(), None)?;
        self.set_version(Version::open(manifest, dict)?);
        Ok(true)
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
    ) -> crate::Result<Vec<Request>> {
        ws.page_size = version.pages().page_size as u64;
        let mut missing = Vec::new();
        for (file, page) in version.pages_of(needs)? {
            if ws.pages.contains_key(&(file, page)) {
                continue;
            }
            match self.cache.get(&version.key(file, page)) {
                Some(p) => {
                    ws.pages.insert((file, page), p);
                }
                None => missing.push((file, page)),
            }
        }
        Ok(version.requests(&missing))
    }

    /// Checks a response and adds its pages to `ws` and the cache.
    pub fn accept(
        &mut self,
        version: &Version,
        req: &Request,
        body: &[u8],
        ws: &mut WorkingSet,
    ) -> crate::Result<()> {
        let pages = version
            .check(req, body)
            .inspect_err(|_| self.stats.rejected += 1)?;
        for (page, bytes) in pages {
            self.cache
                .insert(version.key(req.file, page), bytes.clone());
            ws.pages.insert((req.file, page), bytes);
        }
        Ok(())
    }

    /// Adds pages already checked by [`Version::check`] to `ws` and the cache.
    pub fn insert_pages(
        &mut self,
        version: &Version,
        file: DataFile,
        pages: &[(u32, Arc<[u8]>)],
        ws: &mut WorkingSet,
    ) {
        for (page, bytes) in pages {
            self.cache.insert(version.key(file, *page), bytes.clone());
            ws.pages.insert((file, *page), bytes.clone());
        }
    }

    /// Counts a rejected response.
    pub fn count_rejected(&mut self) {
        self.stats.rejected += 1;
    }

    /// Counts a finished request (for loaders that run outside `LazyIndex::fetch`).
    pub fn count(&mut self, bytes: u64, retried: bool, aborted: bool) {
        self.stats.requests += 1;
        self.stats.bytes_fetched += bytes;
        self.stats.retries += retried as u64;
        self.stats.aborted += aborted as u64;
    }

    /// Whether `name` failed before with a status that will not change until a refresh.
    pub fn failed(&self, name: &str) -> Option<u16> {
        self.failed.get(name).copied()
    }

    /// Forgets remembered failures (a refresh: the files may be there now).
    pub fn forget_failures(&mut self) {
        self.failed.clear();
    }

    /// Remembers a non-retryable failure of `name` (a 404, say), so it is not fetched again.
    pub fn remember_failure(&mut self, name: &str, status: u16) {
        self.failed.insert(name.to_string(), status);
    }

    fn fetch(
        &mut self,
        loader: &mut dyn Loader,
        name: &str,
        range: Option<Range<u64>>,
    ) -> Result<Vec<u8>, LoadError> {
        if let Some(status) = self.failed(name) {
            return Err(LoadError::Http {
                name: name.into(),
                status,
            });
        }
        match loader.fetch(name, range) {
            Ok(b) => {
                self.count(b.len() as u64, false, false);
                Ok(b)
            }
            Err(e) => {
                self.count(0, false, false);
                if let LoadError::Http { status, .. } = &e {
                    if !e.is_retryable() {
                        self.remember_failure(name, *status);
                    }
                }
                Err(e)
            }
        }
    }

    /// Fetches what `needs` lacks into `ws`.
    fn load(
        &mut self,
        loader: &mut dyn Loader,
        version: &Version,
        needs: &[(DataFile, Range<u64>)],
        ws: &mut WorkingSet,
    ) -> Result<(), LoadError> {
        for req in self.plan(version, needs, ws)? {
            let body = self.fetch(loader, &req.name, Some(req.range.clone()))?;
            self.accept(version, &req, &body, ws)?;
        }
        Ok(())
    }

    /// Answers `query`: dictionary parts, postings, scoring, hit display.
    pub fn search(
        &mut self,
        loader: &mut dyn Loader,
        query: &str,
        opts: &SearchOptions,
    ) -> Result<SearchResults, LoadError> {
        let version = self.version.clone();
        let index = &version.index;
        let mut ws = WorkingSet::default();
        let mut prepared: Prepared = Searcher::with_source(index, &ws).prepare(query, opts)?;
        // A cut dictionary: fetch the parts the query's words need, then prepare again.
        for _ in 0..MAX_DICTIONARY_ROUNDS {
            if prepared.dictionary_needs().is_empty() {
                break;
            }
            let parts = prepared.dictionary_needs().to_vec();
            self.load(loader, &version, &parts, &mut ws)?;
            prepared = Searcher::with_source(index, &ws).prepare(query, opts)?;
        }
        // Never expected after the rounds: each fetches all it asked for.
        prepared.require_complete()?;
        let needs = prepared.needs()?;
        self.load(loader, &version, &needs, &mut ws)?;
        let (total, top) = Searcher::with_source(index, &ws).execute(&prepared, opts)?;
        let stored = Searcher::with_source(index, &ws).stored_needs(&top)?;
        self.load(loader, &version, &stored, &mut ws)?;
        let hits = Searcher::with_source(index, &ws).hits(&top)?;
        Ok(SearchResults { total, hits })
    }

    /// Loads whole data files in [`DataFile::PREFETCH_ORDER`] (dictionary parts, hit display,
    /// postings, positions, store), each when it fits in the cache budget. Returns the bytes
    /// now cached.
    pub fn prefetch(&mut self, loader: &mut dyn Loader) -> Result<u64, LoadError> {
        let version = self.version.clone();
        for file in DataFile::PREFETCH_ORDER {
            if let Some(range) = self.prefetch_range(&version, file) {
                let mut ws = WorkingSet::default();
                self.load(loader, &version, &[(file, range)], &mut ws)?;
            }
        }
        Ok(self.cache.bytes_held() as u64)
    }

    /// The whole data range of `file` when all its pages, charged as the cache charges them,
    /// fit in the room left in the budget (so prefetching never evicts); else `None`.
    pub fn prefetch_range(&self, version: &Version, file: DataFile) -> Option<Range<u64>> {
        let pages = version.pages();
        let len = pages.files[file as usize].0;
        let charge = pages.files[file as usize].1.len() as u64
            * (pages.page_size as u64 + crate::cache::ENTRY_OVERHEAD as u64);
        let room = self.cache.budget().saturating_sub(self.cache.bytes_held()) as u64;
        (len > 0 && charge <= room).then_some(0..len)
    }
}

/// Parses and checks `manifest.json`.
pub fn parse_manifest(bytes: &[u8]) -> crate::Result<Manifest> {
    if bytes.len() > crate::split::MAX_MANIFEST_BYTES {
        return Err(Error::LimitExceeded {
            what: "manifest bytes",
            limit: crate::split::MAX_MANIFEST_BYTES as u64,
        });
    }
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| Error::InvalidConfig {
        message: format!("manifest.json is not a valid manifest: {e}"),
    })?;
    m.validate()?;
    Ok(m)
}

fn fetch_version(loader: &mut dyn Loader, stats: &mut LoadStats) -> Result<Version, LoadError> {
    let bytes = loader.fetch("manifest.json", None)?;
    stats.requests += 1;
    stats.bytes_fetched += bytes.len() as u64;
    let manifest = parse_manifest(&bytes)?;
    let dict = loader.fetch(&manifest.dictionary.name, None)?;
    stats.requests += 1;
    stats.bytes_fetched += dict.len() as u64;
    Ok(Version::open(manifest, dict)?)
}
