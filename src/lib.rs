//! # edgekb
//!
//! A compact knowledge-base search engine. An index is built natively ([`IndexBuilder`]) into
//! one file, then opened from bytes ([`Index::open`]: no copy, one checked walk of the term
//! dictionary) and searched ([`Searcher`]) by the same code natively and in WebAssembly. A
//! split index ([`split`]) is searched lazily through sans-IO state machines ([`lazy`]).
//!
//! ## How it works
//! Text is analyzed ([`Analyzer`]) into normalized, folded, stemmed terms with positions. The
//! term dictionary is an [`fst::Map`] from term to ordinal; a side table gives each ordinal its
//! document frequency and the byte ranges of its postings (documents, per-field term
//! frequencies) and positions. Stored fields live in compressed chunks. A query is
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
mod analysis;
#[forbid(unsafe_code)]
mod bm25;
#[forbid(unsafe_code)]
mod builder;
#[forbid(unsafe_code)]
mod cache;
#[forbid(unsafe_code)]
mod codec;
#[cfg(feature = "config")]
#[forbid(unsafe_code)]
pub mod config;
#[forbid(unsafe_code)]
mod counters;
#[forbid(unsafe_code)]
mod dict;
#[forbid(unsafe_code)]
mod error;
#[forbid(unsafe_code)]
mod facets;
#[forbid(unsafe_code)]
mod fold;
mod fstcheck;
#[forbid(unsafe_code)]
mod fuzzy;
#[forbid(unsafe_code)]
mod header;
#[forbid(unsafe_code)]
mod index;
#[forbid(unsafe_code)]
mod inflate;
#[forbid(unsafe_code)]
pub mod ingest;
#[forbid(unsafe_code)]
pub mod lazy;
#[forbid(unsafe_code)]
mod lz4;
#[forbid(unsafe_code)]
mod postings;
#[forbid(unsafe_code)]
mod preset;
#[forbid(unsafe_code)]
mod query;
#[forbid(unsafe_code)]
mod schema;
#[forbid(unsafe_code)]
mod search;
#[forbid(unsafe_code)]
mod source;
#[forbid(unsafe_code)]
pub mod split;
#[forbid(unsafe_code)]
mod store;
#[forbid(unsafe_code)]
mod synonyms;
#[forbid(unsafe_code)]
mod terminfo;
#[forbid(unsafe_code)]
pub mod tree;

#[cfg(all(target_arch = "wasm32", feature = "binding"))]
pub mod wasm;

// What a user builds, opens and searches with.
pub use analysis::{Analyzer, AnalyzerConfig, Language};
pub use bm25::Bm25;
pub use builder::{add_jsonl, add_stream, BuildStats, BuiltIndex, Document, IndexBuilder};
pub use counters::{counts, Counts};
pub use error::{Error, Result};
pub use facets::Filter;
pub use header::{FORMAT_VERSION, OLDEST_SUPPORTED_FORMAT_VERSION};
pub use index::Index;
pub use schema::{FieldOptions, Schema};
pub use search::{
    highlight_html, highlight_text, Cost, FacetCounts, Hit, RankStats, Refine, SearchLimits,
    SearchOptions, SearchResults, Searcher, Snippet, Sort, DEFAULT_SNIPPET_CHARS,
};
pub use source::{DataFile, DataSource};

/// The format's parts, for tools that read an index below the search API: verifiers, fuzz
/// targets and format tests. Stable only within one format version.
pub mod raw {
    pub use crate::codec::crc32;
    pub use crate::dict::PartView;
    pub use crate::header::{SectionKind, HEADER_LEN, SECTION_ENTRY_LEN};
    pub use crate::inflate::{inflate, inflate_with};
    pub use crate::lz4::compress as lz4_compress;
    pub use crate::lz4::compress_with as lz4_compress_with;
    pub use crate::lz4::decompress_until as lz4_until;
    pub use crate::lz4::decompress_until_with as lz4_until_with;
    pub use crate::postings::{
        decode_positions, decode_postings, decode_postings_for, Block, Blocks, Columns, Layout,
        PostingList,
    };
    pub use crate::preset::{train as train_preset, Deflater};
    pub use crate::query::{parse, MAX_CLAUSES};
    pub use crate::store::{read_doc, Codec, StoreReader};
    pub use crate::terminfo::TermInfo;
}
