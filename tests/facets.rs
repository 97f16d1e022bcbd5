//! Filters, facet counts, sorting and pages on `tests/fixtures/facets.jsonl` (schema
//! `tests/fixtures/facets.toml`: `tags` a facet, `year` and `updated` sortable):
//! - the filter algebra against a table written by hand;
//! - a property test: random filters and queries, checked against a brute-force evaluation of
//!   the JSONL (every hit passes the filter, filter-only queries return exactly the filtered
//!   documents, facet counts equal a count over every match, pruned = exhaustive = lazy);
//! - golden query → results (`tests/golden/facets.json`; `EDGEKB_BLESS=1` rewrites it), the
//!   same on a single file and on a split index read lazily;
//! - pages: any page equals the same slice of one long page, for every order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use edgekb::lazy::{LazyIndex, MemoryLoader};
use edgekb::split::SplitOutput;
use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{Filter, Index, SearchOptions, SearchResults, Searcher};
use edgekb::{Refine, Sort};
use proptest::prelude::*;
use serde_json::{json, Value};

mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn build() -> Vec<u8> {
    builder().to_bytes().unwrap()
}

/// The fixture's builder, every document added (facets, synonyms, sort keys).
fn builder() -> IndexBuilder {
    let cfg = std::fs::read(root().join("tests/fixtures/facets.toml")).unwrap();
    let (schema, analyzer, bm25) = edgekb::config::parse("facets.toml", &cfg).unwrap();
    let mut b = IndexBuilder::new(schema, analyzer, bm25);
    let synonyms = edgekb::config::parse_synonyms("facets.toml", &cfg).unwrap();
    b.set_synonyms(synonyms).unwrap();
    let f = std::fs::File::open(root().join("tests/fixtures/facets.jsonl")).unwrap();
    add_jsonl(&mut b, std::io::BufReader::new(f), "facets.jsonl").unwrap();
    b
}

/// A build cut into a split index from its own sections (`from_built`, what `edgekb build`
/// does) gives the files of the cut of the single file it would write (`from_index_with`),
/// byte for byte, whatever stays resident and however packs are cut into pieces.
#[test]
fn a_build_cut_from_its_sections_equals_the_cut_of_its_file() {
    use edgekb::split::SplitOptions;
    let index = Index::open(build()).unwrap();
    let small = SplitOptions {
        page_size: 512,
        max_file_bytes: 600,
        resident_dictionary_bytes: 0,
        part_bytes: 256,
        resident_display_bytes: 0,
        resident_norms_bytes: 0,
    };
    for (label, options) in [
        ("default", SplitOptions::default()),
        (
            "everything paged, packs in pieces, dictionary cut",
            small.clone(),
        ),
        (
            "pieces only",
            SplitOptions {
                page_size: 512,
                max_file_bytes: 600,
                ..Default::default()
            },
        ),
        (
            "dictionary cut only",
            SplitOptions {
                resident_dictionary_bytes: 0,
                part_bytes: 256,
                ..Default::default()
            },
        ),
    ] {
        let want = SplitOutput::from_index_with(&index, &options).unwrap();
        let got = SplitOutput::from_built(builder().finish().unwrap(), &options).unwrap();
        assert_eq!(got.manifest, want.manifest, "{label}");
        assert_eq!(got.files, want.files, "{label}");
        assert_eq!(got.dictionary_stats, want.dictionary_stats, "{label}");
        assert_eq!(got.dictionary_parts, want.dictionary_parts, "{label}");
        // What each case is there to exercise does happen.
        let pieces = want.files.len() > 7;
        let cut = want.dictionary_parts > 0;
        let expected = match label {
            "default" => (false, false),
            "pieces only" => (true, false),
            "dictionary cut only" => (false, true),
            _ => (true, true),
        };
        assert_eq!((pieces, cut), expected, "{label}");
    }
    // The single file, written from the sections, is the builder's bytes.
    let built = builder().finish().unwrap();
    assert_eq!(built.stats().total_bytes, build().len() as u64);
    assert_eq!(built.into_bytes(), build());
}

