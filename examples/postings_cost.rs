//! Measured, not built (BENCHMARKS.md, session 18): what a single-file index's postings blocks
//! would weigh in other encodings of the same values (issue #14's searchable size). Reads every
//! term's postings, re-encodes each block in memory and prints each encoding's bytes, raw and
//! gzip -9 of the whole stream (what a pack would weigh); skip tables and impact bytes are
//! counted alike in every encoding.
//!
//!     cargo run --release --example postings_cost -- target/bench/debian.ekb
//!
//! Encodings of a block's three columns (document gaps, field masks − 1, frequencies − 1):
//! - `now`: the format's own, a width byte and the values bit-packed, per column;
//! - `one stream`: the same widths in a 2-byte header, the columns in one bit stream;
//! - `pfor`: gaps and frequencies packed at the width that minimizes the block's bits, the
//!   values above it as exceptions (index and high bits); masks as the block's most common mask
//!   plus one flag bit per document and the others packed;
//! - `rice`: gaps Rice-coded with the block's best parameter, masks packed, frequencies
//!   Elias-gamma (slower to decode: a bit at a time).
use edgekb::raw::SectionKind;
use fst::Streamer;
mod common;
use common::gzip;

const BLOCK: usize = 128;

/// A little-endian bit writer.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, v: u32, width: u32) {
        self.acc |= (v as u64) << self.n;
        self.n += width;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn align(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            (self.acc, self.n) = (0, 0);
        }
    }

    fn bytes(&mut self, n: usize) {
        self.align();
        self.out.extend(std::iter::repeat_n(0u8, n));
    }
}

fn width(v: u32) -> u32 {
    32 - v.leading_zeros()
}

fn max_width(values: &[u32]) -> u32 {
    values.iter().map(|&v| width(v)).max().unwrap_or(0)
}

/// The format's block: per column a width byte, then the values packed.
fn now(out: &mut Bits, cols: [&[u32]; 3]) {
    for col in cols {
        let w = max_width(col);
        out.put(w, 8);
        col.iter().for_each(|&v| out.put(v, w));
        out.align();
    }
}

fn one_stream(out: &mut Bits, cols: [&[u32]; 3]) {
    let ws = cols.map(max_width);
    out.put(ws[0], 6);
    out.put(ws[1], 4);
    out.put(ws[2], 6);
    for (col, w) in cols.iter().zip(ws) {
        col.iter().for_each(|&v| out.put(v, w));
    }
    out.align();
}

/// Values at the base width that minimizes the block's bits, exceptions after them.
fn pfor_column(out: &mut Bits, values: &[u32]) {
    let wmax = max_width(values);
    let cost = |b: u32| {
        let exceptions = values.iter().filter(|&&v| width(v) > b).count() as u32;
        values.len() as u32 * b + exceptions * (7 + wmax - b)
    };
    let b = (0..=wmax).min_by_key(|&b| cost(b)).unwrap_or(0);
    out.put(wmax, 6);
    out.put(b, 6);
    let exceptions: Vec<usize> = (0..values.len())
        .filter(|&i| width(values[i]) > b)
        .collect();
    if b < wmax {
        out.put(exceptions.len() as u32, 8);
    }
    values
        .iter()
        .for_each(|&v| out.put(v & ((1u64 << b) - 1) as u32, b));
    for &i in &exceptions {
        out.put(i as u32, 7);
        out.put(values[i] >> b, wmax - b);
    }
}

fn pfor(out: &mut Bits, [gaps, masks, tfs]: [&[u32]; 3]) {
    pfor_column(out, gaps);
    let mut count = [0u32; 16];
    masks.iter().for_each(|&m| count[m as usize] += 1);
    let common = (0..16).max_by_key(|&m| count[m]).unwrap() as u32;
    out.put(common, 4);
    if count[common as usize] as usize != masks.len() {
        let w = max_width(masks);
        out.put(w, 4);
        masks.iter().for_each(|&m| out.put((m != common) as u32, 1));
        masks
            .iter()
            .filter(|&&m| m != common)
            .for_each(|&m| out.put(m, w));
    }
    pfor_column(out, tfs);
    out.align();
}

