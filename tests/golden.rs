//! Golden tests: the fixture is built and searched, and the results must equal
//! `tests/golden/queries.json`. The same file is checked by the wasm build in Node, Chromium and
//! workerd (`tests/js/`), so every runtime returns exactly these results.
//!
//! After a deliberate change of results, regenerate with `EDGEKB_BLESS=1 cargo test --test golden`
//! and review the diff.

mod common;

use std::path::{Path, PathBuf};

use edgekb::AnalyzerConfig;
use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{Bm25, FORMAT_VERSION};
use edgekb::{Index, Schema, SearchOptions, SearchResults, Searcher};
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var_os("EDGEKB_BLESS").is_some()
}

fn build_fixture() -> Vec<u8> {
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    let f = std::fs::File::open(root().join("tests/fixtures/docs.jsonl")).unwrap();
    add_jsonl(&mut b, std::io::BufReader::new(f), "docs.jsonl").unwrap();
    b.to_bytes().unwrap()
}

/// An index of JSON Lines `text` with the default settings, as written bytes.
fn build_bytes(text: &str, name: &str) -> Vec<u8> {
    let mut b = IndexBuilder::new(
        Schema::default(),
        AnalyzerConfig::default(),
        Bm25::default(),
    );
    add_jsonl(&mut b, text.as_bytes(), name).unwrap();
    b.to_bytes().unwrap()
}

fn queries() -> Vec<String> {
    std::fs::read_to_string(root().join("tests/golden/queries.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.to_string())
        .collect()
}

fn run(index: &Index<Vec<u8>>, q: &str, limit: usize) -> SearchResults {
    Searcher::new(index)
        .search(
            q,
            &SearchOptions {
                limit,
                ..Default::default()
            },
        )
        .unwrap()
}

fn results_json(index: &Index<Vec<u8>>) -> Value {
    results_for(index, &queries())
}

fn results_for(index: &Index<Vec<u8>>, queries: &[String]) -> Value {
    let cases: Vec<Value> = queries
        .iter()
        .map(|q| json!({"query": q, "limit": 10, "expect": run(index, q, 10).to_tree::<Value>()}))
        .collect();
    json!({ "format_version": index.version(), "cases": cases })
}

#[test]
fn the_build_is_deterministic() {
    assert_eq!(build_fixture(), build_fixture());
}

#[test]
fn golden_results_from_a_fresh_build() {
    let index = Index::open(build_fixture()).unwrap();
    index.verify().unwrap();
    let got = results_json(&index);
    let path = root().join("tests/golden/queries.json");
    if bless() {
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    common::assert_same(&got, &want, "queries.json");
}

/// The committed index of the current format version: written when missing (or blessed), and
/// from then on opened and searched as it is, so a format change that breaks old files fails.
#[test]
fn golden_index_of_this_format_version() {
    let path = root().join(format!("tests/compat/v{FORMAT_VERSION}/fixture.ekb"));
    if bless() || !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, build_fixture()).unwrap();
    }
    let index = Index::open(std::fs::read(&path).unwrap()).unwrap();
    index.verify().unwrap();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/golden/queries.json")).unwrap(),
    )
    .unwrap();
    common::assert_same(&results_json(&index), &want, "compat");
}

/// A committed fixture (`dir/fixture.ekb`), opened and verified, with its golden file
/// (`dir/queries.json`) and what it answers now to that file's queries (a later version's golden
/// file may hold more).
fn compat_results(dir: &Path) -> (Index<Vec<u8>>, Value, Value) {
    let index = Index::open(std::fs::read(dir.join("fixture.ekb")).unwrap()).unwrap();
    index.verify().unwrap();
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("queries.json")).unwrap()).unwrap();
    let queries: Vec<String> = want["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["query"].as_str().unwrap().to_string())
        .collect();
    let got = results_for(&index, &queries);
    (index, want, got)
}

