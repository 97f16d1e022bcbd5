//! Every query's cost is bounded (`SearchLimits`): hostile shapes degrade, saying so in
//! `truncated`, instead of failing or running away; stop-word prefixes still complete; a
//! huge `limit` is clamped.

use edgekb::add_jsonl;
use edgekb::{Index, IndexBuilder, SearchLimits, SearchOptions, Searcher};

fn build(jsonl: &str) -> Index<Vec<u8>> {
    let mut b = IndexBuilder::new(Default::default(), Default::default(), Default::default());
    add_jsonl(&mut b, jsonl.as_bytes(), "test").unwrap();
    Index::open(b.to_bytes().unwrap()).unwrap()
}

fn fixture() -> Index<Vec<u8>> {
    build(include_str!("fixtures/docs.jsonl"))
}

fn words(n: usize) -> Vec<String> {
    // Real words of the fixture first, then made-up ones.
    let real = [
        "game",
        "editor",
        "shell",
        "compression",
        "strategy",
        "terminal",
        "git",
        "vim",
    ];
    (0..n)
        .map(|i| match real.get(i) {
            Some(w) => w.to_string(),
            None => format!("zz{i}qx"),
        })
        .collect()
}

#[test]
fn a_long_or_chain_is_cut_to_the_word_budget() {
    let index = fixture();
    let limits = SearchLimits::default();
    let all = words(10_000).join(" OR ");
    let first = words(limits.max_words).join(" OR ");
    // Without typos: the made-up words would spend the typo budgets too.
    let opts = SearchOptions {
        typos: false,
        ..SearchOptions::default()
    };
    let long = Searcher::new(&index).search(&all, &opts).unwrap();
    let cut = Searcher::new(&index).search(&first, &opts).unwrap();
    assert!(long.truncated);
    assert!(!cut.truncated);
    assert!(long.total > 0);
    // Past the budget nothing is read: the answer is the first words' answer.
    assert_eq!((long.total, &long.hits), (cut.total, &cut.hits));
}

#[test]
fn a_long_phrase_and_a_megabyte_query_are_bounded() {
    let index = fixture();
    let opts = SearchOptions::default();
    let phrase = format!("\"{}\"", words(10_000).join(" "));
    let r = Searcher::new(&index).search(&phrase, &opts).unwrap();
    assert!(r.truncated);
    let huge = "strategy ".repeat(120_000);
    assert!(huge.len() > 1 << 20);
    let r = Searcher::new(&index).search(&huge, &opts).unwrap();
    assert!(r.truncated);
    assert!(r.total > 0, "the words within the budget still match");
}

#[test]
fn a_prefix_that_is_a_stop_word_completes() {
    let index = fixture();
    for (typed, completion) in [
        ("in", "include"),
        ("for", "format"),
        ("be", "because"),
        ("an", "ancient"),
    ] {
        for q in [format!("{typed}*"), typed.to_string()] {
            let r = Searcher::new(&index)
                .search(&q, &SearchOptions::default())
                .unwrap();
            assert!(r.total > 0, "{q:?} found nothing");
            let want = Searcher::new(&index)
                .search(completion, &SearchOptions::default())
                .unwrap();
            let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
            assert!(
                want.hits.iter().any(|h| ids.contains(&h.id.as_str())) || r.total >= want.total,
                "{q:?} does not reach {completion:?}"
            );
        }
    }
    // As a whole word (not being typed) a stop word is still dropped.
    let r = Searcher::new(&index)
        .search("in ", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.total, 0);
}

#[test]
fn a_prefix_with_too_many_completions_degrades() {
    let index = fixture();
    let limits = SearchLimits {
        max_prefix_candidates: 3,
        ..SearchLimits::default()
    };
    for q in ["s", "game s", "co"] {
        let r = Searcher::new(&index)
            .with_limits(limits)
            .search(q, &SearchOptions::default())
            .unwrap();
        assert!(r.truncated, "{q:?}");
    }
    // The completions are dropped, not the word or the query: the answer is the exact one.
    let r = Searcher::new(&index)
        .with_limits(limits)
        .search("game s", &SearchOptions::default())
        .unwrap();
    let exact = SearchOptions {
        prefix: false,
        ..SearchOptions::default()
    };
    let want = Searcher::new(&index).search("game s", &exact).unwrap();
    assert_eq!((r.total, &r.hits), (want.total, &want.hits));
}

