//! Damaged index bytes give typed errors, never a panic: every truncation point and many byte
//! flips of the fixture are opened (without `verify`, the way a careless caller would) and
//! searched; the inputs the fuzzers found are replayed.

use std::path::PathBuf;

use edgekb::{Index, SearchOptions, Searcher};

const QUERIES: &[&str] = &[
    "strategy game",
    "\"real time strategy\"",
    "stra",
    "stratgy",
    "title:git",
    "-vim editor",
    "東京",
    "compr",
];

fn exercise(bytes: Vec<u8>) {
    let Ok(index) = Index::open(bytes) else {
        return;
    };
    let _ = index.verify();
    for q in QUERIES {
        let _ = Searcher::new(&index).search(q, &SearchOptions::default());
    }
    for doc in 0..index.doc_count().min(60) {
        let _ = index.doc(doc, 1 << 20);
    }
}

/// The committed fixture of every format version, and format 11's with a preset dictionary.
fn fixtures() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    (edgekb::OLDEST_SUPPORTED_FORMAT_VERSION..=edgekb::FORMAT_VERSION)
        .map(|v| std::fs::read(root.join(format!("tests/compat/v{v}/fixture.ekb"))).unwrap())
        .chain([std::fs::read(root.join("tests/compat/v11/preset.ekb")).unwrap()])
        .collect()
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for bytes in fixtures() {
        truncations(bytes);
    }
}

fn truncations(bytes: Vec<u8>) {
    for len in (0..bytes.len()).step_by(37).chain([bytes.len() - 1]) {
        let cut = bytes[..len].to_vec();
        assert!(
            Index::open(cut.clone()).and_then(|i| i.verify()).is_err(),
            "truncated to {len} bytes was accepted"
        );
        exercise(cut);
    }
}

#[test]
fn flipped_bytes_never_panic() {
    for bytes in fixtures() {
        flips(bytes);
    }
}

fn flips(bytes: Vec<u8>) {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..1500 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut b = bytes.clone();
        let pos = (seed % b.len() as u64) as usize;
        b[pos] ^= 1 << (seed >> 60 & 7);
        // A flip anywhere is caught by a checksum: open or verify must fail.
        let accepted = Index::open(b.clone()).and_then(|i| i.verify()).is_ok();
        assert!(!accepted, "flip at {pos} accepted");
        exercise(b);
    }
}

/// What the fuzzers found is replayed: never a panic.
#[test]
fn fuzzer_findings_stay_fixed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&dir).unwrap() {
        for f in std::fs::read_dir(target.unwrap().path()).unwrap() {
            exercise(std::fs::read(f.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no regression inputs under {}", dir.display());
}

/// Index files crafted with valid checksums around a malformed fst (which made the `fst` crate
/// panic before the walk at open) are refused as corrupt.
#[test]
fn crafted_dictionaries_are_refused_at_open() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/open_and_search");
    for name in ["fst-corrupt-node-fixture.ekb", "fst-corrupt-node-tiny.ekb"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        // The section checksums are right: only the walk can tell.
        match Index::open(bytes) {
            Err(e) => assert_eq!(e.code(), "Corrupt", "{name}: {e}"),
            Ok(_) => panic!("{name} was opened"),
        }
    }
}
