//! A JavaScript value as the core reads a host's parsed value ([`crate::tree::Tree`]): a
//! structured filter, the `facets` list, a parsed `manifest.json`. Read in place, node by node,
//! as the core's readers walk it (so their limits stop a huge or cyclic value early), with no
//! serde deserializer in the `.wasm`.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::tree::{Build, Node, Tree};

/// What a JavaScript value is when it is neither a list nor a map: null or undefined, a
/// boolean, a number or a string (`None` for anything else).
pub(crate) fn scalar(v: &JsValue) -> Option<Node> {
    if v.is_undefined() || v.is_null() {
        Some(Node::Null)
    } else if let Some(b) = v.as_bool() {
        Some(Node::Bool(b))
    } else if let Some(n) = v.as_f64() {
        Some(Node::Number(n))
    } else {
        v.as_string().map(Node::Text)
    }
}

impl Tree for JsValue {
    fn node(&self, max_keys: usize) -> Node {
        if let Some(node) = scalar(self) {
            node
        } else if Array::is_array(self) {
            Node::List(self.unchecked_ref::<Array>().length() as usize)
        } else if self.is_object() && !self.is_function() {
            let keys = Object::keys(self.unchecked_ref::<Object>());
            let n = keys.length().min(max_keys.saturating_add(1) as u32);
            Node::Map((0..n).filter_map(|i| keys.get(i).as_string()).collect())
        } else {
            Node::Other
        }
    }

    fn get(&self, key: &str) -> Option<JsValue> {
        if !self.is_object() || Array::is_array(self) {
            return None;
        }
        let v = Reflect::get(self, &JsValue::from_str(key)).ok()?;
        (!v.is_undefined()).then_some(v)
    }

    fn item(&self, i: usize) -> Option<JsValue> {
        let list = self.dyn_ref::<Array>()?;
        (i < list.length() as usize).then(|| list.get(i as u32))
    }
}

/// A list of at most `max` items, each read by `each` (`None`: not such a list), through the
/// core's [`crate::tree::read::items`].
pub(crate) fn list<V>(
    value: &JsValue,
    max: usize,
    each: impl Fn(&JsValue) -> Option<V>,
) -> Option<Vec<V>> {
    crate::tree::read::items(value, max, |v| each(v).ok_or_else(String::new)).ok()
}

/// What the binding answers (results, counters), built as plain JavaScript objects, arrays,
/// numbers and strings.
impl Build for JsValue {
    fn bool(b: bool) -> Self {
        JsValue::from_bool(b)
    }

    fn count(n: u64) -> Self {
        JsValue::from_f64(n as f64)
    }

    fn float(n: f32) -> Self {
        JsValue::from_f64(n.into())
    }

    fn text(s: &str) -> Self {
        JsValue::from_str(s)
    }

    fn list(items: Vec<Self>) -> Self {
        items.into_iter().collect::<Array>().into()
    }

    fn map(fields: Vec<(&str, Self)>) -> Self {
        let object = Object::new();
        for (key, value) in fields {
            // Setting a property of a new plain object cannot fail.
            let _ = Reflect::set(&object, &JsValue::from_str(key), &value);
        }
        object.into()
    }
}
