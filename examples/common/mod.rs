//! Shared by the examples that measure a split index held in memory, or what a pack would
//! weigh (not an example itself).
#![allow(dead_code)] // each example uses a part

use std::path::Path;

use edgekb::lazy::{drive, MemoryLoader, PageStore, Query, Retry};
use edgekb::SearchResults;

/// A small xorshift generator, seeded by the caller (the examples' draws are reproducible).
pub struct Rng(pub u64);

impl Rng {
    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A query a user might type for `title`: one or two adjacent words of it (letters and digits,
/// at least 3 characters, lower-cased) and a trailing space; `None` (and no draw) when the title
/// has no such word.
pub fn title_query(rng: &mut Rng, title: &str) -> Option<String> {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return None;
    }
    let k = 1 + rng.below(2.min(words.len()));
    let s = rng.below(words.len() - k + 1);
    Some(words[s..s + k].join(" ") + " ")
}

/// Every file of a split index directory, in the counting in-memory loader.
pub fn load_dir(dir: &Path) -> MemoryLoader {
    let mut loader = MemoryLoader::default();
    for e in std::fs::read_dir(dir).expect("a split index directory") {
        let e = e.expect("a directory entry");
        loader.files.insert(
            e.file_name().to_string_lossy().into_owned(),
            std::fs::read(e.path()).expect("a readable file"),
        );
    }
    loader
}

/// The `p` quantile (0–1) of `v` (sorted in place).
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Runs one query through the native driver; returns its answer and what it cost on the wire
/// (round trips, requests, bytes), as the core counts them for `--stats` and `kb.stats()`.
pub fn run(
    mut query: Query,
    store: &mut PageStore,
    loader: &mut MemoryLoader,
) -> (SearchResults, u64, u64, u64) {
    let results = drive(&mut query, store, loader, Retry::NONE).expect("the query runs");
    let w = store.last();
    (results, w.round_trips, w.requests, w.bytes)
}

/// Bytes of `data` gzipped at level 9 (what a pack would weigh on the wire).
pub fn gzip(data: &[u8]) -> usize {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap().len()
}
