//! Markdown and HTML ingestion (`src/ingest/`): the fixture folders under
//! `tests/fixtures/sources/` read into documents and compared with `expected.json`, built
//! mixed with JSON Lines into one index and searched, and errors that name file and line.
//!
//! After a deliberate change of the parsers, regenerate with
//! `EDGEKB_BLESS=1 cargo test --test ingest` and review the diff.

use std::collections::BTreeMap;
use std::path::Path;

use edgekb::ingest::{self, Kind};
use edgekb::{Error, Index, IndexBuilder, Schema, SearchOptions, Searcher};

fn sources() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sources"
    ))
}

/// Every Markdown and HTML fixture as `{file: {field: values}}`, fields by name.
fn read_all(schema: &Schema) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    for folder in ["md", "html"] {
        for (path, rel, kind) in ingest::files(&sources().join(folder)).unwrap() {
            let doc = ingest::document(&path, &rel, kind, schema).unwrap();
            let fields = schema
                .fields()
                .iter()
                .zip(doc.values)
                .filter(|(_, v)| !v.is_empty())
                .map(|(f, v)| (f.name.clone(), v))
                .collect();
            out.insert(format!("{folder}/{rel}"), fields);
        }
    }
    out
}

#[test]
fn golden_markdown_and_html_documents() {
    // The default schema plus a `headings` field, so headings are seen as a field too.
    let mut fields = Schema::default().fields().to_vec();
    let mut headings = fields[2].clone();
    headings.name = "headings".into();
    headings.weight = 1.5;
    fields.push(headings);
    let schema = Schema::new(fields).unwrap();
    let got = read_all(&schema);
    let path = sources().join("expected.json");
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var_os("EDGEKB_BLESS").is_some() || !path.exists() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, want, "documents differ from {}", path.display());
    assert_eq!(
        got.len(),
        5,
        "two Markdown folders' files and two HTML files"
    );
}

#[test]
fn kinds_by_extension() {
    for (name, kind) in [
        ("a.md", Some(Kind::Markdown)),
        ("a.MARKDOWN", Some(Kind::Markdown)),
        ("a.html", Some(Kind::Html)),
        ("a.htm", Some(Kind::Html)),
        ("a.jsonl", Some(Kind::Jsonl)),
        ("a.txt", None),
        ("md", None),
    ] {
        assert_eq!(Kind::of(Path::new(name)), kind, "{name}");
    }
}

#[test]
fn mixed_build_is_searchable() {
    let schema = Schema::default();
    let mut b = IndexBuilder::new(schema, Default::default(), Default::default());
    let jsonl = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/docs.jsonl"
    ));
    let from_jsonl = ingest::add_path(&mut b, jsonl).unwrap();
    assert!(from_jsonl > 0);
    assert_eq!(ingest::add_path(&mut b, &sources().join("md")).unwrap(), 3);
    assert_eq!(
        ingest::add_path(&mut b, &sources().join("html")).unwrap(),
        2
    );
    let index = Index::open(b.to_bytes().unwrap()).unwrap();
    assert_eq!(index.doc_count(), from_jsonl + 5);
    let mut searcher = Searcher::new(&index);
    let opts = SearchOptions::default();
    for (query, id, url) in [
        ("installing two steps", "guide-install", "/guide/install/"),
        ("handbook", "index.md", "/"),
        ("snippets highlights", "index.html", "/"),
        (
            "webassembly offline",
            "blog/first-post.htm",
            "/blog/first-post.htm",
        ),
        (
            "configuration weights",
            "guide/config.markdown",
            "https://docs.example.invalid/config",
        ),
    ] {
        let r = searcher.search(query, &opts).unwrap();
        let hit = r.hits.first().unwrap_or_else(|| panic!("{query}: no hit"));
        assert_eq!((hit.id.as_str(), hit.url.as_str()), (id, url), "{query}");
    }
    // Navigation, scripts and text outside <article> are not indexed.
    for absent in ["menu", "notText", "copyright", "outside"] {
        let r = searcher
            .search(
                absent,
                &SearchOptions {
                    prefix: false,
                    typos: false,
                    ..opts
                },
            )
            .unwrap();
        assert_eq!(r.total, 0, "{absent} should not be indexed");
    }
}

#[test]
fn errors_name_file_and_line() {
    let mut b = IndexBuilder::new(Schema::default(), Default::default(), Default::default());
    match ingest::add_path(&mut b, &sources().join("bad")) {
        Err(Error::InvalidDocument { location, message }) => {
            assert!(location.ends_with("bad/broken.md:3"), "{location}");
            assert!(message.contains("key: value"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // The same id twice across sources is refused with the second file's name.
    let mut b = IndexBuilder::new(Schema::default(), Default::default(), Default::default());
    ingest::add_path(&mut b, &sources().join("md")).unwrap();
    match ingest::add_path(&mut b, &sources().join("md/index.md")) {
        Err(Error::InvalidDocument { location, message }) => {
            assert!(location.ends_with("md/index.md:1"), "{location}");
            assert!(message.contains("duplicate id"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Invalid UTF-8 names its line; a missing path names the path.
    let dir = std::env::temp_dir().join(format!("edgekb-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x.md"), b"line one\nline two \xff\n").unwrap();
    match ingest::add_path(&mut b, &dir) {
        Err(Error::InvalidDocument { location, .. }) => {
            assert!(location.ends_with("x.md:2"), "{location}")
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let e = ingest::add_path(&mut b, &dir).unwrap_err().to_string();
    assert!(e.contains("edgekb-ingest"), "{e}");
}
