//! Block-max pruning returns exactly what scoring every match returns: same total, same hits,
//! same scores, same order, for random queries and options over the fixture (every term of one
//! block, scored in advance) and over a synthetic corpus whose common terms span many blocks.

mod common;

use std::path::PathBuf;

use edgekb::AnalyzerConfig;
use edgekb::Bm25;
use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{Index, Schema, SearchOptions, Searcher};
use proptest::prelude::*;

fn fixture() -> (Index<Vec<u8>>, Vec<String>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/docs.jsonl")).unwrap();
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    add_jsonl(&mut b, text.as_bytes(), "docs.jsonl").unwrap();
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2)
        .map(|w| w.to_lowercase())
        .collect();
    words.sort();
    words.dedup();
    (Index::open(b.to_bytes().unwrap()).unwrap(), words)
}

/// A synthetic corpus big enough for pruning to matter: 3,000 documents over a skewed
/// vocabulary of 400 made-up words.
fn synthetic() -> (Index<Vec<u8>>, Vec<String>) {
    let words: Vec<String> = (0..400).map(|i| format!("w{i}x")).collect();
    let jsonl = common::skewed_jsonl(3000, "d", &words, 0x1234_5678_9abc_def1, (2, 6), (5, 60));
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    add_jsonl(&mut b, jsonl.as_bytes(), "synthetic").unwrap();
    (Index::open(b.to_bytes().unwrap()).unwrap(), words)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn pruned_equals_exhaustive_on_a_larger_corpus(picks in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8),
                                                   limit in 1usize..12, any_mode in any::<bool>(),
                                                   window in prop_oneof![1u32..64, 64u32..4000]) {
        thread_local!(static SYN: (Index<Vec<u8>>, Vec<String>) = synthetic());
        SYN.with(|(index, words)| {
            let q: Vec<String> = picks.iter().map(|(i, kind)| {
                let w = i.get(words).clone();
                match kind {
                    0 => format!("-{w}"),
                    1 => format!("{w} OR"),
                    2 => format!("title:{w}"),
                    // A prefix: `w1*` expands to w1x, w10x… (many blocks each).
                    3 => format!("{}*", &w[..w.len() - 2]),
                    4 => format!("\"{w} {}\"", i.get(words)),
                    _ => w,
                }
            }).collect();
            let q = q.join(" ") + " ";
            let opts = SearchOptions { limit, any: any_mode, ..Default::default() };
            let fast = Searcher::new(index).window(window).search(&q, &opts).unwrap();
            let slow = Searcher::new(index).exhaustive(true).search(&q, &opts).unwrap();
            prop_assert_eq!(fast, slow, "query {:?}", q);
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn pruned_equals_exhaustive(picks in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..6), 1..7),
                                limit in 0usize..25, any_mode in any::<bool>(), prefix in any::<bool>(), typos in any::<bool>(),
                                window in 1u32..80) {
        thread_local!(static FIX: (Index<Vec<u8>>, Vec<String>) = fixture());
        FIX.with(|(index, words)| {
            let q: Vec<String> = picks.iter().map(|(i, kind)| {
                let w = i.get(words).clone();
                match kind {
                    0 => format!("-{w}"),
                    1 => format!("{w} OR"),
                    2 if w.chars().count() > 4 => w.chars().take(w.chars().count() - 1).collect(),
                    3 => format!("\"{w} {}\"", i.get(words)),
                    _ => w,
                }
            }).collect();
            let q = q.join(" ");
            let opts = SearchOptions { limit, prefix, typos, any: any_mode, ..Default::default() };
            let fast = Searcher::new(index).window(window).search(&q, &opts).unwrap();
            let slow = Searcher::new(index).exhaustive(true).search(&q, &opts).unwrap();
            prop_assert_eq!(fast, slow, "query {:?}", q);
            Ok(())
        })?;
    }
}