/// A format-5 file written before facet data and the title weight 4 default (the fixture as
/// first committed for format 5, kept under `tests/compat/v5-early/`): it still opens and
/// answers the golden queries of its time, with the weights it was built with.
#[test]
fn golden_index_of_this_format_version_written_earlier() {
    let dir = root().join("tests/compat/v5-early");
    let (index, want, got) = compat_results(&dir);
    assert_eq!(index.version(), 5);
    if bless() {
        let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
        std::fs::write(dir.join("queries.json"), text).unwrap();
        return;
    }
    common::assert_same(&got, &want, "v5-early");
}

/// Every older format version still opens and answers its own golden queries.
#[test]
fn golden_indexes_of_older_versions() {
    for v in edgekb::OLDEST_SUPPORTED_FORMAT_VERSION..FORMAT_VERSION {
        let dir = root().join(format!("tests/compat/v{v}"));
        let (_, want, got) = compat_results(&dir);
        if bless() {
            let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
            std::fs::write(dir.join("queries.json"), text).unwrap();
            continue;
        }
        common::assert_same(&got, &want, &format!("v{v}"));
    }
}

/// Behaviour checks that hold whatever the exact scores are.
#[test]
fn semantics() {
    let index = Index::open(build_fixture()).unwrap();
    let ids = |q: &str| {
        run(&index, q, 20)
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect::<Vec<_>>()
    };
    let total = |q: &str| run(&index, q, 20).total;

    // AND: both words; a word matching nothing is dropped, not fatal.
    assert_eq!(ids("strategy game")[0], "0ad");
    assert_eq!(ids("terminal zzzzzz"), ids("terminal"));
    // Phrases need adjacency in order.
    assert_eq!(ids("\"real time strategy\"")[0], "0ad");
    assert!(ids("\"strategy real time\"").is_empty());
    // Exclusion.
    assert!(ids("vim").contains(&"neovim".to_string()));
    assert!(!ids("vim -neovim").contains(&"neovim".to_string()));
    // OR widens.
    assert!(total("vim OR emacs ") >= total("vim ").max(total("emacs ")));
    // Field restriction narrows.
    assert!(total("title:git ") <= total("git "));
    // Typos and prefixes.
    assert_eq!(ids("stratgy")[0], "0ad");
    assert!(ids("compresion").contains(&"gzip".to_string()));
    assert!(ids("strat").contains(&"0ad".to_string()));
    // No typo is corrected in the first letter.
    assert!(ids("xtrategy").is_empty());
    // Exact outranks typo: "compression" exact beats the typo variant documents.
    let exact = run(&index, "compression ", 5).hits[0].score;
    let typo = run(&index, "compresion ", 5).hits[0].score;
    assert!(exact > typo, "{exact} <= {typo}");
    // Diacritics, case, NFKC, CJK.
    assert_eq!(ids("CAFÉ")[0], "kb-cafe");
    assert_eq!(ids("zurich strasse")[0], "kb-zurich");
    assert_eq!(ids("ＦＵＬＬＷＩＤＴＨ")[0], "kb-fullwidth");
    assert_eq!(ids("東京駅"), vec!["kb-tokyo"]);
    assert_eq!(ids("办公"), vec!["kb-beijing"]);
    // Malformed queries give an empty result, never an error.
    for q in ["", "   ", "-", "OR", "***", "\"\"", "\"", "title:", ":::"] {
        assert_eq!(total(q), 0, "{q:?}");
    }
}

