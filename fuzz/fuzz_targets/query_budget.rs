//! Arbitrary query strings and options never make a search spend past its budgets
//! (`SearchLimits`, tight ones here so the fuzzer reaches them): words, data bytes, typo steps,
//! variant look-ups and phrase checks are counted by the searcher and checked against them.
#![no_main]

use std::sync::OnceLock;

use edgekb::{Index, SearchLimits, SearchOptions, Searcher};
use libfuzzer_sys::fuzz_target;

static FIXTURE: &[u8] = include_bytes!("../../tests/compat/v3/fixture.ekb");

fn index() -> &'static Index<&'static [u8]> {
    static INDEX: OnceLock<Index<&'static [u8]>> = OnceLock::new();
    INDEX.get_or_init(|| Index::open(FIXTURE).expect("the fixture index opens"))
}

const LIMITS: SearchLimits = SearchLimits {
    max_expansions: 16,
    max_automaton_steps: 20_000,
    max_query_automaton_steps: 30_000,
    max_prefix_candidates: 40,
    max_query_bytes: 512,
    max_words: 16,
    max_variant_lookups: 300,
    max_data_bytes: 4_000,
    max_phrase_checks: 200,
    max_chunk_bytes: 1 << 20,
};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let query = String::from_utf8_lossy(text);
    let opts = SearchOptions {
        limit: if flags & 16 != 0 { usize::MAX } else { (flags & 15) as usize },
        prefix: flags & 32 != 0,
        typos: flags & 64 != 0,
        any: flags & 128 != 0,
        ..SearchOptions::default()
    };
    let mut s = Searcher::new(index())
        .with_limits(LIMITS)
        .exhaustive(flags & 1 != 0);
    let r = s.search(&query, &opts).expect("a query is always answered");
    let c = s.cost();
    assert!(c.words <= LIMITS.max_words, "{c:?}");
    assert!(c.data_bytes <= LIMITS.max_data_bytes, "{c:?}");
    assert!(c.automaton_steps <= LIMITS.max_query_automaton_steps, "{c:?}");
    assert!(c.variant_lookups <= LIMITS.max_variant_lookups, "{c:?}");
    assert!(c.phrase_checks <= LIMITS.max_phrase_checks, "{c:?}");
    assert!(r.hits.len() <= r.total.min(opts.limit));
});
