//! Filters, facet counts, sorting and pages over arbitrary bytes: the input is a filter text
//! (up to the first NUL, read by `Filter::parse` and `Filter::from_json`) and an index file
//! (the rest), whose FACETS and SYNONYMS sections are decoded when a search asks for them.
//! Every call must return `Ok` or `Err`, never panic, never allocate without bound; a page
//! never holds more than its limit and the counts never exceed the matches. Seed:
//! `seeds/facets.ekb` (tests/fixtures/facets.jsonl built with facets.toml) behind a few filters.
#![no_main]

use edgekb::{Filter, Index, Refine, SearchOptions, Searcher, Sort};
use libfuzzer_sys::fuzz_target;

mod common;

/// Queries over the seed's words, with the query language's own filters and a synonym.
const QUERIES: &[&str] = &["web", "py framework", "tags:web", "k8s -tags:devel::*", "fl"];

fuzz_target!(|data: &[u8]| {
    common::run_guarded(|| run(data));
});

fn run(data: &[u8]) {
    let (text, index_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let text = String::from_utf8_lossy(text);
    let mut filters: Vec<Option<Filter>> = vec![None];
    for parsed in [Filter::parse(&text), Filter::from_json(&text)] {
        if let Ok(f) = parsed {
            filters.push(Some(f));
        }
    }
    filters.push(Filter::parse("tags:devel::lang:* -tags:web").ok());
    let Ok(index) = Index::open(index_bytes) else {
        return;
    };
    let sorts = [None, Sort::parse("year:desc").ok(), Sort::parse("updated").ok()];
    for (i, filter) in filters.into_iter().enumerate() {
        let refine = Refine {
            filter,
            facets: vec!["tags".into()],
            sort: sorts[i % sorts.len()].clone(),
            offset: i % 3,
        };
        let opts = SearchOptions {
            limit: 4,
            ..SearchOptions::default()
        };
        for q in QUERIES {
            let mut searcher = Searcher::new(&index).with_refine(refine.clone());
            if let Ok(results) = searcher.search(q, &opts) {
                assert!(results.hits.len() <= opts.limit);
                for counts in results.facets.values() {
                    for &n in counts.values() {
                        assert!(n as usize <= results.total);
                    }
                }
            }
        }
    }
}
