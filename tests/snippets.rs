//! Snippets and highlights (`src/search/snippet.rs`): golden snippets over
//! `tests/fixtures/snippets.jsonl` (multi-byte and emoji text, stemmed, prefix and typo
//! matches, a phrase crossing the snippet's edge, several values, field restrictions and
//! exclusions), checked against `tests/golden/snippets.json` and by what each highlight
//! covers; the split index searched lazily gives the same snippets, in the round trips
//! expected.
//!
//! After a deliberate change, regenerate with `EDGEKB_BLESS=1 cargo test --test snippets`.

use std::path::PathBuf;

#[path = "common/mod.rs"]
mod common;

use edgekb::lazy::{LazyIndex, Loader, Machine, MemoryLoader, Query, Step};
use edgekb::split::{SplitOptions, SplitOutput};
use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{highlight_html, highlight_text, DEFAULT_SNIPPET_CHARS};
use edgekb::{Index, Schema, SearchOptions, SearchResults, Searcher};
use serde::Serialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn index() -> Index<Vec<u8>> {
    let mut b = IndexBuilder::new(Schema::default(), Default::default(), Default::default());
    let f = std::fs::File::open(root().join("tests/fixtures/snippets.jsonl")).unwrap();
    add_jsonl(&mut b, std::io::BufReader::new(f), "snippets.jsonl").unwrap();
    Index::open(b.to_bytes().unwrap()).unwrap()
}

/// The golden queries: (query, snippet length, OR).
const CASES: &[(&str, usize, bool)] = &[
    ("crabs", 160, false),
    ("crab", 40, false),
    ("crepes naive", 50, false),
    ("東京", 30, false),
    ("recieve", 160, false),
    ("receiving", 60, false),
    ("config", 160, false),
    ("\"quick brown fox jumps over the lazy dog\"", 30, false),
    ("\"lazy dog\" keyboards", 160, false),
    ("kittens", 160, false),
    ("kittens OR sediment", 160, false),
    ("title:crabs", 160, false),
    ("salmon gravel", 80, false),
    ("rivers dams", 100, false),
    ("nothingmatcheshere", 160, false),
    ("sediment python", 60, true),
];

fn opts(chars: usize, any: bool) -> SearchOptions {
    SearchOptions {
        snippets: Some(chars),
        any,
        ..Default::default()
    }
}

/// The text of `s` between UTF-16 offsets.
fn utf16(s: &str, a: u32, b: u32) -> String {
    let units: Vec<u16> = s.encode_utf16().collect();
    String::from_utf16(&units[a as usize..b as usize]).expect("highlights fall on characters")
}

#[derive(Serialize)]
struct Case {
    query: String,
    chars: usize,
    hits: Vec<GoldenHit>,
}

#[derive(Serialize)]
struct GoldenHit {
    id: String,
    snippet: Option<String>,
    highlights: Option<Vec<[u32; 2]>>,
    /// The snippet with its highlights in [brackets], for review.
    marked: Option<String>,
}

fn run(index: &Index<Vec<u8>>) -> Vec<(String, SearchResults)> {
    CASES
        .iter()
        .map(|&(q, chars, any)| {
            let r = Searcher::new(index).search(q, &opts(chars, any)).unwrap();
            (q.to_string(), r)
        })
        .collect()
}

#[test]
fn golden_snippets() {
    let index = index();
    let results = run(&index);
    let cases: Vec<Case> = results
        .iter()
        .zip(CASES)
        .map(|((q, r), &(_, chars, _))| Case {
            query: q.clone(),
            chars,
            hits: r
                .hits
                .iter()
                .map(|h| GoldenHit {
                    id: h.id.clone(),
                    snippet: h.snippet.clone(),
                    highlights: h.highlights.clone(),
                    marked: h.snippet.as_ref().map(|s| {
                        highlight_text(s, h.highlights.as_deref().unwrap_or(&[]), "[", "]")
                    }),
                })
                .collect(),
        })
        .collect();
    let text = serde_json::to_string_pretty(&cases).unwrap() + "\n";
    let path = root().join("tests/golden/snippets.json");
    if std::env::var_os("EDGEKB_BLESS").is_some() || !path.exists() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(
        text,
        std::fs::read_to_string(&path).unwrap(),
        "snippets differ from {}",
        path.display()
    );
}

/// What the highlights of the first hit cover, as text.
fn marked_words(r: &SearchResults) -> Vec<String> {
    let h = &r.hits[0];
    let s = h.snippet.as_deref().unwrap();
    h.highlights
        .as_ref()
        .unwrap()
        .iter()
        .map(|&[a, b]| utf16(s, a, b))
        .collect()
}

