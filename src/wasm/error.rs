//! The one place where errors become JavaScript values.
//!
//! Core and loader errors become an `Error` whose `name` is `EdgekbError` and whose `code` is
//! the variant's stable name ([`crate::Error::code`], [`LoadError::code`]). An abort rejects
//! with the signal's own reason (an `AbortError`), so `err.name === "AbortError"` works as
//! callers expect.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use super::abort::abort_error;
use crate::lazy::LoadError;

/// A JS `Error` with `name = "EdgekbError"` and the given `code`.
fn js_error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("EdgekbError");
    let _ = Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

/// An `InvalidArgument` error.
pub(crate) fn invalid(message: &str) -> JsErr {
    JsErr(js_error("InvalidArgument", message))
}

/// A loader error as JS sees it; an abort becomes `signal`'s reason.
pub(crate) fn load_error(e: LoadError, signal: Option<&web_sys::AbortSignal>) -> JsValue {
    match e {
        LoadError::Aborted => abort_error(signal),
        other => js_error(other.code(), &other.to_string()),
    }
}

/// A JS value to throw; `?` converts core and loader errors into it.
pub(crate) struct JsErr(pub JsValue);

impl From<crate::Error> for JsErr {
    fn from(e: crate::Error) -> Self {
        JsErr(js_error(e.code(), &e.to_string()))
    }
}

impl From<LoadError> for JsErr {
    fn from(e: LoadError) -> Self {
        JsErr(load_error(e, None))
    }
}

impl From<JsValue> for JsErr {
    fn from(v: JsValue) -> Self {
        JsErr(v)
    }
}

impl From<JsErr> for JsValue {
    fn from(e: JsErr) -> Self {
        e.0
    }
}

impl From<serde_wasm_bindgen::Error> for JsErr {
    fn from(e: serde_wasm_bindgen::Error) -> Self {
        invalid(&format!("invalid value: {e}"))
    }
}
