//! # edgekb
//!
//! A compact knowledge-base search engine. An index is built natively ([`IndexBuilder`]) into
//! one file, then opened from bytes ([`Index::open`]: no copy, one checked walk of the term
//! dictionary) and searched ([`Searcher`]) by the same code natively and in WebAssembly. A
//! split index ([`split`]) is searched lazily through sans-IO state machines ([`lazy`]).
//!
//! ## How it works
//! Text is analyzed ([`analysis`]) into normalized, folded, stemmed terms with positions. The
//! term dictionary is an [`fst::Map`] from term to ordinal; a side table gives each ordinal its
//! document frequency and the byte ranges of its postings (documents, per-field term
//! frequencies) and positions. Stored fields live in compressed chunks. A query ([`query`]) is
//! parsed into clauses; each word is expanded locally against the dictionary (exact, prefix,
//! typo) before any postings are read, then documents are scored with BM25F.
//!
//! ## Memory usage
//! Opening keeps the header, the section table and the decoded meta section; everything else is
//! read from the bytes on demand. A search allocates in proportion to the postings it reads,
//! and every kind of work it can multiply is bounded by [`SearchLimits`]: over a budget a
//! query degrades and says so ([`SearchResults::truncated`]).
//!
//! The core modules forbid `unsafe` and have no WebAssembly dependency; `wasm` (compiled only for
//! `wasm32`) is a thin binding layer over them.
#![deny(missing_docs)]

#[forbid(unsafe_code)]
pub mod analysis;
#[forbid(unsafe_code)]
pub mod bm25;
#[forbid(unsafe_code)]
pub mod builder;
#[forbid(unsafe_code)]
pub mod cache;
#[forbid(unsafe_code)]
pub mod codec;
#[cfg(feature = "config")]
#[forbid(unsafe_code)]
pub mod config;
#[forbid(unsafe_code)]
pub mod counters;
#[forbid(unsafe_code)]
pub mod dict;
#[forbid(unsafe_code)]
pub mod error;
#[forbid(unsafe_code)]
pub mod facets;
mod fstcheck;
#[forbid(unsafe_code)]
pub mod fuzzy;
#[forbid(unsafe_code)]
pub mod header;
#[forbid(unsafe_code)]
pub mod index;
#[forbid(unsafe_code)]
pub mod ingest;
#[forbid(unsafe_code)]
pub mod lazy;
#[forbid(unsafe_code)]
pub mod postings;
#[forbid(unsafe_code)]
pub mod query;
#[forbid(unsafe_code)]
pub mod schema;
#[forbid(unsafe_code)]
pub mod search;
#[forbid(unsafe_code)]
pub mod source;
#[forbid(unsafe_code)]
pub mod split;
#[forbid(unsafe_code)]
pub mod store;
#[forbid(unsafe_code)]
pub mod synonyms;
#[forbid(unsafe_code)]
pub mod terminfo;

#[cfg(all(target_arch = "wasm32", feature = "binding"))]
pub mod wasm;

pub use analysis::{Analyzer, Language};
pub use builder::{Document, IndexBuilder};
pub use error::{Error, Result};
pub use facets::Filter;
pub use index::Index;
pub use schema::{FieldOptions, Schema};
pub use search::{Hit, SearchLimits, SearchOptions, SearchResults, Searcher};
