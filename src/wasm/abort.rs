//! Cancellation: races a future against an `AbortSignal`, and JS timers.
//!
//! Every listener and timer callback is removed and dropped when its guard is dropped, so no
//! `Closure` outlives the operation it serves.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Shared state between a JS callback and the future waiting on it.
#[derive(Default)]
struct Flag {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Flag {
    fn fire(&self) {
        self.fired.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// Resolves when `signal` aborts; removes its listener when dropped.
pub(crate) struct Aborted {
    flag: Rc<Flag>,
    signal: Option<web_sys::AbortSignal>,
    listener: Option<Closure<dyn FnMut()>>,
}

impl Aborted {
    /// Watches `signal` (or never resolves when there is none).
    pub(crate) fn new(signal: Option<web_sys::AbortSignal>) -> Aborted {
        let flag = Rc::new(Flag::default());
        let mut listener = None;
        if let Some(s) = &signal {
            if s.aborted() {
                flag.fired.set(true);
            } else {
                let f = flag.clone();
                let cb = Closure::<dyn FnMut()>::new(move || f.fire());
                let _ = s.add_event_listener_with_callback("abort", cb.as_ref().unchecked_ref());
                listener = Some(cb);
            }
        }
        Aborted {
            flag,
            signal,
            listener,
        }
    }

    pub(crate) fn fired(&self) -> bool {
        self.flag.fired.get()
    }
}

impl Drop for Aborted {
    fn drop(&mut self) {
        if let (Some(s), Some(cb)) = (&self.signal, &self.listener) {
            let _ = s.remove_event_listener_with_callback("abort", cb.as_ref().unchecked_ref());
        }
    }
}

impl Future for Aborted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.fired.get() {
            return Poll::Ready(());
        }
        *self.flag.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The error an aborted operation rejects with: the signal's `reason` when it has one (an
/// `AbortError` `DOMException` by default), else an `Error` named `AbortError`.
pub(crate) fn abort_error(signal: Option<&web_sys::AbortSignal>) -> JsValue {
    if let Some(s) = signal {
        let reason = s.reason();
        if !reason.is_undefined() {
            return reason;
        }
    }
    let e = js_sys::Error::new("the operation was aborted");
    e.set_name("AbortError");
    e.into()
}

/// Runs `fut` unless `signal` aborts first; then `fut` is dropped (its fetches are released).
pub(crate) async fn abortable<T>(
    signal: Option<web_sys::AbortSignal>,
    fut: impl Future<Output = Result<T, JsValue>>,
) -> Result<T, JsValue> {
    let aborted = Aborted::new(signal.clone());
    if aborted.fired() {
        return Err(abort_error(signal.as_ref()));
    }
    let mut fut = Box::pin(fut);
    let mut aborted = Box::pin(aborted);
    std::future::poll_fn(move |cx| {
        if aborted.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(abort_error(signal.as_ref())));
        }
        fut.as_mut().poll(cx)
    })
    .await
}

/// A `setTimeout` that is cleared (and its callback dropped) when the guard is dropped.
pub(crate) struct Timer {
    id: JsValue,
    flag: Rc<Flag>,
    _cb: Closure<dyn FnMut()>,
}

fn global_fn(name: &str) -> Option<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()?
        .dyn_into()
        .ok()
}

impl Timer {
    /// Calls `on_fire` after `ms` milliseconds, unless dropped before.
    pub(crate) fn new(ms: u32, on_fire: impl FnOnce() + 'static) -> Option<Timer> {
        let flag = Rc::new(Flag::default());
        let f = flag.clone();
        let mut on_fire = Some(on_fire);
        let cb = Closure::<dyn FnMut()>::new(move || {
            if let Some(g) = on_fire.take() {
                g();
            }
            f.fire();
        });
        let set = global_fn("setTimeout")?;
        let id = set
            .call2(
                &JsValue::UNDEFINED,
                cb.as_ref().unchecked_ref(),
                &JsValue::from(ms),
            )
            .ok()?;
        Some(Timer { id, flag, _cb: cb })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(clear) = global_fn("clearTimeout") {
            let _ = clear.call1(&JsValue::UNDEFINED, &self.id);
        }
    }
}

impl Future for Timer {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.fired.get() {
            return Poll::Ready(());
        }
        *self.flag.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}
