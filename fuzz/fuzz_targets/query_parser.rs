//! Arbitrary query strings: the parser never fails, and searching the committed fixture index
//! with any string succeeds (a budget error, `LimitExceeded`, is the only allowed error).
#![no_main]

use std::sync::OnceLock;

use edgekb::raw::{parse, MAX_CLAUSES};
use edgekb::{Error, Index, SearchOptions, Searcher};
use libfuzzer_sys::fuzz_target;

static FIXTURE: &[u8] = include_bytes!("../../tests/compat/v1/fixture.ekb");

fn index() -> &'static Index<&'static [u8]> {
    static INDEX: OnceLock<Index<&'static [u8]>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let index = Index::open(FIXTURE).expect("the fixture index opens");
        index.verify().expect("the fixture index verifies");
        index
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for auto_prefix in [true, false] {
        let q = parse(s, auto_prefix);
        assert!(q.clauses.len() <= MAX_CLAUSES, "{} clauses", q.clauses.len());
        for c in &q.clauses {
            assert!(!c.items.is_empty(), "empty clause in {q:?}");
            for item in &c.items {
                assert!(!item.text.is_empty(), "empty item in {q:?}");
            }
        }
    }

    let index = index();
    for opts in [
        SearchOptions::default(),
        SearchOptions {
            any: true,
            prefix: false,
            ..SearchOptions::default()
        },
    ] {
        match Searcher::new(index).search(s, &opts) {
            Ok(results) => {
                assert!(
                    results.total >= results.hits.len(),
                    "total {} < {} hits for {s:?}",
                    results.total,
                    results.hits.len()
                );
                assert!(results.hits.len() <= opts.limit);
                for h in &results.hits {
                    assert!(!h.score.is_nan(), "NaN score for {s:?}: {h:?}");
                }
            }
            Err(Error::LimitExceeded { .. }) => {}
            Err(e) => panic!("query {s:?} ({opts:?}) failed on a valid index: {e}"),
        }
    }
});
