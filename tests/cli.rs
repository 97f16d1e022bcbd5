//! The `edgekb` command as a user runs it: atomic and repairable builds, `gc`, `verify` on
//! damaged split indexes, and the input and output mistakes a careless user makes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgekb::split::{sha256_hex, Manifest};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/docs.jsonl");

fn edgekb(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgekb"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("edgekb runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "edgekb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "edgekb should have failed");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A fresh empty directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A split build with a cut dictionary and the display data in its pack, so every pack has data.
fn build_split(input: &Path, out: &Path) -> Output {
    edgekb(&[
        &"build",
        &input,
        &"--out",
        &out,
        &"--split",
        &"--resident-dictionary-bytes",
        &"0",
        &"--dictionary-part-bytes",
        &"2048",
        &"--resident-display-bytes",
        &"0",
    ])
}

fn manifest(dir: &Path, name: &str) -> Manifest {
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap();
    Manifest::from_tree(&&value).unwrap()
}

/// The six file entries of a manifest.
fn entries(m: &Manifest) -> [&edgekb::split::FileEntry; 6] {
    [
        &m.dictionary,
        &m.postings,
        &m.positions,
        &m.store,
        &m.terms,
        &m.display,
    ]
}

fn files_of(m: &Manifest) -> Vec<String> {
    entries(m).iter().map(|e| e.name.clone()).collect()
}

fn search(kb: &Path, q: &str) -> String {
    ok(&edgekb(&[&"search", &kb, &q, &"--json"]))
}

/// Writes `jsonl` to `<dir>/<name>` and builds `<dir>/kb.ekb` from it.
fn build_from(dir: &Path, name: &str, jsonl: &str) -> PathBuf {
    let input = dir.join(name);
    std::fs::write(&input, jsonl).unwrap();
    let kb = dir.join("kb.ekb");
    ok(&edgekb(&[&"build", &input, &"--out", &kb]));
    kb
}

/// The first `n` lines of the fixture, as a file.
fn fixture_head(dir: &Path, n: usize) -> PathBuf {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let head: String = text.lines().take(n).map(|l| format!("{l}\n")).collect();
    let p = dir.join(format!("head{n}.jsonl"));
    std::fs::write(&p, head).unwrap();
    p
}

#[test]
fn a_killed_split_build_is_repaired_by_a_rerun() {
    let dir = scratch("repair");
    let kb = dir.join("kb");
    ok(&build_split(Path::new(FIXTURE), &kb));
    let expected = search(&kb, "strategy game");
    assert!(expected.contains("\"0ad\""), "{expected}");
    let m = manifest(&kb, "manifest.json");
    // What a build killed mid-write leaves: a truncated pack, a pack with wrong bytes, and a
    // temporary file.
    let postings = kb.join(&m.postings.name);
    let bytes = std::fs::read(&postings).unwrap();
    std::fs::write(&postings, &bytes[..bytes.len() / 2]).unwrap();
    let positions = kb.join(&m.positions.name);
    let mut bytes = std::fs::read(&positions).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&positions, &bytes).unwrap();
    std::fs::write(kb.join(format!(".{}.tmp-99999", m.store.name)), b"half").unwrap();
    // The damage is real: verify refuses the directory.
    fails(&edgekb(&[&"verify", &kb]));
    // A re-run rewrites what does not match, and says so.
    let out = build_split(Path::new(FIXTURE), &kb);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rewrote 2 damaged file(s)"), "{stderr}");
    ok(&edgekb(&[&"verify", &kb]));
    assert_eq!(search(&kb, "strategy game"), expected);
    assert_eq!(manifest(&kb, "manifest.json"), m);
    // The same manifest again: nothing to keep as the previous version.
    assert!(!kb.join("manifest.previous.json").exists());
    // gc removes the temporary file and nothing the manifest names.
    let gc = ok(&edgekb(&[&"gc", &kb]));
    assert!(gc.contains(".tmp-99999"), "{gc}");
    for name in files_of(&m) {
        assert!(kb.join(name).exists());
    }
    ok(&edgekb(&[&"verify", &kb]));
}

