//! JavaScript's waits and fetches as futures, over `io.js`: an operation raced against its
//! `AbortSignal`, a sleep, and one try of one request over `fetch` (the `fetch` option's, or
//! the global one of a page, a worker, Node or Cloudflare Workers; never `window`'s) with
//! `Range` when asked, under a timeout. Retries are the core's ([`crate::lazy::flight`]).

use std::future::Future;
use std::ops::Range;
use std::pin::pin;
use std::task::Poll;

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

use super::error::{abort_error, load_error};
use crate::lazy::LoadError;

#[wasm_bindgen(module = "/src/wasm/io.js")]
extern "C" {
    #[wasm_bindgen(js_name = edgekbWait)]
    fn wait(ms: Option<u32>, signal: Option<AbortSignal>, stop: &AbortSignal) -> Promise;
    #[wasm_bindgen(js_name = edgekbFetch)]
    fn fetch(
        f: Option<Function>,
        url: &str,
        start: Option<f64>,
        end: Option<f64>,
        cache: &str,
        ms: u32,
        stop: &AbortSignal,
    ) -> Promise;
}

/// Resolves after `ms`, or at once when `stop` aborts.
pub(crate) async fn sleep(ms: u32, stop: &AbortSignal) {
    let _ = JsFuture::from(wait(Some(ms), None, stop)).await;
}

/// Runs `fut` unless `signal` aborts first; then `fut` is dropped (its fetches are released)
/// and the result is the signal's reason. Its errors become JS errors.
pub(crate) async fn abortable<T>(
    signal: Option<AbortSignal>,
    fut: impl Future<Output = Result<T, LoadError>>,
) -> Result<T, JsValue> {
    if signal.as_ref().is_some_and(AbortSignal::aborted) {
        return Err(abort_error(signal.as_ref()));
    }
    // Aborted when this ends, which removes the wait's listener.
    let stop = AbortController::new()?;
    let aborted = JsFuture::from(wait(None, signal.clone(), &stop.signal()));
    let (mut fut, mut aborted) = (pin!(fut), pin!(aborted));
    let first = std::future::poll_fn(|cx| match aborted.as_mut().poll(cx) {
        Poll::Ready(_) => Poll::Ready(None),
        Poll::Pending => fut.as_mut().poll(cx).map(Some),
    });
    let result = first.await;
    stop.abort();
    match result {
        Some(r) => r.map_err(|e| load_error(e, signal.as_ref())),
        None => Err(abort_error(signal.as_ref())),
    }
}

/// One try of `url` (`range` of it) within `ms`, aborted in progress by `stop`: the body of a
/// 200 or 206 answer (the core checks its length and content).
pub(crate) async fn attempt(
    f: Option<Function>,
    (name, url): (&str, &str),
    range: Option<Range<u64>>,
    cache: &str,
    ms: u32,
    stop: &AbortSignal,
) -> Result<Vec<u8>, LoadError> {
    let (start, end) = (
        range.as_ref().map(|r| r.start as f64),
        range.map(|r| r.end as f64),
    );
    let answer = JsFuture::from(fetch(f, url, start, end, cache, ms, stop)).await;
    let name = name.to_string();
    match answer {
        Ok(body) if body.is_instance_of::<Uint8Array>() => Ok(Uint8Array::from(body).to_vec()),
        Ok(status) => Err(LoadError::Http {
            name,
            status: status.as_f64().unwrap_or(0.0) as u16,
        }),
        Err(e) => Err(match e.as_string().as_deref() {
            Some("timeout") => LoadError::Timeout { name, ms },
            Some("abort") => LoadError::Aborted,
            _ => {
                let message = js_sys::Reflect::get(&e, &"message".into()).ok();
                // io.js rejects with what has a string `message`.
                let message = message
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| "fetch failed".to_string());
                LoadError::Network { name, message }
            }
        }),
    }
}
