//! `KnowledgeBase`: an opened index, searchable from JavaScript.

use js_sys::{Function, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::{js_error, JsErr};
use crate::{Index, SearchOptions, Searcher};

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
}
/** One result. */
export interface Hit { id: string; title: string; url: string; score: number; }
/** The answer to a query. */
export interface SearchResults { total: number; hits: Hit[]; }
/** Options of `KnowledgeBase.open`. */
export interface OpenOptions { signal?: AbortSignal; }
"#;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct JsSearchOptions {
    limit: Option<u32>,
    prefix: Option<bool>,
    typos: Option<bool>,
    any: Option<bool>,
}

/// An opened knowledge-base index.
#[wasm_bindgen]
pub struct KnowledgeBase {
    index: Index<Vec<u8>>,
}

fn from_vec(bytes: Vec<u8>) -> Result<KnowledgeBase, JsErr> {
    let index = Index::open(bytes)?;
    index.verify()?;
    Ok(KnowledgeBase { index })
}

#[wasm_bindgen]
impl KnowledgeBase {
    /// Opens an index from its bytes (checks every checksum).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<KnowledgeBase, JsValue> {
        Ok(from_vec(bytes.to_vec())?)
    }

    /// Fetches an index with the global `fetch` (pages, workers, Node, Cloudflare Workers) and
    /// opens it. `options.signal` aborts the download.
    pub async fn open(
        url: String,
        #[wasm_bindgen(unchecked_param_type = "OpenOptions | undefined")] options: JsValue,
    ) -> Result<KnowledgeBase, JsValue> {
        let bytes = fetch_bytes(&url, &options).await?;
        Ok(from_vec(bytes)?)
    }

    /// Number of documents.
    #[wasm_bindgen(getter, js_name = docCount)]
    pub fn doc_count(&self) -> u32 {
        self.index.doc_count()
    }

    /// Searches. Never fails on a malformed query; fails only on a damaged index or a hit budget.
    #[wasm_bindgen(unchecked_return_type = "SearchResults")]
    pub fn search(
        &self,
        query: &str,
        #[wasm_bindgen(unchecked_param_type = "SearchOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        Ok(self.search_inner(query, options)?)
    }
}

impl KnowledgeBase {
    fn search_inner(&self, query: &str, options: JsValue) -> Result<JsValue, JsErr> {
        let o: JsSearchOptions = if options.is_undefined() || options.is_null() {
            Default::default()
        } else {
            serde_wasm_bindgen::from_value(options)?
        };
        let d = SearchOptions::default();
        let opts = SearchOptions {
            limit: o.limit.map(|l| l as usize).unwrap_or(d.limit),
            prefix: o.prefix.unwrap_or(d.prefix),
            typos: o.typos.unwrap_or(d.typos),
            any: o.any.unwrap_or(d.any),
        };
        let results = Searcher::new(&self.index).search(query, &opts)?;
        Ok(results.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
    }
}

/// `fetch(url, {signal})` through `globalThis`, then the body as bytes.
async fn fetch_bytes(url: &str, options: &JsValue) -> Result<Vec<u8>, JsErr> {
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &"fetch".into())?
        .dyn_into()
        .map_err(|_| {
            js_error(
                "Unsupported",
                "this JavaScript environment has no global fetch",
            )
        })?;
    let init = Object::new();
    if options.is_object() {
        let signal = Reflect::get(options, &"signal".into())?;
        if !signal.is_undefined() {
            Reflect::set(&init, &"signal".into(), &signal)?;
        }
    }
    let response = JsFuture::from(js_sys::Promise::from(fetch.call2(
        &global,
        &url.into(),
        &init,
    )?))
    .await?;
    let response: web_sys::Response = response.dyn_into()?;
    if !response.ok() {
        return Err(js_error(
            "HttpStatus",
            &format!("fetching {url} answered HTTP {}; check the URL and that the server serves the index", response.status()),
        )
        .into());
    }
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
