//! Options as a host passes them, checked in one place: their types, ranges and defaults, with
//! a message naming the option and what it must be. The JavaScript binding reads each option
//! with a typed getter, says which kind of value it is ([`Given`]) and hands them here.

use super::{Retry, DEFAULT_CACHE_BYTES};
use crate::error::{Error, Result};
use crate::facets::Filter;
use crate::search::{
    Refine, SearchOptions, Sort, DEFAULT_SNIPPET_CHARS, MAX_OFFSET, MAX_SNIPPET_CHARS,
};

/// The most hits one search may ask for.
pub const MAX_LIMIT: u64 = 10_000;

/// One option's value as a host gives it, before it is checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Given {
    /// Not given (JavaScript's `undefined` or `null`): the default.
    #[default]
    Absent,
    /// `true` or `false`.
    Bool(bool),
    /// A number, not yet known to be finite or whole.
    Number(f64),
    /// A string.
    Text(String),
    /// A structured filter, read by the host from its own value ([`Filter::from_tree`]).
    Filter(Box<Filter>),
    /// A list of names (`facets`), read by the host.
    Names(Vec<String>),
    /// Anything else (a function, a symbol, a value JSON cannot hold).
    Other,
}

const FACETS: &str = "option facets must be a field name or a list of them";
const SORT: &str = "option sort must be a string: \"field\" or \"field:desc\"";

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidArgument {
        message: message.into(),
    }
}

impl Given {
    /// A whole number in `min..=max`; `None` when absent.
    fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>> {
        match *self {
            Given::Absent => Ok(None),
            Given::Number(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => {
                Ok(Some(n as u64))
            }
            _ => Err(invalid(format!(
                "option {name} must be an integer from {min} to {max}"
            ))),
        }
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match *self {
            Given::Absent => Ok(default),
            Given::Bool(b) => Ok(b),
            _ => Err(invalid(format!("option {name} must be true or false"))),
        }
    }
}

/// `search`'s options as a host gives them (JavaScript's `SearchOptions`, but `signal`).
#[derive(Clone, Debug, Default)]
pub struct GivenSearch {
    /// `limit`: hits to return, 0 to [`MAX_LIMIT`] (default 10).
    pub limit: Given,
    /// `prefix`: the last word matches as a prefix (default true).
    pub prefix: Given,
    /// `typos`: typo tolerance (default true).
    pub typos: Given,
    /// `any`: OR instead of AND with fallback (default false).
    pub any: Given,
    /// `snippet`: `true` ([`DEFAULT_SNIPPET_CHARS`]), a length of 1 to 2,000 (`MAX_SNIPPET_CHARS`), or off.
    pub snippet: Given,
    /// `filter`: the filter syntax, or its structured form ([`Filter::from_tree`]).
    pub filter: Given,
    /// `facets`: a field name or a list of them.
    pub facets: Given,
    /// `sort`: `"field"`, `"field:asc"`, `"field:desc"` or `"score"`.
    pub sort: Given,
    /// `offset`: hits skipped, 0 to 100,000 (`MAX_OFFSET`).
    pub offset: Given,
}

impl GivenSearch {
    /// The options and refinements of one search, or an error naming the first bad option.
    pub fn check(&self) -> Result<(SearchOptions, Refine)> {
        let d = SearchOptions::default();
        let max_chars = MAX_SNIPPET_CHARS as u64;
        let opts = SearchOptions {
            limit: self
                .limit
                .integer("limit", 0, MAX_LIMIT)?
                .map_or(d.limit, |n| n as usize),
            prefix: self.prefix.flag("prefix", d.prefix)?,
            typos: self.typos.flag("typos", d.typos)?,
            any: self.any.flag("any", d.any)?,
            snippets: match &self.snippet {
                Given::Bool(b) => b.then_some(DEFAULT_SNIPPET_CHARS as u64),
                n => n.integer("snippet", 1, max_chars).map_err(|_| {
                    invalid(format!(
                        "option snippet must be true, false or an integer from 1 to {max_chars}"
                    ))
                })?,
            }
            .map(|n| n as usize),
        };
        let refine = Refine {
            filter: match &self.filter {
                Given::Absent => None,
                Given::Text(t) => Some(Filter::parse(t).and_then(|f| f.check_size().map(|_| f))?),
                Given::Filter(f) => Some((**f).clone()),
                // Not a filter either (an InvalidOption, as the structured form would say).
                Given::Bool(_) | Given::Number(_) => {
                    return Err(Error::InvalidOption {
                        message: "filter: expected a filter string or object".into(),
                    })
                }
                _ => return Err(invalid("option filter must be a string or a filter object")),
            },
            facets: match &self.facets {
                Given::Absent => Vec::new(),
                Given::Text(t) => vec![t.clone()],
                Given::Names(names) => names.clone(),
                _ => return Err(invalid(FACETS)),
            },
            sort: match &self.sort {
                Given::Absent => None,
                Given::Text(t) => Some(Sort::parse(t)?),
                _ => return Err(invalid(SORT)),
            },
            offset: self
                .offset
                .integer("offset", 0, MAX_OFFSET as u64)?
                .unwrap_or(0) as usize,
        };
        Ok((opts, refine))
    }
}

/// How a split index is fetched and cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// The page cache's budget in bytes.
    pub cache_bytes: usize,
    /// Each request's timeout.
    pub timeout_ms: u32,
    /// When to try a failed request again.
    pub retry: Retry,
    /// Whether searches needing the same request share one fetch (single-flight).
    pub share: bool,
}