/// The fixture as plain data, read independently of the engine: id and tags per document.
fn docs() -> Vec<(String, Vec<String>)> {
    std::fs::read_to_string(root().join("tests/fixtures/facets.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let tags = v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            (v["id"].as_str().unwrap().to_string(), tags)
        })
        .collect()
}

/// The brute-force meaning of a filter on one document's tags.
fn accepts(f: &Filter, tags: &[String]) -> bool {
    match f {
        Filter::Is { value, .. } => tags.iter().any(|t| t == value),
        Filter::Prefix { prefix, .. } => tags.iter().any(|t| t.starts_with(prefix.as_str())),
        Filter::All(v) => v.iter().all(|g| accepts(g, tags)),
        Filter::Any(v) => v.iter().any(|g| accepts(g, tags)),
        Filter::Not(g) => !accepts(g, tags),
    }
}

fn search(index: &Index<Vec<u8>>, q: &str, refine: Refine, limit: usize) -> SearchResults {
    let opts = SearchOptions {
        limit,
        ..Default::default()
    };
    Searcher::new(index)
        .with_refine(refine)
        .search(q, &opts)
        .unwrap()
}

fn filtered(text: &str) -> Refine {
    Refine {
        filter: Some(Filter::parse(text).unwrap()),
        ..Refine::default()
    }
}

fn ids(r: &SearchResults) -> Vec<&str> {
    r.hits.iter().map(|h| h.id.as_str()).collect()
}

#[test]
fn filter_algebra_table() {
    let index = Index::open(build()).unwrap();
    index.verify().unwrap();
    let python = ["flask", "django", "pytest", "ipython"];
    let cases: &[(&str, &[&str])] = &[
        ("tags:devel::lang:python", &python),
        (
            "tags:devel::lang:*",
            &[
                "flask", "django", "rails", "kubectl", "helm", "pytest", "ipython", "go-gin",
                "rspec",
            ],
        ),
        (
            "tags:devel::lang:python OR tags:devel::lang:ruby",
            &["flask", "django", "rails", "pytest", "ipython", "rspec"],
        ),
        (
            "tags:web -tags:devel::lang:python",
            &["rails", "go-gin", "nginx"],
        ),
        ("-tags:devel::lang:*", &["nginx", "café-notes", "no-tags"]),
        (
            "tags:devel::web tags:role::shared-lib",
            &["flask", "django", "rails", "go-gin"],
        ),
        // A value is matched whole unless it ends in `*`.
        ("tags:devel::lang:", &[]),
        ("tags:devel::lang:pyth", &[]),
        ("tags:admin::* -tags:role::program", &[]),
        ("tags:\"made-of::markdown\"", &["café-notes"]),
        ("tags:nosuchvalue", &[]),
    ];
    for (text, want) in cases {
        // An empty query: the filter alone selects, in document order.
        let r = search(&index, "", filtered(text), 100);
        assert_eq!(ids(&r), *want, "filter {text:?}");
        assert_eq!(r.total, want.len(), "filter {text:?}");
    }
    // The structured forms' edges: an empty All accepts every document, an empty Any none.
    for (f, n) in [(Filter::All(vec![]), 12), (Filter::Any(vec![]), 0)] {
        let refine = Refine {
            filter: Some(f),
            ..Refine::default()
        };
        assert_eq!(search(&index, "", refine, 100).total, n);
    }
    // A filter narrows a text query: `web` among Python packages.
    let r = search(&index, "web ", filtered("tags:devel::lang:python"), 100);
    let set = |r: &SearchResults| r.hits.iter().map(|h| h.id.clone()).collect::<BTreeSet<_>>();
    assert_eq!(
        set(&r),
        ["django", "flask", "ipython"].map(String::from).into()
    );
    // Written in the query, `field:value` on a facet field is the same filter (and, `tags`
    // being indexed too, its words still score).
    let q = search(
        &index,
        "web tags:devel::lang:python",
        Refine::default(),
        100,
    );
    assert_eq!(set(&q), set(&r));
    let q = search(&index, "tags:devel::lang:python", Refine::default(), 100);
    assert_eq!(q.total, python.len());
    // A field that is not a facet, or bad syntax: typed errors, not panics.
    let bad = Refine {
        filter: Some(Filter::Is {
            field: "title".into(),
            value: "x".into(),
        }),
        ..Refine::default()
    };
    let err = Searcher::new(&index)
        .with_refine(bad)
        .search("web", &SearchOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), "InvalidOption", "{err}");
    assert_eq!(Filter::parse("python").unwrap_err().code(), "InvalidOption");
}

