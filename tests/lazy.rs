//! The split index, searched lazily through an instrumented in-memory loader.

mod common;

use std::ops::Range;
use std::path::PathBuf;

use edgekb::lazy::{DirLoader, LazyIndex, LoadError, Loader, MemoryLoader};
use edgekb::split::SplitOutput;
use edgekb::AnalyzerConfig;
use edgekb::Bm25;
use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{Index, Schema, SearchOptions, Searcher};

fn fixture_index() -> Index<Vec<u8>> {
    Index::open(fixture_bytes()).unwrap()
}

fn fixture_bytes() -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    let f = std::fs::File::open(root.join("tests/fixtures/docs.jsonl")).unwrap();
    add_jsonl(&mut b, std::io::BufReader::new(f), "docs.jsonl").unwrap();
    b.to_bytes().unwrap()
}

/// A pack file with every data byte (after the 16-byte header) xored with `mask`.
fn flip_data(pack: &[u8], mask: u8) -> Vec<u8> {
    let mut out = pack.to_vec();
    out[16..].iter_mut().for_each(|b| *b ^= mask);
    out
}

/// A split index whose hit-display data is in its pack, read chunk by chunk, however small.
fn lazy_display_split(index: &Index<Vec<u8>>) -> SplitOutput {
    let options = edgekb::split::SplitOptions {
        resident_display_bytes: 0,
        ..Default::default()
    };
    SplitOutput::from_index_with(index, &options).unwrap()
}

fn loader_for(split: &SplitOutput) -> MemoryLoader {
    MemoryLoader::from_split(split)
}

/// That `lazy` is on the version of `manifest` and answers `tmux` with `want`.
fn assert_on(
    lazy: &mut LazyIndex,
    loader: &mut MemoryLoader,
    manifest: &edgekb::split::Manifest,
    want: &edgekb::SearchResults,
    case: &str,
) {
    assert_eq!(&lazy.version().manifest, manifest, "{case}");
    let got = lazy.search(loader, "tmux", &SearchOptions::default());
    assert_eq!(&got.unwrap(), want, "{case}");
}

/// Edits the section of `kind` of an index file in place (what a hostile host could serve),
/// then recomputes its CRC (when `crc`) and the section table's.
fn edit_section(
    file: &mut [u8],
    kind: edgekb::raw::SectionKind,
    crc: bool,
    edit: impl FnOnce(&mut [u8]),
) {
    use edgekb::raw::{crc32, HEADER_LEN, SECTION_ENTRY_LEN};
    let count = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    let e = (0..count)
        .map(|i| HEADER_LEN + i * SECTION_ENTRY_LEN)
        .find(|&e| u32::from_le_bytes(file[e..e + 4].try_into().unwrap()) == kind as u32)
        .expect("the section is there");
    let off = u64::from_le_bytes(file[e + 8..e + 16].try_into().unwrap()) as usize;
    let len = u64::from_le_bytes(file[e + 16..e + 24].try_into().unwrap()) as usize;
    edit(&mut file[off..off + len]);
    if crc {
        let sum = crc32(&file[off..off + len]);
        file[e + 4..e + 8].copy_from_slice(&sum.to_le_bytes());
    }
    let table = crc32(&file[HEADER_LEN..HEADER_LEN + count * SECTION_ENTRY_LEN]);
    file[16..20].copy_from_slice(&table.to_le_bytes());
}

fn queries() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join("tests/golden/queries.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn lazy_results_equal_single_file_results() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    for q in queries() {
        let want = Searcher::new(&index)
            .search(&q, &SearchOptions::default())
            .unwrap();
        let got = lazy
            .search(&mut loader, &q, &SearchOptions::default())
            .unwrap();
        assert_eq!(got, want, "{q:?}");
    }
}

#[test]
fn requests_follow_the_fetch_plan() {
    let index = fixture_index();
    // With the default options the fixture's hit-display data (a few KB) stays in the
    // dictionary: a one-term query on a warm dictionary is one request, its postings.
    let split = SplitOutput::from_index(&index).unwrap();
    assert_eq!(split.manifest.display.size, 16, "an empty display pack");
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    assert_eq!(
        loader.log,
        [("dictionary.bin".to_string(), None)],
        "the dictionary's alias alone (layout 6: it holds the manifest)"
    );
    let base = loader.requests as usize;
    let r = lazy
        .search(&mut loader, "tmux ", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.hits[0].id, "tmux");
    let log = &loader.log[base..];
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].0.starts_with("postings.") && log[0].1.is_some());
    // A display pack read lazily: one postings request, then one hit-display request.
    let split = lazy_display_split(&index);
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    assert_eq!(loader.requests, 1, "the dictionary's alias");
    let base = loader.requests;
    let r = lazy
        .search(&mut loader, "tmux ", &SearchOptions::default())
        .unwrap();
    assert!(r.total > 0);
    let log: Vec<&(String, Option<Range<u64>>)> = loader.log[base as usize..].iter().collect();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].0.starts_with("postings.") && log[0].1.is_some());
    assert!(log[1].0.starts_with("display.") && log[1].1.is_some());
    // What the query cost on the wire, as the store reports it (`stats()` in JS): the loader's
    // own counts, in two rounds (postings, then hit display).
    let wire = lazy.store().last();
    assert_eq!(wire.requests, 2);
    assert_eq!(wire.round_trips, 2);
    let served: u64 = log
        .iter()
        .map(|(_, r)| r.as_ref().map_or(0, |r| r.end - r.start))
        .sum();
    assert_eq!(wire.bytes, served);
    assert_eq!(lazy.load_stats().requests, loader.requests);
    assert_eq!(lazy.load_stats().bytes_fetched, loader.bytes);
    // Each request is a page-aligned range (a page is stored with its 4-byte CRC), not the whole file.
    let postings_size = split.manifest.postings.size;
    let r0 = log[0].1.clone().unwrap();
    assert!(r0.end - r0.start <= 4096 + 4 && r0.end - r0.start < postings_size);
    // The same query again: everything cached, no request.
    let before = loader.requests;
    let again = lazy
        .search(&mut loader, "tmux ", &SearchOptions::default())
        .unwrap();
    assert_eq!(again, r);
    assert_eq!(loader.requests, before);
    assert_eq!(
        lazy.store().last(),
        edgekb::lazy::Wire::default(),
        "no request, no round"
    );
    assert!(lazy.cache_stats().hits > 0);
    // A word absent from the dictionary costs no request at all.
    let before = loader.requests;
    assert_eq!(
        lazy.search(&mut loader, "qqqqzzzz ", &SearchOptions::default())
            .unwrap()
            .total,
        0
    );
    assert_eq!(loader.requests, before);
}

