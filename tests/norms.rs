//! Field norms in a pack of their own (split layout 4): lazy answers equal the single file's,
//! a known-item query fetches its norms with its hits, a bad norms page is refused and never
//! cached, and the committed split fixtures of format 5 (norms resident, layout 2; norms
//! paged, layout 4) still open and answer.

mod common;

use std::ops::Range;
use std::path::PathBuf;

use edgekb::lazy::{DirLoader, LazyIndex, LoadError, Loader, MemoryLoader, Retry};
use edgekb::split::{SplitOptions, SplitOutput};
use edgekb::{add_jsonl, AnalyzerConfig, Bm25, IndexBuilder};
use edgekb::{Index, Schema, SearchOptions, Searcher};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn build(jsonl: &str) -> Index<Vec<u8>> {
    build_with(Schema::default(), jsonl)
}

fn build_with(schema: Schema, jsonl: &str) -> Index<Vec<u8>> {
    let mut b = IndexBuilder::new(schema, AnalyzerConfig::default(), Bm25::default());
    add_jsonl(&mut b, jsonl.as_bytes(), "docs.jsonl").unwrap();
    Index::open(b.to_bytes().unwrap()).unwrap()
}

fn fixture_index() -> Index<Vec<u8>> {
    build(&std::fs::read_to_string(root().join("tests/fixtures/docs.jsonl")).unwrap())
}

/// Norms paged (whatever their size), with `options` otherwise.
fn paged(index: &Index<Vec<u8>>, options: SplitOptions) -> SplitOutput {
    let options = SplitOptions {
        resident_norms_bytes: 0,
        ..options
    };
    SplitOutput::from_index_with(index, &options).unwrap()
}

/// Hit display in its pack too, read chunk by chunk.
fn paged_with_lazy_display(index: &Index<Vec<u8>>) -> SplitOutput {
    paged(
        index,
        SplitOptions {
            resident_display_bytes: 0,
            ..Default::default()
        },
    )
}

