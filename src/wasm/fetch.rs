//! HTTP for split indexes: `fetch` from `js_sys::global()` (pages, workers, Node, Cloudflare
//! Workers), with `Range` requests, a timeout per request, retries with jittered exponential
//! backoff on network errors, timeouts, 5xx, 429 and failed checks (never on other 4xx), and
//! single-flight sharing: searches that need the same request wait on one fetch, which is
//! aborted only when the last of them stops waiting.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::abort::Timer;
use crate::lazy::{LoadError, LoadStats};

/// Per-request behaviour: a timeout, the core's retry rule, single-flight sharing.
pub(crate) use super::options::Open as FetchOptions;

/// The counters requests update (shared with `stats()`).
pub(crate) type NetStats = LoadStats;

struct Shared<T> {
    waiters: Cell<usize>,
    cancelled: Cell<bool>,
    controller: RefCell<Option<web_sys::AbortController>>,
    outcome: RefCell<Option<Result<T, LoadError>>>,
    wakers: RefCell<Vec<Waker>>,
}

/// One search's interest in a shared fetch. Dropping it before the fetch ends releases the
/// interest; the last one to go aborts the fetch.
pub(crate) struct Waiter<T: Clone> {
    shared: Rc<Shared<T>>,
    stats: Rc<RefCell<NetStats>>,
}

impl<T: Clone> Future for Waiter<T> {
    type Output = Result<T, LoadError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(o) = self.shared.outcome.borrow().as_ref() {
            return Poll::Ready(o.clone());
        }
        self.shared.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

impl<T: Clone> Drop for Waiter<T> {
    fn drop(&mut self) {
        let n = self.shared.waiters.get() - 1;
        self.shared.waiters.set(n);
        if n == 0 && self.shared.outcome.borrow().is_none() && !self.shared.cancelled.get() {
            self.shared.cancelled.set(true);
            if let Some(c) = self.shared.controller.borrow().as_ref() {
                c.abort();
            }
            self.stats.borrow_mut().aborted += 1;
            // A driver sleeping before a retry stops now instead of when its timer fires.
            let wakers: Vec<Waker> = self.shared.wakers.borrow_mut().drain(..).collect();
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// Shared fetches of one index, by key.
pub(crate) struct Http<T: Clone + 'static> {
    pub options: FetchOptions,
    pub stats: Rc<RefCell<NetStats>>,
    inflight: Rc<RefCell<HashMap<String, Rc<Shared<T>>>>>,
    /// Fetches started (makes keys unique when fetches are not shared).
    started: Cell<u64>,
}

impl<T: Clone + 'static> Http<T> {
    pub(crate) fn new(options: FetchOptions, stats: Rc<RefCell<NetStats>>) -> Self {
        Http {
            options,
            stats,
            inflight: Rc::new(RefCell::new(HashMap::new())),
            started: Cell::new(0),
        }
    }

    /// Requests in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.inflight.borrow().len()
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
        let mut key = match &range {
            Some(r) => format!("{url}#{}-{}", r.start, r.end),
            None => url.clone(),
        };
        self.started.set(self.started.get() + 1);
        if !self.options.share {
            key = format!("{key}#{}", self.started.get());
        }
        if let Some(s) = self.inflight.borrow().get(&key) {
            if !s.cancelled.get() {
                s.waiters.set(s.waiters.get() + 1);
                return Waiter {
                    shared: s.clone(),
                    stats: self.stats.clone(),
                };
            }
        }
        let shared = Rc::new(Shared {
            waiters: Cell::new(1),
            cancelled: Cell::new(false),
            controller: RefCell::new(None),
            outcome: RefCell::new(None),
            wakers: RefCell::new(Vec::new()),
        });
        self.inflight
            .borrow_mut()
            .insert(key.clone(), shared.clone());
        let driver = Driver {
            shared: shared.clone(),
            stats: self.stats.clone(),
            inflight: self.inflight.clone(),
            options: self.options,
            name: name.to_string(),
            url,
            range,
            no_store,
            key,
        };
        wasm_bindgen_futures::spawn_local(driver.run(check));
        Waiter {
            shared,
            stats: self.stats.clone(),
        }
    }
}

struct Driver<T: Clone + 'static> {
    shared: Rc<Shared<T>>,
    stats: Rc<RefCell<NetStats>>,
    inflight: Rc<RefCell<HashMap<String, Rc<Shared<T>>>>>,
    options: FetchOptions,
    name: String,
    url: String,
    range: Option<Range<u64>>,
    no_store: bool,
    key: String,
}

impl<T: Clone + 'static> Driver<T> {
    async fn run(self, check: impl Fn(Vec<u8>) -> Result<T, LoadError>) {
        let mut attempt = 0;
        let outcome = loop {
            if self.shared.cancelled.get() {
                break Err(LoadError::Aborted);
            }
            let Ok(controller) = web_sys::AbortController::new() else {
                break Err(LoadError::Network {
                    name: self.name.clone(),
                    message: "no AbortController".into(),
                });
            };
            *self.shared.controller.borrow_mut() = Some(controller.clone());
            let timed_out = Rc::new(Cell::new(false));
            let (t, c) = (timed_out.clone(), controller.clone());
            let timer = Timer::new(self.options.timeout_ms, move || {
                t.set(true);
                c.abort();
            });
            let result = fetch_once(
                &self.name,
                &self.url,
                self.range.clone(),
                self.no_store,
                &controller.signal(),
            )
            .await;
            drop(timer);
            self.stats.borrow_mut().requests += 1;
            let failure = match result {
                Ok(bytes) => {
                    self.stats.borrow_mut().bytes_fetched += bytes.len() as u64;
                    match check(bytes) {
                        Ok(v) => break Ok(v),
                        Err(e) => {
                            self.stats.borrow_mut().rejected += 1;
                            e
                        }
                    }
                }
                Err(e @ LoadError::Http { .. }) => {
                    self.stats.borrow_mut().rejected += 1;
                    e
                }
                Err(LoadError::Aborted) if timed_out.get() => LoadError::Timeout {
                    name: self.name.clone(),
                    ms: self.options.timeout_ms,
                },
                Err(e) => e,
            };
            attempt += 1;
            let wait = match self
                .options
                .retry
                .delay_ms(attempt, &failure, js_sys::Math::random())
            {
                Some(ms) if !self.shared.cancelled.get() => ms,
                _ => break Err(failure),
            };
            self.stats.borrow_mut().retries += 1;
            // Sleep, unless the last waiter lets go meanwhile (it wakes us through `wakers`).
            if let Some(mut t) = Timer::new(wait, || {}) {
                let shared = &self.shared;
                std::future::poll_fn(|cx| {
                    if shared.cancelled.get() {
                        return Poll::Ready(());
                    }
                    shared.wakers.borrow_mut().push(cx.waker().clone());
                    Pin::new(&mut t).poll(cx)
                })
                .await;
            }
        };
        *self.shared.controller.borrow_mut() = None;
        *self.shared.outcome.borrow_mut() = Some(outcome);
        {
            let mut map = self.inflight.borrow_mut();
            if map
                .get(&self.key)
                .is_some_and(|s| Rc::ptr_eq(s, &self.shared))
            {
                map.remove(&self.key);
            }
        }
        for w in self.shared.wakers.borrow_mut().drain(..) {
            w.wake();
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
    let fetch: Function = Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| network("this JavaScript environment has no global fetch".into()))?;
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

/// Waits for all `futures`, in order.
pub(crate) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(out.iter_mut().map(|o| o.take().expect("ready")).collect())
        }
    })
    .await
}