#[test]
fn the_cache_stays_within_its_budget() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = loader_for(&split);
    let budget = 3 * (4096 + edgekb::lazy::ENTRY_OVERHEAD);
    let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
    let words: Vec<String> = queries()
        .into_iter()
        .chain(["tmux", "vim", "git", "compression", "game", "server"].map(String::from))
        .collect();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..500 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let q = &words[(seed % words.len() as u64) as usize];
        let want = Searcher::new(&index)
            .search(q, &SearchOptions::default())
            .unwrap();
        let got = lazy
            .search(&mut loader, q, &SearchOptions::default())
            .unwrap();
        assert_eq!(got, want, "{q:?}");
        let s = lazy.cache_stats();
        assert!(s.bytes_held <= budget as u64, "{s:?}");
    }
    assert!(
        lazy.cache_stats().evictions > 0,
        "a budget this small must evict"
    );
}

#[test]
fn corrupt_or_short_responses_never_enter_the_cache() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let name = split.manifest.postings.name.clone();
    let good = loader.files[&name].clone();
    // Flip every data byte: whatever page a query reads is wrong.
    let bad = flip_data(&good, 0x55);
    loader.files.insert(name.clone(), bad);
    match lazy.search(&mut loader, "tmux ", &SearchOptions::default()) {
        Err(LoadError::Index(e)) => assert_eq!(e.code(), "ChecksumMismatch"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        lazy.cache_stats().entries,
        0,
        "nothing cached from a bad response"
    );
    // Truncated body.
    loader.files.insert(name.clone(), good[..20].to_vec());
    match lazy.search(&mut loader, "tmux ", &SearchOptions::default()) {
        Err(LoadError::Index(e)) => assert_eq!(e.code(), "Truncated"),
        other => panic!("{other:?}"),
    }
    assert_eq!(lazy.cache_stats().entries, 0);
    // Repaired: the same search works, nothing poisoned.
    loader.files.insert(name, good);
    let want = Searcher::new(&index)
        .search("tmux ", &SearchOptions::default())
        .unwrap();
    assert_eq!(
        lazy.search(&mut loader, "tmux ", &SearchOptions::default())
            .unwrap(),
        want
    );
}

/// Split layout 5: each page carries its CRC32 (XOR its page number) in a trailer. A damaged
/// trailer, or whole pages (data and trailer, each valid on its own) served in one another's
/// places, are refused before anything is cached; once the host is repaired, queries answer
/// right.
#[test]
fn page_trailers_bind_each_page_to_its_data_and_place() {
    let index = fixture_index();
    let options = edgekb::split::SplitOptions {
        page_size: 512,
        ..Default::default()
    };
    let split = SplitOutput::from_index_with(&index, &options).unwrap();
    assert_eq!(split.manifest.manifest_version, 6);
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    assert!(lazy.version().index.pages().unwrap().trailers);
    let name = split.manifest.postings.name.clone();
    let good = loader.files[&name].clone();
    let stride = 512 + 4;
    let full = (good.len() - 16) / stride;
    assert!(full >= 4, "{full} full pages");
    // One bit of every trailer flipped, the data intact.
    let mut bad_trailers = good.clone();
    for p in 0..=full {
        let end = (16 + (p + 1) * stride).min(good.len());
        bad_trailers[end - 1] ^= 0x10;
    }
    // Every full page (data and its own trailer) moved one place on.
    let mut rotated = good.clone();
    for p in 0..full {
        let to = (p + 1) % full;
        rotated[16 + to * stride..16 + (to + 1) * stride]
            .copy_from_slice(&good[16 + p * stride..16 + (p + 1) * stride]);
    }
    const QUERIES: [&str; 6] = [
        "tmux ",
        "vim",
        "strategy game",
        "compression",
        "git",
        "editor",
    ];
    let opts = SearchOptions::default();
    for (what, bad) in [("trailers", bad_trailers), ("rotated", rotated)] {
        loader.files.insert(name.clone(), bad);
        let mut refused = 0;
        for q in QUERIES {
            let before = lazy.cache_stats().entries;
            match lazy.search(&mut loader, q, &opts) {
                Err(LoadError::Index(e)) => {
                    assert_eq!(e.code(), "ChecksumMismatch", "{what} {q:?}");
                    let after = lazy.cache_stats().entries;
                    assert_eq!(after, before, "{what} {q:?}: nothing cached");
                    refused += 1;
                }
                // Only the last (partial) page was read, which is intact.
                Ok(r) => assert_eq!(r, Searcher::new(&index).search(q, &opts).unwrap()),
                Err(e) => panic!("{what} {q:?}: {e:?}"),
            }
        }
        assert!(refused > 0, "{what}: no query read a damaged page");
    }
    loader.files.insert(name, good);
    for q in QUERIES {
        let want = Searcher::new(&index).search(q, &opts).unwrap();
        assert_eq!(lazy.search(&mut loader, q, &opts).unwrap(), want, "{q:?}");
    }
}

/// A host that ignores `Range` and always sends the whole file.
struct NoRanges(MemoryLoader);

impl Loader for NoRanges {
    fn fetch(&mut self, name: &str, _range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        self.0.fetch(name, None)
    }
}

#[test]
fn hosts_without_range_support_work() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = NoRanges(loader_for(&split));
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    for q in queries() {
        let want = Searcher::new(&index)
            .search(&q, &SearchOptions::default())
            .unwrap();
        assert_eq!(
            lazy.search(&mut loader, &q, &SearchOptions::default())
                .unwrap(),
            want,
            "{q:?}"
        );
    }
}

