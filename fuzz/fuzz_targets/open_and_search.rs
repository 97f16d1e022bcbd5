//! Arbitrary bytes as an index file: open, verify, search, and read terms, postings, positions,
//! stored documents and (format 2) hit-display records directly. Every call must return `Ok` or
//! `Err`, never panic, and never allocate without bound. Seeds are single files of formats 1
//! and 2 and the dictionaries of split indexes (whose PAGES and ROUTER sections `Index::open`
//! decodes; their data reads fail with `NotLoaded`).
//!
//! Set `EDGEKB_FUZZ_SKIP_KNOWN_BUGS=1` to fuzz past the bugs already found (`common/mod.rs`).
#![no_main]

use edgekb::{Index, SearchOptions, Searcher};
use fst::Streamer;
use libfuzzer_sys::fuzz_target;

mod common;

/// Queries that reach every search path: plain words, several words, phrases, prefixes, typos,
/// field restrictions, exclusions, CJK bigrams.
const QUERIES: &[&str] = &[
    "a",
    "strategy game",
    "\"real time\"",
    "stra",
    "stratgy",
    "title:git",
    "-x y",
    "東京",
    "\"version control\" OR git -windows ",
    "tags:\"open source\" prog*",
];

/// Dictionary terms walked directly (a corrupt FST may stream forever).
const MAX_TERMS: usize = 64;
/// Stored documents read directly.
const MAX_DOCS: u32 = 50;
/// Decompression budget per stored chunk.
const MAX_CHUNK: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    common::run_guarded(|| run(data));
});

fn run(data: &[u8]) {
    let Ok(index) = Index::open(data) else {
        return;
    };
    // Searching must be safe whether or not the checksums hold: the browser build searches
    // an index straight after fetching it.
    let _ = index.verify();

    for opts in [
        SearchOptions::default(),
        SearchOptions {
            any: true,
            typos: false,
            prefix: false,
            limit: 3,
            ..SearchOptions::default()
        },
    ] {
        for q in QUERIES {
            if let Ok(results) = Searcher::new(&index).search(q, &opts) {
                assert!(results.hits.len() <= opts.limit);
                assert!(results.total >= results.hits.len());
            }
        }
    }

    let mut stream = index.terms().stream();
    let mut walked = 0;
    while let Some((_term, ord)) = stream.next() {
        walked += 1;
        if walked > MAX_TERMS {
            break;
        }
        let Ok(info) = index.term_info(ord) else {
            continue;
        };
        let Ok(list) = index.postings(&info) else {
            continue;
        };
        assert_eq!(list.docs.len(), list.masks.len());
        assert_eq!(list.tf_start.len(), list.docs.len() + 1);
        for i in 0..list.len() {
            let _ = list.tfs_of(i);
        }
        let _ = index.positions(&info, &list);
    }

    for doc in 0..index.doc_count().min(MAX_DOCS) {
        if let Ok(stored) = index.doc(doc, MAX_CHUNK) {
            let _ = index.stored_value(&stored, "title");
        }
    }
    // What hits show (DISPLAY, or STORE in format 1), several documents per call as `hits` asks.
    let docs: Vec<u32> = (0..index.doc_count().min(MAX_DOCS)).rev().collect();
    if let Ok(fields) = index.hit_fields_from(&docs, MAX_CHUNK, &index) {
        assert_eq!(fields.len(), docs.len());
    }
}
