//! How does the core read a value a host has already parsed (a structured filter, a
//! `manifest.json`)? Through [`Tree`]: JSON natively (`serde_json::Value`), a JavaScript value
//! in the binding, read in place as it is walked. Each reader is written once, over the trait,
//! and the search `.wasm` carries neither a JSON parser nor serde's deserializers (nor the float
//! and string formatting their error messages pull in).
//!
//! A reader asks for one node at a time, and a list or a map says how long it is before any of
//! it is read, so a reader with limits stops a hostile value (huge, deep or cyclic) early.
//!
//! What the engine answers (results, counters) goes the other way, through [`Build`]: each
//! answer is written once, as a `serde_json::Value` natively and as a JavaScript value in the
//! binding, with no serde serializer in the `.wasm`.

/// What one node of a value is.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null` (or JavaScript's `undefined`).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
    /// A list of this many items ([`Tree::item`]).
    List(usize),
    /// A map with these keys, in order; at most the `max_keys` asked for plus one, so that a
    /// reader can tell there are too many.
    Map(Vec<String>),
    /// Anything else (a function, a symbol, …).
    Other,
}

/// A value a host parsed: its nodes, read on demand.
pub trait Tree: Sized {
    /// What this node is (a map's keys: at most `max_keys + 1` of them).
    fn node(&self, max_keys: usize) -> Node;
    /// The value of `key` in a map (`None`: absent, or not a map).
    fn get(&self, key: &str) -> Option<Self>;
    /// Item `i` of a list (`None`: past its end, or not a list).
    fn item(&self, i: usize) -> Option<Self>;
}

/// A parsed JSON value, read by reference (a map's value or a list's item is borrowed, never
/// copied: only strings are).
impl Tree for &serde_json::Value {
    fn node(&self, max_keys: usize) -> Node {
        use serde_json::Value;
        match self {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Node::Other, Node::Number),
            Value::String(s) => Node::Text(s.clone()),
            Value::Array(a) => Node::List(a.len()),
            Value::Object(m) => Node::Map(m.keys().take(max_keys + 1).cloned().collect()),
        }
    }

    fn get(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }

    fn item(&self, i: usize) -> Option<Self> {
        self.as_array()?.get(i)
    }
}

/// A value built for a host: the output side of [`Tree`].
pub trait Build: Sized {
    /// `true` or `false`.
    fn bool(b: bool) -> Self;
    /// A count (a JavaScript number: exact up to 2^53).
    fn count(n: u64) -> Self;
    /// A score: the `f32`'s exact value, as a number.
    fn float(n: f32) -> Self;
    /// A string.
    fn text(s: &str) -> Self;
    /// A list.
    fn list(items: Vec<Self>) -> Self;
    /// A map of `fields`, in order.
    fn map(fields: Vec<(&str, Self)>) -> Self;
}

impl Build for serde_json::Value {
    fn bool(b: bool) -> Self {
        b.into()
    }

    fn count(n: u64) -> Self {
        n.into()
    }

    fn float(n: f32) -> Self {
        n.into()
    }

    fn text(s: &str) -> Self {
        s.into()
    }

    fn list(items: Vec<Self>) -> Self {
        serde_json::Value::Array(items)
    }

    fn map(fields: Vec<(&str, Self)>) -> Self {
        serde_json::Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

/// Readers of typed fields of a map, with messages that name the field.
pub mod read {
    use super::{Node, Tree};

    /// The map's `key`, which must be there.
    pub fn field<T: Tree>(t: &T, key: &str) -> Result<T, String> {
        t.get(key).ok_or_else(|| format!("missing field {key}"))
    }

    /// A string field.
    pub fn text<T: Tree>(t: &T, key: &str) -> Result<String, String> {
        match field(t, key)?.node(0) {
            Node::Text(s) => Ok(s),
            _ => Err(format!("field {key} must be a string")),
        }
    }

    /// A whole-number field from 0 to `max`.
    pub fn whole<T: Tree>(t: &T, key: &str, max: u64) -> Result<u64, String> {
        match field(t, key)?.node(0) {
            Node::Number(n) if n.fract() == 0.0 && n >= 0.0 && n <= max as f64 => Ok(n as u64),
            _ => Err(format!(
                "field {key} must be a whole number from 0 to {max}"
            )),
        }
    }

    /// A list field, each item read by `each`, at most `max` items.
    pub fn list<T: Tree, V>(
        t: &T,
        key: &str,
        max: usize,
        each: impl FnMut(&T) -> Result<V, String>,
    ) -> Result<Vec<V>, String> {
        items(&field(t, key)?, max, each).map_err(|e| format!("field {key}: {e}"))
    }

    /// The items of a list, each read by `each`, at most `max` of them (a longer list is not
    /// read).
    pub fn items<T: Tree, V>(
        list: &T,
        max: usize,
        mut each: impl FnMut(&T) -> Result<V, String>,
    ) -> Result<Vec<V>, String> {
        let n = match list.node(0) {
            Node::List(n) if n <= max => n,
            Node::List(_) => return Err(format!("more than {max} items")),
            _ => return Err("not a list".to_string()),
        };
        (0..n)
            .map(|i| {
                list.item(i)
                    .ok_or_else(|| "the list ends early".to_string())
            })
            .map(|item| each(&item?))
            .collect()
    }

    /// Whether the map's `key` is absent or null.
    pub fn absent<T: Tree>(t: &T, key: &str) -> bool {
        t.get(key).is_none_or(|v| v.node(0) == Node::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::read::*;
    use super::*;

    #[test]
    fn json_values_read_as_nodes() {
        let v: &serde_json::Value =
            &serde_json::from_str(r#"{"a":"x","n":3,"f":1.5,"l":[1,2],"z":null,"m":{"k":true}}"#)
                .unwrap();
        assert_eq!(text(&v, "a"), Ok("x".to_string()));
        assert_eq!(whole(&v, "n", 10), Ok(3));
        // (input, outcome): not whole, above the maximum, not a number, absent.
        for (key, max) in [("f", 10), ("n", 2), ("a", 10), ("q", 10)] {
            assert!(whole(&v, key, max).is_err(), "{key}");
        }
        assert_eq!(
            list(&v, "l", 5, |i| Ok(i.node(0))),
            Ok(vec![Node::Number(1.0), Node::Number(2.0)])
        );
        assert!(list(&v, "l", 1, |_| Ok(())).is_err());
        assert!(list(&v, "a", 5, |_| Ok(())).is_err());
        assert!(absent(&v, "z") && absent(&v, "q") && !absent(&v, "a"));
        assert_eq!(
            v.get("m").unwrap().node(5),
            Node::Map(vec!["k".to_string()])
        );
        // A map says at most one key more than asked for.
        assert_eq!(v.node(1), Node::Map(vec!["a".to_string(), "f".to_string()]));
        assert_eq!(v.item(0), None);
    }
}