impl OpenOptions {
    /// The defaults: a [`DEFAULT_CACHE_BYTES`] cache, 10 s per request, [`Retry::default`] and
    /// shared fetches; in Cloudflare Workers a 16 MiB cache (an isolate has 128 MB) and no
    /// sharing (there a fetch belongs to the request that started it).
    pub fn defaults(in_workers: bool) -> OpenOptions {
        OpenOptions {
            cache_bytes: if in_workers {
                16 << 20
            } else {
                DEFAULT_CACHE_BYTES
            },
            timeout_ms: 10_000,
            retry: Retry::default(),
            share: !in_workers,
        }
    }
}

/// `open`'s options as a host gives them (JavaScript's `OpenOptions`, but `signal` and `fetch`).
#[derive(Clone, Debug, Default)]
pub struct GivenOpen {
    /// `cacheBytes`: 0 to 2³² − 1.
    pub cache_bytes: Given,
    /// `timeoutMs`: 1 to 600000.
    pub timeout_ms: Given,
    /// `retries`: 0 to 10.
    pub retries: Given,
    /// `backoffMs`: 0 to 60000.
    pub backoff_ms: Given,
    /// `shareFetches`: true or false.
    pub share_fetches: Given,
}

impl GivenOpen {
    /// The options, over the defaults of the runtime ([`OpenOptions::defaults`]), or an error
    /// naming the first bad one.
    pub fn check(&self, in_workers: bool) -> Result<OpenOptions> {
        let d = OpenOptions::defaults(in_workers);
        let n = |g: &Given, name, min, max, default: u32| {
            Ok::<_, Error>(g.integer(name, min, max)?.map_or(default, |n| n as u32))
        };
        Ok(OpenOptions {
            cache_bytes: self
                .cache_bytes
                .integer("cacheBytes", 0, u32::MAX as u64)?
                .map_or(d.cache_bytes, |n| n as usize),
            timeout_ms: n(&self.timeout_ms, "timeoutMs", 1, 600_000, d.timeout_ms)?,
            retry: Retry {
                retries: n(&self.retries, "retries", 0, 10, d.retry.retries)?,
                backoff_ms: n(&self.backoff_ms, "backoffMs", 0, 60_000, d.retry.backoff_ms)?,
            },
            share: self.share_fetches.flag("shareFetches", d.share)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: Error) -> String {
        assert_eq!(e.code(), "InvalidArgument", "{e}");
        e.to_string()
    }

    #[test]
    fn absent_options_are_the_defaults() {
        let (opts, refine) = GivenSearch::default().check().unwrap();
        assert_eq!(opts, SearchOptions::default());
        assert_eq!(refine, Refine::default());
        assert_eq!(
            GivenOpen::default().check(false).unwrap(),
            OpenOptions::defaults(false)
        );
        let workers = GivenOpen::default().check(true).unwrap();
        assert_eq!((workers.cache_bytes, workers.share), (16 << 20, false));
        assert_eq!(
            OpenOptions::defaults(false).cache_bytes,
            DEFAULT_CACHE_BYTES
        );
    }

    #[test]
    fn given_options_are_read() {
        let s = GivenSearch {
            limit: Given::Number(3.0),
            prefix: Given::Bool(false),
            any: Given::Bool(true),
            snippet: Given::Bool(true),
            filter: Given::Filter(Box::new(
                Filter::from_json(r#"{"field":"tags","value":"web"}"#).unwrap(),
            )),
            facets: Given::Names(vec!["tags".into(), "year".into()]),
            sort: Given::Text("year:desc".into()),
            offset: Given::Number(20.0),
            ..GivenSearch::default()
        };
        let (opts, refine) = s.check().unwrap();
        assert_eq!(
            (opts.limit, opts.prefix, opts.typos, opts.any),
            (3, false, true, true)
        );
        assert_eq!(opts.snippets, Some(DEFAULT_SNIPPET_CHARS));
        assert_eq!(refine.filter, Some(Filter::parse("tags:web").unwrap()));
        assert_eq!(refine.facets, ["tags", "year"]);
        assert_eq!(refine.sort, Some(Sort::parse("year:desc").unwrap()));
        assert_eq!(refine.offset, 20);
        let text = GivenSearch {
            snippet: Given::Number(40.0),
            filter: Given::Text("tags:web".into()),
            facets: Given::Text("tags".into()),
            ..GivenSearch::default()
        };
        let (opts, refine) = text.check().unwrap();
        assert_eq!(opts.snippets, Some(40));
        assert_eq!(refine.filter, Some(Filter::parse("tags:web").unwrap()));
        assert_eq!(refine.facets, ["tags"]);
        let open = GivenOpen {
            cache_bytes: Given::Number(0.0),
            timeout_ms: Given::Number(1.0),
            retries: Given::Number(10.0),
            backoff_ms: Given::Number(0.0),
            share_fetches: Given::Bool(true),
        };
        let o = open.check(true).unwrap();
        assert_eq!((o.cache_bytes, o.timeout_ms, o.share), (0, 1, true));
        assert_eq!((o.retry.retries, o.retry.backoff_ms), (10, 0));
    }

    #[test]
    fn bad_options_name_themselves_and_their_range() {
        let search = |s: GivenSearch| message(s.check().unwrap_err());
        let num = Given::Number;
        for bad in [
            num(-1.0),
            num(1.5),
            num(10_001.0),
            num(f64::NAN),
            num(f64::INFINITY),
        ] {
            let e = search(GivenSearch {
                limit: bad,
                ..GivenSearch::default()
            });
            assert_eq!(e, "option limit must be an integer from 0 to 10000");
        }
        let e = search(GivenSearch {
            limit: Given::Text("5".into()),
            ..GivenSearch::default()
        });
        assert!(e.contains("limit"), "{e}");
        let e = search(GivenSearch {
            prefix: Given::Text("yes".into()),
            ..GivenSearch::default()
        });
        assert_eq!(e, "option prefix must be true or false");
        let e = search(GivenSearch {
            snippet: num(0.0),
            ..GivenSearch::default()
        });
        assert_eq!(
            e,
            "option snippet must be true, false or an integer from 1 to 2000"
        );
        let e = search(GivenSearch {
            facets: Given::Other,
            ..GivenSearch::default()
        });
        assert!(e.contains("facets"), "{e}");
        let e = search(GivenSearch {
            filter: Given::Other,
            ..GivenSearch::default()
        });
        assert!(e.contains("filter"), "{e}");
        let e = search(GivenSearch {
            sort: Given::Bool(true),
            ..GivenSearch::default()
        });
        assert!(e.contains("sort"), "{e}");
        let e = search(GivenSearch {
            offset: num(100_001.0),
            ..GivenSearch::default()
        });
        assert_eq!(e, "option offset must be an integer from 0 to 100000");
        // A malformed filter or sort is the index's kind of error, not a type error (a number
        // is JSON, but no filter).
        let number = GivenSearch {
            filter: Given::Number(42.0),
            ..GivenSearch::default()
        };
        assert_eq!(number.check().unwrap_err().code(), "InvalidOption");
        assert_eq!(Filter::from_json("{}").unwrap_err().code(), "InvalidOption");
        let open = |o: GivenOpen| message(o.check(false).unwrap_err());
        let e = open(GivenOpen {
            cache_bytes: num(-1.0),
            ..GivenOpen::default()
        });
        assert_eq!(
            e,
            "option cacheBytes must be an integer from 0 to 4294967295"
        );
        let e = open(GivenOpen {
            timeout_ms: num(0.0),
            ..GivenOpen::default()
        });
        assert_eq!(e, "option timeoutMs must be an integer from 1 to 600000");
        let e = open(GivenOpen {
            retries: Given::Text("3".into()),
            ..GivenOpen::default()
        });
        assert_eq!(e, "option retries must be an integer from 0 to 10");
        let e = open(GivenOpen {
            backoff_ms: num(60_001.0),
            ..GivenOpen::default()
        });
        assert_eq!(e, "option backoffMs must be an integer from 0 to 60000");
        let e = open(GivenOpen {
            share_fetches: num(1.0),
            ..GivenOpen::default()
        });
        assert_eq!(e, "option shareFetches must be true or false");
    }
}
