//! Typed getters for the option objects JavaScript passes. The binding says only what kind of
//! value each one is ([`Given`]); their types, ranges and defaults are checked by the core
//! ([`crate::lazy::options`]). `signal` and `fetch` are JavaScript's own and checked here.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::error::invalid;
use crate::lazy::options::{Given, GivenOpen, GivenSearch, OpenOptions};
use crate::tree::Node;
use crate::{Refine, SearchOptions};

/// An options type of JavaScript's with a typed getter per option (`#[wasm_bindgen(method,
/// getter)]`, named in camelCase in JavaScript), and what the core checks of them: the
/// `Given` struct whose fields are the options before `+`. Each option is named once.
macro_rules! options {
    ($js:ident => $given:ident { $($f:ident $(= $name:ident)?),* } + { $($x:ident),* }) => {
        #[wasm_bindgen]
        extern "C" {
            pub type $js;
            $(#[wasm_bindgen(method, getter $(, js_name = $name)?)]
            fn $f(this: &$js) -> JsValue;)*
            $(#[wasm_bindgen(method, getter)]
            fn $x(this: &$js) -> JsValue;)*
        }
        impl $js {
            fn given(&self) -> $given {
                $given { $($f: given(self.$f())),* }
            }
        }
    };
}

options!(JsSearchOptions => GivenSearch {
    limit, prefix, typos, any, snippet, filter, facets, sort, offset
} + { signal });
options!(JsOpenOptions => GivenOpen {
    cache_bytes = cacheBytes, timeout_ms = timeoutMs, retries, backoff_ms = backoffMs,
    share_fetches = shareFetches
} + { fetch });

/// What kind of value JavaScript gave (an object or an array is `Other` until an option reads
/// it: `filter` and `facets`, in [`search`]).
fn given(v: JsValue) -> Given {
    // (Not `Tree::node`: an object's keys are not listed before an option reads it.)
    match super::value::scalar(&v) {
        Some(Node::Null) => Given::Absent,
        Some(Node::Bool(b)) => Given::Bool(b),
        Some(Node::Number(n)) => Given::Number(n),
        Some(Node::Text(s)) => Given::Text(s),
        _ => Given::Other,
    }
}

/// The options object (an empty one when JavaScript gave no object: every option then takes its
/// default).
fn object<T: JsCast>(options: &JsValue) -> T {
    match options.is_object() {
        true => options.clone().unchecked_into(),
        false => js_sys::Object::new().unchecked_into(),
    }
}

/// The abort signal of any options object (`{signal}`).
pub(crate) fn signal(options: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    match object::<JsSearchOptions>(options).signal() {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => {
            Ok(Some(v.dyn_into().map_err(|_| {
                invalid("option signal must be an AbortSignal")
            })?))
        }
    }
}

/// `search`'s options and refinements. A structured `filter` is read from the JavaScript value
/// itself by the core's [`crate::Filter::from_tree`] (within its node and depth limits, so a
/// cyclic object stops), and `facets` as a list of strings: no JSON text in between.
pub(crate) fn search(options: &JsValue) -> Result<(SearchOptions, Refine), JsValue> {
    let o = object::<JsSearchOptions>(options);
    let mut given = o.given();
    if given.filter == Given::Other {
        given.filter = Given::Filter(Box::new(crate::Filter::from_tree(&o.filter())?));
    }
    if given.facets == Given::Other {
        // (More names than fields are refused by the core; a list longer still is not read.)
        let names = super::value::list(&o.facets(), 1 << 16, JsValue::as_string);
        given.facets = names.map_or(Given::Other, Given::Names);
    }
    Ok(given.check()?)
}

/// `open`'s options, over the defaults of this runtime, and its `fetch` function.
pub(crate) fn open(options: &JsValue) -> Result<(OpenOptions, Option<Function>), JsValue> {
    // Cloudflare Workers (`navigator.userAgent`) have defaults of their own.
    let agent = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"userAgent".into()));
    let workers = agent.ok().and_then(|u| u.as_string()).as_deref() == Some("Cloudflare-Workers");
    let o = object::<JsOpenOptions>(options);
    let fetch = match o.fetch() {
        f if f.is_undefined() || f.is_null() => None,
        f => Some(
            f.dyn_into()
                .map_err(|_| invalid("option fetch must be a function"))?,
        ),
    };
    Ok((o.given().check(workers)?, fetch))
}
