//! How fast the hit-display store's chunks decode (`edgekb::raw::lz4_until`, the reader every
//! query's hits go through): every chunk of an index decoded whole, then each only as far as
//! its first 2 KiB (a hit early in its chunk), 20 passes each, five rounds.
//!
//!     cargo run --release --example display_decode -- <index.ekb>
use edgekb::raw::{lz4_until, SectionKind, StoreReader};
use std::time::Instant;

/// Passes over every chunk per measurement.
const PASSES: usize = 20;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: display_decode <index.ekb>");
    let bytes = std::fs::read(path).unwrap();
    let index = edgekb::Index::open(bytes.as_slice()).unwrap();
    let section = index.section_bytes(SectionKind::Display);
    let table = StoreReader::open(section, index.version()).unwrap();
    let base = table.table_len();
    let chunks: Vec<(&[u8], usize)> = (0..table.chunk_count())
        .map(|i| {
            let c = table.chunk(i).unwrap();
            let r = c.range();
            let at = base + r.start as usize..base + r.end as usize;
            (&section[at], c.raw_len as usize)
        })
        .collect();
    let raw: usize = chunks.iter().map(|c| c.1).sum();
    println!("{} chunks, {raw} bytes decoded", chunks.len());
    for round in 1..=5 {
        let t = Instant::now();
        for _ in 0..PASSES {
            for &(b, len) in &chunks {
                std::hint::black_box(lz4_until(b, len, &|_| false).unwrap());
            }
        }
        let whole = (PASSES * raw) as f64 / t.elapsed().as_secs_f64() / 1e6;
        let t = Instant::now();
        for _ in 0..PASSES {
            for &(b, len) in &chunks {
                std::hint::black_box(lz4_until(b, len, &|p| p.len() >= 2048).unwrap());
            }
        }
        let part = t.elapsed().as_secs_f64() * 1e6 / (PASSES * chunks.len()) as f64;
        println!("round {round}: whole chunks {whole:.0} MB/s; first 2 KiB {part:.2} µs a chunk");
    }
}
