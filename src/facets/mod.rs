//! Which documents carry a facet value, which values does a document carry, and in what order
//! do documents sort? The FACETS section (section id 11): its writer, its reader, filters and
//! facet counts.
//!
//! Per facet field: an `fst::Map` of its values (value → ordinal, in byte order), each value's
//! documents (delta varints, or a bitmap when that is smaller) behind a table of offsets, and a
//! column of each document's value ordinals in blocks of [`COLUMN_BLOCK`] documents behind a
//! table of offsets. A filter on one value reads that value's set; counts over a result set
//! read the column blocks its documents sit in. Per sortable field: one `f64` per document
//! (`NaN` when the document has no number or date there).

use crate::error::{Error, Result};

mod reader;
mod structured;
mod writer;

pub use reader::Facets;
pub use writer::{externalize, FacetsWriter};

/// Documents per block of a facet field's column.
pub const COLUMN_BLOCK: usize = 128;
/// Most nodes (values, prefixes, `AND`/`OR`/`NOT`) one filter may have.
pub const MAX_FILTER_NODES: usize = 256;
/// Deepest nesting of one filter.
pub const MAX_FILTER_DEPTH: usize = 16;
/// Longest facet value kept (bytes); longer values are cut at a character boundary.
pub const MAX_VALUE_BYTES: usize = 256;

/// A FieldRecord of facet values.
const KIND_FACET: u64 = 0;
/// A FieldRecord of sort keys.
const KIND_SORT: u64 = 1;

/// A filter over facet values: which documents a search may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Documents whose `field` has exactly `value`.
    Is {
        /// A facet field.
        field: String,
        /// One of its values, as written in the input.
        value: String,
    },
    /// Documents whose `field` has a value starting with `prefix` (`devel::lang:` matches
    /// `devel::lang:python` and `devel::lang:c`).
    Prefix {
        /// A facet field.
        field: String,
        /// The start of its values.
        prefix: String,
    },
    /// Documents every filter accepts (an empty `All` accepts every document).
    All(Vec<Filter>),
    /// Documents some filter accepts (an empty `Any` accepts none).
    Any(Vec<Filter>),
    /// Documents the filter rejects.
    Not(Box<Filter>),
}

impl Filter {
    /// Parses the filter syntax, the query language's own: `field:value` (exact),
    /// `field:prefix*`, `"quoted values"`, implicit AND between items, `OR` between two items,
    /// `-item` for NOT (`tags:devel::lang:* -tags:role::shared-lib`). Every item needs a field.
    pub fn parse(text: &str) -> Result<Filter> {
        let query = crate::query::parse(text, false);
        let mut all = Vec::new();
        for clause in query.clauses {
            let mut any = Vec::new();
            for item in clause.items {
                let Some(field) = item.field else {
                    return Err(Error::InvalidOption {
                        message: format!(
                            "filter item {} has no field: write field:value",
                            crate::error::Quoted(&item.text)
                        ),
                    });
                };
                any.push(match item.prefix {
                    true => Filter::Prefix {
                        field,
                        prefix: item.text,
                    },
                    false => Filter::Is {
                        field,
                        value: item.text,
                    },
                });
            }
            let one = match any.len() {
                1 => any.pop().expect("one"),
                _ => Filter::Any(any),
            };
            all.push(match clause.occur {
                crate::query::Occur::Must => one,
                crate::query::Occur::MustNot => Filter::Not(Box::new(one)),
            });
        }
        Ok(match all.len() {
            1 => all.pop().expect("one"),
            _ => Filter::All(all),
        })
    }

