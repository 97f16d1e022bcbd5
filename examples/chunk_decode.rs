//! How fast the two stores' chunks decode: the hit-display store's LZ4 chunks
//! (`edgekb::raw::lz4_until`, every query's hits) and the document store's deflate chunks
//! against its preset dictionary (`edgekb::raw::inflate_with`, snippets and whole documents).
//! Every chunk decoded whole, 20 passes a round, five rounds; for the hit display, also each
//! chunk only as far as its first 2 KiB (a hit early in its chunk).
//!
//!     cargo run --release --example chunk_decode -- <index.ekb>
use edgekb::raw::{inflate_with, lz4_until, SectionKind, StoreReader};
use std::time::Instant;

/// Passes over every chunk per measurement.
const PASSES: usize = 20;

/// A store section's chunks (compressed bytes, raw length) and its preset dictionary.
fn chunks(section: &[u8], version: u32) -> (Vec<(&[u8], usize)>, &[u8]) {
    let table = StoreReader::open(section, version).unwrap();
    let base = table.table_len();
    let at = |r: std::ops::Range<u64>| &section[base + r.start as usize..base + r.end as usize];
    let chunks = (0..table.chunk_count())
        .map(|i| {
            let c = table.chunk(i).unwrap();
            (at(c.range()), c.raw_len as usize)
        })
        .collect();
    (chunks, at(table.preset().unwrap()))
}

/// Megabytes of output a second, decoding every chunk `PASSES` times with `decode`.
fn rate(chunks: &[(&[u8], usize)], decode: impl Fn(&[u8], usize) -> usize) -> f64 {
    let t = Instant::now();
    let mut out = 0;
    for _ in 0..PASSES {
        for &(bytes, len) in chunks {
            out += std::hint::black_box(decode(bytes, len));
        }
    }
    out as f64 / t.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: chunk_decode <index.ekb>");
    let bytes = std::fs::read(path).unwrap();
    let index = edgekb::Index::open(bytes.as_slice()).unwrap();
    let v = index.version();
    let (display, _) = chunks(index.section_bytes(SectionKind::Display), v);
    let (store, dict) = chunks(index.section_bytes(SectionKind::Store), v);
    println!(
        "hit display: {} LZ4 chunks; document store: {} deflate chunks, a {} B dictionary",
        display.len(),
        store.len(),
        dict.len()
    );
    for round in 1..=5 {
        let whole = rate(&display, |b, len| {
            lz4_until(b, len, &|_| false).unwrap().len()
        });
        let t = Instant::now();
        for _ in 0..PASSES {
            for &(b, len) in &display {
                std::hint::black_box(lz4_until(b, len, &|p| p.len() >= 2048).unwrap());
            }
        }
        let part = t.elapsed().as_secs_f64() * 1e6 / (PASSES * display.len()) as f64;
        let inflated = rate(&store, |b, len| inflate_with(dict, b, len).unwrap().len());
        println!(
            "round {round}: hit display {whole:.0} MB/s whole, {part:.2} µs to 2 KiB; \
             document store {inflated:.0} MB/s"
        );
    }
}
