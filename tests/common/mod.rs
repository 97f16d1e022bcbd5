//! Shared by the integration tests (this is not a test itself).
// Each test file that includes this module uses a part of it.
#![allow(dead_code)]

/// JSON Lines of `docs` generated documents (ids `{id_prefix}0`, `{id_prefix}1`, …) over
/// `words`, skewed towards the first words (a word is picked by the square of a uniform draw),
/// with titles of `title.0 + r % title.1` words and bodies of `body.0 + r % body.1` words, all
/// from an xorshift generator seeded with `seed`. Deterministic: the golden many-blocks index
/// is built from it.
pub fn skewed_jsonl(
    docs: usize,
    id_prefix: &str,
    words: &[String],
    seed: u64,
    title: (u64, u64),
    body: (u64, u64),
) -> String {
    let state = std::cell::Cell::new(seed);
    let next = || {
        let mut s = state.get();
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        state.set(s);
        s
    };
    let pick = |n: u64| -> String {
        (0..n)
            .map(|_| {
                let u = (next() % 1000) as f64 / 1000.0;
                words[(u * u * words.len() as f64) as usize].clone()
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::new();
    for d in 0..docs {
        let title = pick(title.0 + next() % title.1);
        let body = pick(body.0 + next() % body.1);
        let doc =
            serde_json::json!({"id": format!("{id_prefix}{d}"), "title": title, "body": body});
        out += &doc.to_string();
        out.push('\n');
    }
    out
}

/// Compares `got` with the golden JSON file at `path` ([`assert_same`]); with `EDGEKB_BLESS`
/// set, first writes `got` there.
pub fn golden_json(path: &std::path::Path, got: &serde_json::Value) {
    if std::env::var_os("EDGEKB_BLESS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(got).unwrap() + "\n").unwrap();
    }
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    assert_same(got, &want, &name);
}

/// Scores are compared to 1e-5 relative (they are printed as f32); everything else exactly.
pub fn assert_same(got: &serde_json::Value, want: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (got, want) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{path}: {a} != {b}"
            );
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut ka: Vec<_> = a.keys().collect();
            let mut kb: Vec<_> = b.keys().collect();
            ka.sort();
            kb.sort();
            assert_eq!(ka, kb, "{path}: keys");
            for k in ka {
                assert_same(&a[k], &b[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

/// The default schema as formats before 9 had it: every field normalized by the index's `b`.
pub fn schema_before_9() -> edgekb::Schema {
    let mut fields = edgekb::Schema::default().fields().to_vec();
    fields.iter_mut().for_each(|f| f.b = None);
    edgekb::Schema::new(fields).unwrap()
}

/// `q` searched with `opts` through block-max ranking and through the reference path that
/// scores every match; asserts both give the same results, and returns them.
pub fn search_both(
    index: &edgekb::Index<Vec<u8>>,
    q: &str,
    opts: &edgekb::SearchOptions,
) -> edgekb::SearchResults {
    let fast = edgekb::Searcher::new(index).search(q, opts).unwrap();
    let slow = edgekb::Searcher::new(index)
        .exhaustive(true)
        .search(q, opts)
        .unwrap();
    assert_eq!(fast, slow, "{q:?}");
    fast
}

/// A committed split fixture (the three documents of `tests/compat/v2/split/docs.jsonl`)
/// answers every query, with and without prefix matching, as `fresh` (a single-file build of
/// the same documents) does (with prefix matching, before format 7: the same matches).
pub fn assert_fixture_answers(
    fresh: &edgekb::Index<Vec<u8>>,
    lazy: &mut edgekb::lazy::LazyIndex,
    loader: &mut dyn edgekb::lazy::Loader,
    label: &str,
) {
    let queries = [
        "strategy",
        "git",
        "cafe",
        "real time",
        "strat",
        "stratgy",
        "-git game",
        "東京",
        "\"real time\"",
    ];
    for q in queries {
        for prefix in [false, true] {
            let opts = edgekb::SearchOptions {
                prefix,
                ..edgekb::SearchOptions::default()
            };
            let want = edgekb::Searcher::new(fresh).search(q, &opts).unwrap();
            let got = lazy.search(loader, q, &opts).unwrap();
            // Words the name boost may raise: two or more, outside a phrase, not excluded.
            let boostable = !q.starts_with('"')
                && q.split_whitespace().filter(|w| !w.starts_with('-')).count() >= 2;
            if (prefix || boostable) && lazy.version().index.version() < 7 {
                // Before format 7 the index has no name-field counts: a completion is scored
                // as any match (`strat`: *git*'s body says "strategies") and no match gains
                // the name boost (`real time`), so only the matches are the fresh build's.
                let ids = |r: &edgekb::SearchResults| {
                    let mut v: Vec<String> = r.hits.iter().map(|h| h.id.clone()).collect();
                    v.sort();
                    (r.total, v)
                };
                assert_eq!(ids(&got), ids(&want), "{label} {q:?}");
                continue;
            }
            assert_eq!(got, want, "{label} {q:?}");
        }
    }
}

/// `tests/fixtures/docs.jsonl` `copies` times over, each copy's ids suffixed `~k`: a store
/// large enough for the builder to learn a preset dictionary (format 11) from real text.
pub fn repeated_docs_jsonl(copies: usize) -> String {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/docs.jsonl")).unwrap();
    let mut out = String::new();
    for k in 0..copies {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut doc: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = format!("{}~{k}", doc["id"].as_str().unwrap());
            doc["id"] = id.into();
            out += &doc.to_string();
            out.push('\n');
        }
    }
    out
}