    /// Reads the structured form as JSON: a string in the filter syntax, `{"field": "tags",
    /// "value": "web"}`, `{"field": "tags", "prefix": "devel::"}`, `{"and": [...]}`,
    /// `{"or": [...]}`, `{"not": ...}`. Anything else is an `InvalidOption` naming what was
    /// expected; too deep or too many nodes, a `LimitExceeded` (JSON nested past
    /// `serde_json`'s own limit of 128 levels, too).
    pub fn from_json(text: &str) -> Result<Filter> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            match e.to_string().starts_with("recursion limit exceeded") {
                true => Error::LimitExceeded {
                    what: "nesting depth of one filter",
                    limit: MAX_FILTER_DEPTH as u64,
                },
                false => bad_filter(&e),
            }
        })?;
        Filter::from_tree(&&value)
    }

    /// Reads the structured form (as [`Filter::from_json`] describes it) from a value the host
    /// parsed: the JavaScript binding passes the caller's object, read in place, with no JSON
    /// text in between.
    pub fn from_tree<T: crate::tree::Tree>(value: &T) -> Result<Filter> {
        let f = structured::read(value)?;
        f.check_size()?;
        Ok(f)
    }

    /// Its nodes (values, prefixes, `AND`, `OR`, `NOT`), as [`MAX_FILTER_NODES`] counts them.
    pub(crate) fn nodes(&self) -> usize {
        match self {
            Filter::All(v) | Filter::Any(v) => 1 + v.iter().map(Filter::nodes).sum::<usize>(),
            Filter::Not(g) => 1 + g.nodes(),
            _ => 1,
        }
    }

    /// Nodes and depth, checked against [`MAX_FILTER_NODES`] and [`MAX_FILTER_DEPTH`].
    pub(crate) fn check_size(&self) -> Result<()> {
        fn walk(f: &Filter, depth: usize, nodes: &mut usize) -> Result<()> {
            *nodes += 1;
            if *nodes > MAX_FILTER_NODES {
                return Err(Error::LimitExceeded {
                    what: "nodes of one filter",
                    limit: MAX_FILTER_NODES as u64,
                });
            }
            if depth > MAX_FILTER_DEPTH {
                return Err(Error::LimitExceeded {
                    what: "nesting depth of one filter",
                    limit: MAX_FILTER_DEPTH as u64,
                });
            }
            match f {
                Filter::All(v) | Filter::Any(v) => {
                    v.iter().try_for_each(|g| walk(g, depth + 1, nodes))
                }
                Filter::Not(g) => walk(g, depth + 1, nodes),
                _ => Ok(()),
            }
        }
        walk(self, 0, &mut 0)
    }
}

fn bad_filter(what: &dyn std::fmt::Display) -> Error {
    Error::InvalidOption {
        message: format!("filter: {what}"),
    }
}

/// The ids in both ascending lists.
pub fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The ids of ascending `a` not in ascending `b`.
pub(crate) fn subtract_ids(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|&x| {
            while j < b.len() && b[j] < x {
                j += 1;
            }
            j == b.len() || b[j] != x
        })
        .collect()
}