/// Every stored field of every document reads back as it was given, from a fresh build (format 2:
/// `id`, `title`, `url` from the hit-display store, the rest from the document store) and from
/// each committed fixture.
#[test]
fn stored_documents_read_back_as_given() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/docs.jsonl")).unwrap();
    let given: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut files = vec![build_fixture()];
    for v in edgekb::OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION {
        files.push(std::fs::read(root().join(format!("tests/compat/v{v}/fixture.ekb"))).unwrap());
    }
    for bytes in files {
        let index = Index::open(bytes).unwrap();
        assert_eq!(index.doc_count() as usize, given.len());
        for (d, doc) in given.iter().enumerate() {
            let stored = index.doc(d as u32, 1 << 20).unwrap();
            for field in ["id", "title", "url", "body", "tags"] {
                let want: Vec<String> = match &doc[field] {
                    Value::Null => vec![],
                    Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                    v => vec![v.as_str().unwrap().to_string()],
                };
                assert_eq!(
                    index.stored_value(&stored, field),
                    want.as_slice(),
                    "v{} doc {d} field {field}",
                    index.version()
                );
            }
        }
    }
}

/// A deterministic corpus of 600 short documents over 40 words (the commonest in most of them),
/// so that common terms span several postings blocks and carry block impacts (format 3).
fn many_blocks_jsonl() -> String {
    let words: Vec<String> = (0..40).map(|i| format!("word{i}")).collect();
    common::skewed_jsonl(600, "m", &words, 0x9e37_79b9_7f4a_7c15, (1, 4), (3, 30))
}

const MANY_BLOCKS_QUERIES: &[&str] = &[
    "word0",
    "word1",
    "word2 ",
    "word0 word1",
    "word0 OR word5",
    "word1 -word0",
    "title:word0",
    "wor",
    "word3 word0 word1",
    "\"word0 word1\"",
];

/// The committed many-blocks index of each format version that has one: opened as it is,
/// searched (pruned and exhaustively, which must agree) and compared with its results.
#[test]
fn golden_index_with_many_blocks() {
    // A committed index is never rewritten (blessing rewrites results only): it is what an
    // earlier build wrote, which later builds must keep opening.
    let path = root().join(format!("tests/compat/v{FORMAT_VERSION}/blocks.ekb"));
    if !path.exists() {
        std::fs::write(&path, build_bytes(&many_blocks_jsonl(), "many-blocks")).unwrap();
    }
    let mut pruned_somewhere = false;
    for v in edgekb::OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION {
        let dir = root().join(format!("tests/compat/v{v}"));
        let Ok(bytes) = std::fs::read(dir.join("blocks.ekb")) else {
            continue;
        };
        let index = Index::open(bytes).unwrap();
        index.verify().unwrap();
        let opts = SearchOptions {
            limit: 10,
            ..Default::default()
        };
        let mut cases = Vec::new();
        for q in MANY_BLOCKS_QUERIES {
            let mut fast = Searcher::new(&index);
            let got = fast.search(q, &opts).unwrap();
            let st = fast.stats();
            pruned_somewhere |= st.scored < st.matched && st.blocks_decoded < st.blocks;
            let slow = Searcher::new(&index)
                .exhaustive(true)
                .search(q, &opts)
                .unwrap();
            assert_eq!(got, slow, "v{v} {q:?}");
            cases.push(json!({"query": q, "limit": 10, "expect": got.to_tree::<Value>()}));
        }
        let got = json!({ "format_version": v, "cases": cases });
        let want_path = dir.join("blocks.json");
        if bless() || !want_path.exists() {
            std::fs::write(
                &want_path,
                serde_json::to_string_pretty(&got).unwrap() + "\n",
            )
            .unwrap();
        }
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(&want_path).unwrap()).unwrap();
        common::assert_same(&got, &want, &format!("v{v} blocks"));
    }
    assert!(pruned_somewhere, "no query skipped a block");
}

/// An index of `docs` (JSON Lines) with `analyzer`.
fn small_index(docs: &str, analyzer: AnalyzerConfig) -> Index<Vec<u8>> {
    let mut b = IndexBuilder::new(Schema::default(), analyzer, Bm25::default());
    add_jsonl(&mut b, docs.as_bytes(), "small").unwrap();
    Index::open(b.to_bytes().unwrap()).unwrap()
}