#[test]
fn older_indexes_refuse_filters_with_a_typed_error() {
    let v4 = std::fs::read(root().join("tests/compat/v4/fixture.ekb")).unwrap();
    let index = Index::open(v4).unwrap();
    let err = Searcher::new(&index)
        .with_refine(filtered("tags:games"))
        .search("game", &SearchOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), "InvalidOption", "{err}");
    // In the query language an index without facet data reads `tags:games` as text, as before.
    let r = Searcher::new(&index)
        .search("tags:games", &SearchOptions::default())
        .unwrap();
    assert!(r.total > 0);
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    let values = vec![
        "devel::lang:python",
        "devel::lang:go",
        "devel::lang:ruby",
        "devel::web",
        "web",
        "role::program",
        "role::shared-lib",
        "admin::cluster",
        "interface::commandline",
        "absent",
    ];
    let prefixes = vec![
        "devel::",
        "devel::lang:",
        "role::",
        "admin::",
        "w",
        "",
        "zz",
    ];
    let leaf = prop_oneof![
        proptest::sample::select(values).prop_map(|v| Filter::Is {
            field: "tags".into(),
            value: v.into()
        }),
        proptest::sample::select(prefixes).prop_map(|p| Filter::Prefix {
            field: "tags".into(),
            prefix: p.into()
        }),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Filter::All),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Filter::Any),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn filters_and_counts_match_brute_force(
        filter in arb_filter(),
        query in proptest::sample::select(vec![
            "", "web", "framework", "python", "kubernetes", "server ", "web OR testing",
            "tes", "framework -ruby", "zzzz",
        ]),
    ) {
        let index = Index::open(build()).unwrap();
        let docs = docs();
        let tags: BTreeMap<&str, &[String]> =
            docs.iter().map(|(id, t)| (id.as_str(), t.as_slice())).collect();
        let refine = Refine {
            filter: Some(filter.clone()),
            facets: vec!["tags".into()],
            ..Refine::default()
        };
        let r = search(&index, query, refine.clone(), 100);
        // Every match is returned (limit 100 > 12 documents), so counting over the hits is
        // counting over the whole result set.
        prop_assert_eq!(r.hits.len(), r.total);
        for h in &r.hits {
            prop_assert!(accepts(&filter, tags[h.id.as_str()]), "{} fails {:?}", h.id, filter);
            let hit_tags: BTreeSet<&String> = h.facets.as_ref().unwrap()["tags"].iter().collect();
            prop_assert_eq!(hit_tags, tags[h.id.as_str()].iter().collect::<BTreeSet<_>>());
        }
        if query.is_empty() {
            let want: Vec<&str> = docs
                .iter()
                .filter(|(_, t)| accepts(&filter, t))
                .map(|(id, _)| id.as_str())
                .collect();
            prop_assert_eq!(ids(&r), want);
        }
        let mut brute: BTreeMap<String, u32> = BTreeMap::new();
        for h in &r.hits {
            for t in tags[h.id.as_str()] {
                *brute.entry(t.clone()).or_default() += 1;
            }
        }
        let counted = r.facets.get("tags").cloned().unwrap_or_default();
        prop_assert_eq!(counted, brute);
        // Counts over every match do not depend on how many hits are shown.
        let few = search(&index, query, refine.clone(), 2);
        prop_assert_eq!(&few.facets, &r.facets);
        prop_assert_eq!(few.total, r.total);
        // Pruned ranking and the reference path agree.
        let exhaustive = Searcher::new(&index)
            .exhaustive(true)
            .with_refine(refine)
            .search(query, &SearchOptions { limit: 100, ..Default::default() })
            .unwrap();
        prop_assert_eq!(exhaustive, r);
    }
}

