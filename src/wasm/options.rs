//! Typed getters for the option objects JavaScript passes. The binding says only what kind of
//! value each one is ([`Given`]); their types, ranges and defaults are checked by the core
//! ([`crate::lazy::options`]). `signal` and `fetch` are JavaScript's own and checked here.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::error::{invalid, JsErr};
use crate::lazy::options::{Given, GivenOpen, GivenSearch, OpenOptions};
use crate::{Refine, SearchOptions};

#[wasm_bindgen]
extern "C" {
    /// `KnowledgeBase.search`'s options (`{signal}` is every method's).
    pub type JsSearchOptions;
    #[wasm_bindgen(method, getter)]
    fn limit(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn prefix(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn typos(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn any(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn snippet(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn filter(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn facets(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn sort(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn offset(this: &JsSearchOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn signal(this: &JsSearchOptions) -> JsValue;

    /// `KnowledgeBase.open`'s options.
    pub type JsOpenOptions;
    #[wasm_bindgen(method, getter, js_name = cacheBytes)]
    fn cache_bytes(this: &JsOpenOptions) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = timeoutMs)]
    fn timeout_ms(this: &JsOpenOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn retries(this: &JsOpenOptions) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = backoffMs)]
    fn backoff_ms(this: &JsOpenOptions) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = shareFetches)]
    fn share_fetches(this: &JsOpenOptions) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn fetch(this: &JsOpenOptions) -> JsValue;
}

/// What kind of value JavaScript gave; an object or an array as its JSON.
fn given(v: JsValue) -> Given {
    if v.is_undefined() || v.is_null() {
        Given::Absent
    } else if let Some(b) = v.as_bool() {
        Given::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Given::Number(n)
    } else if let Some(s) = v.as_string() {
        Given::Text(s)
    } else {
        let json = js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string());
        json.filter(|_| v.is_object())
            .map_or(Given::Other, Given::Json)
    }
}

/// The options object, or `None` when it is not one (every option then takes its default).
fn object<T: JsCast>(options: &JsValue) -> Option<&T> {
    options.is_object().then(|| options.unchecked_ref::<T>())
}

/// The abort signal of any options object (`{signal}`).
pub(crate) fn signal(options: &JsValue) -> Result<Option<AbortSignal>, JsErr> {
    let Some(v) = object::<JsSearchOptions>(options).map(|o| o.signal()) else {
        return Ok(None);
    };
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let signal = v
        .dyn_into()
        .map_err(|_| invalid("option signal must be an AbortSignal"))?;
    Ok(Some(signal))
}

/// `search`'s options and refinements.
pub(crate) fn search(options: &JsValue) -> Result<(SearchOptions, Refine), JsErr> {
    let Some(o) = object::<JsSearchOptions>(options) else {
        return Ok(GivenSearch::default().check()?);
    };
    let given = GivenSearch {
        limit: given(o.limit()),
        prefix: given(o.prefix()),
        typos: given(o.typos()),
        any: given(o.any()),
        snippet: given(o.snippet()),
        filter: given(o.filter()),
        facets: given(o.facets()),
        sort: given(o.sort()),
        offset: given(o.offset()),
    };
    Ok(given.check()?)
}

/// `open`'s options, over the defaults of this runtime, and its `fetch` function.
pub(crate) fn open(options: &JsValue) -> Result<(OpenOptions, Option<Function>), JsErr> {
    // Cloudflare Workers (`navigator.userAgent`) have defaults of their own.
    let agent = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"userAgent".into()));
    let workers = agent.ok().and_then(|u| u.as_string()).as_deref() == Some("Cloudflare-Workers");
    let Some(o) = object::<JsOpenOptions>(options) else {
        return Ok((OpenOptions::defaults(workers), None));
    };
    let given = GivenOpen {
        cache_bytes: given(o.cache_bytes()),
        timeout_ms: given(o.timeout_ms()),
        retries: given(o.retries()),
        backoff_ms: given(o.backoff_ms()),
        share_fetches: given(o.share_fetches()),
    };
    let fetch = match o.fetch() {
        f if f.is_undefined() || f.is_null() => None,
        f => Some(
            f.dyn_into()
                .map_err(|_| invalid("option fetch must be a function"))?,
        ),
    };
    Ok((given.check(workers)?, fetch))
}
