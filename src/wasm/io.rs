//! JavaScript's waits and fetches as futures: an `AbortSignal`'s abort or a `setTimeout`
//! ([`Wait`]), an operation raced against its signal, and one try of one request over `fetch`
//! (the `fetch` option's, or the global one of a page, a worker, Node or Cloudflare Workers;
//! never `window`'s) with `Range` when asked, under a timeout. Retries are the core's
//! ([`crate::lazy::flight::transfer`]).

use std::future::{pending, Future};
use std::ops::Range;
use std::pin::pin;
use std::task::Poll;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

use super::error::{abort_error, load_error};
use crate::lazy::LoadError;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A promise its `resolve` callback settles. Dropped first, it removes the listener or clears
/// the timer and settles the promise, so no callback, timer or pending promise outlives it.
pub(crate) struct Wait {
    fut: JsFuture,
    undo: Option<Box<dyn FnOnce()>>,
}

impl Wait {
    /// `register` hands `resolve` to JavaScript and says how to take it back.
    fn new(register: impl FnOnce(&Function) -> Box<dyn FnOnce()>) -> Wait {
        let (mut register, mut undo) = (Some(register), None);
        let promise = Promise::new(&mut |resolve: Function, _| {
            let take_back = register
                .take()
                .map_or(Box::new(|| {}) as Box<dyn FnOnce()>, |r| r(&resolve));
            undo = Some(Box::new(move || {
                take_back();
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }) as Box<dyn FnOnce()>);
        });
        let fut = JsFuture::from(promise);
        Wait { fut, undo }
    }

    /// Ready when `signal` aborts (at once if it has).
    pub(crate) fn abort(signal: &AbortSignal) -> Wait {
        let s = signal.clone();
        Wait::new(move |resolve| {
            if s.aborted() {
                let _ = resolve.call0(&JsValue::UNDEFINED);
                return Box::new(|| {});
            }
            let _ = s.add_event_listener_with_callback("abort", resolve);
            let f = resolve.clone();
            Box::new(move || drop(s.remove_event_listener_with_callback("abort", &f)))
        })
    }

    /// Ready after `ms` milliseconds; never without `setTimeout`.
    pub(crate) fn timer(ms: u32) -> Wait {
        Wait::new(|resolve| match set_timeout(resolve, ms) {
            Ok(id) => Box::new(move || clear_timeout(&id)),
            Err(_) => Box::new(|| {}),
        })
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        if let Some(undo) = self.undo.take() {
            undo();
        }
    }
}

impl Future for Wait {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        std::pin::Pin::new(&mut self.fut).poll(cx).map(|_| ())
    }
}

/// `a`'s output (`Ok`), unless `b` is ready first (`Err`); the other is dropped.
async fn race<A: Future, B: Future>(a: A, b: B) -> Result<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    std::future::poll_fn(|cx| match b.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Err(v)),
        Poll::Pending => a.as_mut().poll(cx).map(Ok),
    })
    .await
}

/// Runs `fut` unless `signal` aborts first; then `fut` is dropped (its fetches are released)
/// and the result is the signal's reason. Its errors become JS errors.
pub(crate) async fn abortable<T>(
    signal: Option<AbortSignal>,
    fut: impl Future<Output = Result<T, LoadError>>,
) -> Result<T, JsValue> {
    let aborted = async {
        match &signal {
            Some(s) => Wait::abort(s).await,
            None => pending().await,
        }
    };
    match race(fut, aborted).await {
        Ok(r) => r.map_err(|e| load_error(e, signal.as_ref())),
        Err(()) => Err(abort_error(signal.as_ref())),
    }
}

/// One try of `url` (`range` of it) within `timeout_ms`, aborted in progress by `abort`: the
/// body of a 200 or 206 answer (the core checks its length and content).
pub(crate) async fn attempt(
    with: Option<&Function>,
    name: &str,
    url: &str,
    range: Option<Range<u64>>,
    no_store: bool,
    timeout_ms: u32,
    abort: &AbortController,
) -> Result<Vec<u8>, LoadError> {
    let signal = abort.signal();
    let fetched = race(
        fetch(with, url, range, no_store, &signal),
        Wait::timer(timeout_ms),
    );
    let name = name.to_string();
    match fetched.await {
        Ok(Ok(Ok(body))) => Ok(body),
        Ok(Ok(Err(status))) => Err(LoadError::Http { name, status }),
        Err(()) => {
            abort.abort();
            Err(LoadError::Timeout {
                name,
                ms: timeout_ms,
            })
        }
        Ok(Err(e)) if property(&e, "name").as_deref() == Some("AbortError") => {
            Err(LoadError::Aborted)
        }
        Ok(Err(e)) => {
            let message = property(&e, "message").unwrap_or(format!("{e:?}"));
            Err(LoadError::Network { name, message })
        }
    }
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
    signal: &AbortSignal,
) -> Result<Result<Vec<u8>, u16>, JsValue> {
    let global = js_sys::global();
    let fetch: Function = match with {
        Some(f) => f.clone(),
        None => Reflect::get(&global, &"fetch".into())?
            .dyn_into()
            .map_err(|_| js_sys::Error::new("this JavaScript environment has no global fetch"))?,
    };
    let init = Object::new();
    Reflect::set(&init, &"signal".into(), signal)?;
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
    let response: web_sys::Response = JsFuture::from(Promise::resolve(&promise))
        .await?
        .dyn_into()
        .map_err(|_| js_sys::Error::new("fetch did not return a Response"))?;
    if !matches!(response.status(), 200 | 206) {
        return Ok(Err(response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Ok(Uint8Array::new(&buffer).to_vec()))
}
