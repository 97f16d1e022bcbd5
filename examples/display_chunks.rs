//! What the hit-display store would weigh with other chunk sizes and preset dictionaries: the
//! index's display records, regrouped into chunks of each target size and compressed by the
//! store's LZ4 writer against a dictionary of each size (learnt from the records by the
//! document store's trainer; 0: none), with how many chunks straddle a 4 KiB page (a hit whose
//! chunk straddles reads two pages) and the raw bytes decoded to show one record (its chunk up
//! to its end, on average over the records).
//!
//!     cargo run --release --example display_chunks -- <index.ekb>
use edgekb::raw::{lz4_compress_with, train_preset, Codec, SectionKind, StoreReader};
use edgekb::Index;

/// Bytes of a page of a split index's packs.
const PAGE: usize = 4096;

fn varint(b: &[u8], at: &mut usize) -> usize {
    let (mut v, mut shift) = (0usize, 0);
    loop {
        let x = b[*at];
        *at += 1;
        v |= ((x & 127) as usize) << shift;
        if x < 128 {
            return v;
        }
        shift += 7;
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: display_chunks <index.ekb>");
    let index = Index::open(std::fs::read(path).unwrap()).unwrap();
    let table =
        StoreReader::open(index.section_bytes(SectionKind::Display), index.version()).unwrap();
    // Every record, with its length prefix, as the writer appends it.
    let mut records: Vec<Vec<u8>> = Vec::new();
    for i in 0..table.chunk_count() {
        let raw = table.load_chunk(i, 1 << 20, Codec::Lz4).unwrap();
        let mut at = 0;
        while at < raw.len() {
            let start = at;
            at += varint(&raw, &mut at);
            records.push(raw[start..at].to_vec());
        }
    }
    let raw: usize = records.iter().map(Vec::len).sum();
    println!("{} records, {raw} bytes", records.len());
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let dicts: Vec<Vec<u8>> = [0, 4096, 8192, 16384]
        .iter()
        .map(|&size| train_preset(&refs, size))
        .collect();
    println!("| chunk target | dictionary | chunks | compressed bytes | chunks straddling a page | pages per record | raw bytes decoded per record |");
    println!("|---|---|---|---|---|---|---|");
    for target in [2048, 4096, 8192] {
        for dict in &dicts {
            // (raw bytes, records) of each chunk.
            let (mut chunk, mut n, mut chunks) = (Vec::new(), 0, Vec::new());
            for r in &records {
                chunk.extend_from_slice(r);
                n += 1;
                if chunk.len() >= target {
                    chunks.push((std::mem::take(&mut chunk), n));
                    n = 0;
                }
            }
            if !chunk.is_empty() {
                chunks.push((chunk, n));
            }
            let (mut offset, mut straddle, mut pages, mut decoded) =
                (0usize, 0usize, 0usize, 0usize);
            for (c, n) in &chunks {
                let z = lz4_compress_with(dict, c).len();
                let (first, last) = (offset / PAGE, (offset + z - 1) / PAGE);
                straddle += (first != last) as usize;
                // A hit on any of the chunk's records reads its pages.
                pages += n * (last - first + 1);
                offset += z;
                // Showing the k-th record decodes the chunk up to its end.
                let mut at = 0;
                while at < c.len() {
                    at += varint(c, &mut at);
                    decoded += at;
                }
            }
            println!(
                "| {target} | {} | {} | {offset} | {straddle} | {:.2} | {:.0} |",
                dict.len(),
                chunks.len(),
                pages as f64 / records.len() as f64,
                decoded as f64 / records.len() as f64
            );
        }
    }
}