#[test]
fn a_missing_file_is_not_requested_again() {
    let index = fixture_index();
    let split = lazy_display_split(&index);
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    loader.files.remove(&split.manifest.display.name);
    for _ in 0..3 {
        match lazy.search(&mut loader, "tmux ", &SearchOptions::default()) {
            Err(LoadError::Http { status: 404, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    let display_requests = loader
        .log
        .iter()
        .filter(|(n, _)| n.starts_with("display."))
        .count();
    assert_eq!(display_requests, 1, "{:?}", loader.log);
}

#[test]
fn refresh_swaps_to_a_new_version() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    assert!(
        !lazy.refresh(&mut loader).unwrap(),
        "same manifest, same version"
    );
    let old = lazy.version();
    // A new version with one more document.
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(root.join("tests/fixtures/docs.jsonl")).unwrap();
    text.push_str(
        "{\"id\": \"new-doc\", \"title\": \"Quokka handbook\", \"body\": \"All about quokkas.\"}\n",
    );
    add_jsonl(&mut b, text.as_bytes(), "v2").unwrap();
    let v2 = SplitOutput::from_index(&Index::open(b.to_bytes().unwrap()).unwrap()).unwrap();
    let l2 = loader_for(&v2);
    loader.files.extend(l2.files);
    assert_eq!(
        lazy.search(&mut loader, "quokka ", &SearchOptions::default())
            .unwrap()
            .total,
        0
    );
    assert!(lazy.refresh(&mut loader).unwrap());
    assert_eq!(
        lazy.search(&mut loader, "quokka ", &SearchOptions::default())
            .unwrap()
            .hits[0]
            .id,
        "new-doc"
    );
    // A search holding the old version still reads the old dictionary.
    assert_eq!(old.index.doc_count() + 1, lazy.version().index.doc_count());
}

/// A change to a manifest, and what the error must mention.
type ManifestCase = (Box<dyn Fn(&mut serde_json::Value)>, &'static str);

#[test]
fn bad_manifests_are_refused_with_typed_errors() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let cases: Vec<ManifestCase> = vec![
        (
            Box::new(|m| m["dictionary"]["name"] = "../../etc/passwd".into()),
            "InvalidConfig",
        ),
        (
            Box::new(|m| {
                m["postings"]["name"] = "https://evil.example/p.0123456789abcdef.bin".into()
            }),
            "InvalidConfig",
        ),
        (
            Box::new(|m| m["format_version"] = 99.into()),
            "UnsupportedVersion",
        ),
        (
            Box::new(|m| m["dictionary"]["sha256"] = "00".repeat(32).into()),
            "Corrupt",
        ),
        (Box::new(|m| m["dictionary"]["size"] = 3.into()), "Corrupt"),
        // Read by `Manifest::from_tree`: wrong types, a missing field, a fractional count.
        (Box::new(|m| m["doc_count"] = "7".into()), "InvalidConfig"),
        (Box::new(|m| m["doc_count"] = 1.5.into()), "InvalidConfig"),
        (Box::new(|m| m["fields"] = "title".into()), "InvalidConfig"),
        (
            Box::new(|m| {
                m.as_object_mut().unwrap().remove("terms");
            }),
            "InvalidConfig",
        ),
        (Box::new(|m| m["store"]["name"] = 5.into()), "InvalidConfig"),
        (
            Box::new(|m| m["norms"] = serde_json::json!([])),
            "InvalidConfig",
        ),
    ];
    for (edit, code) in cases {
        // Read from `manifest.json`: without the dictionary's alias, which would open the index
        // by itself (the manifest it holds: `a_bad_manifest_in_the_alias_falls_back_…`).
        let mut loader = loader_for(&split);
        loader.files.remove(edgekb::split::DICTIONARY_ALIAS);
        let mut m: serde_json::Value = serde_json::to_value(&split.manifest).unwrap();
        edit(&mut m);
        loader
            .files
            .insert("manifest.json".into(), serde_json::to_vec(&m).unwrap());
        match LazyIndex::open(&mut loader, 1 << 20) {
            Err(e) => assert_eq!(e.code(), code, "{e}"),
            Ok(_) => panic!("accepted {m}"),
        }
    }
    let mut loader = loader_for(&split);
    loader.files.remove(edgekb::split::DICTIONARY_ALIAS);
    loader
        .files
        .insert("manifest.json".into(), b"{not json".to_vec());
    assert_eq!(
        LazyIndex::open(&mut loader, 1 << 20).err().unwrap().code(),
        "InvalidConfig"
    );
}

/// A dictionary whose checksums were recomputed around a hit-display chunk that runs past the
/// end of its pack (what a hostile host could serve): a typed error, never a panic or a huge
/// allocation.
#[test]
fn a_chunk_past_the_end_of_its_pack_is_an_error() {
    use edgekb::raw::SectionKind;
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut dict = split.files[0].1.clone();
    edit_section(&mut dict, SectionKind::Display, true, |section| {
        // Chunk 0's compressed length (the third u32 of its 16-byte entry) → 2^30.
        section[4 + 8..4 + 12].copy_from_slice(&(1u32 << 30).to_le_bytes());
    });
    let mut manifest = split.manifest.clone();
    manifest.dictionary.sha256 = edgekb::split::sha256_hex(&dict);
    manifest.dictionary.size = dict.len() as u64;
    manifest.dictionary.name = format!("dictionary.{}.bin", &manifest.dictionary.sha256[..16]);
    let mut loader = loader_for(&split);
    loader
        .files
        .insert(manifest.dictionary.name.clone(), dict.clone());
    loader
        .files
        .insert(edgekb::split::DICTIONARY_ALIAS.into(), dict);
    loader.files.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    // Document 0 ("0ad") is in chunk 0.
    match lazy.search(&mut loader, "strategy game ", &SearchOptions::default()) {
        Err(LoadError::Index(e)) => assert_eq!(e.code(), "Truncated", "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn prefetch_fills_the_cache_without_evicting() {
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    assert!(lazy.prefetch(&mut loader).unwrap() > 0);
    let before = loader.requests;
    for q in queries() {
        lazy.search(&mut loader, &q, &SearchOptions::default())
            .unwrap();
    }
    assert_eq!(loader.requests, before, "everything was prefetched");
    // Three pages of budget: only what fits whole is prefetched, and nothing is evicted.
    let page = 4096 + edgekb::lazy::ENTRY_OVERHEAD;
    let mut loader = loader_for(&split);
    let mut small = LazyIndex::open(&mut loader, 3 * page).unwrap();
    let held = small.prefetch(&mut loader).unwrap();
    assert!(held <= 3 * page as u64);
    assert_eq!(small.cache_stats().evictions, 0);
    // Less than a page: nothing fits, so nothing is prefetched.
    let mut loader = loader_for(&split);
    let mut tiny = LazyIndex::open(&mut loader, page - 1).unwrap();
    assert_eq!(tiny.prefetch(&mut loader).unwrap(), 0);
    assert_eq!(loader.requests, 1, "only the dictionary");
}

fn cut_split(index: &Index<Vec<u8>>, part_bytes: usize) -> SplitOutput {
    let options = edgekb::split::SplitOptions {
        resident_dictionary_bytes: 0,
        part_bytes,
        ..Default::default()
    };
    SplitOutput::from_index_with(index, &options).unwrap()
}

/// Words that exercise every lookup a cut dictionary serves: exact, prefix across parts,
/// stem-cut prefixes, typos (one and two edits), CJK, phrases, exclusions.
fn dictionary_queries() -> Vec<String> {
    queries()
        .into_iter()
        .chain(
            [
                "a",
                "c",
                "co",
                "comp",
                "s",
                "t",
                "z",
                "zsh",
                "runnin",
                "compresion utilites",
                "databse",
                "editr",
                "intrepreter",
                "\"version control\" -git",
                "東",
                "neovi",
                "secur shel",
                "xtrategy",
            ]
            .map(String::from),
        )
        .collect()
}

#[test]
fn a_cut_dictionary_gives_the_same_results() {
    let index = fixture_index();
    for part_bytes in [1, 200, 1000, 4000] {
        let split = cut_split(&index, part_bytes);
        assert!(
            split.dictionary_parts > 1 || part_bytes > 1000,
            "{part_bytes}"
        );
        let mut loader = loader_for(&split);
        // A budget of a few pages: parts are evicted and fetched again along the way.
        for budget in [1 << 20, 6 * (4096 + edgekb::lazy::ENTRY_OVERHEAD)] {
            let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
            for q in dictionary_queries() {
                for opts in [
                    SearchOptions::default(),
                    SearchOptions {
                        any: true,
                        prefix: false,
                        ..Default::default()
                    },
                ] {
                    let want = Searcher::new(&index).search(&q, &opts).unwrap();
                    let got = lazy.search(&mut loader, &q, &opts).unwrap();
                    assert_eq!(got, want, "{q:?} parts of {part_bytes} bytes");
                    assert!(lazy.cache_stats().bytes_held <= budget as u64);
                }
            }
        }
    }
}

#[test]
fn a_cut_dictionary_fetches_only_the_parts_a_query_needs() {
    let index = fixture_index();
    let split = cut_split(&index, 200);
    let parts = split.dictionary_parts;
    assert!(parts >= 8, "{parts} parts");
    let terms = split.manifest.terms.name.clone();
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    assert_eq!(loader.requests, 1, "the dictionary with its router");
    // A known word, cold: one part, then postings (the hit fields are resident).
    let base = loader.log.len();
    let r = lazy
        .search(&mut loader, "tmux", &SearchOptions::default())
        .unwrap();
    assert!(r.total > 0);
    let log = &loader.log[base..];
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].0, terms);
    assert!(log[1].0.starts_with("postings."));
    let part = log[0].1.clone().unwrap();
    assert!(
        part.end - part.start < split.manifest.terms.size,
        "one part, not the whole dictionary"
    );
    // Again: all cached.
    let before = loader.requests;
    lazy.search(&mut loader, "tmux", &SearchOptions::default())
        .unwrap();
    assert_eq!(loader.requests, before);
    // A word with a typo, on a cold cache: its lookup's part, then the parts of its first
    // letter (when not the same pages), then data.
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let base = loader.log.len();
    let r = lazy
        .search(&mut loader, "stratgy", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.hits[0].id, "0ad");
    let term_requests = loader.log[base..].iter().filter(|l| l.0 == terms).count();
    assert!(
        (1..=2).contains(&term_requests),
        "{:?}",
        &loader.log[base..]
    );
    // Parts fetched so far are a fraction of the dictionary.
    let fetched: u64 = loader
        .log
        .iter()
        .filter(|l| l.0 == terms)
        .map(|l| l.1.as_ref().map_or(0, |r| r.end - r.start))
        .sum();
    assert!(fetched < split.manifest.terms.size, "{fetched}");
}

#[test]
fn a_corrupt_dictionary_part_is_refused_and_not_cached() {
    let index = fixture_index();
    let split = cut_split(&index, 200);
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let name = split.manifest.terms.name.clone();
    let good = loader.files[&name].clone();
    let bad = flip_data(&good, 0x01);
    loader.files.insert(name.clone(), bad);
    match lazy.search(&mut loader, "tmux", &SearchOptions::default()) {
        Err(LoadError::Index(e)) => assert_eq!(e.code(), "ChecksumMismatch"),
        other => panic!("{other:?}"),
    }
    assert_eq!(lazy.cache_stats().entries, 0);
    loader.files.insert(name, good);
    let want = Searcher::new(&index)
        .search("tmux", &SearchOptions::default())
        .unwrap();
    assert_eq!(
        lazy.search(&mut loader, "tmux", &SearchOptions::default())
            .unwrap(),
        want
    );
}

/// Split indexes written by format 2 (committed under `tests/compat/v2/split/`: the same three
/// documents with a whole dictionary, and with a cut one and lazy hit display) still open
/// through a directory loader and answer exactly as a fresh single-file build of those
/// documents does.
#[test]
fn format_2_split_indexes_still_search() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat/v2/split");
    // The schema those files were written with: the default of the time, title weight 2 (an
    // index keeps its weights; the default is 4 since issue #12's relevance work) and one `b`
    // for every field (format 9 gave the body its own).
    let mut fields = common::schema_before_9().fields().to_vec();
    for f in &mut fields {
        if f.name == "title" {
            f.weight = 2.0;
        }
    }
    let mut b = IndexBuilder::new(
        Schema::new(fields).unwrap(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    let text = std::fs::read_to_string(dir.join("docs.jsonl")).unwrap();
    add_jsonl(&mut b, text.as_bytes(), "docs.jsonl").unwrap();
    let fresh = Index::open(b.to_bytes().unwrap()).unwrap();
    for layout in ["whole", "cut"] {
        let mut loader = DirLoader(dir.join(layout));
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        assert_eq!(lazy.version().index.version(), 2, "{layout}");
        common::assert_fixture_answers(&fresh, &mut lazy, &mut loader, layout);
    }
}

/// One query is one searcher state and one parse, however many dictionary rounds it takes; a
/// dictionary part is walked once, when its bytes arrive, and not again while it stays cached.
#[test]
fn a_query_parses_once_and_walks_each_arriving_part_once() {
    use edgekb::counts;
    let index = fixture_index();
    let split = cut_split(&index, 200);
    let terms = split.manifest.terms.name.clone();
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    for q in dictionary_queries() {
        let (before, base) = (counts(), loader.log.len());
        let cold = lazy
            .search(&mut loader, &q, &SearchOptions::default())
            .unwrap();
        let after = counts();
        assert_eq!(after.searchers - before.searchers, 1, "{q:?}");
        assert_eq!(after.parses - before.parses, 1, "{q:?}");
        // Every walk is of a part that came in a request of this query (requests may carry
        // neighbouring parts whole: those are walked once too, on arrival).
        let term_requests = loader.log[base..].iter().filter(|l| l.0 == terms).count();
        assert!(
            (after.part_walks - before.part_walks == 0) == (term_requests == 0),
            "{q:?}: {} walks for {term_requests} requests",
            after.part_walks - before.part_walks
        );
        // The same query again: everything cached, nothing walked, one more searcher.
        let again = lazy
            .search(&mut loader, &q, &SearchOptions::default())
            .unwrap();
        let last = counts();
        assert_eq!(again, cold);
        assert_eq!(
            last.part_walks, after.part_walks,
            "{q:?}: walked a cached part"
        );
        assert_eq!(
            (last.searchers, last.parses),
            (after.searchers + 1, after.parses + 1)
        );
    }
}

/// Opening a split index checks its dictionary once: the term dictionary's CRC and walk at
/// open, every other section's CRC once.
#[test]
fn opening_walks_and_checks_the_dictionary_once() {
    use edgekb::counts;
    let index = fixture_index();
    let split = edgekb::split::SplitOutput::from_index(&index).unwrap();
    let mut loader = loader_for(&split);
    let before = counts();
    let lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let after = counts();
    let sections = lazy.version().index.sections().len() as u64;
    assert_eq!(after.dictionary_walks - before.dictionary_walks, 1);
    assert_eq!(after.section_crcs - before.section_crcs, sections);
}

/// A split index whose packs are cut into pieces of a few pages (as static hosts that refuse
/// big files need) searches the same, through ranges of the pieces or whole pieces, and never
/// asks for a pack itself.
#[test]
fn packs_cut_into_pieces_search_the_same() {
    use edgekb::DataFile;
    let index = fixture_index();
    let options = edgekb::split::SplitOptions {
        page_size: 512,
        max_file_bytes: 2048,
        resident_display_bytes: 0,
        ..Default::default()
    };
    let split = SplitOutput::from_index_with(&index, &options).unwrap();
    let m = &split.manifest;
    assert_eq!(m.manifest_version, 6);
    // Every data file within the limit (the dictionary is resident: fetched whole, once).
    assert!(split.files[1..].iter().all(|(_, b)| b.len() <= 2048));
    assert_eq!(split.files[0].0, m.dictionary.name);
    let pieced: Vec<DataFile> = DataFile::ALL
        .into_iter()
        .filter(|&f| !m.data_file(f).pieces.is_empty())
        .collect();
    assert!(pieced.len() >= 2, "{pieced:?}");
    let names: std::collections::HashSet<&str> = split.files.iter().map(|f| f.0.as_str()).collect();
    for &f in &pieced {
        assert!(
            !names.contains(m.data_file(f).name.as_str()),
            "the whole pack is written"
        );
    }
    assert_eq!(
        m.file_names()
            .into_iter()
            .collect::<std::collections::HashSet<_>>(),
        names,
        "the manifest names exactly the files written"
    );
    // Through the manifest as JSON: what a reader of the published directory gets.
    let json = serde_json::to_vec(m).unwrap();
    assert_eq!(&edgekb::lazy::parse_manifest(&json).unwrap(), m);
    for whole_files in [false, true] {
        let mut loader = NoRanges(loader_for(&split));
        loader.0.files.insert("manifest.json".into(), json.clone());
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        for q in queries() {
            let want = Searcher::new(&index)
                .search(&q, &SearchOptions::default())
                .unwrap();
            let got = if whole_files {
                lazy.search(&mut loader, &q, &SearchOptions::default())
            } else {
                lazy.search(&mut loader.0, &q, &SearchOptions::default())
            };
            assert_eq!(got.unwrap(), want, "{q:?} (whole files: {whole_files})");
        }
        for (name, range) in &loader.0.log {
            let file = &loader.0.files[name];
            assert!(
                range.as_ref().is_none_or(|r| r.end <= file.len() as u64),
                "{name} {range:?}"
            );
        }
    }
}

#[test]
fn bad_pieces_are_refused() {
    let index = fixture_index();
    let options = edgekb::split::SplitOptions {
        page_size: 512,
        max_file_bytes: 2048,
        ..Default::default()
    };
    let split = SplitOutput::from_index_with(&index, &options).unwrap();
    let good = split.manifest.clone();
    let mut cases: Vec<edgekb::split::Manifest> = Vec::new();
    let mut m = good.clone();
    m.store.pieces[0].name = "../store.0123456789abcdef.bin".into();
    cases.push(m);
    let mut m = good.clone();
    m.store.pieces[1].size += 1;
    cases.push(m);
    let mut m = good.clone();
    m.manifest_version = 2;
    cases.push(m);
    let mut m = good.clone();
    m.store.pieces.truncate(1);
    cases.push(m);
    for m in cases {
        assert!(m.validate().is_err(), "{m:?}");
    }
    // Pieces that do not end on a page boundary: refused when the version opens.
    let mut m = good.clone();
    let (a, b) = (m.store.pieces[0].size, m.store.pieces[1].size);
    m.store.pieces[0].size = a - 1;
    m.store.pieces[1].size = b + 1;
    let dictionary = split.files[0].1.clone();
    assert!(edgekb::lazy::Version::open(m, dictionary).is_err());
}

/// The wire report (`LoadStats`, counted in the core whatever the driver) agrees exactly with
/// what the counting loader served: requests, bytes, and round trips (the fetch rounds).
#[test]
fn the_wire_report_counts_requests_bytes_and_round_trips() {
    let index = fixture_index();
    let split = cut_split(&index, 2048);
    // (query, requests, round trips) on a fresh cache, one request per round here: a known
    // word costs its dictionary part, then its postings (the display data of this small index
    // is in the dictionary); on this fixture's cut, a prefix's completions lie in the part
    // already fetched, so they add no round; a typo's corrections lie in its first letter's
    // parts, which come in the round of the word's own part (a few of them: `SPECULATIVE_PARTS`),
    // so the typo costs no dictionary round more; an unknown word costs the part that would hold
    // it, and no postings.
    for (q, requests, rounds) in [
        ("tmux ", 2, 2),
        ("strategy game", 2, 2),
        ("stratgy", 2, 2),
        ("qqqqzzzz ", 1, 1),
    ] {
        let mut loader = loader_for(&split);
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        let opened = lazy.load_stats();
        assert_eq!(
            (opened.requests, opened.round_trips),
            (1, 1),
            "the dictionary's alias alone, which holds the manifest"
        );
        assert_eq!(opened.bytes_fetched, loader.bytes);
        let (r0, b0) = (loader.requests, loader.bytes);
        lazy.search(&mut loader, q, &SearchOptions::default())
            .unwrap();
        let w = lazy.load_stats().since(&opened);
        let log = &loader.log[r0 as usize..];
        assert_eq!(
            (w.requests, w.round_trips),
            (requests, rounds),
            "{q:?}: {log:?}"
        );
        assert_eq!(w.requests, loader.requests - r0, "{q:?}");
        assert_eq!(w.bytes_fetched, loader.bytes - b0, "{q:?}");
        // Asked again, the query is answered from the cache: nothing on the wire.
        let before = lazy.load_stats();
        lazy.search(&mut loader, q, &SearchOptions::default())
            .unwrap();
        assert_eq!(
            lazy.load_stats().since(&before),
            Default::default(),
            "{q:?}"
        );
    }
    // Cut finer, the `s` words span more parts than a word's round may add for its possible
    // corrections: they come in a round of their own, after the word's part.
    let fine = cut_split(&index, 256);
    let mut loader = loader_for(&fine);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let router = lazy.version().index.router().unwrap().clone();
    let s_parts = router.parts_in(b"s", Some(b"t")).len();
    assert!(
        s_parts > 4,
        "{s_parts} parts: more than the 3 a round may add"
    );
    let before = lazy.load_stats();
    lazy.search(&mut loader, "stratgy", &SearchOptions::default())
        .unwrap();
    let w = lazy.load_stats().since(&before);
    assert_eq!(w.round_trips, 3, "{:?}", loader.log);
    // Display data read lazily: postings, then the hit-display chunk, one round each.
    let split = lazy_display_split(&index);
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let before = lazy.load_stats();
    lazy.search(&mut loader, "tmux ", &SearchOptions::default())
        .unwrap();
    let w = lazy.load_stats().since(&before);
    assert_eq!((w.requests, w.round_trips), (2, 2), "{:?}", loader.log);
}

/// A word of letters only, distinct for each `n`.
fn letters(mut n: usize) -> String {
    let mut w = String::from("q");
    loop {
        w.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return w;
        }
    }
}

/// The hit-display pack is read ahead in aligned blocks that grow with each round that misses
/// it (1, 4, 16, then 64 pages): a cold query reads one page, later ones find their hits in
/// blocks already cached. Results are the single file's whatever was read ahead.
#[test]
fn hit_display_is_read_ahead_in_growing_blocks() {
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    // Enough documents for 160 pages of hit display (the fourth block starts past 21 pages).
    let n = 22_000;
    for i in 0..n {
        let (w, v) = (letters(20_000 + i), letters(200_000 + i * 7919 % 104_729));
        let line = format!(
            r#"{{"id":"doc-{i}-{v}","title":"{w} {v} package","url":"https://example.org/{v}/{w}/{i}","body":"{w} text"}}"#
        );
        add_jsonl(&mut b, line.as_bytes(), "gen.jsonl").unwrap();
    }
    let index = Index::open(b.to_bytes().unwrap()).unwrap();
    let split = lazy_display_split(&index);
    // A stored page: 4 KiB and its CRC trailer (split layout 5).
    let page = 4096u64 + 4;
    let display_pages = (split.manifest.display.size - 16).div_ceil(page);
    assert!(
        display_pages >= 160,
        "{display_pages} pages of display data"
    );
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, 64 << 20).unwrap();
    // Exact words, each in one document's title.
    let opts = SearchOptions {
        prefix: false,
        typos: false,
        ..Default::default()
    };
    let word = |i: usize| letters(20_000 + i);
    // Queries for documents far apart, so each misses the display data read so far.
    let mut spans = Vec::new();
    for k in 0..4 {
        let i = k * n / 5 + 17;
        let base = loader.log.len();
        let r = lazy.search(&mut loader, &word(i), &opts).unwrap();
        let want = Searcher::new(&index).search(&word(i), &opts).unwrap();
        assert_eq!(r, want, "document {i}");
        let display: Vec<_> = loader.log[base..]
            .iter()
            .filter(|(name, _)| name.starts_with("display."))
            .map(|(_, r)| r.clone().unwrap())
            .collect();
        assert_eq!(
            display.len(),
            1,
            "one display request for document {i}: {display:?}"
        );
        spans.push((display[0].end - display[0].start).div_ceil(page));
    }
    // The blocks grow 1, 4, 16 pages: a request brings the hit's block, or two blocks where
    // the hit's chunk straddles a block boundary (which documents' chunks do depends on how
    // well the chunks compress).
    for (k, block) in [1, 4, 16].into_iter().enumerate() {
        assert!(
            (block..=2 * block).contains(&spans[k]),
            "pages per display request: {spans:?}"
        );
    }
    // The fourth block (64 pages) starts after the pages the third one already brought.
    assert!(spans[3] > 16 && spans[3] <= 64, "{spans:?}");
    // A document inside a block read ahead costs no display request.
    let inside = 3 * n / 5 + 17 + 20;
    let base = loader.log.len();
    lazy.search(&mut loader, &word(inside), &opts).unwrap();
    assert!(
        !loader.log[base..]
            .iter()
            .any(|(name, _)| name.starts_with("display.")),
        "{:?}",
        &loader.log[base..]
    );
    // A small cache caps the read-ahead at an eighth of its pages (here 16 pages: blocks of
    // 2, not 4, 16 and 64), so that blocks read ahead are not evicted by the next ones before they pay.
    let budget = 16 * (4096 + edgekb::lazy::ENTRY_OVERHEAD);
    let mut loader = loader_for(&split);
    let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
    let mut spans = Vec::new();
    for k in 0..4 {
        let i = k * n / 5 + 17;
        let base = loader.log.len();
        let r = lazy.search(&mut loader, &word(i), &opts).unwrap();
        assert_eq!(r, Searcher::new(&index).search(&word(i), &opts).unwrap());
        spans.extend(
            loader.log[base..]
                .iter()
                .filter(|(name, _)| name.starts_with("display."))
                .map(|(_, r)| r.as_ref().map_or(0, |r| r.end - r.start).div_ceil(page)),
        );
    }
    // (A hit whose display record straddles two blocks reads both: at most 4 pages.)
    assert_eq!(spans[0], 1, "{spans:?}");
    assert!(
        spans.len() == 4 && spans.iter().all(|&p| p <= 4),
        "pages per display request: {spans:?}"
    );
}

/// The async hosts' loop ([`edgekb::lazy::Shared`], what the wasm binding drives over `fetch`)
/// natively: the loader's answers as ready futures, at the URLs the core says. It answers like
/// a single file, counts what it fetched, refreshes, and its URLs sit beside the manifest.
#[test]
fn the_async_host_loop_answers_like_a_single_file() {
    use edgekb::lazy::flight::now;
    use edgekb::lazy::options::OpenOptions;
    use edgekb::lazy::{parse_manifest, Checker, Need, Query, Shared};
    let index = fixture_index();
    let split = lazy_display_split(&index);
    let loader = std::cell::RefCell::new(loader_for(&split));
    let base = "https://h.example/kb/";
    let shared = Shared::new(
        &format!("{base}manifest.json?v=2"),
        OpenOptions::defaults(false),
    );
    let fetch = |need: &Need, url: String, checker: Checker| {
        let name = match need.fresh() {
            true => url.strip_suffix("?v=2").and_then(|u| u.strip_prefix(base)),
            false => url.strip_prefix(base),
        };
        assert_eq!(name, Some(need.name()), "{url}");
        let body = loader.borrow_mut().fetch(need.name(), need.range());
        std::future::ready(body.and_then(|b| Ok(checker.check(need, b)?)))
    };
    assert_eq!(shared.doc_count(), 0, "not opened yet");
    let opened = now(shared.run(&mut shared.open(false, parse_manifest), &fetch)).unwrap();
    assert!(shared.opened(opened.unwrap()));
    assert_eq!(shared.doc_count(), index.doc_count());
    let facets = index.schema().names_where(|f| f.facet);
    assert_eq!(shared.fields_where(|f| f.facet), facets);
    let opts = SearchOptions::default();
    for q in queries() {
        let want = Searcher::new(&index).search(&q, &opts).unwrap();
        let mut query = Query::new(shared.version().unwrap(), &q, opts);
        let got = now(shared.run(&mut query, &fetch)).unwrap().unwrap();
        assert_eq!(got, want, "{q:?}");
    }
    let stats = shared.stats();
    assert!(stats.split && stats.load.round_trips > 0 && stats.cache.bytes_held > 0);
    assert_eq!(stats.in_flight, 0);
    let refreshed = now(shared.run(&mut shared.open(true, parse_manifest), &fetch)).unwrap();
    assert!(
        !shared.opened(refreshed.unwrap()),
        "same manifest, same version"
    );
}

/// Format 7: a word being typed whose much-used completions are read through their name-field
/// postings (a corpus whose common words span blocks and are in some titles) answers through
/// a cut split index, whole and evicting, exactly as the single file does.
#[test]
fn completions_read_through_name_field_postings_answer_alike() {
    let words: Vec<String> = (0..60).map(|i| format!("w{}x{i}", i % 7)).collect();
    let jsonl = common::skewed_jsonl(1500, "n", &words, 0x5eed_1234_abcd_0001, (1, 3), (5, 40));
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    add_jsonl(&mut b, jsonl.as_bytes(), "skewed").unwrap();
    let index = Index::open(b.to_bytes().unwrap()).unwrap();
    let with_lists = (0..index.terms().len() as u64)
        .filter(|&o| !index.term_info(o).unwrap().names_postings.is_empty())
        .count();
    assert!(with_lists > 0, "some completions have name-field postings");
    for part_bytes in [200, 4000] {
        let split = cut_split(&index, part_bytes);
        let mut loader = loader_for(&split);
        for budget in [1 << 22, 6 * (4096 + edgekb::lazy::ENTRY_OVERHEAD)] {
            let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
            for q in ["w", "w0", "w3x", "w1x1", "w2x3 w", "w5x12 w1", "-w0x0 w4"] {
                for opts in [
                    SearchOptions::default(),
                    SearchOptions {
                        limit: 3,
                        ..Default::default()
                    },
                ] {
                    let want = Searcher::new(&index).search(q, &opts).unwrap();
                    let got = lazy.search(&mut loader, q, &opts).unwrap();
                    assert_eq!(got, want, "{q:?} parts of {part_bytes} bytes");
                }
            }
        }
    }
}

/// Opening asks for the dictionary's alias alone, which from layout 6 holds the manifest: one
/// request, one round. Absent or damaged, the manifest comes in a second round and the
/// dictionary it names in a third, and the index opens as usual. An alias of another version
/// opens that version (the one a build writes last but the manifest); a refresh, which asks
/// for the manifest alone, then moves to the manifest's.
#[test]
fn the_dictionary_alias_opens_the_index_alone() {
    use edgekb::split::DICTIONARY_ALIAS;
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    let other = cut_split(&index, 2048);
    assert_ne!(other.dictionary(), split.dictionary());
    let mut damaged = split.dictionary().to_vec();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x20;
    let want = Searcher::new(&index)
        .search("tmux", &SearchOptions::default())
        .unwrap();
    for (case, alias, requests, rounds, refreshed) in [
        ("current", Some(split.dictionary().to_vec()), 1, 1, false),
        ("absent", None, 3, 3, false),
        (
            "another version's",
            Some(other.dictionary().to_vec()),
            1,
            1,
            true,
        ),
        ("damaged", Some(damaged.clone()), 3, 3, false),
    ] {
        let mut loader = MemoryLoader::from_split(&split);
        if refreshed {
            // The other version's packs are there too (a build writes them before the alias).
            for (name, bytes) in &other.files {
                loader.files.insert(name.clone(), bytes.clone());
            }
        }
        match alias {
            Some(bytes) => loader.files.insert(DICTIONARY_ALIAS.into(), bytes),
            None => loader.files.remove(DICTIONARY_ALIAS),
        };
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        let opened = lazy.load_stats();
        assert_eq!(
            (opened.requests, opened.round_trips),
            (requests, rounds),
            "{case}: {:?}",
            loader.log
        );
        assert_eq!(loader.log[0].0, DICTIONARY_ALIAS, "{case}");
        let opened_version = match refreshed {
            true => &other.manifest,
            false => &split.manifest,
        };
        assert_eq!(&lazy.version().manifest, opened_version, "{case}");
        assert_eq!(
            lazy.search(&mut loader, "tmux", &SearchOptions::default())
                .unwrap(),
            want,
            "{case}"
        );
        // A refresh: the manifest alone, which names `split`.
        let before = loader.log.len();
        assert_eq!(lazy.refresh(&mut loader).unwrap(), refreshed, "{case}");
        let asked: Vec<&str> = loader.log[before..]
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        match refreshed {
            true => assert_eq!(
                asked,
                ["manifest.json", split.manifest.dictionary.name.as_str()]
            ),
            false => assert_eq!(asked, ["manifest.json"], "{case}"),
        }
        assert_on(&mut lazy, &mut loader, &split.manifest, &want, case);
    }
}

/// The manifest a dictionary holds is read like `manifest.json`: one that is hostile (a file
/// name leaving the directory, an unknown layout, a dictionary entry of its own) or damaged (its
/// CRC) does not open the index from the alias; the manifest's path does, or fails with the
/// manifest's own error when there is none.
#[test]
fn a_bad_manifest_in_the_alias_falls_back_to_manifest_json() {
    use edgekb::raw::SectionKind;
    use edgekb::split::DICTIONARY_ALIAS;
    let index = fixture_index();
    let split = SplitOutput::from_index(&index).unwrap();
    // The dictionary with its MANIFEST section's JSON edited by `edit` (then padded with
    // spaces to its length), CRCs recomputed unless `keep_crc`.
    let with_json = |edit: &dyn Fn(&mut Vec<u8>), keep_crc: bool| -> Vec<u8> {
        let mut dict = split.dictionary().to_vec();
        edit_section(&mut dict, SectionKind::Manifest, !keep_crc, |section| {
            let mut json = section.to_vec();
            edit(&mut json);
            assert!(json.len() <= section.len());
            json.resize(section.len(), b' ');
            section.copy_from_slice(&json);
        });
        dict
    };
    let with_manifest = |edit: &dyn Fn(&mut serde_json::Value), keep_crc: bool| {
        with_json(
            &|json: &mut Vec<u8>| {
                let mut m: serde_json::Value = serde_json::from_slice(json).unwrap();
                edit(&mut m);
                *json = serde_json::to_vec(&m).unwrap();
            },
            keep_crc,
        )
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a pack outside the directory",
            with_manifest(
                &|m| m["postings"]["name"] = "../../etc/pass.bin".into(),
                false,
            ),
        ),
        (
            "an unknown layout",
            with_manifest(&|m| m["manifest_version"] = 9.into(), false),
        ),
        (
            "an older layout",
            with_manifest(&|m| m["manifest_version"] = 5.into(), false),
        ),
        (
            "fields that are not a list",
            with_manifest(&|m| m["fields"] = "dictionary".into(), false),
        ),
        ("not JSON", with_json(&|json| json[0] = b'[', false)),
        (
            "a wrong CRC",
            with_manifest(&|m| m["doc_count"] = 1.into(), true),
        ),
    ];
    let want = Searcher::new(&index)
        .search("tmux", &SearchOptions::default())
        .unwrap();
    for (case, alias) in cases {
        let mut loader = MemoryLoader::from_split(&split);
        loader.files.insert(DICTIONARY_ALIAS.into(), alias);
        let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
        let asked: Vec<&str> = loader.log.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            asked,
            [
                DICTIONARY_ALIAS,
                "manifest.json",
                split.manifest.dictionary.name.as_str()
            ],
            "{case}"
        );
        assert_on(&mut lazy, &mut loader, &split.manifest, &want, case);
        // Without a manifest.json, the open fails with its error (a missing file).
        loader.files.remove("manifest.json");
        let e = LazyIndex::open(&mut loader, 1 << 20).err().unwrap();
        assert_eq!(e.code(), "HttpStatus", "{case}: {e}");
    }
}
