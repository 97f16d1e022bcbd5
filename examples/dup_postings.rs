//! Measured, not built (BENCHMARKS.md, session 25): how much of a single-file index's postings
//! repeat another term's byte for byte, and what the postings would weigh with the repeats
//! stored once (issue #14's searchable size).
//!
//!     cargo run --release --example dup_postings -- target/bench/debian.ekb
//!
//! Prints the postings' bytes (raw and gzip -9), then two variants with some terms' postings
//! left out (their bytes written once, in ordinal order):
//! - every term whose postings (with its name-field postings) repeat an earlier term's;
//! - every written form (a term without positions, format 7) whose postings equal its stem's.
use edgekb::raw::SectionKind;
use fst::Streamer;
use std::collections::{HashMap, HashSet};
mod common;
use common::gzip;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: dup_postings <index.ekb>");
    let bytes = std::fs::read(&path).unwrap();
    let index = edgekb::Index::open(bytes.as_slice()).unwrap();
    let section = index.section_bytes(SectionKind::Postings);
    // Each term's key, postings range (its name-field postings included) and whether it is a
    // written form only.
    let mut terms = Vec::new();
    let mut range_of: HashMap<Vec<u8>, std::ops::Range<usize>> = HashMap::new();
    let mut stream = index.terms().stream();
    while let Some((key, ord)) = stream.next() {
        let info = index.term_info(ord).unwrap();
        let end = info.names_postings.end.max(info.postings.end);
        let range = info.postings.start as usize..end as usize;
        range_of.insert(key.to_vec(), range.clone());
        let form = info.positions.is_empty() && info.doc_freq > 0;
        terms.push((key.to_vec(), range, form));
    }
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let (mut repeats, mut as_stem, mut forms, mut form_bytes) = (0usize, 0usize, 0usize, 0usize);
    let (mut once, mut without_forms) = (Vec::new(), Vec::new());
    for (key, range, form) in &terms {
        let b = &section[range.clone()];
        if seen.insert(b) {
            once.extend_from_slice(b);
        } else {
            repeats += b.len();
        }
        let mut same = false;
        if *form {
            forms += 1;
            form_bytes += b.len();
            let stem = index.analyzer().stem(std::str::from_utf8(key).unwrap());
            same = range_of
                .get(stem.as_bytes())
                .is_some_and(|r| &section[r.clone()] == b);
        }
        if same {
            as_stem += b.len();
        } else {
            without_forms.extend_from_slice(b);
        }
    }
    println!(
        "postings: {} B, gzip {} B; {} written forms hold {} B",
        section.len(),
        gzip(section),
        forms,
        form_bytes
    );
    println!(
        "repeats of an earlier term's postings: {repeats} B; stored once: {} B, gzip {} B",
        once.len(),
        gzip(&once)
    );
    println!(
        "written forms equal to their stem's: {as_stem} B; left out: {} B, gzip {} B",
        without_forms.len(),
        gzip(&without_forms)
    );
}