fn rice(out: &mut Bits, [gaps, masks, tfs]: [&[u32]; 3]) {
    let cost = |k: u32| -> u64 { gaps.iter().map(|&g| (g >> k) as u64 + 1 + k as u64).sum() };
    let k = (0..=24u32).min_by_key(|&k| cost(k)).unwrap();
    out.put(k, 5);
    for &g in gaps {
        (0..g >> k).for_each(|_| out.put(1, 1));
        out.put(0, 1);
        out.put(g & ((1u64 << k) - 1) as u32, k);
    }
    let w = max_width(masks);
    out.put(w, 4);
    masks.iter().for_each(|&m| out.put(m, w));
    for &t in tfs {
        let w = width(t + 1);
        out.put(0, w - 1);
        out.put(t + 1, w);
    }
    out.align();
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: postings_cost <index.ekb>");
    let bytes = std::fs::read(&path).unwrap();
    let index = edgekb::Index::open(bytes.as_slice()).unwrap();
    let section = index.section_bytes(SectionKind::Postings);
    type Encode = fn(&mut Bits, [&[u32]; 3]);
    let encodings: [(&str, Encode); 4] = [
        ("now", now),
        ("one stream", one_stream),
        ("pfor", pfor),
        ("rice", rice),
    ];
    let mut outs: Vec<Bits> = encodings.iter().map(|_| Bits::default()).collect();
    let (mut terms, mut stored, mut names, mut positions) = (0u64, 0u64, 0u64, 0u64);
    // Bits of the three columns as the format packs them; the masks' entropy within blocks.
    let (mut packed, mut mask_entropy) = ([0u64; 3], 0f64);
    let mut stream = index.terms().stream();
    while let Some((_, ord)) = stream.next() {
        terms += 1;
        let info = index.term_info(ord).unwrap();
        stored += info.postings.end - info.postings.start;
        names += info.names_postings.end - info.names_postings.start;
        positions += info.positions.end - info.positions.start;
        let list = index.postings(&info).unwrap();
        let blocks = list.len().div_ceil(BLOCK);
        // The skip table and impact bytes, as they are.
        let table = if blocks > 1 { blocks * 9 } else { 0 };
        outs.iter_mut().for_each(|o| o.bytes(table));
        let mut prev: i64 = -1;
        for k in 0..blocks {
            let r = k * BLOCK..((k + 1) * BLOCK).min(list.len());
            let gaps: Vec<u32> = list.docs[r.clone()]
                .iter()
                .map(|&d| {
                    let g = (d as i64 - prev - 1) as u32;
                    prev = d as i64;
                    g
                })
                .collect();
            let masks: Vec<u32> = list.masks[r.clone()]
                .iter()
                .map(|&m| m as u32 - 1)
                .collect();
            let tfs: Vec<u32> = list.tfs
                [list.tf_start[r.start] as usize..list.tf_start[r.end] as usize]
                .iter()
                .map(|&t| t - 1)
                .collect();
            for (bits, col) in packed.iter_mut().zip([&gaps, &masks, &tfs]) {
                *bits += (col.len() as u32 * max_width(col)) as u64;
            }
            let mut count = [0u32; 16];
            masks.iter().for_each(|&m| count[m as usize] += 1);
            let n = masks.len() as f64;
            mask_entropy += count
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| -(c as f64) * (c as f64 / n).log2())
                .sum::<f64>();
            for ((_, encode), out) in encodings.iter().zip(&mut outs) {
                encode(out, [&gaps, &masks, &tfs]);
            }
        }
    }
    println!(
        "{path}: {terms} terms; postings {stored} B, name-field postings {names} B, positions {positions} B"
    );
    println!(
        "columns as packed: gaps {} B, masks {} B (their entropy within a block {:.0} B), frequencies {} B",
        packed[0] / 8,
        packed[1] / 8,
        mask_entropy / 8.0,
        packed[2] / 8
    );
    let section_gzip = gzip(section);
    println!(
        "the POSTINGS section as stored: {} B, gzip {section_gzip}",
        section.len()
    );
    for ((name, _), out) in encodings.iter().zip(&outs) {
        println!(
            "{name:>10}: {} B, gzip {} (name-field postings not included)",
            out.out.len(),
            gzip(&out.out)
        );
    }
}