fn queries() -> Vec<String> {
    std::fs::read_to_string(root().join("tests/golden/queries.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .chain(
            [
                "co",
                "runnin",
                "compresion utilites",
                "\"version control\" -git",
                "secur shel",
                "editor -vim",
                "the a of",
            ]
            .map(String::from),
        )
        .collect()
}

#[test]
fn the_norms_leave_the_dictionary_for_their_pack() {
    let index = fixture_index();
    let split = paged(&index, SplitOptions::default());
    let m = &split.manifest;
    assert_eq!(m.manifest_version, 6);
    let norms = m.norms.as_ref().expect("a norms pack");
    let fields = index.indexed_fields().len() as u64;
    // The codes, in pages of 4 KiB each followed by its 4-byte CRC.
    let data = index.doc_count() as u64 * fields;
    assert_eq!(norms.size, 16 + data + 4 * data.div_ceil(4096));
    let dict = Index::open(split.files[0].1.clone()).unwrap();
    assert!(dict.norms_paged());
    let kinds: Vec<&str> = dict.sections().iter().map(|s| s.kind.name()).collect();
    assert!(!kinds.contains(&"fieldnorms"), "{kinds:?}");
    // By default the fixture's norms (a few KB) stay resident, as small hit display does.
    let small = SplitOutput::from_index(&index).unwrap();
    let dict = Index::open(small.files[0].1.clone()).unwrap();
    assert!(!dict.norms_paged());
    assert_eq!(small.manifest.norms.as_ref().map(|n| n.size), Some(16));
}

/// Every query, cold and warm, on several layouts and options, answers exactly as the single
/// file does: the same hits, scores, totals and flags.
#[test]
fn paged_norms_answer_as_the_single_file_does() {
    let index = fixture_index();
    let layouts = [
        ("paged", paged(&index, SplitOptions::default())),
        ("paged, lazy display", paged_with_lazy_display(&index)),
        (
            "paged, cut dictionary, small pages",
            paged(
                &index,
                SplitOptions {
                    page_size: 512,
                    resident_dictionary_bytes: 0,
                    part_bytes: 300,
                    resident_display_bytes: 0,
                    ..Default::default()
                },
            ),
        ),
    ];
    let option_sets = [
        SearchOptions::default(),
        SearchOptions {
            limit: 1,
            ..Default::default()
        },
        SearchOptions {
            limit: 50,
            any: true,
            ..Default::default()
        },
        SearchOptions {
            prefix: false,
            typos: false,
            limit: 3,
            ..Default::default()
        },
    ];
    for (name, split) in &layouts {
        // A roomy cache, and one so small that pages are evicted between and within queries.
        for budget in [1 << 20, 3 * 4096] {
            let mut loader = MemoryLoader::from_split(split);
            let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
            assert!(lazy.version().index.norms_paged(), "{name}");
            for opts in &option_sets {
                for q in queries() {
                    let want = Searcher::new(&index).search(&q, opts).unwrap();
                    for pass in ["cold", "warm"] {
                        let got = lazy.search(&mut loader, &q, opts).unwrap();
                        assert_eq!(got, want, "{name}, budget {budget}, {pass}: {q:?} {opts:?}");
                    }
                }
            }
            assert!(loader.log.iter().any(|(f, _)| f.starts_with("norms.")));
        }
    }
}

/// Requests of one query, by file kind, in the order made.
fn kinds(log: &[(String, Option<Range<u64>>)]) -> Vec<&str> {
    log.iter()
        .map(|(f, _)| f.split('.').next().unwrap())
        .collect()
}

/// A query with no more candidates than hits asked for fetches its norms and its hits'
/// display chunks in one round; a broader one fetches norms, then display; warm, neither.
#[test]
fn a_known_item_query_fetches_its_norms_with_its_hits() {
    let index = fixture_index();
    let split = paged_with_lazy_display(&index);
    for (q, limit, rounds, want) in [
        // One document holds "tmux": postings, then norms and display together.
        ("tmux", 10, 2, vec!["postings", "norms", "display"]),
        // More candidates than hits: postings, norms, then the top hits' display.
        ("file", 10, 3, vec!["postings", "norms", "display"]),
        // The stem and the written form hold the same five documents: five candidates, not
        // the ten their frequencies add up to.
        ("compression", 5, 2, vec!["postings", "norms", "display"]),
        ("compression", 4, 3, vec!["postings", "norms", "display"]),
    ] {
        let mut loader = MemoryLoader::from_split(&split);
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        let base = loader.log.len();
        let opts = SearchOptions {
            prefix: false,
            limit,
            ..Default::default()
        };
        let r = lazy.search(&mut loader, q, &opts).unwrap();
        assert_eq!(r, Searcher::new(&index).search(q, &opts).unwrap(), "{q:?}");
        assert_eq!(r.total <= limit, rounds == 2, "{q:?}: {} matches", r.total);
        let wire = lazy.store().last();
        let log = &loader.log[base..];
        assert_eq!(wire.round_trips, rounds, "{q:?}: {log:?}");
        let mut got = kinds(log);
        got.dedup();
        assert_eq!(got, want, "{q:?}");
        // Warm: every page cached, nothing on the wire.
        let before = loader.requests;
        assert_eq!(lazy.search(&mut loader, q, &opts).unwrap(), r);
        assert_eq!(loader.requests, before, "{q:?} warm");
    }
}

/// Serves a file's bytes xored with a mask for its first `bad` requests, then the true bytes.
struct Flaky {
    inner: MemoryLoader,
    name: String,
    bad: usize,
}

impl Loader for Flaky {
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        let mut body = self.inner.fetch(name, range)?;
        if name == self.name && self.bad > 0 {
            self.bad -= 1;
            body.iter_mut().for_each(|b| *b ^= 0x5a);
        }
        Ok(body)
    }
}