/// One golden case: (query, filter, facets, sort, offset, limit).
type Case = (
    &'static str,
    Option<&'static str>,
    bool,
    Option<&'static str>,
    usize,
    usize,
);

/// The golden cases.
fn cases() -> Vec<Case> {
    vec![
        (
            "web framework",
            Some("tags:devel::lang:python"),
            true,
            None,
            0,
            10,
        ),
        ("web framework", None, true, None, 0, 10),
        ("framework", Some("tags:devel::lang:*"), true, None, 0, 2),
        ("framework", Some("tags:devel::lang:*"), true, None, 2, 2),
        (
            "",
            Some("tags:admin::* OR tags:made-of::*"),
            true,
            None,
            0,
            10,
        ),
        ("web tags:devel::web", None, true, None, 0, 10),
        ("", Some("-tags:nosuchvalue"), false, Some("year"), 0, 20),
        ("", Some("tags:role::*"), false, Some("year:desc"), 0, 20),
        ("web", None, false, Some("updated:desc"), 0, 3),
        ("web", None, false, Some("updated:desc"), 3, 3),
        ("web", None, false, Some("updated"), 0, 20),
        ("python", None, false, Some("score"), 1, 2),
    ]
}

fn refine_of(c: &Case) -> Refine {
    Refine {
        filter: c.1.map(|f| Filter::parse(f).unwrap()),
        facets: if c.2 { vec!["tags".into()] } else { vec![] },
        sort: c.3.map(|s| Sort::parse(s).unwrap()),
        offset: c.4,
    }
}

#[test]
fn golden_facets_sort_and_pages_native_and_lazy() {
    let bytes = build();
    let index = Index::open(bytes).unwrap();
    // The default split, and one with field norms and hit display in their packs (layout 4).
    let paged = edgekb::split::SplitOptions {
        resident_norms_bytes: 0,
        resident_display_bytes: 0,
        ..Default::default()
    };
    let splits = [
        SplitOutput::from_index(&index).unwrap(),
        SplitOutput::from_index_with(&index, &paged).unwrap(),
    ];
    let mut lazies: Vec<_> = splits
        .iter()
        .map(|split| {
            let mut loader = MemoryLoader::from_split(split);
            let lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
            (loader, lazy)
        })
        .collect();
    let mut got = Vec::new();
    for c in cases() {
        let refine = refine_of(&c);
        let r = search(&index, c.0, refine.clone(), c.5);
        let opts = SearchOptions {
            limit: c.5,
            ..Default::default()
        };
        for (i, (loader, lazy)) in lazies.iter_mut().enumerate() {
            let l = lazy
                .search_refined(loader, c.0, &opts, refine.clone())
                .unwrap();
            assert_eq!(l, r, "lazy (split {i}) differs on {c:?}");
        }
        got.push(json!({
            "query": c.0, "filter": c.1, "facets": c.2, "sort": c.3, "offset": c.4,
            "limit": c.5, "expect": r.to_tree::<serde_json::Value>(),
        }));
    }
    assert!(lazies[1].0.log.iter().any(|(f, _)| f.starts_with("norms.")));
    let got = json!({ "cases": got });
    common::golden_json(&root().join("tests/golden/facets.json"), &got);
}

