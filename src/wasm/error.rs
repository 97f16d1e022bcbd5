//! The one place where errors become JavaScript values.
//!
//! Core and loader errors become an `Error` whose `name` is `EdgekbError` and whose `code` is
//! the variant's stable name ([`crate::Error::code`], [`LoadError::code`]). An abort rejects
//! with the signal's own reason (an `AbortError`), so `err.name === "AbortError"` works as
//! callers expect.

use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use crate::lazy::LoadError;

/// `?` turns core errors into JS errors.
impl From<crate::Error> for JsValue {
    fn from(e: crate::Error) -> Self {
        js_error(e.code(), &e.to_string())
    }
}

/// A JS `Error` with `name = "EdgekbError"` and the given `code`.
fn js_error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("EdgekbError");
    let _ = js_sys::Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

/// An `InvalidArgument` error.
pub(crate) fn invalid(message: &str) -> JsValue {
    crate::Error::InvalidArgument {
        message: message.into(),
    }
    .into()
}

/// What an aborted operation rejects with: the signal's `reason` when it has one (an
/// `AbortError` `DOMException` by default), else an `Error` named `AbortError`.
pub(crate) fn abort_error(signal: Option<&AbortSignal>) -> JsValue {
    match signal.map(AbortSignal::reason) {
        Some(reason) if !reason.is_undefined() => reason,
        _ => {
            let e = js_sys::Error::new("the operation was aborted");
            e.set_name("AbortError");
            e.into()
        }
    }
}

/// A loader error as JS sees it; an abort becomes `signal`'s reason.
pub(crate) fn load_error(e: LoadError, signal: Option<&AbortSignal>) -> JsValue {
    match e {
        LoadError::Aborted => abort_error(signal),
        other => js_error(other.code(), &other.to_string()),
    }
}