/// Pruning happens: on the synthetic corpus, the top 5 of its most common words are found by
/// scoring a fraction of their matches and decoding a fraction of their blocks, and an
/// exhaustive search reports no ranking work (it scores everything its own way).
#[test]
fn common_words_are_ranked_without_scoring_every_match() {
    let (index, _) = synthetic();
    let opts = SearchOptions {
        limit: 5,
        ..Default::default()
    };
    for q in ["w0x ", "w1x ", "w3x "] {
        let mut s = Searcher::new(&index);
        let r = s.search(q, &opts).unwrap();
        let st = s.stats();
        assert_eq!(st.matched, r.total, "{q}");
        assert!(st.matched > 1000, "{q}: {st:?}");
        assert!(st.scored * 4 < st.matched * 3, "{q}: {st:?}");
        assert!(st.blocks_decoded < st.blocks, "{q}: {st:?}");
        let mut slow = Searcher::new(&index).exhaustive(true);
        assert_eq!(slow.search(q, &opts).unwrap(), r, "{q}");
        assert_eq!(slow.stats(), edgekb::RankStats::default());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// On random corpora (150 to 700 documents over 5 to 60 words, so common words span up to
    /// six blocks and rare ones one; titles, bodies and tags of random lengths), random queries
    /// (words, prefixes, typos, phrases, `OR`, exclusions, `title:` and `tags:` restrictions)
    /// rank the same pruned as exhaustively.
    #[test]
    fn pruned_equals_exhaustive_on_random_corpora(docs in 150usize..700, vocab in 5usize..60,
                                                   seed in any::<u64>(), lens in (1u64..6, 1u64..80, 1u64..6),
                                                   queries in proptest::collection::vec(
                                                       proptest::collection::vec((0usize..60, 0u8..9), 1..5), 12),
                                                   limit in 1usize..12, window in 1u32..800) {
        let words: Vec<String> = (0..vocab).map(|i| format!("{}{}", ["alpha", "beta", "gamma"][i % 3], "x".repeat(i / 3 + 1))).collect();
        let jsonl = common::skewed_jsonl(docs, "r", &words, seed | 1, (1, lens.0), (1, lens.1));
        // Tags: the body's first words, so that a third field has masks of its own.
        let jsonl: String = jsonl.lines().enumerate().map(|(i, l)| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let body = v["body"].as_str().unwrap().to_string();
            let tags: Vec<&str> = body.split(' ').take((i as u64 % lens.2) as usize).collect();
            v["tags"] = serde_json::json!(tags);
            v.to_string() + "\n"
        }).collect();
        let mut b = IndexBuilder::new(Schema::default(), AnalyzerConfig::default(), Bm25::default());
        add_jsonl(&mut b, jsonl.as_bytes(), "random").unwrap();
        let index = Index::open(b.to_bytes().unwrap()).unwrap();
        for parts in &queries {
            let q: Vec<String> = parts.iter().map(|&(w, kind)| {
                let w = &words[w % vocab];
                match kind {
                    0 => format!("-{w}"),
                    1 => format!("{w} OR"),
                    2 => format!("title:{w}"),
                    3 => format!("tags:{w}"),
                    4 => format!("{}*", &w[..w.len() - 1]),
                    5 => format!("{}q{}", &w[..2], &w[2..]),
                    6 => format!("\"{w} {}\"", words[(w.len() * 7) % vocab]),
                    _ => w.clone(),
                }
            }).collect();
            for (any, prefix) in [(false, false), (false, true), (true, false)] {
                let q = q.join(" ") + if prefix { "" } else { " " };
                let opts = SearchOptions { limit, prefix, typos: true, any, ..Default::default() };
                let fast = Searcher::new(&index).window(window).search(&q, &opts).unwrap();
                let slow = Searcher::new(&index).exhaustive(true).search(&q, &opts).unwrap();
                prop_assert_eq!(fast, slow, "query {:?} any {} window {}", q, any, window);
            }
        }
    }
}

/// Format 7: a term's name-field postings are exactly its postings in the documents where it
/// is in a name field (`title`, the heaviest field), written for terms of more than one block
/// with some documents elsewhere and at most a block of them in a name field, and its
/// name-field count is theirs.
#[test]
fn name_field_postings_are_the_title_documents() {
    let (index, _) = synthetic();
    let title = Schema::default()
        .fields()
        .iter()
        .position(|f| f.name == "title")
        .unwrap();
    let bit = 1u16
        << index
            .indexed_fields()
            .iter()
            .position(|&f| f == title)
            .unwrap();
    let mut lists = 0;
    for ord in 0..index.terms().len() as u64 {
        let info = index.term_info(ord).unwrap();
        let all = index.postings(&info).unwrap();
        let named: Vec<usize> = (0..all.len())
            .filter(|&i| all.masks[i] & bit != 0)
            .collect();
        assert_eq!(info.names as usize, named.len(), "{ord}");
        let want_list =
            all.len() > 128 && !named.is_empty() && named.len() <= 128 && named.len() < all.len();
        assert_eq!(!info.names_postings.is_empty(), want_list, "{ord}");
        if want_list {
            lists += 1;
            let view = index.postings(&info.clone().view(true)).unwrap();
            assert_eq!(
                view.docs,
                named.iter().map(|&i| all.docs[i]).collect::<Vec<_>>()
            );
            assert_eq!(
                view.masks,
                named.iter().map(|&i| all.masks[i]).collect::<Vec<_>>()
            );
            for (k, &i) in named.iter().enumerate() {
                assert_eq!(view.tfs_of(k), all.tfs_of(i));
            }
        }
    }
    assert!(lists > 0, "the synthetic corpus has common title words");
}