#[test]
fn sort_order_by_field() {
    let index = Index::open(build()).unwrap();
    let sorted = |s: &str| {
        let refine = Refine {
            sort: Some(Sort::parse(s).unwrap()),
            ..Refine::default()
        };
        let r = search(
            &index,
            "",
            Refine {
                filter: Some(Filter::All(vec![])),
                ..refine
            },
            20,
        );
        r.hits.into_iter().map(|h| h.id).collect::<Vec<_>>()
    };
    // Ties (2004, 2005, 2014) in document order; `"2014"` given as text is a number too;
    // documents without a year last, in document order.
    assert_eq!(
        sorted("year"),
        [
            "ipython",
            "rails",
            "pytest",
            "nginx",
            "django",
            "rspec",
            "flask",
            "kubectl",
            "go-gin",
            "helm",
            "café-notes",
            "no-tags"
        ]
    );
    assert_eq!(
        sorted("year:desc"),
        [
            "café-notes",
            "helm",
            "kubectl",
            "go-gin",
            "flask",
            "django",
            "rspec",
            "rails",
            "pytest",
            "nginx",
            "ipython",
            "no-tags"
        ]
    );
    // Dates, with a time of day; `unknown` and a missing date last.
    assert_eq!(
        sorted("updated:desc")[..6],
        [
            "django",
            "kubectl",
            "café-notes",
            "flask",
            "pytest",
            "nginx"
        ]
    );
    assert_eq!(sorted("updated")[9..], ["ipython", "rspec", "no-tags"]);
    for bad in ["title", "nosuchfield", "tags"] {
        let refine = Refine {
            sort: Some(Sort::parse(bad).unwrap()),
            ..Refine::default()
        };
        let err = Searcher::new(&index)
            .with_refine(refine)
            .search("web", &SearchOptions::default())
            .unwrap_err();
        assert_eq!(err.code(), "InvalidOption");
    }
    assert!(Sort::parse("year:sideways").is_err());
}

#[test]
fn pages_are_slices_of_one_long_page() {
    let index = Index::open(build()).unwrap();
    for query in ["web", "framework OR server", "", "python"] {
        for sort in [None, Some("year"), Some("updated:desc")] {
            let refine = |offset| Refine {
                filter: query.is_empty().then(|| Filter::All(vec![])),
                sort: sort.map(|s| Sort::parse(s).unwrap()),
                offset,
                ..Refine::default()
            };
            let all = search(&index, query, refine(0), 100);
            for size in [1, 2, 5] {
                let mut paged = Vec::new();
                let mut offset = 0;
                loop {
                    let page = search(&index, query, refine(offset), size);
                    assert_eq!(page.total, all.total);
                    if page.hits.is_empty() {
                        break;
                    }
                    paged.extend(page.hits);
                    offset += size;
                }
                assert_eq!(
                    paged, all.hits,
                    "{query:?} sorted by {sort:?}, pages of {size}"
                );
            }
        }
    }
}

