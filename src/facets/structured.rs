//! The structured form of a filter, read through serde from any self-describing source:
//! `serde_json` natively ([`Filter::from_json`]), a JavaScript value in the binding
//! (`serde-wasm-bindgen`, so the search `.wasm` carries no JSON parser). One reader for both:
//! a string in the filter syntax, `{field, value}`, `{field, prefix}`, `{and: [...]}`,
//! `{or: [...]}`, `{not: ...}`. It stops as soon as the filter is deeper than
//! [`MAX_FILTER_DEPTH`] or has more than [`MAX_FILTER_NODES`] nodes, before reading further, so a
//! hostile value costs bounded work and stack.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{bad_filter, Filter, MAX_FILTER_DEPTH, MAX_FILTER_NODES};
use crate::error::{Error, Result};

/// Reads a filter's structured form from `source`.
pub(super) fn read<'de, D: Deserializer<'de>>(source: D) -> Result<Filter> {
    let state = State {
        nodes: Cell::new(0),
        error: Cell::new(None),
    };
    let seed = FilterSeed {
        depth: 0,
        state: &state,
    };
    // A typed error (a limit, a bad filter string) is kept aside, the serde error only carries
    // it out; any other error (a wrong type, bad JSON) is the source's own message.
    seed.deserialize(source)
        .map_err(|e: D::Error| state.error.take().unwrap_or_else(|| bad_filter(&e)))
}

struct State {
    nodes: Cell<usize>,
    error: Cell<Option<Error>>,
}

impl State {
    /// Keeps `e` for [`read`] and gives the serde error that stops the source.
    fn fail<E: de::Error>(&self, e: Error) -> E {
        let text = e.to_string();
        self.error.set(Some(e));
        E::custom(text)
    }
}

const EXPECTED: &str = "a string, {field, value}, {field, prefix}, {and}, {or} or {not}";

#[derive(Clone, Copy)]
struct FilterSeed<'a> {
    depth: usize,
    state: &'a State,
}

impl<'de> DeserializeSeed<'de> for FilterSeed<'_> {
    type Value = Filter;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Filter, D::Error> {
        d.deserialize_any(self)
    }
}

impl FilterSeed<'_> {
    /// Counts one node and checks the depth, before anything below it is read.
    fn enter<E: de::Error>(&self) -> std::result::Result<(), E> {
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.state.fail(Error::LimitExceeded {
                what: "nesting depth of one filter",
                limit: MAX_FILTER_DEPTH as u64,
            }));
        }
        let nodes = self.state.nodes.get() + 1;
        self.state.nodes.set(nodes);
        if nodes > MAX_FILTER_NODES {
            return Err(self.state.fail(Error::LimitExceeded {
                what: "nodes of one filter",
                limit: MAX_FILTER_NODES as u64,
            }));
        }
        Ok(())
    }

    fn below(self) -> Self {
        FilterSeed {
            depth: self.depth + 1,
            ..self
        }
    }
}

impl<'de> Visitor<'de> for FilterSeed<'_> {
    type Value = Filter;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Filter, E> {
        self.enter()?;
        let filter = Filter::parse(text).map_err(|e| self.state.fail(e))?;
        // Its own nodes count too (the first was counted above).
        let nodes = self.state.nodes.get() + filter.nodes() - 1;
        self.state.nodes.set(nodes);
        if nodes > MAX_FILTER_NODES {
            return Err(self.state.fail(Error::LimitExceeded {
                what: "nodes of one filter",
                limit: MAX_FILTER_NODES as u64,
            }));
        }
        Ok(filter)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Filter, A::Error> {
        self.enter()?;
        let (mut field, mut value, mut prefix) = (None, None, None);
        let mut group: Option<Filter> = None;
        let mut keys = 0;
        while let Some(key) = map.next_key::<String>()? {
            keys += 1;
            if keys > 2 {
                return Err(de::Error::custom(format_args!("expected {EXPECTED}")));
            }
            match key.as_str() {
                "field" => field = Some(map.next_value::<String>()?),
                "value" => value = Some(map.next_value::<String>()?),
                "prefix" => prefix = Some(map.next_value::<String>()?),
                "and" | "or" if group.is_none() => {
                    let list = map.next_value_seed(ListSeed(self.below()))?;
                    group = Some(match key.as_str() {
                        "and" => Filter::All(list),
                        _ => Filter::Any(list),
                    });
                }
                "not" if group.is_none() => {
                    let inner = map.next_value_seed(self.below())?;
                    group = Some(Filter::Not(Box::new(inner)));
                }
                _ => return Err(de::Error::custom(format_args!("expected {EXPECTED}"))),
            }
        }
        match (group, field, value, prefix) {
            (Some(g), None, None, None) if keys == 1 => Ok(g),
            (None, Some(field), Some(value), None) => Ok(Filter::Is { field, value }),
            (None, Some(field), None, Some(prefix)) => Ok(Filter::Prefix { field, prefix }),
            (None, ..) if keys == 2 => {
                Err(de::Error::custom("give {field, value} or {field, prefix}"))
            }
            _ => Err(de::Error::custom(format_args!("expected {EXPECTED}"))),
        }
    }
}

/// The list of an `and` or an `or`: filters one level below.
struct ListSeed<'a>(FilterSeed<'a>);

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<Filter>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<Filter>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<Filter>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`and` and `or` take a list of filters")
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Vec<Filter>, A::Error> {
        let mut list = Vec::new();
        // Each element counts as a node in `enter`, so the list stops at MAX_FILTER_NODES.
        while let Some(f) = seq.next_element_seed(self.0)? {
            list.push(f);
        }
        Ok(list)
    }
}