#[test]
fn highlights_cover_what_matched() {
    let index = index();
    let results = run(&index);
    let get = |q: &str| &results.iter().find(|(x, _)| x == q).unwrap().1;
    for (q, r) in &results {
        for h in &r.hits {
            let (Some(s), Some(hl)) = (&h.snippet, &h.highlights) else {
                panic!("{q}: hit {} has no snippet", h.id)
            };
            let len = s.encode_utf16().count() as u32;
            let mut last = 0;
            for &[a, b] in hl {
                assert!(a < b && b <= len && a >= last, "{q}: {hl:?} in {s:?}");
                let t = utf16(s, a, b);
                assert_eq!(t.trim(), t, "{q}: a highlight starts or ends with a space");
                last = b;
            }
            // Lengths are in characters, plus the two ellipses.
            let chars = CASES.iter().find(|c| c.0 == q).unwrap().1;
            assert!(s.chars().count() <= chars + 2, "{q}: {s:?}");
        }
    }
    // Multi-byte and emoji text: offsets count UTF-16 units (the crab is two of them).
    assert_eq!(marked_words(get("crabs")), ["crabs", "Crabs"]);
    assert_eq!(marked_words(get("crepes naive")), ["crêpes", "naïve"]);
    assert_eq!(marked_words(get("東京")), ["東京"]);
    // A typo: every form stemming to the corrected term.
    assert_eq!(
        marked_words(get("recieve")),
        ["receive", "received", "receiver", "receives"]
    );
    // Stemmed: "receiving" matches "receive" and its forms.
    assert!(marked_words(get("receiving")).contains(&"receive".to_string()));
    // Prefix (the word being typed): its completions.
    assert_eq!(
        marked_words(get("config")),
        ["Configuration", "Configurable", "configs"]
    );
    // A phrase longer than the snippet is clipped at its edge: the highlight runs to the
    // text's end, just before the ellipsis.
    let fox = &get("\"quick brown fox jumps over the lazy dog\"").hits[0];
    let s = fox.snippet.as_deref().unwrap();
    let hl = fox.highlights.as_ref().unwrap();
    assert!(s.ends_with('…'), "{s}");
    assert_eq!(hl.len(), 1);
    assert_eq!(hl[0][1], s.encode_utf16().count() as u32 - 1, "{s} {hl:?}");
    assert!(utf16(s, hl[0][0], hl[0][1]).starts_with("quick brown"));
    // A phrase inside the window is one highlight; its words alone are not marked.
    assert_eq!(
        marked_words(get("\"lazy dog\" keyboards")),
        ["lazy dog", "keyboards"]
    );
    // Several values: joined, each matched.
    assert_eq!(marked_words(get("kittens")), ["kittens", "kittens"]);
    // OR alternatives are marked; words of another field are not.
    assert_eq!(
        marked_words(get("kittens OR sediment")),
        ["kittens", "kittens"]
    );
    assert!(marked_words(get("title:crabs")).is_empty());
    // The window moves to the matches, far into a long body.
    assert_eq!(marked_words(get("salmon gravel")), ["salmon", "gravel"]);
    assert!(get("salmon gravel").hits[0]
        .snippet
        .as_deref()
        .unwrap()
        .starts_with('…'));
    assert_eq!(get("nothingmatcheshere").hits.len(), 0);
    // Windows moved back from the end of the text start at a word.
    for (_, r) in &results {
        for h in &r.hits {
            let s = h.snippet.as_deref().unwrap();
            if let Some(rest) = s.strip_prefix('…') {
                assert!(!rest.starts_with(' '), "{s}");
            }
        }
    }
    let or = get("sediment python");
    assert_eq!(marked_words(or), ["Python"]);
    assert!(
        or.hits[0]
            .snippet
            .as_deref()
            .unwrap()
            .starts_with("…The second"),
        "{:?}",
        or.hits[0].snippet
    );
}

