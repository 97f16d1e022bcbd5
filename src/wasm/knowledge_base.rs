//! `KnowledgeBase`: an index searchable from JavaScript, whole (one file) or split (a
//! manifest, a resident dictionary and data fetched in ranges on demand). Every operation on a
//! split index is a core state machine run by [`Remote::drive`]; this file only turns
//! JavaScript's arguments into them and their answers into JavaScript values. Its TypeScript
//! types are the npm package's `index.d.ts`.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::error::invalid;
use super::io::abortable;
use super::options;
use super::remote::Remote;
use crate::lazy::options::OpenOptions;
use crate::lazy::{Prefetch, Query, Shared};
use crate::Searcher;

/// An opened knowledge-base index.
#[wasm_bindgen]
pub struct KnowledgeBase {
    remote: Rc<Remote>,
}

/// Reads a manifest's JSON with the host's `JSON.parse` (no JSON parser of the manifest's types
/// in the wasm); the open checks what it says.
fn read_manifest(bytes: &[u8]) -> crate::Result<crate::split::Manifest> {
    crate::lazy::read_manifest_with(bytes, |text| {
        let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_string())?;
        crate::split::Manifest::from_tree(&value)
    })
}

#[wasm_bindgen]
impl KnowledgeBase {
    /// Opens a single-file index from its bytes (checks every checksum).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<KnowledgeBase, JsValue> {
        // Taken by value: the bytes are copied into wasm memory once, not twice.
        let shared = Shared::whole("", OpenOptions::defaults(false), bytes)?;
        let remote = Rc::new(Remote::new(shared, None));
        Ok(KnowledgeBase { remote })
    }

    /// Opens an index over `fetch`: a URL ending in `.json` is a split index's manifest (the
    /// dictionary is fetched now, the rest on demand); anything else is a single-file index,
    /// fetched whole.
    pub fn open(url: String, options: JsValue) -> Promise {
        future_to_promise(async move {
            let signal = options::signal(&options)?;
            let (settings, fetch) = options::open(&options)?;
            let mut remote = Remote::new(Shared::new(&url, settings), fetch);
            if !remote.shared.at.is_manifest() {
                let bytes = abortable(signal, remote.fetch_whole()).await?;
                remote.shared = Shared::whole(&url, settings, bytes)?;
            } else {
                let open = &mut remote.shared.open(false, read_manifest);
                let version = abortable(signal, remote.drive(open)).await?;
                if !remote.shared.opened(version) {
                    return Err(invalid("no version to open"));
                }
            }
            let remote = Rc::new(remote);
            Ok(KnowledgeBase { remote }.into())
        })
    }

    /// Number of documents.
    #[wasm_bindgen(getter, js_name = docCount)]
    pub fn doc_count(&self) -> u32 {
        self.remote.shared.doc_count()
    }

    /// The fields hits can be sorted by (`sort: "field"` or `"field:desc"`), in schema order.
    #[wasm_bindgen(getter, js_name = sortFields)]
    pub fn sort_fields(&self) -> Vec<String> {
        self.remote.shared.fields_where(|f| f.sortable)
    }

    /// The fields whose values can be counted (`facets`) and filtered on (`filter`).
    #[wasm_bindgen(getter, js_name = facetFields)]
    pub fn facet_fields(&self) -> Vec<String> {
        self.remote.shared.fields_where(|f| f.facet)
    }

    /// Searches. Never fails on a malformed query; rejects on a damaged index, a network
    /// failure after its retries, a hit budget, or an abort (`AbortError`).
    pub fn search(&self, query: String, options: JsValue) -> Promise {
        let r = self.remote.clone();
        future_to_promise(async move {
            let (opts, refine) = options::search(&options)?;
            let results = abortable(options::signal(&options)?, async {
                match &r.shared.single {
                    Some(index) => Ok(Searcher::new(index)
                        .with_refine(refine)
                        .search(&query, &opts)?),
                    None => {
                        let q = Query::new(r.shared.version()?, &query, opts);
                        r.drive(&mut q.refine(refine)).await
                    }
                }
            });
            Ok(results.await?.to_tree())
        })
    }

    /// Cache and network counters, and what the last finished operation cost on the wire.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        Ok(self.remote.shared.stats().to_tree())
    }

    /// Loads whole data files in `DataFile::PREFETCH_ORDER` (dictionary parts, hit display,
    /// postings, positions, store), each when it fits in the cache budget; resolves to the bytes
    /// cached. A no-op for a single-file index.
    pub fn prefetch(&self, options: JsValue) -> Promise {
        let r = self.remote.clone();
        future_to_promise(async move {
            let signal = options::signal(&options)?;
            if r.shared.single.is_some() {
                return Ok(0.into());
            }
            let bytes = abortable(signal, async {
                r.drive(&mut Prefetch::new(r.shared.version()?)).await
            });
            Ok((bytes.await? as f64).into())
        })
    }

    /// Re-reads the manifest; when it names a new version, fetches its dictionary and swaps to
    /// it. Searches already running finish on the version they started with. Resolves to
    /// whether the version changed.
    pub fn refresh(&self, options: JsValue) -> Promise {
        let r = self.remote.clone();
        future_to_promise(async move {
            let signal = options::signal(&options)?;
            if r.shared.single.is_some() {
                return Ok(false.into());
            }
            let version =
                abortable(signal, r.drive(&mut r.shared.open(true, read_manifest))).await?;
            Ok(r.shared.opened(version).into())
        })
    }
}

/// A snippet as HTML: its text escaped (`&`, `<`, `>`, `"`, `'`), the highlights in
/// `<mark>…</mark>` (ranges out of order, overlapping or past the text are clipped or skipped).
#[wasm_bindgen(js_name = highlightHtml)]
pub fn highlight_html(text: String, highlights: JsValue) -> Result<String, JsValue> {
    let whole = |v: &JsValue| {
        let n = v.as_f64()?;
        (n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n)).then_some(n as u32)
    };
    let pair = |v: &JsValue| {
        let p = super::value::list(v, 2, whole)?;
        Some([*p.first()?, *p.get(1)?])
    };
    let ranges = super::value::list(&highlights, usize::MAX, pair)
        .ok_or_else(|| invalid("highlights must be an array of [start, end] pairs of integers"))?;
    Ok(crate::search::highlight_html(&text, &ranges))
}

/// Counts of this engine's expensive steps so far (one searcher state and one parse per query,
/// one walk per dictionary part that arrives): diagnostics for tests.
#[wasm_bindgen(js_name = engineCounts)]
pub fn engine_counts() -> Result<JsValue, JsValue> {
    Ok(crate::counters::counts().to_tree())
}
