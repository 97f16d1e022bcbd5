//! One try of one request: `fetch` (the `fetch` option's, or the global one of a page, a
//! worker, Node or Cloudflare Workers; never `window`'s) with `Range` when asked, under a
//! timeout, abortable while in progress. Retries are the core's ([`crate::lazy::flight`]).

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use super::abort::Event;
use super::options::Open;
use crate::lazy::LoadError;

/// The controller of the try in progress, for a flight's cancellation to abort it.
pub(crate) type Current = Rc<RefCell<Option<AbortController>>>;

/// One try: the body of a 200 or 206 answer (the core checks its length and content).
pub(crate) async fn attempt(
    options: &Open,
    name: &str,
    url: &str,
    range: Option<Range<u64>>,
    no_store: bool,
    current: &Current,
) -> Result<Vec<u8>, LoadError> {
    let network = |message: String| LoadError::Network {
        name: name.to_string(),
        message,
    };
    let abort = AbortController::new().map_err(|_| network("no AbortController".into()))?;
    *current.borrow_mut() = Some(abort.clone());
    let timed_out = Rc::new(Cell::new(false));
    let (t, a) = (timed_out.clone(), abort.clone());
    let timer = Event::timer(options.timeout_ms, move || {
        t.set(true);
        a.abort();
    });
    let result = fetch(options.fetch.as_ref(), url, range, no_store, &abort).await;
    drop(timer);
    *current.borrow_mut() = None;
    let status = match result {
        Ok(Ok(bytes)) => return Ok(bytes),
        Ok(Err(status)) => status,
        Err(_) if timed_out.get() => {
            return Err(LoadError::Timeout {
                name: name.to_string(),
                ms: options.timeout_ms,
            })
        }
        Err(e) if property(&e, "name").as_deref() == Some("AbortError") => {
            return Err(LoadError::Aborted)
        }
        Err(e) => return Err(network(property(&e, "message").unwrap_or(format!("{e:?}")))),
    };
    Err(LoadError::Http {
        name: name.to_string(),
        status,
    })
}

fn property(v: &JsValue, key: &str) -> Option<String> {
    Reflect::get(v, &key.into()).ok()?.as_string()
}

/// `fetch(url, {signal, headers: {Range}, cache})`: the body, a status other than 200 and 206,
/// or what was thrown.
async fn fetch(
    with: Option<&Function>,
    url: &str,
    range: Option<Range<u64>>,
    no_store: bool,
    abort: &AbortController,
) -> Result<Result<Vec<u8>, u16>, JsValue> {
    let global = js_sys::global();
    let fetch: Function = match with {
        Some(f) => f.clone(),
        None => Reflect::get(&global, &"fetch".into())?
            .dyn_into()
            .map_err(|_| js_sys::Error::new("this JavaScript environment has no global fetch"))?,
    };
    let init = Object::new();
    Reflect::set(&init, &"signal".into(), &abort.signal())?;
    // Workers before compatibility date 2024-11-11 reject a `cache` option.
    let request_cache = Reflect::get(&global, &"Request".into())
        .and_then(|r| Reflect::get(&r, &"prototype".into()))
        .and_then(|p| Reflect::has(&p, &"cache".into()))
        .unwrap_or(false);
    if no_store && request_cache {
        Reflect::set(&init, &"cache".into(), &"no-store".into())?;
    }
    if let Some(r) = range {
        let headers = Object::new();
        let bytes = format!("bytes={}-{}", r.start, r.end.saturating_sub(1));
        Reflect::set(&headers, &"Range".into(), &bytes.into())?;
        Reflect::set(&init, &"headers".into(), &headers)?;
    }
    let promise = fetch.call2(&global, &url.into(), &init)?;
    let response: web_sys::Response = JsFuture::from(js_sys::Promise::from(promise))
        .await?
        .dyn_into()
        .map_err(|_| js_sys::Error::new("fetch did not return a Response"))?;
    if !matches!(response.status(), 200 | 206) {
        return Ok(Err(response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Ok(Uint8Array::new(&buffer).to_vec()))
}