#[test]
fn snippets_are_off_by_default_and_change_nothing_else() {
    let index = index();
    for &(q, chars, any) in CASES {
        let plain = Searcher::new(&index)
            .search(
                q,
                &SearchOptions {
                    any,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(plain
            .hits
            .iter()
            .all(|h| h.snippet.is_none() && h.highlights.is_none()));
        let json = plain.to_tree::<serde_json::Value>().to_string();
        assert!(
            !json.contains("snippet") && !json.contains("highlights"),
            "{json}"
        );
        let mut with = Searcher::new(&index).search(q, &opts(chars, any)).unwrap();
        for h in &mut with.hits {
            h.snippet = None;
            h.highlights = None;
        }
        assert_eq!(with, plain, "{q}");
    }
    let r = Searcher::new(&index)
        .search(
            "crabs",
            &SearchOptions {
                snippets: Some(DEFAULT_SNIPPET_CHARS),
                ..Default::default()
            },
        )
        .unwrap();
    let h = &r.hits[0];
    let html = highlight_html(
        h.snippet.as_deref().unwrap(),
        h.highlights.as_deref().unwrap(),
    );
    assert!(
        html.contains("<mark>crabs</mark>") && html.contains("<mark>Crabs</mark>"),
        "{html}"
    );
}

/// Runs a lazy query to its end, counting its rounds of requests.
fn drive_counting(
    lazy: &mut LazyIndex,
    loader: &mut MemoryLoader,
    q: &str,
    o: SearchOptions,
) -> (SearchResults, usize) {
    let mut query = Query::new(lazy.version(), q, o);
    let mut rounds = 0;
    loop {
        let needs = match query.step(lazy.store()).unwrap() {
            Step::Done(r) => return (r, rounds),
            Step::Fetch(needs) => needs,
        };
        rounds += 1;
        let checker = query.checker();
        for need in needs {
            let bytes = loader.fetch(need.name(), need.range()).unwrap();
            let checked = checker.check(&need, bytes).unwrap();
            query.supply(lazy.store(), &need, checked).unwrap();
        }
    }
}

#[test]
fn lazy_snippets_equal_native_in_one_round() {
    let index = index();
    let native = run(&index);
    // (hit display resident, field norms paged): with paged norms, a query whose candidates
    // are all hits fetches their display and store chunks with its norms.
    for (resident_display, paged_norms) in [(true, false), (false, false), (false, true)] {
        let options = SplitOptions {
            resident_display_bytes: if resident_display { 1 << 16 } else { 0 },
            resident_norms_bytes: if paged_norms { 0 } else { 1 << 16 },
            // A cut dictionary, so terms come back from dictionary parts.
            resident_dictionary_bytes: 64,
            part_bytes: 256,
            ..Default::default()
        };
        let split = SplitOutput::from_index_with(&index, &options).unwrap();
        for ((q, want), &(_, chars, any)) in native.iter().zip(CASES) {
            // A fresh cache per query: every phase fetches.
            let mut loader = MemoryLoader::from_split(&split);
            let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
            let (plain, plain_rounds) = drive_counting(
                &mut lazy,
                &mut loader,
                q,
                SearchOptions {
                    any,
                    ..Default::default()
                },
            );
            let mut loader = MemoryLoader::from_split(&split);
            let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
            let (got, rounds) = drive_counting(&mut lazy, &mut loader, q, opts(chars, any));
            assert_eq!(
                &got, want,
                "{q:?} (resident display: {resident_display}, paged norms: {paged_norms})"
            );
            assert_eq!(plain.total, want.total);
            // Snippets cost one more round at most: none when hit display needs a round of
            // its own (the store chunks come with it).
            let extra = if want.hits.is_empty() {
                0
            } else if resident_display {
                1
            } else {
                0
            };
            assert_eq!(
                rounds,
                plain_rounds + extra,
                "{q:?} (resident display: {resident_display}, paged norms: {paged_norms})"
            );
            // Warm: the same query again costs no request.
            let before = loader.requests;
            let (again, again_rounds) = drive_counting(&mut lazy, &mut loader, q, opts(chars, any));
            assert_eq!((&again, again_rounds, loader.requests), (want, 0, before));
        }
    }
}

/// A store large enough for a preset dictionary (format 11): the split index's snippets read
/// the dictionary's pages in the round that fetches the store chunks, and equal the single
/// file's; with every page cached, the same query again costs no request.
#[test]
fn lazy_snippets_read_the_preset_dictionary() {
    let mut b = IndexBuilder::new(Schema::default(), Default::default(), Default::default());
    add_jsonl(&mut b, common::repeated_docs_jsonl(4).as_bytes(), "docs ×4").unwrap();
    let index = Index::open(b.to_bytes().unwrap()).unwrap();
    let preset = index.store_preset().unwrap();
    assert!(preset.end >= 1024, "{preset:?}");
    for resident_display in [false, true] {
        let options = SplitOptions {
            resident_display_bytes: if resident_display { 1 << 16 } else { 0 },
            ..Default::default()
        };
        let split = SplitOutput::from_index_with(&index, &options).unwrap();
        for q in [
            "strategy game",
            "python",
            "library files",
            "warfare",
            "editor",
        ] {
            let want = Searcher::new(&index).search(q, &opts(120, false)).unwrap();
            assert!(want.hits.iter().any(|h| h.snippet.is_some()), "{q:?}");
            let mut loader = MemoryLoader::from_split(&split);
            let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
            let (plain, plain_rounds) =
                drive_counting(&mut lazy, &mut loader, q, SearchOptions::default());
            assert_eq!(plain.total, want.total, "{q:?}");
            let mut loader = MemoryLoader::from_split(&split);
            let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
            let (got, rounds) = drive_counting(&mut lazy, &mut loader, q, opts(120, false));
            assert_eq!(got, want, "{q:?}");
            // The dictionary comes in the round of the store chunks: no round of its own.
            let extra = usize::from(resident_display);
            assert_eq!(
                rounds,
                plain_rounds + extra,
                "{q:?} (resident display: {resident_display})"
            );
            let before = loader.requests;
            let (again, again_rounds) = drive_counting(&mut lazy, &mut loader, q, opts(120, false));
            assert_eq!((&again, again_rounds, loader.requests), (&want, 0, before));
        }
    }
}
