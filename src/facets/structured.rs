//! The structured form of a filter, read from a value the host parsed ([`crate::tree::Tree`]):
//! JSON natively ([`Filter::from_json`]), a JavaScript value in the binding (read in place, so
//! the search `.wasm` carries no JSON parser). One reader for both: a string in the filter
//! syntax, `{field, value}`, `{field, prefix}`, `{and: [...]}`, `{or: [...]}`, `{not: ...}`. It
//! stops as soon as the filter is deeper than [`MAX_FILTER_DEPTH`] or has more than
//! [`MAX_FILTER_NODES`] nodes, before reading further, so a hostile value (huge, deep or
//! cyclic) costs bounded work and stack.

use super::{bad_filter, Filter, MAX_FILTER_DEPTH, MAX_FILTER_NODES};
use crate::error::{Error, Result};
use crate::tree::{Node, Tree};

const EXPECTED: &str = "a string, {field, value}, {field, prefix}, {and}, {or} or {not}";

/// Reads a filter's structured form from `value`.
pub(super) fn read<T: Tree>(value: &T) -> Result<Filter> {
    let mut nodes = 0usize;
    node(value, 0, &mut nodes)
}

fn expected() -> Error {
    invalid(format!("expected {EXPECTED}"))
}

fn invalid(message: String) -> Error {
    bad_filter(&message)
}

/// Counts `more` nodes, within the limit.
fn count(nodes: &mut usize, more: usize) -> Result<()> {
    *nodes += more;
    if *nodes > MAX_FILTER_NODES {
        return Err(Error::LimitExceeded {
            what: "nodes of one filter",
            limit: MAX_FILTER_NODES as u64,
        });
    }
    Ok(())
}

/// One node at `depth`: counted and its depth checked before anything below it is read.
fn node<T: Tree>(value: &T, depth: usize, nodes: &mut usize) -> Result<Filter> {
    if depth > MAX_FILTER_DEPTH {
        return Err(Error::LimitExceeded {
            what: "nesting depth of one filter",
            limit: MAX_FILTER_DEPTH as u64,
        });
    }
    count(nodes, 1)?;
    let keys = match value.node(2) {
        Node::Text(text) => {
            let filter = Filter::parse(&text)?;
            // Its own nodes count too (the first was counted above).
            count(nodes, filter.nodes() - 1)?;
            return Ok(filter);
        }
        Node::Map(keys) if !keys.is_empty() && keys.len() <= 2 => keys,
        _ => return Err(expected()),
    };
    let text = |key: &str| match value.get(key).map(|v| v.node(0)) {
        Some(Node::Text(s)) => Ok(s),
        _ => Err(invalid(format!("{key} must be a string"))),
    };
    let (mut field, mut val, mut prefix, mut group) = (None, None, None, None);
    for key in &keys {
        let below = || value.get(key).ok_or_else(expected);
        match key.as_str() {
            "field" => field = Some(text(key)?),
            "value" => val = Some(text(key)?),
            "prefix" => prefix = Some(text(key)?),
            "and" | "or" if group.is_none() => {
                let list = below()?;
                let Node::List(n) = list.node(0) else {
                    return Err(invalid(format!("{key} takes a list of filters")));
                };
                let mut items = Vec::new();
                // Each item counts as a node, so a long list stops at MAX_FILTER_NODES.
                for i in 0..n {
                    let item = list.item(i).ok_or_else(expected)?;
                    items.push(node(&item, depth + 1, nodes)?);
                }
                group = Some(match key.as_str() {
                    "and" => Filter::All(items),
                    _ => Filter::Any(items),
                });
            }
            "not" if group.is_none() => {
                group = Some(Filter::Not(Box::new(node(&below()?, depth + 1, nodes)?)));
            }
            _ => return Err(expected()),
        }
    }
    match (group, field, val, prefix) {
        (Some(g), None, None, None) if keys.len() == 1 => Ok(g),
        (None, Some(field), Some(value), None) => Ok(Filter::Is { field, value }),
        (None, Some(field), None, Some(prefix)) => Ok(Filter::Prefix { field, prefix }),
        (None, ..) if keys.len() == 2 => Err(invalid(
            "give {field, value} or {field, prefix}".to_string(),
        )),
        _ => Err(expected()),
    }
}
