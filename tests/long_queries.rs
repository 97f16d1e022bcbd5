//! Long queries (a question, a claim: four words or more after stop words) are ranked as OR,
//! without English function words, and score a word's written form with its stem's IDF; short
//! queries keep every word and the written form's own IDF (`src/search/long.rs`).

mod common;

use edgekb::{add_jsonl, AnalyzerConfig, Bm25, Index, IndexBuilder, Schema};
use edgekb::{SearchOptions, SearchResults};

const DOCS: &str = r#"{"id": "form", "title": "one", "body": "levelling tools"}
{"id": "stem", "title": "two", "body": "level tools"}
{"id": "other", "title": "three", "body": "levels tools"}
{"id": "grammar", "title": "four", "body": "during winter through than"}
{"id": "unrelated", "title": "five", "body": "gardening tools"}
{"id": "tunnel", "title": "six", "body": "through tunnel"}
"#;

fn build(stop_words: bool) -> Index<Vec<u8>> {
    let analyzer = AnalyzerConfig {
        stop_words,
        ..AnalyzerConfig::default()
    };
    let mut b = IndexBuilder::new(Schema::default(), analyzer, Bm25::default());
    add_jsonl(&mut b, DOCS.as_bytes(), "docs").unwrap();
    Index::open(b.to_bytes().unwrap()).unwrap()
}

fn search(index: &Index<Vec<u8>>, q: &str) -> SearchResults {
    // No typos: `levelling` (in one document) would also be corrected towards `levels`.
    let opts = SearchOptions {
        prefix: false,
        typos: false,
        ..SearchOptions::default()
    };
    common::search_both(index, q, &opts)
}

fn ids(r: &SearchResults) -> Vec<&str> {
    r.hits.iter().map(|h| h.id.as_str()).collect()
}

fn score(r: &SearchResults, id: &str) -> f32 {
    r.hits.iter().find(|h| h.id == id).unwrap().score
}

#[test]
fn a_long_query_drops_function_words() {
    let index = build(true);
    // Four words or more: `during` and `through` are grammar, not what is asked for.
    let long = search(&index, "levelling during winter through");
    assert!(!ids(&long).is_empty());
    // *grammar* matches by `winter`; *tunnel*, which says only `through`, does not match.
    assert!(ids(&long).contains(&"grammar"), "{:?}", ids(&long));
    assert_eq!(long.total, 4, "{:?}", ids(&long));
    let function_only = search(&index, "during through than most");
    // Nothing but function words: they are kept.
    assert_eq!(ids(&function_only), ["grammar", "tunnel"]);
    // A short query keeps them.
    assert_eq!(ids(&search(&index, "through tunnel")), ["tunnel"]);
    // An index without stop words keeps every word of a long query (`during` counts, and
    // the document holding it ranks first).
    let kept = search(&build(false), "gardening during through than");
    assert_eq!(ids(&kept)[0], "grammar");
}

#[test]
fn a_long_query_scores_a_written_form_with_its_stems_idf() {
    let index = build(true);
    // `levelling` is indexed as `level` and, written so, as `levelling` (df 1; `level`: 3).
    // Short: the written form's own IDF, well above the stem-only match (×0.8).
    let short = search(&index, "levelling");
    assert_eq!(ids(&short)[0], "form");
    let short_ratio = score(&short, "form") / score(&short, "stem");
    // Long (the other three words match nothing here, so only `levelling` scores): the form
    // with the stem's IDF, so exactly 1 / 0.8 of the stem-only match.
    let long = search(&index, "levelling zzqa zzqb zzqc");
    assert_eq!(ids(&long)[0], "form");
    let long_ratio = score(&long, "form") / score(&long, "stem");
    assert!((long_ratio - 1.0 / 0.8).abs() < 1e-4, "{long_ratio}");
    assert!(short_ratio > long_ratio + 0.1, "{short_ratio} {long_ratio}");
}
