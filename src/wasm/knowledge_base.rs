//! `KnowledgeBase`: an index searchable from JavaScript, whole (one file) or split (a
//! manifest, a resident dictionary and data fetched in ranges on demand). Every operation on a
//! split index is a core state machine run by [`Remote::drive`]; this file only turns
//! JavaScript's arguments into them and their answers into JavaScript values.

use std::rc::Rc;
use std::sync::Arc;

use js_sys::Promise;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::abort::abortable;
use super::error::{invalid, JsErr};
use super::options;
use super::remote::Remote;
use crate::lazy::{Open, Prefetch, Query, Stats};
use crate::{Index, Searcher};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("types.d.ts");

enum Inner {
    Single(Index<Vec<u8>>),
    Split(Remote),
}

/// An opened knowledge-base index.
#[wasm_bindgen]
pub struct KnowledgeBase {
    inner: Rc<Inner>,
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let json = serde_wasm_bindgen::Serializer::json_compatible();
    Ok(value
        .serialize(&json)
        .map_err(|e| invalid(&format!("invalid value: {e}")))?)
}

fn from_vec(bytes: Vec<u8>) -> Result<KnowledgeBase, JsErr> {
    let index = Index::open(bytes)?;
    index.verify()?;
    if index.is_split() {
        let split = "this is the dictionary of a split index: open its manifest.json instead";
        return Err(invalid(split));
    }
    let inner = Rc::new(Inner::Single(index));
    Ok(KnowledgeBase { inner })
}

/// Parses `manifest.json` with the host's `JSON.parse` (no JSON parser in the wasm).
fn parse_manifest(bytes: &[u8]) -> crate::Result<crate::split::Manifest> {
    crate::lazy::parse_manifest_with(bytes, |text| {
        let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_string())?;
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
    })
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
            let signal = options::signal(&options)?;
            let remote = Remote::new(&url, options::open(&options)?);
            if !url
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .ends_with(".json")
            {
                let bytes = abortable(signal, remote.fetch_whole()).await?;
                return Ok(from_vec(bytes)?.into());
            }
            let mut open = Open::new(parse_manifest, None);
            let version = abortable(signal, remote.drive(&mut open)).await?;
            let version = version.ok_or_else(|| invalid("no version to open"))?;
            *remote.version.borrow_mut() = Some(Arc::new(version));
            let inner = Rc::new(Inner::Split(remote));
            Ok(KnowledgeBase { inner }.into())
        })
    }

    /// Number of documents.
    #[wasm_bindgen(getter, js_name = docCount)]
    pub fn doc_count(&self) -> u32 {
        match &*self.inner {
            Inner::Single(i) => i.doc_count(),
            Inner::Split(r) => r.version().map_or(0, |v| v.index.doc_count()),
        }
    }

    /// The fields hits can be sorted by (`sort: "field"` or `"field:desc"`), in schema order.
    #[wasm_bindgen(getter, js_name = sortFields)]
    pub fn sort_fields(&self) -> Vec<String> {
        self.fields_where(|f| f.sortable)
    }

    /// The fields whose values can be counted (`facets`) and filtered on (`filter`).
    #[wasm_bindgen(getter, js_name = facetFields)]
    pub fn facet_fields(&self) -> Vec<String> {
        self.fields_where(|f| f.facet)
    }

    fn fields_where(&self, keep: fn(&crate::FieldOptions) -> bool) -> Vec<String> {
        let names = |s: &crate::Schema| -> Vec<String> {
            s.fields()
                .iter()
                .filter(|f| keep(f))
                .map(|f| f.name.clone())
                .collect()
        };
        match &*self.inner {
            Inner::Single(i) => names(i.schema()),
            Inner::Split(r) => r.version().map_or(Vec::new(), |v| names(v.index.schema())),
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
            let opts = options::search(&options)?;
            let refine = options::refine(&options)?;
            let results = abortable(options::signal(&options)?, async {
                match &*inner {
                    Inner::Single(index) => Ok(Searcher::new(index)
                        .with_refine(refine)
                        .search(&query, &opts)?),
                    Inner::Split(r) => {
                        let mut q = Query::new(r.version()?, &query, opts).refine(refine);
                        r.drive(&mut q).await
                    }
                }
            });
            to_js(&results.await?)
        })
    }

    /// Cache and network counters, and what the last finished operation cost on the wire.
    #[wasm_bindgen(unchecked_return_type = "Stats")]
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let Inner::Split(r) = &*self.inner else {
            return to_js(&Stats::default());
        };
        let store = r.store.borrow();
        to_js(&Stats {
            cache: store.cache_stats(),
            load: store.load_stats().add(&r.stats.borrow()),
            split: true,
            in_flight: r.in_flight() as u64,
            last: store.last(),
        })
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
            let signal = options::signal(&options)?;
            let Inner::Split(r) = &*inner else {
                return Ok(0.into());
            };
            let bytes = abortable(signal, async {
                r.drive(&mut Prefetch::new(r.version()?)).await
            });
            Ok((bytes.await? as f64).into())
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
            let signal = options::signal(&options)?;
            let Inner::Split(r) = &*inner else {
                return Ok(false.into());
            };
            // A refresh is when files that failed may be there now.
            r.store.borrow_mut().forget_failures();
            let mut open = Open::new(parse_manifest, r.version().ok());
            let Some(version) = abortable(signal, r.drive(&mut open)).await? else {
                return Ok(false.into());
            };
            *r.version.borrow_mut() = Some(Arc::new(version));
            Ok(true.into())
        })
    }
}

/// A snippet as HTML: its text escaped (`&`, `<`, `>`, `"`, `'`), the highlights in
/// `<mark>…</mark>` (ranges out of order, overlapping or past the text are clipped or skipped).
#[wasm_bindgen(js_name = highlightHtml)]
pub fn highlight_html(
    text: String,
    #[wasm_bindgen(unchecked_param_type = "Highlight[]")] highlights: JsValue,
) -> Result<String, JsValue> {
    let ranges: Vec<[u32; 2]> = serde_wasm_bindgen::from_value(highlights)
        .map_err(|_| invalid("highlights must be an array of [start, end] pairs of integers"))?;
    Ok(crate::search::highlight_html(&text, &ranges))
}

/// Counts of this engine's expensive steps so far (one searcher state and one parse per query,
/// one walk per dictionary part that arrives): diagnostics for tests.
#[wasm_bindgen(js_name = engineCounts, unchecked_return_type = "EngineCounts")]
pub fn engine_counts() -> Result<JsValue, JsValue> {
    to_js(&crate::counters::counts())
}