#[test]
fn a_huge_limit_is_clamped() {
    let index = fixture();
    for limit in [usize::MAX, 1 << 32, 10_001] {
        let opts = SearchOptions {
            limit,
            any: true,
            ..SearchOptions::default()
        };
        for exhaustive in [false, true] {
            let r = Searcher::new(&index)
                .exhaustive(exhaustive)
                .search("game OR editor OR shell", &opts)
                .unwrap();
            assert_eq!(r.hits.len(), r.total);
        }
    }
}

#[test]
fn data_typo_and_phrase_budgets_degrade_instead_of_failing() {
    let index = fixture();
    let opts = SearchOptions::default();
    let cases = [
        (
            SearchLimits {
                max_data_bytes: 8,
                ..SearchLimits::default()
            },
            "game editor shell OR terminal",
        ),
        (
            SearchLimits {
                max_query_automaton_steps: 50,
                ..SearchLimits::default()
            },
            "stratgy edtor",
        ),
        (
            SearchLimits {
                max_variant_lookups: 3,
                ..SearchLimits::default()
            },
            "pmbble ",
        ),
        (
            SearchLimits {
                max_phrase_checks: 1,
                ..SearchLimits::default()
            },
            "\"real time strategy\"",
        ),
    ];
    for (limits, q) in cases {
        for exhaustive in [false, true] {
            let r = Searcher::new(&index)
                .with_limits(limits)
                .exhaustive(exhaustive)
                .search(q, &opts)
                .unwrap();
            assert!(r.truncated, "{q:?} under {limits:?}");
            let free = Searcher::new(&index).search(q, &opts).unwrap();
            assert!(!free.truncated, "{q:?}");
        }
    }
}

/// One document repeating a word hundreds of thousands of times: phrases with that word stay
/// within the phrase budget.
#[test]
fn a_repetitive_document_cannot_make_phrases_run_away() {
    let body = "alpha beta ".repeat(200_000) + "gamma";
    let index = build(&format!(
        "{{\"id\":\"rep\",\"title\":\"rep\",\"body\":\"{body}\"}}\n\
         {{\"id\":\"other\",\"title\":\"alpha beta gamma\",\"body\":\"alpha beta gamma\"}}\n"
    ));
    let limits = SearchLimits {
        max_phrase_checks: 10_000,
        ..SearchLimits::default()
    };
    let q = "\"alpha beta alpha beta alpha beta gamma\"";
    let r = Searcher::new(&index)
        .with_limits(limits)
        .search(q, &SearchOptions::default())
        .unwrap();
    assert!(r.truncated);
}

/// No query exceeds its budgets: random hostile shapes built from the fixture's words and
/// random bytes, with tight limits, spend at most what the limits allow.
#[test]
fn no_query_exceeds_its_budget() {
    use proptest::prelude::*;
    let index = fixture();
    let limits = SearchLimits {
        max_words: 12,
        max_data_bytes: 2_000,
        max_query_automaton_steps: 3_000,
        max_variant_lookups: 200,
        max_phrase_checks: 50,
        ..SearchLimits::default()
    };
    let vocab = [
        "game",
        "editor",
        "shell",
        "OR",
        "-",
        "\"",
        "*",
        "title:",
        "strategy",
        "stratgy",
        "in",
        "the",
        "comprssion",
        "s",
        "e",
        "terminal",
        "vim",
        "東京",
        " ",
    ];
    let mut runner = proptest::test_runner::TestRunner::default();
    let query = proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(vocab.to_vec()).prop_map(String::from),
            "[a-z]{1,12}",
            ".{0,6}",
        ],
        0..200,
    )
    .prop_map(|v| v.join(" "));
    runner
        .run(
            &(query, any::<bool>(), any::<bool>(), 0usize..50),
            |(q, any, exhaustive, limit)| {
                let opts = SearchOptions {
                    limit,
                    any,
                    ..SearchOptions::default()
                };
                let mut s = Searcher::new(&index)
                    .with_limits(limits)
                    .exhaustive(exhaustive);
                let r = s.search(&q, &opts).unwrap();
                let c = s.cost();
                prop_assert!(c.words <= limits.max_words, "{c:?}");
                prop_assert!(c.data_bytes <= limits.max_data_bytes, "{c:?}");
                prop_assert!(
                    c.automaton_steps <= limits.max_query_automaton_steps,
                    "{c:?}"
                );
                prop_assert!(c.variant_lookups <= limits.max_variant_lookups, "{c:?}");
                prop_assert!(c.phrase_checks <= limits.max_phrase_checks, "{c:?}");
                prop_assert!(r.hits.len() <= limit.min(r.total));
                Ok(())
            },
        )
        .unwrap();
}
