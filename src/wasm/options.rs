//! Typed getters for the option objects JavaScript passes, validated in one place.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::error::{invalid, JsErr};
use crate::lazy::Retry;
use crate::SearchOptions;

#[wasm_bindgen]
extern "C" {
    /// `KnowledgeBase.search`'s options.
    #[wasm_bindgen(typescript_type = "SearchOptions")]
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
    fn signal(this: &JsSearchOptions) -> JsValue;
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

    /// `KnowledgeBase.open`'s options.
    #[wasm_bindgen(typescript_type = "OpenOptions")]
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

/// An integer option in `min..=max`, or `None` when not given.
fn integer(v: JsValue, key: &str, min: f64, max: f64) -> Result<Option<f64>, JsErr> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= min && n <= max && n.fract() == 0.0 => Ok(Some(n)),
        _ => Err(invalid(&format!(
            "option {key} must be an integer from {min} to {max}"
        ))),
    }
}

fn flag(v: JsValue, key: &str, default: bool) -> Result<bool, JsErr> {
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    v.as_bool()
        .ok_or_else(|| invalid(&format!("option {key} must be true or false")))
}

/// The options object, or `None` when it is not an object (every option then takes its
/// default).
fn object<T: JsCast>(options: &JsValue) -> Option<&T> {
    options.is_object().then(|| options.unchecked_ref::<T>())
}

fn signal_of(v: JsValue) -> Result<Option<web_sys::AbortSignal>, JsErr> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<web_sys::AbortSignal>()
        .map(Some)
        .map_err(|_| invalid("option signal must be an AbortSignal"))
}

/// The abort signal of any options object (`{signal}`).
pub(crate) fn signal(options: &JsValue) -> Result<Option<web_sys::AbortSignal>, JsErr> {
    match object::<JsSearchOptions>(options) {
        Some(o) => signal_of(o.signal()),
        None => Ok(None),
    }
}

/// The `snippet` option: `true` (the default length), a length in characters, or off.
fn snippet(v: JsValue) -> Result<Option<usize>, JsErr> {
    if let Some(b) = v.as_bool() {
        return Ok(b.then_some(crate::search::DEFAULT_SNIPPET_CHARS));
    }
    let max = crate::search::MAX_SNIPPET_CHARS as f64;
    Ok(integer(v, "snippet", 1.0, max)
        .map_err(|_| {
            invalid(&format!(
                "option snippet must be true, false or an integer from 1 to {max}"
            ))
        })?
        .map(|n| n as usize))
}

/// `search`'s options.
pub(crate) fn search(options: &JsValue) -> Result<SearchOptions, JsErr> {
    let d = SearchOptions::default();
    let Some(o) = object::<JsSearchOptions>(options) else {
        return Ok(d);
    };
    Ok(SearchOptions {
        limit: integer(o.limit(), "limit", 0.0, 10_000.0)?.map_or(d.limit, |n| n as usize),
        prefix: flag(o.prefix(), "prefix", d.prefix)?,
        typos: flag(o.typos(), "typos", d.typos)?,
        any: flag(o.any(), "any", d.any)?,
        snippets: snippet(o.snippet())?,
    })
}

/// `search`'s filters, facets, sort and page: `filter` (a string in the filter syntax or the
/// structured form, read by the core's `Filter::from_serde`), `facets` (field names), `sort`
/// (`"field"`, `"field:desc"`), `offset`.
pub(crate) fn refine(options: &JsValue) -> Result<crate::search::Refine, JsErr> {
    let mut r = crate::search::Refine::default();
    let Some(o) = object::<JsSearchOptions>(options) else {
        return Ok(r);
    };
    let filter = o.filter();
    if !(filter.is_undefined() || filter.is_null()) {
        let filter = serde_wasm_bindgen::Deserializer::from(filter);
        r.filter = Some(crate::Filter::from_serde(filter)?);
    }
    let facets = o.facets();
    if !(facets.is_undefined() || facets.is_null()) {
        r.facets = match facets.as_string() {
            Some(one) => vec![one],
            None => serde_wasm_bindgen::from_value(facets)
                .map_err(|_| invalid("option facets must be a field name or a list of them"))?,
        };
    }
    let sort = o.sort();
    if !(sort.is_undefined() || sort.is_null()) {
        let text = sort
            .as_string()
            .ok_or_else(|| invalid("option sort must be a string: \"field\" or \"field:desc\""))?;
        r.sort = Some(crate::search::Sort::parse(&text)?);
    }
    let max = crate::search::MAX_OFFSET as f64;
    r.offset = integer(o.offset(), "offset", 0.0, max)?.map_or(0, |n| n as usize);
    Ok(r)
}

/// `open`'s options.
#[derive(Clone, Debug)]
pub(crate) struct Open {
    pub cache_bytes: usize,
    pub timeout_ms: u32,
    pub retry: Retry,
    /// Share one in-flight fetch between searches that need the same range (single-flight).
    /// Off in Cloudflare Workers, where I/O belongs to the request that started it.
    pub share: bool,
    /// What to fetch with instead of the global `fetch` (a Worker reading R2, say): called as
    /// `fetch(url, {headers, signal, cache})`, it must resolve to a `Response`.
    pub fetch: Option<js_sys::Function>,
}

/// Whether this is Cloudflare Workers (`navigator.userAgent`).
fn in_workers() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"navigator".into())
        .ok()
        .and_then(|n| js_sys::Reflect::get(&n, &"userAgent".into()).ok())
        .and_then(|u| u.as_string())
        .is_some_and(|u| u == "Cloudflare-Workers")
}

pub(crate) fn open(options: &JsValue) -> Result<Open, JsErr> {
    let workers = in_workers();
    let d = Open {
        cache_bytes: if workers {
            16 << 20
        } else {
            crate::lazy::DEFAULT_CACHE_BYTES
        },
        timeout_ms: 10_000,
        retry: Retry::default(),
        share: !workers,
        fetch: None,
    };
    let Some(o) = object::<JsOpenOptions>(options) else {
        return Ok(d);
    };
    let n = |v, key, min, max| integer(v, key, min, max);
    Ok(Open {
        cache_bytes: n(o.cache_bytes(), "cacheBytes", 0.0, 4_294_967_295.0)?
            .map_or(d.cache_bytes, |n| n as usize),
        timeout_ms: n(o.timeout_ms(), "timeoutMs", 1.0, 600_000.0)?
            .map_or(d.timeout_ms, |n| n as u32),
        retry: Retry {
            retries: n(o.retries(), "retries", 0.0, 10.0)?.map_or(d.retry.retries, |n| n as u32),
            backoff_ms: n(o.backoff_ms(), "backoffMs", 0.0, 60_000.0)?
                .map_or(d.retry.backoff_ms, |n| n as u32),
        },
        share: flag(o.share_fetches(), "shareFetches", d.share)?,
        fetch: match o.fetch() {
            f if f.is_undefined() || f.is_null() => None,
            f => Some(
                f.dyn_into()
                    .map_err(|_| invalid("option fetch must be a function"))?,
            ),
        },
    })
}