/// Synonyms from the config (`k8s` ↔ `Kubernetes`, `httpd` ↔ `web server`, `py` ↔ `python`):
/// golden results with snippets (`tests/golden/synonyms.json`), the same lazily, and the
/// synonym visible in the highlights.
#[test]
fn golden_synonyms_native_and_lazy() {
    let index = Index::open(build()).unwrap();
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = MemoryLoader::from_split(&split);
    let mut lazy = LazyIndex::open(&mut loader, 1 << 20).unwrap();
    let opts = SearchOptions {
        snippets: Some(80),
        ..Default::default()
    };
    let mut got = Vec::new();
    for q in [
        "k8s ",
        "kubernetes ",
        "K8S clusters ",
        "httpd",
        "py testing ",
        "-k8s web ",
    ] {
        let r = Searcher::new(&index).search(q, &opts).unwrap();
        let l = lazy.search(&mut loader, q, &opts).unwrap();
        assert_eq!(l, r, "lazy differs on {q:?}");
        got.push(json!({"query": q, "expect": r.to_tree::<serde_json::Value>()}));
    }
    let find = |q: &str| {
        let r = Searcher::new(&index).search(q, &opts).unwrap();
        let mut ids: Vec<String> = r.hits.into_iter().map(|h| h.id).collect();
        ids.sort();
        ids
    };
    // Both ways round, whatever the case.
    assert_eq!(find("k8s "), ["helm", "kubectl"]);
    assert_eq!(find("kubernetes "), find("k8s "));
    assert_eq!(find("K8S "), find("k8s "));
    // A phrase synonym: `httpd` finds the document saying "web server", first (go-gin's
    // `HTTP` is a typo match of `httpd`, weighing less).
    let r = Searcher::new(&index).search("httpd ", &opts).unwrap();
    assert_eq!(r.hits[0].id, "nginx");
    assert_eq!(find("httpd "), ["go-gin", "nginx"]);
    let plain = Searcher::new(&index)
        .search("\"web server\"", &opts)
        .unwrap();
    assert_eq!(plain.hits[0].id, "nginx");
    // Excluding a word excludes its synonyms.
    assert!(!find("-k8s web ")
        .iter()
        .any(|i| i == "kubectl" || i == "helm"));
    // The synonym is what the snippet highlights: helm never says k8s.
    let r = Searcher::new(&index).search("k8s ", &opts).unwrap();
    let helm = r.hits.iter().find(|h| h.id == "helm").unwrap();
    let text = helm.snippet.as_ref().unwrap();
    let units: Vec<u16> = text.encode_utf16().collect();
    let marked: Vec<String> = helm
        .highlights
        .as_ref()
        .unwrap()
        .iter()
        .map(|&[a, b]| String::from_utf16(&units[a as usize..b as usize]).unwrap())
        .collect();
    assert!(
        marked.iter().any(|m| m == "Kubernetes"),
        "{marked:?} in {text:?}"
    );

    let got = json!({ "cases": got });
    common::golden_json(&root().join("tests/golden/synonyms.json"), &got);
}

/// On a split index, facet data is fetched by the ranges a query needs: a filter on one value
/// reads that value's set, counts read the column blocks of the matches; neither downloads the
/// whole facet data. 4,000 generated documents, 400 tag values.
#[test]
fn split_facets_are_fetched_by_the_ranges_a_query_needs() {
    let mut lines = String::new();
    for d in 0..4000u32 {
        let tags: Vec<String> = (0..4)
            .map(|k| format!("\"group::g{}\"", (d * 7 + k * 131) % 400))
            .collect();
        let word = if d % 1000 == 0 { "rareword" } else { "common" };
        lines.push_str(&format!(
            "{{\"id\": \"d{d}\", \"title\": \"{word} doc {d}\", \"tags\": [{}]}}\n",
            tags.join(", ")
        ));
    }
    let mut b = IndexBuilder::new(
        edgekb::Schema::default(),
        Default::default(),
        Default::default(),
    );
    add_jsonl(&mut b, lines.as_bytes(), "generated").unwrap();
    let index = Index::open(b.to_bytes().unwrap()).unwrap();
    let facet_bytes = index.section_bytes(edgekb::raw::SectionKind::Facets).len() as u64;
    let split = SplitOutput::from_index(&index).unwrap();
    let mut loader = MemoryLoader::from_split(&split);
    let mut lazy = LazyIndex::open(&mut loader, 64 << 20).unwrap();
    let store_bytes = |l: &MemoryLoader, from: usize| -> u64 {
        l.log[from..]
            .iter()
            .filter(|(name, _)| name.starts_with("store."))
            .map(|(_, r)| r.as_ref().map_or(0, |r| r.end - r.start))
            .sum()
    };
    let opts = SearchOptions::default();
    // A filter on one value: its set (one page or two, each stored with its CRC), not the facet data.
    let from = loader.log.len();
    let r = lazy
        .search_refined(&mut loader, "common ", &opts, filtered("tags:group::g5"))
        .unwrap();
    let want = Searcher::new(&index)
        .with_refine(filtered("tags:group::g5"))
        .search("common ", &opts)
        .unwrap();
    assert_eq!(r, want);
    assert!(r.total > 0);
    let filter_bytes = store_bytes(&loader, from);
    assert!(
        filter_bytes > 0 && filter_bytes <= 2 * (4096 + 4),
        "{filter_bytes} bytes"
    );
    assert!(facet_bytes > 8 * 4096, "facet data of {facet_bytes} bytes");
    // Counts over a few matches: only the column blocks they sit in.
    let refine = Refine {
        facets: vec!["tags".into()],
        ..Refine::default()
    };
    let from = loader.log.len();
    let r = lazy
        .search_refined(&mut loader, "rareword ", &opts, refine.clone())
        .unwrap();
    let want = Searcher::new(&index)
        .with_refine(refine)
        .search("rareword ", &opts)
        .unwrap();
    assert_eq!(r, want);
    assert_eq!(r.total, 4);
    assert_eq!(r.facets["tags"].values().sum::<u32>(), 16);
    let count_bytes = store_bytes(&loader, from);
    assert!(count_bytes <= 4 * 2 * (4096 + 4), "{count_bytes} bytes");
    println!(
        "facet data {facet_bytes} B; a one-value filter fetched {filter_bytes} B, counts over 4 \
         matches {count_bytes} B"
    );
}