#[test]
fn a_corrupt_norms_page_is_refused_then_retried_and_never_cached() {
    let index = fixture_index();
    let split = paged(&index, SplitOptions::default());
    let name = split.manifest.norms.as_ref().unwrap().name.clone();
    let want = Searcher::new(&index)
        .search("tmux", &SearchOptions::default())
        .unwrap();
    // Without retries: the typed error of a failed page check.
    let mut loader = Flaky {
        inner: MemoryLoader::from_split(&split),
        name: name.clone(),
        bad: usize::MAX,
    };
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    for _ in 0..2 {
        match lazy.search(&mut loader, "tmux", &SearchOptions::default()) {
            Err(LoadError::Index(e)) => assert_eq!(e.code(), "ChecksumMismatch"),
            other => panic!("{other:?}"),
        }
    }
    // The postings pages are cached, no norms page is: repaired, the query asks for the norms
    // again, and only for them, and answers right.
    loader.bad = 0;
    let base = loader.inner.log.len();
    assert_eq!(
        lazy.search(&mut loader, "tmux", &SearchOptions::default())
            .unwrap(),
        want
    );
    assert_eq!(kinds(&loader.inner.log[base..]), vec!["norms"]);
    // With retries: a bad answer is retried like a failed transfer, and the query succeeds.
    let mut loader = Flaky {
        inner: MemoryLoader::from_split(&split),
        name,
        bad: 1,
    };
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    lazy.set_retry(Retry {
        retries: 2,
        backoff_ms: 1,
    });
    assert_eq!(
        lazy.search(&mut loader, "tmux", &SearchOptions::default())
            .unwrap(),
        want
    );
    let norms_requests = kinds(&loader.inner.log)
        .iter()
        .filter(|k| **k == "norms")
        .count();
    assert_eq!(norms_requests, 2, "one bad answer, one retry");
}

/// The committed split fixtures (built from the three documents of
/// `tests/compat/v2/split/docs.jsonl`): of format 5 (`tests/compat/v5/split/`), `layout2`,
/// written before the norms had a pack (manifest layout 2, norms in the dictionary), and
/// `layout4` (norms, hit display and dictionary parts in packs); of format 6, `layout5` (the
/// same options, compact chunk tables and page CRCs in the pages); of format 7, `layout5` again
/// (written forms without positions); of format 8, `layout5` again (typographic apostrophes
/// folded; the first fixture written with its `dictionary.bin`); of format 9, `layout5` again
/// (the body's own BM25 `b`); of format 10, `layout5` again (the document store in deflate); of
/// format 11, `layout5` again (a store too small for a preset dictionary has none); of format
/// 12, `layout5` again (nor a hit display for one) and `layout6` (the same files, the
/// dictionary holding its manifest).
/// Each opens through a directory loader and answers as a fresh
/// single-file build of those documents does (before format 9, with every field's `b` the
/// index's, as those formats' default schema had it). Opening asks for `dictionary.bin` first:
/// from layout 6 that is all; before, the manifest follows, which names the dictionary
/// `dictionary.bin` is (from format 8 the fixtures have it) or another one to fetch.
#[test]
fn committed_split_fixtures_still_search() {
    let text = std::fs::read_to_string(root().join("tests/compat/v2/split/docs.jsonl")).unwrap();
    let fresh = build(&text);
    let fresh_before_9 = build_with(common::schema_before_9(), &text);
    for (layout, format, manifest_version, paged_norms) in [
        ("layout2", 5, 2, false),
        ("layout4", 5, 4, true),
        ("layout5", 6, 5, true),
        ("layout5", 7, 5, true),
        ("layout5", 8, 5, true),
        ("layout5", 9, 5, true),
        ("layout5", 10, 5, true),
        ("layout5", 11, 5, true),
        ("layout5", 12, 5, true),
        ("layout6", 12, 6, true),
    ] {
        let dir = root().join(format!("tests/compat/v{format}/split"));
        let mut loader = DirLoader(dir.join(layout));
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        let opened = lazy.load_stats();
        let want = match (manifest_version, format) {
            (6.., _) => (1, 1),
            (_, 8..) => (2, 2),
            _ => (3, 3),
        };
        assert_eq!(
            (opened.requests, opened.round_trips),
            want,
            "{layout} of format {format}"
        );
        let v = lazy.version();
        assert_eq!(v.manifest.manifest_version, manifest_version, "{layout}");
        assert_eq!(v.index.version(), format, "{layout}");
        assert_eq!(v.index.pages().unwrap().trailers, format >= 6, "{layout}");
        assert_eq!(v.index.norms_paged(), paged_norms, "{layout}");
        let fresh = if format < 9 { &fresh_before_9 } else { &fresh };
        common::assert_fixture_answers(fresh, &mut lazy, &mut loader, layout);
    }
}

