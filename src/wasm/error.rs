//! The one place where errors become JavaScript values.
//!
//! Core errors become an `Error` whose `name` is `EdgekbError` and whose `code` is the core
//! variant's stable name ([`crate::Error::code`]); network failures get codes of their own.
//! Errors that JavaScript raised (an `AbortError` from an aborted signal) pass through as they
//! are, so `err.name === "AbortError"` works as callers expect.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// A JS `Error` with `name = "EdgekbError"` and the given `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("EdgekbError");
    let _ = Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

impl From<crate::Error> for JsErr {
    fn from(e: crate::Error) -> Self {
        JsErr(js_error(e.code(), &e.to_string()))
    }
}

/// A JS value to throw; `?` converts core errors into it.
pub(crate) struct JsErr(pub JsValue);

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
        JsErr(js_error(
            "InvalidArgument",
            &format!("invalid options: {e}"),
        ))
    }
}
