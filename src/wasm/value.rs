//! A JavaScript value as the core reads a host's parsed value ([`crate::tree::Tree`]): a
//! structured filter, the `facets` list, a parsed `manifest.json`. Read in place, node by node,
//! as the core's readers walk it (so their limits stop a huge or cyclic value early), with no
//! serde deserializer in the `.wasm`.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::tree::{Node, Tree};

impl Tree for JsValue {
    fn node(&self, max_keys: usize) -> Node {
        if self.is_undefined() || self.is_null() {
            Node::Null
        } else if let Some(b) = self.as_bool() {
            Node::Bool(b)
        } else if let Some(n) = self.as_f64() {
            Node::Number(n)
        } else if let Some(s) = self.as_string() {
            Node::Text(s)
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

/// A list of at most `max` items, each read by `each` (`None`: not such a list).
pub(crate) fn list<V>(
    value: &JsValue,
    max: usize,
    each: impl Fn(&JsValue) -> Option<V>,
) -> Option<Vec<V>> {
    match value.node(0) {
        Node::List(n) if n <= max => (0..n).map(|i| each(&value.item(i)?)).collect(),
        _ => None,
    }
}