/// Reads a split index's data from its packs in memory, optionally without the norms.
struct Packs {
    packs: std::collections::HashMap<edgekb::DataFile, Vec<u8>>,
    norms: bool,
}

impl Packs {
    fn of(split: &SplitOutput, norms: bool) -> Packs {
        let m = &split.manifest;
        let file = |name: &str| &split.files.iter().find(|(n, _)| n == name).unwrap().1;
        let dictionary = Index::open(file(&m.dictionary.name).as_slice()).unwrap();
        let pages = dictionary.pages().unwrap();
        // Each pack's data: its pages, checked, without their CRC trailers (layout 5).
        let packs = m
            .data_files()
            .into_iter()
            .map(|f| {
                let stored = &file(&m.data_file(f).name)[16..];
                let data: Vec<u8> = (0..pages.page_count(f))
                    .flat_map(|p| {
                        let r = pages.stored_range(f, p..p + 1);
                        let page = &stored[r.start as usize..r.end as usize];
                        pages.check_page(f, p, page).unwrap().to_vec()
                    })
                    .collect();
                assert_eq!(data.len() as u64, pages.len_of(f));
                (f, data)
            })
            .collect();
        Packs { packs, norms }
    }
}

impl edgekb::DataSource for Packs {
    fn read(
        &self,
        file: edgekb::DataFile,
        range: Range<u64>,
    ) -> edgekb::Result<std::borrow::Cow<'_, [u8]>> {
        let missing = edgekb::Error::NotLoaded {
            file: file.name(),
            start: range.start,
            end: range.end,
        };
        if file == edgekb::DataFile::Norms && !self.norms {
            return Err(missing);
        }
        let data = &self.packs[&file];
        data.get(range.start as usize..range.end as usize)
            .map(std::borrow::Cow::Borrowed)
            .ok_or(missing)
    }
}

/// Scoring reads a document's norms through the data source: a source with them answers as
/// the single file does; one without them is a `NotLoaded` error, never a panic or a score
/// computed without them.
#[test]
fn scoring_reads_norms_through_the_source() {
    use edgekb::DataSource;
    let index = fixture_index();
    let split = paged(&index, SplitOptions::default());
    let dict = Index::open(split.files[0].1.clone()).unwrap();
    let (with, without) = (Packs::of(&split, true), Packs::of(&split, false));
    let mut scored = 0;
    for q in queries() {
        let opts = SearchOptions::default();
        let want = Searcher::new(&index).search(&q, &opts).unwrap();
        assert_eq!(
            Searcher::with_source(&dict, &with)
                .search(&q, &opts)
                .unwrap(),
            want,
            "{q:?}"
        );
        match Searcher::with_source(&dict, &without).search(&q, &opts) {
            Err(e) => {
                assert_eq!(e.code(), "NotLoaded", "{q:?}: {e}");
                scored += 1;
            }
            // Only a query that scores nothing needs no norms.
            Ok(r) => assert!(r.hits.iter().all(|h| h.score == 0.0), "{q:?}"),
        }
    }
    assert!(scored > 10, "{scored}");
    // The single file serves its norms section as the norms pack's data.
    let fields = index.indexed_fields().len() as u64;
    assert_eq!(
        index
            .read(edgekb::DataFile::Norms, 0..fields)
            .unwrap()
            .len(),
        fields as usize
    );
}
