//! `KnowledgeBase`: an index searchable from JavaScript, whole (one file) or split (a
//! manifest, a resident dictionary and data fetched in ranges on demand). Every operation on a
//! split index is a core state machine run by [`Remote::drive`]; this file only turns
//! JavaScript's arguments into them and their answers into JavaScript values.

use std::rc::Rc;
use std::sync::Arc;

use js_sys::{Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::abort::{abort_error, abortable};
use super::error::{invalid, load_error, JsErr};
use super::options;
use super::remote::Remote;
use crate::lazy::{LoadError, Open, Prefetch, Query};
use crate::split::Manifest;
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
    Ok(value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(JsErr::from)?)
}

fn from_vec(bytes: Vec<u8>) -> Result<KnowledgeBase, JsErr> {
    let index = Index::open(bytes)?;
    index.verify()?;
    if index.is_split() {
        return Err(invalid(
            "this is the dictionary of a split index: open its manifest.json instead",
        ));
    }
    Ok(KnowledgeBase {
        inner: Rc::new(Inner::Single(index)),
    })
}

/// Parses `manifest.json` with the host's `JSON.parse` (no JSON parser in the wasm).
fn parse_manifest(bytes: &[u8]) -> crate::Result<Manifest> {
    if bytes.len() > crate::split::MAX_MANIFEST_BYTES {
        return Err(crate::Error::LimitExceeded {
            what: "manifest bytes",
            limit: crate::split::MAX_MANIFEST_BYTES as u64,
        });
    }
    let bad = |m: String| crate::Error::InvalidConfig {
        message: format!("manifest.json is not a valid manifest: {m}"),
    };
    let text = std::str::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
    let value = js_sys::JSON::parse(text).map_err(|_| bad("not JSON".into()))?;
    let manifest: Manifest =
        serde_wasm_bindgen::from_value(value).map_err(|e| bad(e.to_string()))?;
    manifest.validate()?;
    Ok(manifest)
}

/// Runs `work` on a split index unless `options`' signal aborts first; errors become JS
/// errors (an abort, the signal's reason).
fn split_op<F, T>(inner: Rc<Inner>, options: JsValue, single: JsValue, work: F) -> Promise
where
    F: for<'r> AsyncFnOnce(&'r Remote) -> Result<T, LoadError> + 'static,
    T: Into<JsValue>,
{
    future_to_promise(async move {
        let signal = options::signal(&options)?;
        let Inner::Split(remote) = &*inner else {
            return Ok(single);
        };
        let s = signal.clone();
        abortable(signal, async {
            work(remote)
                .await
                .map(Into::into)
                .map_err(|e| load_error(e, s.as_ref()))
        })
        .await
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
            let s = signal.clone();
            let fail = move |e| load_error(e, s.as_ref());
            let path = url.split(['?', '#']).next().unwrap_or("");
            if !path.ends_with(".json") {
                let bytes = abortable(signal, async { remote.fetch_whole().await.map_err(fail) });
                return Ok(from_vec(bytes.await?)?.into());
            }
            let opened = abortable(signal, async {
                let mut open = Open::new(parse_manifest, None);
                remote.drive(&mut open).await.map_err(fail)
            });
            let version = opened.await?.ok_or_else(|| invalid("no version to open"))?;
            *remote.version.borrow_mut() = Some(Arc::new(version));
            Ok(KnowledgeBase {
                inner: Rc::new(Inner::Split(remote)),
            }
            .into())
        })
    }

    /// Number of documents.
    #[wasm_bindgen(getter, js_name = docCount)]
    pub fn doc_count(&self) -> u32 {
        match &*self.inner {
            Inner::Single(i) => i.doc_count(),
            Inner::Split(r) => r
                .version
                .borrow()
                .as_ref()
                .map_or(0, |v| v.index.doc_count()),
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
            let signal = options::signal(&options)?;
            let remote = match &*inner {
                Inner::Single(index) => {
                    if signal.as_ref().is_some_and(|s| s.aborted()) {
                        return Err(abort_error(signal.as_ref()));
                    }
                    let r = Searcher::new(index)
                        .with_refine(refine)
                        .search(&query, &opts)
                        .map_err(JsErr::from)?;
                    return to_js(&r);
                }
                Inner::Split(remote) => remote,
            };
            let version = remote
                .version
                .borrow()
                .clone()
                .ok_or_else(|| invalid("not open"))?;
            let s = signal.clone();
            let results = abortable(signal, async {
                let mut query = Query::new(version, &query, opts).refine(refine);
                remote
                    .drive(&mut query)
                    .await
                    .map_err(|e| load_error(e, s.as_ref()))
            });
            to_js(&results.await?)
        })
    }

    /// Cache and network counters.
    #[wasm_bindgen(unchecked_return_type = "Stats")]
    pub fn stats(&self) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("split", matches!(&*self.inner, Inner::Split(_)).into());
        if let Inner::Split(r) = &*self.inner {
            let c = r.store.borrow().cache_stats();
            let n = *r.http.stats.borrow();
            let rounds = r.store.borrow().load_stats().rounds;
            for (k, v) in [
                ("hits", c.hits),
                ("misses", c.misses),
                ("evictions", c.evictions),
                ("bytesHeld", c.bytes_held),
                ("budget", c.budget),
                ("entries", c.entries),
                ("requests", n.requests),
                ("bytesFetched", n.bytes_fetched),
                ("retries", n.retries),
                ("aborted", n.aborted),
                ("rejected", n.rejected),
                ("rounds", rounds),
                ("inFlight", r.http.in_flight() as u64),
            ] {
                set(k, (v as f64).into());
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
        split_op(
            self.inner.clone(),
            options,
            0.into(),
            async |remote: &Remote| {
                let version = remote.version.borrow().clone();
                let Some(version) = version else {
                    return Ok(0.0);
                };
                Ok(remote.drive(&mut Prefetch::new(version)).await? as f64)
            },
        )
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
        split_op(
            self.inner.clone(),
            options,
            false.into(),
            async |remote: &Remote| {
                // A refresh is when files that failed may be there now.
                remote.store.borrow_mut().forget_failures();
                let current = remote.version.borrow().clone();
                let mut open = Open::new(parse_manifest, current);
                let Some(version) = remote.drive(&mut open).await? else {
                    return Ok(false);
                };
                *remote.version.borrow_mut() = Some(Arc::new(version));
                Ok(true)
            },
        )
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
        .map_err(|_| invalid("highlights must be an array of [start, end] pairs of integers").0)?;
    Ok(crate::search::highlight_html(&text, &ranges))
}

/// Counts of this engine's expensive steps so far (one searcher state and one parse per query,
/// one walk per dictionary part that arrives): diagnostics for tests.
#[wasm_bindgen(js_name = engineCounts, unchecked_return_type = "EngineCounts")]
pub fn engine_counts() -> Result<JsValue, JsValue> {
    to_js(&crate::counters::counts())
}