/// The ids in any of the ascending lists, ascending (through a bitmap of `doc_count` bits when
/// there are several).
pub(crate) fn union_ids(mut lists: Vec<Vec<u32>>, doc_count: u32) -> Vec<u32> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists.pop().expect("one"),
        _ => {
            let mut bits = vec![0u64; (doc_count as usize).div_ceil(64)];
            for &d in lists.iter().flatten() {
                bits[d as usize / 64] |= 1 << (d % 64);
            }
            (0..doc_count)
                .filter(|&d| bits[d as usize / 64] & (1 << (d % 64)) != 0)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_parse_table() {
        let is = |v: &str| Filter::Is {
            field: "tags".into(),
            value: v.into(),
        };
        let cases = [
            ("tags:a", is("a")),
            (
                "tags:devel::lang:*",
                Filter::Prefix {
                    field: "tags".into(),
                    prefix: "devel::lang:".into(),
                },
            ),
            ("tags:a tags:b", Filter::All(vec![is("a"), is("b")])),
            ("tags:a OR tags:b", Filter::Any(vec![is("a"), is("b")])),
            ("-tags:a", Filter::Not(Box::new(is("a")))),
            ("tags:\"a b\"", is("a b")),
            ("", Filter::All(vec![])),
        ];
        for (text, want) in cases {
            assert_eq!(Filter::parse(text).unwrap(), want, "{text:?}");
        }
        assert!(matches!(
            Filter::parse("tags:a python"),
            Err(Error::InvalidOption { .. })
        ));
    }

    #[test]
    fn filter_json_table() {
        let is = |v: &str| Filter::Is {
            field: "tags".into(),
            value: v.into(),
        };
        let ok = [
            (r#""tags:a""#, is("a")),
            (r#"{"field":"tags","value":"a"}"#, is("a")),
            (
                r#"{"field":"tags","prefix":"devel::"}"#,
                Filter::Prefix {
                    field: "tags".into(),
                    prefix: "devel::".into(),
                },
            ),
            (
                r#"{"and":[{"field":"tags","value":"a"},{"not":"tags:b"}]}"#,
                Filter::All(vec![is("a"), Filter::Not(Box::new(is("b")))]),
            ),
            (r#"{"or":[]}"#, Filter::Any(vec![])),
        ];
        for (text, want) in ok {
            assert_eq!(Filter::from_json(text).unwrap(), want, "{text}");
        }
        for bad in [
            "42",
            "{}",
            r#"{"and":"x"}"#,
            r#"{"field":"tags"}"#,
            r#"{"field":"tags","value":1}"#,
            r#"{"field":"tags","value":"a","prefix":"b"}"#,
            "not json",
        ] {
            let e = Filter::from_json(bad).unwrap_err();
            assert_eq!(e.code(), "InvalidOption", "{bad}: {e}");
        }
        let deep = format!("{}\"tags:a\"{}", "{\"not\":".repeat(40), "}".repeat(40));
        assert_eq!(
            Filter::from_json(&deep).unwrap_err().code(),
            "LimitExceeded"
        );
    }

    #[test]
    fn structured_filters_stop_at_their_limits() {
        // Many nodes in one list: refused at the limit (a JavaScript value, without reading the
        // rest).
        let many = format!("{{\"or\":[{}\"tags:a\"]}}", "\"tags:a\",".repeat(100_000));
        let e = Filter::from_json(&many).unwrap_err();
        assert_eq!(e.code(), "LimitExceeded", "{e}");
        assert!(e.to_string().contains("nodes"), "{e}");
        // Nodes inside a filter string count too.
        let items = vec!["\"tags:a tags:b\""; 100].join(",");
        let text = format!("{{\"and\":[{items}]}}");
        assert_eq!(
            Filter::from_json(&text).unwrap_err().code(),
            "LimitExceeded"
        );
        // Deeper than serde_json's own recursion limit: refused as too deep too.
        let deep = format!(
            "{}\"tags:a\"{}",
            "{\"not\":".repeat(5_000),
            "}".repeat(5_000)
        );
        let e = Filter::from_json(&deep).unwrap_err();
        assert_eq!(e.code(), "LimitExceeded", "{e}");
        assert!(e.to_string().contains("depth"), "{e}");
        // A bad filter string keeps its own message.
        let e = Filter::from_json(r#"{"not":"web"}"#).unwrap_err();
        assert_eq!(e.code(), "InvalidOption");
        assert!(e.to_string().contains("has no field"), "{e}");
        // Trailing text, repeated or mixed keys.
        for bad in [
            r#""tags:a" x"#,
            r#"{"field":"tags","field":"tags"}"#,
            r#"{"not":"tags:a","and":[]}"#,
            r#"{"field":"tags","and":[]}"#,
            r#"{"and":[],"or":[]}"#,
            r#"{"value":"a","prefix":"b"}"#,
        ] {
            assert_eq!(
                Filter::from_json(bad).unwrap_err().code(),
                "InvalidOption",
                "{bad}"
            );
        }
    }

    #[test]
    fn structured_filters_read_from_a_parsed_value() {
        // The binding hands over a JavaScript value; here another parsed value, a
        // serde_json::Value, must read as the same text does.
        for text in [
            r#""tags:a -tags:b""#,
            r#"{"and":[{"field":"tags","value":"a"},{"not":{"field":"tags","prefix":"x"}}]}"#,
            r#"{"or":[]}"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                Filter::from_tree(&&value).unwrap(),
                Filter::from_json(text).unwrap(),
                "{text}"
            );
        }
        let value: serde_json::Value = serde_json::from_str(r#"{"field":"tags"}"#).unwrap();
        assert_eq!(
            Filter::from_tree(&&value).unwrap_err().code(),
            "InvalidOption"
        );
    }

    #[test]
    fn nested_filters_are_bounded() {
        let mut f = Filter::Is {
            field: "tags".into(),
            value: "a".into(),
        };
        for _ in 0..40 {
            f = Filter::Not(Box::new(f));
        }
        assert!(matches!(f.check_size(), Err(Error::LimitExceeded { .. })));
    }
}
