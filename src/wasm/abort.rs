//! Cancellation: an `AbortSignal`'s `abort` event or a `setTimeout` as a future. Dropping it
//! removes the listener or clears the timer, and drops its `Closure`, so none outlives the
//! operation it serves.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::error::{abort_error, load_error};
use crate::lazy::LoadError;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

#[derive(Default)]
struct Flag {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// Resolves when its JS callback has fired.
pub(crate) struct Event {
    flag: Rc<Flag>,
    cb: Closure<dyn FnMut()>,
    undo: Option<Box<dyn FnOnce(&Function)>>,
}

impl Event {
    fn new(on_fire: impl FnOnce() + 'static) -> Event {
        let flag = Rc::new(Flag::default());
        let (f, mut on_fire) = (flag.clone(), Some(on_fire));
        let cb = Closure::<dyn FnMut()>::new(move || {
            on_fire.take().map(|g| g());
            f.fired.set(true);
            f.waker.borrow_mut().take().map(Waker::wake);
        });
        Event {
            flag,
            cb,
            undo: None,
        }
    }

    fn function(&self) -> &Function {
        self.cb.as_ref().unchecked_ref()
    }

    /// Fires when `signal` aborts (at once if it has; never without a signal).
    pub(crate) fn abort(signal: Option<&AbortSignal>) -> Event {
        let mut e = Event::new(|| {});
        match signal {
            Some(s) if s.aborted() => e.flag.fired.set(true),
            Some(s) => {
                let _ = s.add_event_listener_with_callback("abort", e.function());
                let s = s.clone();
                e.undo = Some(Box::new(move |f| {
                    let _ = s.remove_event_listener_with_callback("abort", f);
                }));
            }
            None => {}
        }
        e
    }

    /// Calls `on_fire` and fires after `ms` milliseconds (`None` without `setTimeout`).
    pub(crate) fn timer(ms: u32, on_fire: impl FnOnce() + 'static) -> Option<Event> {
        let mut e = Event::new(on_fire);
        let id = set_timeout(e.function(), ms).ok()?;
        e.undo = Some(Box::new(move |_| clear_timeout(&id)));
        Some(e)
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        if let Some(undo) = self.undo.take() {
            undo(self.cb.as_ref().unchecked_ref());
        }
    }
}

impl Future for Event {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.fired.get() {
            return Poll::Ready(());
        }
        *self.flag.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Runs `fut` unless `signal` aborts first; then `fut` is dropped (its fetches are released)
/// and the result is the signal's reason. Its errors become JS errors.
pub(crate) async fn abortable<T>(
    signal: Option<AbortSignal>,
    fut: impl Future<Output = Result<T, LoadError>>,
) -> Result<T, JsValue> {
    let mut aborted = Event::abort(signal.as_ref());
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        if Pin::new(&mut aborted).poll(cx).is_ready() {
            return Poll::Ready(Err(abort_error(signal.as_ref())));
        }
        let done = fut.as_mut().poll(cx);
        done.map(|r| r.map_err(|e| load_error(e, signal.as_ref())))
    })
    .await
}