/// Format 7: a term only ever indexed as a word's written form (beside its stem) has no
/// positions; a term that is some word's stem keeps them, even where it is also a written form;
/// phrases, which match stems, answer as before, and a phrase whose word stems to a written-form
/// term matches nothing instead of failing.
#[test]
fn written_forms_have_no_positions() {
    // `levelling` stems to `level`; `meters` to `meter`. `news` is a stem of its own and
    // `levels` only a written form.
    let docs = r#"{"id": "a", "title": "levelling meters", "body": "the levels of news"}
{"id": "b", "title": "level meter", "body": "a level of news meter"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    assert!(index.version() >= 7);
    let info = |term: &str| {
        let ord = index
            .terms()
            .get(term)
            .unwrap_or_else(|| panic!("{term} indexed"));
        index.term_info(ord).unwrap()
    };
    for form in ["levelling", "meters", "levels"] {
        let i = info(form);
        assert!(i.doc_freq > 0 && i.positions.is_empty(), "{form}: {i:?}");
        assert!(!index.has_positions(&i), "{form}");
    }
    for stem in ["level", "meter", "news"] {
        let i = info(stem);
        assert!(
            !i.positions.is_empty() && index.has_positions(&i),
            "{stem}: {i:?}"
        );
    }
    let ids = |index: &Index<Vec<u8>>, q: &str| {
        let r = common::search_both(index, q, &SearchOptions::default());
        let mut ids: Vec<String> = r.hits.iter().map(|h| h.id.clone()).collect();
        ids.sort();
        ids
    };
    // Phrases by stems: the written forms' documents match through their stems' positions.
    assert_eq!(ids(&index, "\"levelling meters\""), ["a", "b"]);
    assert_eq!(ids(&index, "\"level meter\""), ["a", "b"]);
    assert_eq!(ids(&index, "\"levels of news\""), ["a", "b"]);
    assert_eq!(ids(&index, "\"news meter\""), ["b"]);
    // `accident` is only a written form here (its stem is `accid`), but `accidental` stems to
    // `accident`: a phrase with `accidental` looks that term up, finds no positions, and
    // matches nothing (as stems differ), without an error; the word alone still matches.
    let forms = small_index(
        r#"{"id": "c", "title": "accident report", "body": "an accident"}
"#,
        AnalyzerConfig::default(),
    );
    let i = forms
        .term_info(forms.terms().get("accident").unwrap())
        .unwrap();
    assert!(!forms.has_positions(&i));
    assert!(ids(&forms, "\"accidental report\"").is_empty());
    assert_eq!(ids(&forms, "\"accident report\""), ["c"]);
    assert_eq!(ids(&forms, "accidental report "), ["c"]);
    forms.verify().unwrap();
    // Verification skips the missing positions and decodes every other term's.
    index.verify().unwrap();
}

/// Issue #12's ranking rules, each on a corpus made for it, pruned and exhaustive alike.
#[test]
fn known_item_rules() {
    let search =
        |index: &Index<Vec<u8>>, q: &str| common::search_both(index, q, &SearchOptions::default());
    let ids = |r: &SearchResults| r.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();

    // Surface forms: the word as written ranks above a document sharing only its stem, which
    // still matches; without surface forms the two tie (the lower document id first).
    let docs = r#"{"id": "a-level", "title": "level meter", "body": "shows the level"}
{"id": "b-levelling", "title": "levelling meter", "body": "shows the levelling"}
"#;
    let with = small_index(docs, AnalyzerConfig::default());
    let r = search(&with, "levelling ");
    assert_eq!(ids(&r), ["b-levelling", "a-level"]);
    assert!(r.hits[0].score > r.hits[1].score * 1.2, "{:?}", r.hits);
    let without = small_index(
        docs,
        AnalyzerConfig {
            surface_forms: false,
            ..AnalyzerConfig::default()
        },
    );
    let r = search(&without, "levelling ");
    assert_eq!(ids(&r), ["a-level", "b-levelling"]);
    assert_eq!(r.hits[0].score, r.hits[1].score);

    // A word being typed with no completion is corrected (a transposition is one edit) before
    // it is taken for a longer form of a shorter term (`libo`).
    let docs = r#"{"id": "libo", "title": "libo: a library", "body": "libo"}
{"id": "liboidc-agent", "title": "liboidc-agent: OpenID agent", "body": "agent"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    assert_eq!(ids(&search(&index, "liboicd"))[0], "liboidc-agent");
    // When nothing is within one edit, the shorter term still is what the word extends.
    assert_eq!(ids(&search(&index, "libozzz")), ["libo"]);

    // A document every word of the query names (each in a name field) gains the name boost:
    // the *Logging HOWTO* page before the hub whose title says `howto` and whose body lists
    // the other pages' titles (the hub is first without the boost).
    let mut docs = String::from(
        r#"{"id": "a-howtos", "title": "Python HOWTOs", "body": "Guides to single topics: Logging HOWTO, Sorting HOWTO, and more."}
{"id": "b-logging", "title": "Logging HOWTO", "body": "This page explains logging: when to use logging, which levels exist, how handlers, formatters and filters work together, and how a library should configure logging for its users. Loggers form a hierarchy by name; messages propagate to the handlers of their ancestors."}
"#,
    );
    for (i, t) in [
        "sorting", "unicode", "sockets", "curses", "enum", "argparse", "porting",
    ]
    .iter()
    .enumerate()
    {
        docs.push_str(&format!(
            "{{\"id\": \"c-{i}\", \"title\": \"{t} guide\", \"body\": \"How {t} work, with examples, logging and notes.\"}}\n"
        ));
    }
    let index = small_index(&docs, AnalyzerConfig::default());
    assert_eq!(
        ids(&search(&index, "logging howto")),
        ["b-logging", "a-howtos"]
    );
    assert_eq!(
        ids(&search(&index, "howto logging ")),
        ["b-logging", "a-howtos"]
    );

    // A document that holds every word of a short query as written gains the forms boost: the
    // body that says `interfacing` and `stdin` before the titles that say *stdin* over bodies
    // that say *interface* (the same stem), which are first without the boost.
    let mut docs = String::from(
        r#"{"id": "a-rw", "title": "rw: file access to stdin", "body": "Provides a file interface to stdin and stdout."}
{"id": "b-cat", "title": "cat: copy stdin", "body": "Copies stdin through an interface."}
{"id": "c-editor", "title": "editor: open an editor", "body": "Opens an editor from a program, interfacing with stdin."}
"#,
    );
    for i in 0..8 {
        docs.push_str(&format!(
            "{{\"id\": \"d-{i}\", \"title\": \"tool {i}\", \"body\": \"Reads files and writes them.\"}}\n"
        ));
    }
    let index = small_index(&docs, AnalyzerConfig::default());
    assert_eq!(ids(&search(&index, "interfacing stdin "))[0], "c-editor");
    assert_eq!(ids(&search(&index, "stdin interfacing"))[0], "c-editor");
    // Where no document writes every word so, no boost: the titles that say *stdin* lead.
    let r = search(&index, "interfaces stdin ");
    assert_eq!(r.total, 3);
    assert_eq!(ids(&r)[..2], ["b-cat", "a-rw"]);

    // A dotted name of four components is still a short query: every component required.
    let docs = r#"{"id": "all", "title": "alpha", "body": "alpha, beta, gamma, delta"}
{"id": "three", "title": "alpha", "body": "alpha beta gamma"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    assert_eq!(ids(&search(&index, "alpha.beta.gamma.delta")), ["all"]);

    // Long queries rank as OR from the start; shorter ones AND first.
    let docs = r#"{"id": "d1", "title": "alpha beta gamma delta"}
{"id": "d2", "title": "alpha beta gamma"}
{"id": "d3", "title": "delta"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    let r = search(&index, "alpha beta gamma delta ");
    assert_eq!(r.total, 3);
    assert_eq!(ids(&r)[0], "d1");
    assert_eq!(search(&index, "alpha beta delta ").total, 1);

    // Identifier parts (format 5): a name found by each part; a dotted name is searched as
    // its components, each required, and ranks first where it is written whole; a name cut
    // where a digit meets a dot (`imap4.utf8_enabled`) is searched by its components too.
    let docs = r#"{"id": "termios", "title": "termios: tty control", "body": "termios.tcflow(fd, action) suspends output. getElementById too."}
{"id": "tcflow-notes", "title": "notes", "body": "tcflow and termios, said apart."}
{"id": "json", "title": "json: encoder", "body": "class json.JSONDecoder: raw_decode(s) decodes"}
{"id": "other", "title": "raw decoder", "body": "raw_decode of something else"}
{"id": "imaplib", "title": "imaplib: IMAP4 client", "body": "class imaplib.IMAP4: the client. IMAP4.utf8_enabled is true after enable()"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    let mut found = ids(&search(&index, "tcflow"));
    found.sort();
    assert_eq!(found, ["tcflow-notes", "termios"]);
    assert_eq!(
        ids(&search(&index, "termios.tcflow")),
        ["termios", "tcflow-notes"]
    );
    assert_eq!(ids(&search(&index, "element")), ["termios"]);
    assert_eq!(
        ids(&search(&index, "json.JSONDecoder.raw_decode")),
        ["json"]
    );
    assert_eq!(
        ids(&search(&index, "json.JSONDecoder.raw_decode ")),
        ["json"]
    );
    assert_eq!(
        ids(&search(&index, "imaplib.IMAP4.utf8_enabled")),
        ["imaplib"]
    );
    let without = small_index(
        docs,
        AnalyzerConfig {
            identifier_parts: false,
            ..AnalyzerConfig::default()
        },
    );
    assert_eq!(ids(&search(&without, "tcflow")), ["tcflow-notes"]);
    assert!(search(&without, "element").hits.is_empty());

    // A lone word being typed whose completions name documents: its letters as a whole term
    // outside the name fields (`RAND_add`'s part `rand`) count as little as a completion
    // there, so the page named *random* comes first; finished (`rand `), or with another word
    // beside it, the word counts fully wherever it is.
    let docs = r#"{"id": "ssl", "title": "ssl: TLS wrapper", "body": "ssl.RAND_add(bytes) mixes bytes into the pool; RAND_status() says if the pool has enough random bytes"}
{"id": "random", "title": "random: pseudo-random numbers", "body": "random numbers and random bytes"}
{"id": "f1", "title": "one", "body": "random bytes"}
{"id": "f2", "title": "two", "body": "random numbers"}
{"id": "f3", "title": "three", "body": "random choice"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    assert_eq!(ids(&search(&index, "rand"))[0], "random");
    assert_eq!(ids(&search(&index, "rand "))[0], "ssl");
    assert_eq!(ids(&search(&index, "bytes rand"))[0], "ssl");

    // A slip that stems like a real word (`multipleing` → `multipl`, the stem of `multiple`)
    // is no word any document writes: it is corrected too (`multiplexing`, one edit), beside
    // its stem's matches (here the more common word).
    let docs = r#"{"id": "selectors", "title": "selectors: I/O multiplexing", "body": "waits on sockets"}
{"id": "numbers", "title": "numbers: multiple values", "body": "multiply them, multiple times"}
{"id": "f1", "title": "one", "body": "multiple files"}
{"id": "f2", "title": "two", "body": "multiple ways"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    for q in ["multipleing", "multipleing "] {
        assert_eq!(ids(&search(&index, q))[0], "selectors", "{q:?}");
    }
    // A form no document writes whose stem some do is still found through the stem (beside
    // what is one edit from it: `multiplex`).
    assert!(ids(&search(&index, "multiples ")).contains(&"numbers".to_string()));

    // Typography (format 8): a possessive written `Sun’s`, as documentation
    // generators write it, is found by `sun` and by `sun's` as typed, and a contraction by its
    // ASCII spelling, and a word with hyphenation hints (soft hyphens) by the word; an index
    // written without the fold did not find it by `sun` at all (and by the others only as
    // typos).
    let docs = r#"{"id": "nis", "title": "nis: Interface to Sun’s NIS (Yellow Pages)", "body": "Sun’s directory service; don’t use it for new code; auto\u00adconfig\u00aduration"}
{"id": "other", "title": "other: moon pages", "body": "the directory of yellow things"}
"#;
    let index = small_index(docs, AnalyzerConfig::default());
    for q in [
        "sun",
        "sun ",
        "sun's ",
        "sun\u{2019}s ",
        "sun yellow",
        "don't ",
        "autoconfiguration ",
    ] {
        assert_eq!(ids(&search(&index, q)), ["nis"], "{q:?}");
    }
    let before = small_index(
        docs,
        AnalyzerConfig {
            typography: false,
            ..AnalyzerConfig::default()
        },
    );
    assert!(search(&before, "sun ").hits.is_empty());
    for q in ["sun's ", "autoconfiguration "] {
        let typo = search(&before, q).hits.first().map_or(0.0, |h| h.score);
        assert!(
            typo < search(&index, q).hits[0].score * 0.75,
            "{q:?}: {typo}"
        );
    }
}

/// The committed index of this format version whose document store has a preset dictionary
/// (`tests/fixtures/docs.jsonl` four times over: the golden fixture alone is too small to get
/// one), and from format 12 its hit display too: written when missing and never rewritten;
/// opened as it is, verified (every chunk inflated against the dictionary), and every stored
/// document and hit-display record equal to its source.
#[test]
fn golden_index_with_a_preset_dictionary() {
    let text = common::repeated_docs_jsonl(4);
    let path = root().join(format!("tests/compat/v{FORMAT_VERSION}/preset.ekb"));
    if !path.exists() {
        std::fs::write(&path, build_bytes(&text, "docs.jsonl ×4")).unwrap();
    }
    for v in edgekb::OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION {
        let Ok(bytes) = std::fs::read(root().join(format!("tests/compat/v{v}/preset.ekb"))) else {
            continue;
        };
        let index = Index::open(bytes).unwrap();
        index.verify().unwrap();
        let preset = index.store_preset().unwrap();
        assert!(
            preset.end >= 1024,
            "v{v}: a preset dictionary of {preset:?}"
        );
        if v >= 12 {
            let n = index.display_preset().len();
            assert!(
                n >= 1024,
                "v{v}: a hit-display preset dictionary of {n} bytes"
            );
        }
        let all: Vec<u32> = (0..index.doc_count()).collect();
        let shown = index.hit_fields_from(&all, 1 << 20, &index).unwrap();
        for (d, line) in text.lines().enumerate() {
            let src: Value = serde_json::from_str(line).unwrap();
            let doc = index.doc(d as u32, 1 << 20).unwrap();
            for field in ["id", "title", "body", "url"] {
                let got = index.stored_value(&doc, field);
                let want = src[field]
                    .as_str()
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default();
                assert_eq!(got, &want[..], "v{v} doc {d} {field}");
            }
            for (k, field) in ["id", "title", "url"].into_iter().enumerate() {
                let want = src[field].as_str().unwrap_or_default();
                assert_eq!(shown[d][k], want, "v{v} doc {d} hit {field}");
            }
            let tags: Vec<String> = src["tags"]
                .as_array()
                .map(|a| a.iter().map(|t| t.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            assert_eq!(
                index.stored_value(&doc, "tags"),
                &tags[..],
                "v{v} doc {d} tags"
            );
        }
    }
}
