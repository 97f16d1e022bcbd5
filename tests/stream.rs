//! `add_stream` and `add_jsonl`, which analyze documents on a second thread: the index they
//! write is the one `IndexBuilder::add` writes document by document, and an error stops the
//! build at the first bad input line, whichever side finds it.

mod common;

use edgekb::{
    add_jsonl, add_stream, AnalyzerConfig, Bm25, Document, Error, Index, IndexBuilder, Schema,
};

fn builder() -> IndexBuilder {
    IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    )
}

fn documents(jsonl: &str) -> Vec<(Document, String)> {
    let schema = Schema::default();
    jsonl
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let location = format!("docs:{}", i + 1);
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                Document::from_json(&value, &schema, &location).unwrap(),
                location,
            )
        })
        .collect()
}

#[test]
fn streamed_builds_are_the_one_by_one_build() {
    // Four copies of the fixture: a store with a preset dictionary, words in every field.
    let jsonl = common::repeated_docs_jsonl(4);
    let mut one_by_one = builder();
    for (doc, location) in documents(&jsonl) {
        one_by_one.add(&doc, &location).unwrap();
    }
    let want = one_by_one.to_bytes().unwrap();

    let mut streamed = builder();
    let docs = documents(&jsonl);
    let n = docs.len() as u32;
    let added = add_stream(&mut streamed, move |add| {
        docs.into_iter()
            .try_for_each(|(doc, location)| add(doc, location))
    })
    .unwrap();
    assert_eq!(added, n);
    assert_eq!(streamed.doc_count(), n);
    assert!(
        streamed.to_bytes().unwrap() == want,
        "add_stream wrote other bytes"
    );

    let mut from_jsonl = builder();
    assert_eq!(
        add_jsonl(&mut from_jsonl, jsonl.as_bytes(), "docs").unwrap(),
        n
    );
    assert!(
        from_jsonl.to_bytes().unwrap() == want,
        "add_jsonl wrote other bytes"
    );
}

/// The location in an `InvalidDocument` error.
fn location(e: Error) -> String {
    match e {
        Error::InvalidDocument { location, .. } => location,
        other => panic!("not an InvalidDocument error: {other}"),
    }
}

#[test]
fn the_first_bad_line_stops_the_build_whichever_side_finds_it() {
    let good = |id: &str| format!(r#"{{"id": "{id}", "title": "{id} title", "body": "text"}}"#);
    // (lines, the line the error names): a duplicate id is found by the builder's side, bad
    // JSON and a bad field by the reading side; the earlier line wins either way.
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![good("a"), good("a"), "{not json".into()], "docs:2"),
        (vec![good("a"), "{not json".into(), good("a")], "docs:2"),
        (
            vec![
                good("a"),
                r#"{"id": "b", "title": {"x": 1}}"#.into(),
                good("a"),
            ],
            "docs:2",
        ),
        (vec![good("a"), good("b"), good("c"), good("b")], "docs:4"),
    ];
    for (lines, want) in cases {
        let mut b = builder();
        let err = add_jsonl(&mut b, lines.join("\n").as_bytes(), "docs").unwrap_err();
        assert_eq!(location(err), want, "{lines:?}");
    }
    // A long input stopped early: the reading side is not left blocked on a full channel.
    let mut lines: Vec<String> = (0..5000).map(|i| good(&format!("d{i}"))).collect();
    lines[10] = good("d3");
    let mut b = builder();
    let err = add_jsonl(&mut b, lines.join("\n").as_bytes(), "docs").unwrap_err();
    assert_eq!(location(err), "docs:11");
    assert_eq!(b.doc_count(), 10);
    // What was added before the error is a whole index, the one the first ten documents make:
    // the document store (written on a thread of its own) and the vocabulary (on the analyzing
    // thread, which had read on past the error) hold nothing of the later documents.
    let bytes = b.to_bytes().unwrap();
    let mut first_ten = builder();
    let head = lines[..10].join("\n");
    assert_eq!(
        add_jsonl(&mut first_ten, head.as_bytes(), "docs").unwrap(),
        10
    );
    assert!(
        bytes == first_ten.to_bytes().unwrap(),
        "the stopped build wrote other bytes"
    );
    let index = Index::open(bytes).unwrap();
    index.verify().unwrap();
    let last = index.doc(9, 1 << 20).unwrap();
    assert_eq!(index.stored_value(&last, "title"), ["d9 title"]);
}

#[test]
fn an_error_of_the_producer_is_returned_after_what_it_sent_before() {
    let jsonl = common::repeated_docs_jsonl(1);
    let docs = documents(&jsonl);
    let mut b = builder();
    let err = add_stream(&mut b, move |add| {
        for (doc, location) in docs.into_iter().take(3) {
            add(doc, location)?;
        }
        Err(Error::Io(std::io::Error::other("the disk went away")))
    })
    .unwrap_err();
    assert!(err.to_string().contains("the disk went away"), "{err}");
    assert_eq!(b.doc_count(), 3);
}

#[test]
fn a_refused_document_leaves_no_term_behind() {
    // `add` analyzes before it checks: the words of a refused document (here a duplicate id)
    // are in the vocabulary but must not become terms without documents.
    let doc = |id: &str, body: &str| {
        let value = serde_json::json!({"id": id, "title": id, "body": body});
        Document::from_json(&value, &Schema::default(), "x").unwrap()
    };
    let mut b = builder();
    b.add(&doc("a", "alpha"), "1").unwrap();
    let err = b.add(&doc("a", "zzorphan words"), "2").unwrap_err();
    assert_eq!(location(err), "2");
    b.add(&doc("b", "beta"), "3").unwrap();
    let mut want = builder();
    want.add(&doc("a", "alpha"), "1").unwrap();
    want.add(&doc("b", "beta"), "3").unwrap();
    assert!(b.to_bytes().unwrap() == want.to_bytes().unwrap());
}