/// Filters written in a query are kept within one filter's node budget (256 nodes: a clause
/// past it is dropped and the answer marked truncated, not refused), and the options' filter
/// has a budget of its own.
#[test]
fn query_filters_past_the_node_budget_degrade() {
    const MAX_FILTER_NODES: usize = 256;
    let index = Index::open(build()).unwrap();
    let opts = SearchOptions::default();
    let items: Vec<String> = (0..300).map(|i| format!("tags:v{i}")).collect();
    let many = items.join(" OR ");
    assert!(many.len() < edgekb::SearchLimits::default().max_query_bytes);
    let r = Searcher::new(&index).search(&many, &opts).unwrap();
    assert!(r.truncated);
    // One clause within the budget still filters; the one past it is dropped.
    let q = format!("web tags:devel::web ({})", items.join(" OR "));
    let r = Searcher::new(&index).search(&q, &opts).unwrap();
    let want = Searcher::new(&index)
        .search("web tags:devel::web", &opts)
        .unwrap();
    assert!(r.truncated && want.total > 0);
    assert_eq!((r.total, &r.hits), (want.total, &want.hits));
    // A query filter beside an options filter of nearly the whole budget.
    let big = Filter::Any(
        (0..MAX_FILTER_NODES - 2)
            .map(|i| Filter::Is {
                field: "tags".into(),
                value: format!("v{i}"),
            })
            .chain([Filter::Is {
                field: "tags".into(),
                value: "devel::web".into(),
            }])
            .collect(),
    );
    let r = search_with(&index, "web tags:devel::web", Some(big));
    assert_eq!((r.total, &r.hits), (want.total, &want.hits));
    // One node more is past the options filter's own budget: refused.
    let v: Vec<Filter> = (0..MAX_FILTER_NODES)
        .map(|i| Filter::Is {
            field: "tags".into(),
            value: format!("v{i}"),
        })
        .collect();
    let e = Searcher::new(&index)
        .with_refine(Refine {
            filter: Some(Filter::Any(v)),
            ..Refine::default()
        })
        .search("web", &opts)
        .unwrap_err();
    assert_eq!(e.code(), "LimitExceeded", "{e}");
}

fn search_with(index: &Index<Vec<u8>>, q: &str, filter: Option<Filter>) -> SearchResults {
    Searcher::new(index)
        .with_refine(Refine {
            filter,
            ..Refine::default()
        })
        .search(q, &SearchOptions::default())
        .unwrap()
}

/// A facets option repeating a name answers as the name once (counted once, not once per
/// repetition).
#[test]
fn repeated_facet_names_answer_as_one() {
    let index = Index::open(build()).unwrap();
    let refine = |facets: Vec<String>| Refine {
        facets,
        ..Refine::default()
    };
    let once = search(&index, "web", refine(vec!["tags".into()]), 10);
    let many = search(&index, "web", refine(vec!["tags".into(); 1000]), 10);
    assert!(once.total > 1 && !once.facets["tags"].is_empty());
    assert_eq!(once, many);
}