#[test]
fn a_new_version_keeps_the_previous_one_until_gc_drops_the_one_before() {
    let dir = scratch("gc");
    let kb = dir.join("kb");
    ok(&build_split(&fixture_head(&dir, 10), &kb));
    let v1 = manifest(&kb, "manifest.json");
    ok(&build_split(&fixture_head(&dir, 20), &kb));
    let v2 = manifest(&kb, "manifest.json");
    assert_ne!(v1, v2);
    assert_eq!(manifest(&kb, "manifest.previous.json"), v1);
    // A stray data file no manifest names (what a build of a next version killed before its
    // manifest leaves): the current version stays whole and searchable.
    std::fs::write(kb.join("postings.0123456789abcdef.bin"), b"stray").unwrap();
    std::fs::write(kb.join("notes.txt"), b"not ours").unwrap();
    ok(&edgekb(&[&"verify", &kb]));
    assert!(search(&kb, "strategy game").contains("\"0ad\""));
    let out = ok(&edgekb(&[&"gc", &kb]));
    assert!(
        out.contains("removed postings.0123456789abcdef.bin"),
        "{out}"
    );
    assert!(out.contains("removed 1 file(s)"), "{out}");
    assert!(kb.join("notes.txt").exists(), "gc touches only index files");
    // Both versions are whole: a reader holding v1 can still fetch every file it names.
    for m in [&v1, &v2] {
        for e in entries(m) {
            let bytes = std::fs::read(kb.join(&e.name)).unwrap();
            edgekb::split::check_file(e, &bytes).unwrap();
        }
    }
    // A third version: v2 becomes the previous one, and gc drops what only v1 used.
    ok(&build_split(Path::new(FIXTURE), &kb));
    let v3 = manifest(&kb, "manifest.json");
    assert_eq!(manifest(&kb, "manifest.previous.json"), v2);
    ok(&edgekb(&[&"gc", &kb]));
    let kept: Vec<String> = files_of(&v2).into_iter().chain(files_of(&v3)).collect();
    for name in files_of(&v1) {
        assert_eq!(kb.join(&name).exists(), kept.contains(&name), "{name}");
    }
    for name in &kept {
        assert!(kb.join(name).exists(), "{name}");
    }
    assert!(search(&kb, "strategy game").contains("\"0ad\""));
    ok(&edgekb(&[&"verify", &kb]));
    // The dictionary's alias survives gc and is the current version's dictionary.
    let alias = std::fs::read(kb.join(edgekb::split::DICTIONARY_ALIAS)).unwrap();
    edgekb::split::check_file(&v3.dictionary, &alias).unwrap();
}

#[test]
fn gc_refuses_a_directory_without_a_manifest() {
    let dir = scratch("gc-empty");
    std::fs::write(dir.join("postings.0123456789abcdef.bin"), b"x").unwrap();
    let err = fails(&edgekb(&[&"gc", &dir]));
    assert!(err.contains("no manifest.json"), "{err}");
    assert!(dir.join("postings.0123456789abcdef.bin").exists());
}

#[test]
fn a_single_file_is_replaced_by_rename_never_written_in_place() {
    // A reader holding the old file (open, or mapped) must keep reading the old bytes, and a
    // build killed at any point must leave the old file whole. Both hold exactly when the new
    // index goes to another file renamed over the old one: a second link to the old file (the
    // same inode) then keeps the old bytes. A build writing in place changes them.
    let dir = scratch("single");
    let kb = dir.join("kb.ekb");
    ok(&edgekb(&[&"build", &fixture_head(&dir, 5), &"--out", &kb]));
    let old = std::fs::read(&kb).unwrap();
    let held = dir.join("held-by-a-reader.ekb");
    std::fs::hard_link(&kb, &held).unwrap();
    ok(&edgekb(&[&"build", &FIXTURE, &"--out", &kb]));
    assert_eq!(
        std::fs::read(&held).unwrap(),
        old,
        "the old file was written in place"
    );
    assert_ne!(std::fs::read(&kb).unwrap(), old);
    assert!(search(&kb, "strategy game").contains("\"0ad\""));
    // A failing build (bad input) leaves the index as it was, and no temporary file.
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"id\":\"a\",\"title\":\"x\"}\nnot json\n").unwrap();
    let now = std::fs::read(&kb).unwrap();
    let err = fails(&edgekb(&[&"build", &bad, &"--out", &kb]));
    assert!(err.contains("bad.jsonl:2"), "{err}");
    assert_eq!(std::fs::read(&kb).unwrap(), now);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
}

