//! HTTP for split indexes: `fetch` from `js_sys::global()` (pages, workers, Node, Cloudflare
//! Workers), with `Range` requests, a timeout per request, retries with jittered exponential
//! backoff on network errors, timeouts, 5xx, 429 and failed checks (never on other 4xx), and
//! single-flight sharing: searches that need the same request wait on one fetch, which is
//! aborted only when the last of them stops waiting.

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::abort::Timer;
use crate::lazy::flight::{Flight, Flights, Waiter};
use crate::lazy::{LoadError, LoadStats};

/// Per-request behaviour: a timeout, the core's retry rule, single-flight sharing.
pub(crate) use super::options::Open as FetchOptions;

/// The counters requests update (shared with `stats()`).
pub(crate) type NetStats = LoadStats;

/// Fetches of one index, shared by the queries that need the same request.
pub(crate) struct Http<T: Clone + 'static> {
    pub options: FetchOptions,
    pub stats: Rc<RefCell<NetStats>>,
    flights: Flights<T>,
}

impl<T: Clone + 'static> Http<T> {
    pub(crate) fn new(options: FetchOptions, stats: Rc<RefCell<NetStats>>) -> Self {
        Http {
            stats,
            flights: Flights::new(options.share),
            options,
        }
    }

    /// Requests in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.flights.in_flight()
    }

    /// Waits on the fetch of `url` (`range` of it), starting it unless the same request is
    /// already in flight. `check` turns the body into the value every waiter gets; a failed
    /// check is retried like a network error.
    pub(crate) fn get(
        &self,
        name: &str,
        url: String,
        range: Option<Range<u64>>,
        no_store: bool,
        check: impl Fn(Vec<u8>) -> Result<T, LoadError> + 'static,
    ) -> Waiter<T> {
        let key = match &range {
            Some(r) => format!("{url}#{}-{}", r.start, r.end),
            None => url.clone(),
        };
        let (waiter, lead) = self.flights.join(key);
        if let Some(lead) = lead {
            let (stats, options, name) =
                (self.stats.clone(), self.options.clone(), name.to_string());
            let fetch = async move {
                let flight = lead.flight();
                let outcome =
                    drive(flight, &stats, options, &name, &url, range, no_store, check).await;
                lead.land(outcome);
            };
            wasm_bindgen_futures::spawn_local(fetch);
        }
        waiter
    }
}

/// Fetches until a body passes `check`, a failure is final by the core's retry rule, or every
/// waiter lets go (which aborts the request in progress).
#[allow(clippy::too_many_arguments)]
async fn drive<T>(
    flight: &Flight<T>,
    stats: &Rc<RefCell<NetStats>>,
    options: FetchOptions,
    name: &str,
    url: &str,
    range: Option<Range<u64>>,
    no_store: bool,
    check: impl Fn(Vec<u8>) -> Result<T, LoadError>,
) -> Result<T, LoadError> {
    let controller: Rc<RefCell<Option<web_sys::AbortController>>> = Rc::default();
    let (c, s) = (controller.clone(), stats.clone());
    flight.on_cancel(move || {
        if let Some(c) = c.borrow().as_ref() {
            c.abort();
        }
        s.borrow_mut().aborted += 1;
    });
    let mut attempt = 0;
    loop {
        if flight.cancelled() {
            return Err(LoadError::Aborted);
        }
        let Ok(abort) = web_sys::AbortController::new() else {
            return Err(LoadError::Network {
                name: name.to_string(),
                message: "no AbortController".into(),
            });
        };
        *controller.borrow_mut() = Some(abort.clone());
        let timed_out = Rc::new(Cell::new(false));
        let (t, a) = (timed_out.clone(), abort.clone());
        let timer = Timer::new(options.timeout_ms, move || {
            t.set(true);
            a.abort();
        });
        let with = options.fetch.as_ref();
        let result = fetch_once(with, name, url, range.clone(), no_store, &abort.signal()).await;
        drop(timer);
        *controller.borrow_mut() = None;
        stats.borrow_mut().requests += 1;
        let failure = match result {
            Ok(bytes) => {
                stats.borrow_mut().bytes_fetched += bytes.len() as u64;
                match check(bytes) {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        stats.borrow_mut().rejected += 1;
                        e
                    }
                }
            }
            Err(e @ LoadError::Http { .. }) => {
                stats.borrow_mut().rejected += 1;
                e
            }
            Err(LoadError::Aborted) if timed_out.get() => LoadError::Timeout {
                name: name.to_string(),
                ms: options.timeout_ms,
            },
            Err(e) => e,
        };
        attempt += 1;
        let wait = match options
            .retry
            .delay_ms(attempt, &failure, js_sys::Math::random())
        {
            Some(ms) if !flight.cancelled() => ms,
            _ => return Err(failure),
        };
        stats.borrow_mut().retries += 1;
        // Sleep, unless the last waiter lets go meanwhile.
        if let Some(t) = Timer::new(wait, || {}) {
            flight.unless_cancelled(t).await;
        }
    }
}

fn is_abort(e: &JsValue) -> bool {
    Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "AbortError")
}

fn message_of(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Whether `fetch` takes a `cache` option here (Workers before compatibility date 2024-11-11
/// reject it).
fn supports_request_cache() -> bool {
    Reflect::get(&js_sys::global(), &"Request".into())
        .ok()
        .and_then(|r| Reflect::get(&r, &"prototype".into()).ok())
        .is_some_and(|p| Reflect::has(&p, &"cache".into()).unwrap_or(false))
}

/// One `fetch`, with `Range` when asked; 200 and 206 are accepted (the caller checks lengths).
async fn fetch_once(
    with: Option<&Function>,
    name: &str,
    url: &str,
    range: Option<Range<u64>>,
    no_store: bool,
    signal: &web_sys::AbortSignal,
) -> Result<Vec<u8>, LoadError> {
    let network = |message: String| LoadError::Network {
        name: name.to_string(),
        message,
    };
    let failed = |e: JsValue| match is_abort(&e) {
        true => LoadError::Aborted,
        false => network(message_of(&e)),
    };
    let global = js_sys::global();
    let fetch: Function = match with {
        Some(f) => f.clone(),
        None => Reflect::get(&global, &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| network("this JavaScript environment has no global fetch".into()))?,
    };
    let init = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&init, &k.into(), v);
    };
    set("signal", signal);
    if no_store && supports_request_cache() {
        set("cache", &"no-store".into());
    }
    if let Some(r) = &range {
        let headers = Object::new();
        let _ = Reflect::set(
            &headers,
            &"Range".into(),
            &format!("bytes={}-{}", r.start, r.end.saturating_sub(1)).into(),
        );
        set("headers", &headers);
    }
    let promise = fetch.call2(&global, &url.into(), &init).map_err(failed)?;
    let response = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(failed)?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| network("fetch did not return a Response".into()))?;
    let status = response.status();
    if status != 200 && status != 206 {
        return Err(LoadError::Http {
            name: name.to_string(),
            status,
        });
    }
    let buffer = response.array_buffer().map_err(failed)?;
    let buffer = JsFuture::from(buffer).await.map_err(failed)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
