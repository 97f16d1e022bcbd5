//! `KnowledgeBase`: an index searchable from JavaScript, whole (one file) or split (a
//! manifest, a resident dictionary and data fetched in ranges on demand).

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use js_sys::{Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use super::abort::{abort_error, abortable};
use super::error::{js_error, JsErr};
use super::fetch::{join_all, FetchOptions, Http, NetStats};
use crate::index::DataFile;
use crate::lazy::{LazyIndex, LoadError, Request, Version, WorkingSet};
use crate::split::Manifest;
use crate::{Index, SearchOptions, SearchResults, Searcher};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Options of `KnowledgeBase.search`. */
export interface SearchOptions {
  /** Hits to return (default 10). */
  limit?: number;
  /** Match the last word as a prefix while it is typed (default true). */
  prefix?: boolean;
  /** Typo tolerance (default true). */
  typos?: boolean;
  /** Rank documents matching any word (OR) instead of AND with fallback (default false). */
  any?: boolean;
  /** Aborting rejects the search with an `AbortError` and aborts its fetches (unless another
   *  search still waits on them). */
  signal?: AbortSignal;
}
/** One result. */
export interface Hit { id: string; title: string; url: string; score: number; }
/** The answer to a query. */
export interface SearchResults { total: number; hits: Hit[]; }
/** Options of `KnowledgeBase.open`. */
export interface OpenOptions {
  signal?: AbortSignal;
  /** Cache budget in bytes for a split index (default 32 MiB; 16 MiB in Cloudflare Workers). */
  cacheBytes?: number;
  /** Per-request timeout (default 10000 ms). */
  timeoutMs?: number;
  /** Retries of a failed request (default 3). */
  retries?: number;
  /** First backoff delay (default 100 ms), doubled per retry, with jitter. */
  backoffMs?: number;
  /**
   * Searches needing the same byte range wait on one fetch (default true; false in Cloudflare
   * Workers, where a fetch belongs to the request that started it, so requests must not share
   * one).
   */
  shareFetches?: boolean;
}
/** Counters of `KnowledgeBase.stats()`. */
export interface Stats {
  split: boolean; hits: number; misses: number; evictions: number; bytesHeld: number;
  budget: number; entries: number; requests: number; bytesFetched: number; retries: number;
  aborted: number; rejected: number; inFlight: number;
}
"#;

type Pages = Rc<Vec<(u32, Arc<[u8]>)>>;

struct Split {
    base: String,
    manifest_url: String,
    lazy: RefCell<LazyIndex>,
    pages: Http<Pages>,
    files: Http<Rc<Vec<u8>>>,
    stats: Rc<RefCell<NetStats>>,
}

enum Inner {
    Single(Index<Vec<u8>>),
    Split(Split),
}

/// An opened knowledge-base index.
#[wasm_bindgen]
pub struct KnowledgeBase {
    inner: Rc<Inner>,
}

fn get(options: &JsValue, key: &str) -> JsValue {
    if options.is_object() {
        Reflect::get(options, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn number(options: &JsValue, key: &str, min: f64, max: f64) -> Result<Option<f64>, JsErr> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= min && n <= max && n.fract() == 0.0 => Ok(Some(n)),
        _ => Err(js_error(
            "InvalidArgument",
            &format!("option {key} must be an integer from {min} to {max}"),
        )
        .into()),
    }
}

fn flag(options: &JsValue, key: &str, default: bool) -> Result<bool, JsErr> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    v.as_bool().ok_or_else(|| {
        js_error(
            "InvalidArgument",
            &format!("option {key} must be true or false"),
        )
        .into()
    })
}

fn signal_of(options: &JsValue) -> Result<Option<web_sys::AbortSignal>, JsErr> {
    let v = get(options, "signal");
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<web_sys::AbortSignal>()
        .map(Some)
        .map_err(|_| js_error("InvalidArgument", "option signal must be an AbortSignal").into())
}

fn search_options(options: &JsValue) -> Result<SearchOptions, JsErr> {
    let d = SearchOptions::default();
    Ok(SearchOptions {
        limit: number(options, "limit", 0.0, 10_000.0)?
            .map(|n| n as usize)
            .unwrap_or(d.limit),
        prefix: flag(options, "prefix", d.prefix)?,
        typos: flag(options, "typos", d.typos)?,
        any: flag(options, "any", d.any)?,
    })
}

fn in_workers() -> bool {
    Reflect::get(&js_sys::global(), &"navigator".into())
        .ok()
        .and_then(|n| Reflect::get(&n, &"userAgent".into()).ok())
        .and_then(|u| u.as_string())
        .is_some_and(|u| u == "Cloudflare-Workers")
}

fn load_error(e: LoadError, signal: Option<&web_sys::AbortSignal>) -> JsValue {
    match e {
        LoadError::Aborted => abort_error(signal),
        other => js_error(other.code(), &other.to_string()),
    }
}

fn failure(f: super::fetch::Failure, signal: Option<&web_sys::AbortSignal>) -> JsValue {
    match f.into_load_error() {
        Ok(e) => load_error(e, signal),
        Err((code, message)) => js_error(code, &message),
    }
}

fn to_js(results: &SearchResults) -> Result<JsValue, JsValue> {
    Ok(results
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(JsErr::from)?)
}

fn from_vec(bytes: Vec<u8>) -> Result<KnowledgeBase, JsErr> {
    let index = Index::open(bytes)?;
    index.verify()?;
    if index.is_split() {
        return Err(js_error(
            "InvalidArgument",
            "this is the dictionary of a split index: open its manifest.json instead",
        )
        .into());
    }
    Ok(KnowledgeBase {
        inner: Rc::new(Inner::Single(index)),
    })
}

impl Split {
    fn url(&self, name: &str) -> String {
        format!("{}{name}", self.base)
    }

    /// Fetches what `needs` lacks into `ws` (one request per coalesced range, all at once).
    async fn load(
        &self,
        version: &Arc<Version>,
        needs: &[(DataFile, Range<u64>)],
        ws: &mut WorkingSet,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<(), JsValue> {
        let requests: Vec<Request> = self
            .lazy
            .borrow_mut()
            .plan(version, needs, ws)
            .map_err(JsErr::from)?;
        if requests.is_empty() {
            return Ok(());
        }
        for r in &requests {
            if let Some(status) = self.lazy.borrow().failed(&r.name) {
                return Err(load_error(
                    LoadError::Http {
                        name: r.name.clone(),
                        status,
                    },
                    signal,
                ));
            }
        }
        let waiters: Vec<_> = requests
            .iter()
            .map(|r| {
                let (v, req) = (version.clone(), r.clone());
                self.pages.get(
                    &r.name,
                    self.url(&r.name),
                    Some(r.range.clone()),
                    false,
                    move |body| {
                        v.check(&req, body)
                            .map(Rc::new)
                            .map_err(|e| (e.code(), e.to_string()))
                    },
                )
            })
            .collect();
        let results = join_all(waiters).await;
        for (req, result) in requests.iter().zip(results) {
            match result {
                Ok(pages) => self
                    .lazy
                    .borrow_mut()
                    .insert_pages(version, req.file, &pages, ws),
                Err(f) => {
                    if let super::fetch::Failure::Http { status, .. } = &f {
                        if *status < 500 && *status != 429 {
                            self.lazy.borrow_mut().remember_failure(&req.name, *status);
                        }
                    }
                    return Err(failure(f, signal));
                }
            }
        }
        Ok(())
    }

    async fn search(
        &self,
        query: String,
        opts: SearchOptions,
        signal: Option<web_sys::AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        let version = self.lazy.borrow().version();
        let index = &version.index;
        let mut ws = WorkingSet::default();
        let mut prepared = Searcher::with_source(index, &ws)
            .prepare(&query, &opts)
            .map_err(JsErr::from)?;
        // A cut dictionary: fetch the parts the query's words need, then prepare again.
        for _ in 0..crate::lazy::MAX_DICTIONARY_ROUNDS {
            if prepared.dictionary_needs().is_empty() {
                break;
            }
            let parts = prepared.dictionary_needs().to_vec();
            self.load(&version, &parts, &mut ws, signal.as_ref())
                .await?;
            prepared = Searcher::with_source(index, &ws)
                .prepare(&query, &opts)
                .map_err(JsErr::from)?;
        }
        prepared.require_complete().map_err(JsErr::from)?;
        let needs = prepared.needs().map_err(JsErr::from)?;
        self.load(&version, &needs, &mut ws, signal.as_ref())
            .await?;
        let (total, top) = Searcher::with_source(index, &ws)
            .execute(&prepared, &opts)
            .map_err(JsErr::from)?;
        let stored = Searcher::with_source(index, &ws)
            .stored_needs(&top)
            .map_err(JsErr::from)?;
        self.load(&version, &stored, &mut ws, signal.as_ref())
            .await?;
        let hits = Searcher::with_source(index, &ws)
            .hits(&top)
            .map_err(JsErr::from)?;
        to_js(&SearchResults { total, hits })
    }
}

async fn fetch_file(
    files: &Http<Rc<Vec<u8>>>,
    name: &str,
    url: String,
    no_store: bool,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Rc<Vec<u8>>, JsValue> {
    files
        .get(name, url, None, no_store, |b| Ok(Rc::new(b.to_vec())))
        .await
        .map_err(|f| failure(f, signal))
}

/// The bytes of a finished fetch, without a copy when no one else holds them.
fn unshare(bytes: Rc<Vec<u8>>) -> Vec<u8> {
    Rc::try_unwrap(bytes).unwrap_or_else(|shared| (*shared).clone())
}

/// Parses `manifest.json` with the host's `JSON.parse` (no JSON parser in the wasm).
fn parse_manifest(bytes: &[u8]) -> Result<Manifest, JsValue> {
    if bytes.len() > crate::split::MAX_MANIFEST_BYTES {
        return Err(JsErr::from(crate::Error::LimitExceeded {
            what: "manifest bytes",
            limit: crate::split::MAX_MANIFEST_BYTES as u64,
        })
        .into());
    }
    let bad = |m: String| {
        JsValue::from(JsErr::from(crate::Error::InvalidConfig {
            message: format!("manifest.json is not a valid manifest: {m}"),
        }))
    };
    let text = std::str::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
    let value = js_sys::JSON::parse(text).map_err(|_| bad("not JSON".into()))?;
    let manifest: Manifest =
        serde_wasm_bindgen::from_value(value).map_err(|e| bad(e.to_string()))?;
    manifest.validate().map_err(JsErr::from)?;
    Ok(manifest)
}

/// Fetches the manifest at `manifest_url` and the dictionary it names, and opens them.
async fn fetch_version(
    files: &Http<Rc<Vec<u8>>>,
    manifest_url: &str,
    base: &str,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Version, JsValue> {
    let bytes = fetch_file(
        files,
        "manifest.json",
        manifest_url.to_string(),
        true,
        signal,
    )
    .await?;
    let manifest = parse_manifest(&bytes)?;
    let name = manifest.dictionary.name.clone();
    let dict = fetch_file(files, &name, format!("{base}{name}"), false, signal).await?;
    Ok(Version::open(manifest, unshare(dict)).map_err(JsErr::from)?)
}

#[wasm_bindgen]
impl KnowledgeBase {
    /// Opens a single-file index from its bytes (checks every checksum).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<KnowledgeBase, JsValue> {
        // Taken by value: the bytes are copied into wasm memory once, not twice.
        Ok(from_vec(bytes)?)
    }

    /// Opens an index over the global `fetch`: a URL ending in `.json` is a split index's
    /// manifest (the dictionary is fetched now, the rest on demand); anything else is a
    /// single-file index, fetched whole.
    #[wasm_bindgen(unchecked_return_type = "Promise<KnowledgeBase>")]
    pub fn open(
        url: String,
        #[wasm_bindgen(unchecked_param_type = "OpenOptions | undefined")] options: JsValue,
    ) -> Promise {
        future_to_promise(async move {
            let signal = signal_of(&options)?;
            let d = FetchOptions::default();
            let fetch_options = FetchOptions {
                timeout_ms: number(&options, "timeoutMs", 1.0, 600_000.0)?
                    .map(|n| n as u32)
                    .unwrap_or(d.timeout_ms),
                retries: number(&options, "retries", 0.0, 10.0)?
                    .map(|n| n as u32)
                    .unwrap_or(d.retries),
                backoff_ms: number(&options, "backoffMs", 0.0, 60_000.0)?
                    .map(|n| n as u32)
                    .unwrap_or(d.backoff_ms),
                share: flag(&options, "shareFetches", !in_workers())?,
            };
            let default_cache = if in_workers() {
                16 << 20
            } else {
                crate::lazy::DEFAULT_CACHE_BYTES
            };
            let cache_bytes = number(&options, "cacheBytes", 0.0, 4_294_967_295.0)?
                .map(|n| n as usize)
                .unwrap_or(default_cache);
            let stats = Rc::new(RefCell::new(NetStats::default()));
            let path = url.split(['?', '#']).next().unwrap_or("");
            if !path.ends_with(".json") {
                let files: Http<Rc<Vec<u8>>> = Http::new(fetch_options, stats);
                let s = signal.clone();
                let bytes = abortable(signal, async move {
                    files
                        .get(&url, url.clone(), None, false, |b| Ok(Rc::new(b.to_vec())))
                        .await
                        .map_err(|f| failure(f, s.as_ref()))
                })
                .await?;
                return Ok(from_vec(unshare(bytes))?.into());
            }
            let base = match url.rfind('/') {
                Some(i) => url[..=i].to_string(),
                None => String::new(),
            };
            let files: Http<Rc<Vec<u8>>> = Http::new(fetch_options, stats.clone());
            let s = signal.clone();
            let version = abortable(signal, async {
                fetch_version(&files, &url, &base, s.as_ref()).await
            })
            .await?;
            let split = Split {
                base,
                manifest_url: url.clone(),
                lazy: RefCell::new(LazyIndex::new(version, cache_bytes)),
                pages: Http::new(fetch_options, stats.clone()),
                files,
                stats,
            };
            Ok(KnowledgeBase {
                inner: Rc::new(Inner::Split(split)),
            }
            .into())
        })
    }

    /// Number of documents.
    #[wasm_bindgen(getter, js_name = docCount)]
    pub fn doc_count(&self) -> u32 {
        match &*self.inner {
            Inner::Single(i) => i.doc_count(),
            Inner::Split(s) => s.lazy.borrow().version().index.doc_count(),
        }
    }

    /// Searches. Never fails on a malformed query; rejects on a damaged index, a network
    /// failure after its retries, a hit budget, or an abort (`AbortError`).
    #[wasm_bindgen(unchecked_return_type = "Promise<SearchResults>")]
    pub fn search(
        &self,
        query: String,
        #[wasm_bindgen(unchecked_param_type = "SearchOptions | undefined")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let opts = search_options(&options)?;
            let signal = signal_of(&options)?;
            match &*inner {
                Inner::Single(index) => {
                    if signal.as_ref().is_some_and(|s| s.aborted()) {
                        return Err(abort_error(signal.as_ref()));
                    }
                    let r = Searcher::new(index)
                        .search(&query, &opts)
                        .map_err(JsErr::from)?;
                    to_js(&r)
                }
                Inner::Split(split) => {
                    let s = signal.clone();
                    abortable(signal, split.search(query, opts, s)).await
                }
            }
        })
    }

    /// Cache and network counters.
    #[wasm_bindgen(unchecked_return_type = "Stats")]
    pub fn stats(&self) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: f64| {
            let _ = Reflect::set(&o, &k.into(), &v.into());
        };
        match &*self.inner {
            Inner::Single(_) => {
                let _ = Reflect::set(&o, &"split".into(), &false.into());
            }
            Inner::Split(s) => {
                let _ = Reflect::set(&o, &"split".into(), &true.into());
                let c = s.lazy.borrow().cache_stats();
                let n = *s.stats.borrow();
                set("hits", c.hits as f64);
                set("misses", c.misses as f64);
                set("evictions", c.evictions as f64);
                set("bytesHeld", c.bytes_held as f64);
                set("budget", c.budget as f64);
                set("entries", c.entries as f64);
                set("requests", n.requests as f64);
                set("bytesFetched", n.bytes_fetched as f64);
                set("retries", n.retries as f64);
                set("aborted", n.aborted as f64);
                set("rejected", n.rejected as f64);
                set(
                    "inFlight",
                    (s.pages.in_flight() + s.files.in_flight()) as f64,
                );
            }
        }
        o.into()
    }

    /// Loads whole data files in `DataFile::PREFETCH_ORDER` (dictionary parts, hit display,
    /// postings, positions, store), each when it fits in the cache budget; resolves to the bytes
    /// cached. A no-op for a single-file index.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn prefetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{signal?: AbortSignal} | undefined")]
        options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let signal = signal_of(&options)?;
            let Inner::Split(split) = &*inner else {
                return Ok(0.into());
            };
            let s = signal.clone();
            abortable(signal, async {
                let version = split.lazy.borrow().version();
                for file in DataFile::PREFETCH_ORDER {
                    let Some(range) = split.lazy.borrow().prefetch_range(&version, file) else {
                        continue;
                    };
                    let mut ws = WorkingSet::default();
                    split
                        .load(&version, &[(file, range)], &mut ws, s.as_ref())
                        .await?;
                }
                Ok((split.lazy.borrow().cache_stats().bytes_held as f64).into())
            })
            .await
        })
    }

    /// Re-reads the manifest; when it names a new version, fetches its dictionary and swaps to
    /// it. Searches already running finish on the version they started with. Resolves to
    /// whether the version changed.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{signal?: AbortSignal} | undefined")]
        options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let signal = signal_of(&options)?;
            let Inner::Split(split) = &*inner else {
                return Ok(false.into());
            };
            let s = signal.clone();
            abortable(signal, async {
                // A refresh is when files that failed may be there now.
                split.lazy.borrow_mut().forget_failures();
                let bytes = fetch_file(
                    &split.files,
                    "manifest.json",
                    split.manifest_url.clone(),
                    true,
                    s.as_ref(),
                )
                .await?;
                let manifest = parse_manifest(&bytes)?;
                if manifest == split.lazy.borrow().version().manifest {
                    return Ok(false.into());
                }
                let version =
                    fetch_version(&split.files, &split.manifest_url, &split.base, s.as_ref())
                        .await?;
                split.lazy.borrow_mut().set_version(version);
                Ok(true.into())
            })
            .await
        })
    }
}