/// Flips one byte in the middle of a pack's data and puts the file's new size and SHA-256 in
/// the manifest, as a host that recomputes hashes would: the manifest check passes, the page
/// CRC does not.
fn damage_pack_with_recomputed_sha(kb: &Path, kind: &str) {
    let mut m = manifest(kb, "manifest.json");
    let entry = match kind {
        "postings" => &mut m.postings,
        "positions" => &mut m.positions,
        "store" => &mut m.store,
        "terms" => &mut m.terms,
        _ => &mut m.display,
    };
    let path = kb.join(&entry.name);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = 16 + (bytes.len() - 16) / 2;
    bytes[at] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    entry.sha256 = sha256_hex(&bytes);
    std::fs::write(kb.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
}

#[test]
fn verify_checks_every_page_crc_of_a_split_index() {
    for what in ["postings", "positions", "store", "terms", "display"] {
        let dir = scratch(&format!("verify-{what}"));
        let kb = dir.join("kb");
        ok(&build_split(Path::new(FIXTURE), &kb));
        let out = ok(&edgekb(&[&"verify", &kb]));
        assert!(out.contains(": ok (split"), "{out}");
        damage_pack_with_recomputed_sha(&kb, what);
        let err = fails(&edgekb(&[&"verify", &kb]));
        assert!(err.contains("verify failed"), "{what}: {err}");
        assert!(err.contains(&format!("{what}.")), "{what}: {err}");
        assert!(
            err.contains("page") && err.contains("CRC32"),
            "{what}: {err}"
        );
    }
}

#[test]
fn verify_checks_a_single_file_too() {
    let dir = scratch("verify-single");
    let kb = dir.join("kb.ekb");
    ok(&edgekb(&[&"build", &FIXTURE, &"--out", &kb]));
    let out = ok(&edgekb(&[&"verify", &kb]));
    assert!(out.contains("documents)"), "{out}");
    let mut bytes = std::fs::read(&kb).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x55;
    std::fs::write(&kb, &bytes).unwrap();
    let err = fails(&edgekb(&[&"verify", &kb]));
    assert!(err.contains("verify failed"), "{err}");
}

#[test]
fn verify_decompresses_within_the_search_budget() {
    // One document of 9.4 MB: its store chunk decompresses past the 8 MiB a search allows.
    let dir = scratch("verify-budget");
    let big = serde_json::json!({"id": "big", "title": "big", "body": "a ".repeat(4_700_000)});
    let kb = build_from(&dir, "big.jsonl", &format!("{big}\n"));
    let err = fails(&edgekb(&[&"verify", &kb]));
    assert!(err.contains("verify failed"), "{err}");
    assert!(err.contains("budget of 8388608"), "{err}");
}

#[test]
fn invalid_utf8_names_its_file_and_line() {
    let dir = scratch("utf8");
    let input = dir.join("latin1.jsonl");
    std::fs::write(
        &input,
        b"{\"id\":\"a\",\"title\":\"fine\"}\n{\"id\":\"b\",\"title\":\"caf\xe9\"}\n",
    )
    .unwrap();
    let err = fails(&edgekb(&[&"build", &input, &"--out", &dir.join("kb.ekb")]));
    assert!(err.contains("latin1.jsonl:2"), "{err}");
    assert!(err.contains("not valid UTF-8"), "{err}");
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let kb = build_from(
        &scratch("bom"),
        "bom.jsonl",
        "\u{feff}{\"id\":\"a\",\"title\":\"zebra crossing\"}\r\n{\"id\":\"b\",\"title\":\"okapi\"}\r\n",
    );
    assert!(search(&kb, "zebra").contains("\"a\""));
    assert!(search(&kb, "okapi").contains("\"b\""));
}

#[test]
fn an_output_that_is_the_input_is_refused() {
    let dir = scratch("out-is-input");
    let input = fixture_head(&dir, 3);
    let before = std::fs::read(&input).unwrap();
    // Also through another spelling of the same path.
    let again = dir.join(".").join(input.file_name().unwrap());
    for out in [&input, &again] {
        let err = fails(&edgekb(&[&"build", &input, &"--out", out]));
        assert!(err.contains("overwrite its own source"), "{err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // An input inside the split directory being written is refused as well.
    let kb = dir.join("kb");
    std::fs::create_dir(&kb).unwrap();
    let inside = kb.join("docs.jsonl");
    std::fs::copy(&input, &inside).unwrap();
    let err = fails(&edgekb(&[&"build", &inside, &"--out", &kb, &"--split"]));
    assert!(err.contains("overwrite its own source"), "{err}");
}

#[test]
fn an_output_of_the_other_kind_is_explained() {
    let dir = scratch("out-kind");
    let input = fixture_head(&dir, 3);
    // A small index goes to one file; a directory there (an earlier split build) is explained.
    let kb = dir.join("kb");
    ok(&build_split(&input, &kb));
    let err = fails(&edgekb(&[&"build", &input, &"--out", &kb]));
    assert!(err.contains("is a directory"), "{err}");
    assert!(err.contains("16 MB threshold"), "{err}");
    assert!(err.contains("--split"), "{err}");
    assert!(
        !err.contains("File exists") && !err.contains("os error"),
        "{err}"
    );
    // --split over an earlier single file is explained too.
    let file = dir.join("kb.ekb");
    ok(&edgekb(&[&"build", &input, &"--out", &file]));
    let err = fails(&edgekb(&[&"build", &input, &"--out", &file, &"--split"]));
    assert!(err.contains("is a file"), "{err}");
    assert!(err.contains("--single"), "{err}");
    assert!(!err.contains("File exists"), "{err}");
}

#[test]
fn terminal_escapes_in_titles_are_shown_escaped_in_text_output() {
    let kb = build_from(
        &scratch("escapes"),
        "esc.jsonl",
        "{\"id\":\"e\\u001b]0;pwned\\u0007\",\"title\":\"\\u001b[2J\\u001b[31m zebra \\u009b1m\"}\n",
    );
    let text = ok(&edgekb(&[&"search", &kb, &"zebra"]));
    assert!(text.contains("1 results"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}[31m zebra \\u{9b}1m"), "{text}");
    assert!(text.contains("e\\u{1b}]0;pwned\\u{7}"), "{text}");
    // JSON escapes them itself, and keeps the exact value.
    let json = search(&kb, "zebra");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["hits"][0]["title"], "\u{1b}[2J\u{1b}[31m zebra \u{9b}1m");
}

#[test]
fn out_of_range_bm25_parameters_are_refused_at_config_load() {
    let dir = scratch("bm25");
    let input = fixture_head(&dir, 3);
    for (config, expect) in [
        ("k1 = 1e38", "k1 = 1e38 is out of range"),
        ("k1 = nan", "k1 = NaN is out of range"),
        ("k1 = inf", "k1 = inf is out of range"),
        ("k1 = -0.5", "k1 = -0.5 is out of range"),
        ("b = 1.5", "b = 1.5 is out of range"),
        ("b = -inf", "b = -inf is out of range"),
        (
            "[[fields]]\nname = \"title\"\nindexed = true\nweight = 1e30",
            "has weight 1e30",
        ),
    ] {
        let cfg = dir.join("edgekb.toml");
        std::fs::write(&cfg, config).unwrap();
        let err = fails(&edgekb(&[
            &"build",
            &input,
            &"--out",
            &dir.join("kb.ekb"),
            &"--config",
            &cfg,
        ]));
        assert!(err.contains(expect), "{config}: {err}");
        assert!(err.contains("edgekb.toml"), "{err}");
    }
    // The edges of the ranges are accepted and score finitely.
    std::fs::write(dir.join("edgekb.toml"), "k1 = 100\nb = 1").unwrap();
    let kb = dir.join("kb.ekb");
    ok(&edgekb(&[
        &"build",
        &input,
        &"--out",
        &kb,
        &"--config",
        &dir.join("edgekb.toml"),
    ]));
    let v: serde_json::Value = serde_json::from_str(&search(&kb, "strategy")).unwrap();
    assert!(v["hits"][0]["score"].as_f64().unwrap().is_finite(), "{v}");
}

/// `search --stats`: what a query cost on the wire, counted by the loader of a split index.
#[test]
fn search_stats_report_requests_bytes_and_round_trips() {
    let dir = scratch("stats");
    let kb = dir.join("kb");
    ok(&build_split(Path::new(FIXTURE), &kb));
    // A cold query on the cut dictionary with display data in its pack: the word's dictionary
    // part, its postings, then its hit's display chunk; each a round of its own.
    let v: serde_json::Value = serde_json::from_str(&ok(&edgekb(&[
        &"search", &kb, &"tmux ", &"--json", &"--stats",
    ])))
    .unwrap();
    assert_eq!(v["hits"][0]["id"], "tmux");
    assert_eq!(v["wire"]["requests"], 3, "{v}");
    assert_eq!(v["wire"]["roundTrips"], 3, "{v}");
    let bytes = v["wire"]["bytes"].as_u64().unwrap();
    let m = manifest(&kb, "manifest.json");
    assert!(bytes > 0 && bytes < m.terms.size + m.postings.size + m.display.size);
    // Without --json, two lines for people, the same figures.
    let text = ok(&edgekb(&[&"search", &kb, &"tmux ", &"--stats"]));
    assert!(
        text.contains(&format!(
            "wire, query: 3 requests, {bytes} bytes, 3 round trips"
        )),
        "{text}"
    );
    assert!(text.contains("wire, opening: 1 request,"), "{text}");
    // Over a query file, a `wire` object per answer and the mean on stderr; the second
    // asking of a query costs nothing.
    let queries = dir.join("q.tsv");
    std::fs::write(&queries, "a\ttmux \nb\ttmux \n").unwrap();
    let out = edgekb(&[&"search", &kb, &"--queries", &queries, &"--stats"]);
    let lines: Vec<serde_json::Value> = ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["wire"]["requests"], 3);
    assert_eq!(lines[1]["wire"]["requests"], 0);
    assert_eq!(lines[1]["wire"]["roundTrips"], 0);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("wire, per query: 1.50 requests,"), "{err}");
    assert!(err.contains("1.50 round trips over 2 queries"), "{err}");
    // A single file is read whole: said so, no counts invented.
    let single = dir.join("kb.ekb");
    ok(&edgekb(&[&"build", &FIXTURE, &"--out", &single]));
    let text = ok(&edgekb(&[&"search", &single, &"tmux ", &"--stats"]));
    assert!(text.contains("single-file index is read whole"), "{text}");
}

#[test]
fn verify_warns_when_dictionary_bin_would_cost_a_round_trip() {
    let dir = scratch("alias");
    let kb = dir.join("kb");
    ok(&build_split(Path::new(FIXTURE), &kb));
    let alias = kb.join(edgekb::split::DICTIONARY_ALIAS);
    let current = std::fs::read(&alias).unwrap();
    // What dictionary.bin holds → the warning `verify` gives (it passes in every case: the
    // index is whole, only opening it takes a second round trip).
    let mut other = current.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    let cases: [(Option<&[u8]>, Option<&str>); 5] = [
        (Some(&current), None),
        (None, Some("dictionary.bin is missing")),
        (
            Some(&other),
            Some("is not the dictionary the manifest names"),
        ),
        (
            Some(&current[..last]),
            Some("is not the dictionary the manifest names"),
        ),
        (Some(b""), Some("is not the dictionary the manifest names")),
    ];
    for (holds, warning) in cases {
        let _ = std::fs::remove_file(&alias);
        if let Some(bytes) = holds {
            std::fs::write(&alias, bytes).unwrap();
        }
        let out = edgekb(&[&"verify", &kb]);
        let stdout = ok(&out);
        assert!(stdout.contains(": ok (split"), "{stdout}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        match warning {
            None => assert!(!stderr.contains("warning"), "{stderr}"),
            Some(w) => {
                assert!(stderr.contains("warning") && stderr.contains(w), "{stderr}");
                assert!(stderr.contains("instead of one request"), "{stderr}");
            }
        }
    }
}
