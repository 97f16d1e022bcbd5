//! What opening a whole index costs in memory beyond its own bytes, and what its term
//! dictionary is made of, and (given a query file of JSON Lines `{"text": …}`) the peak while
//! those queries run with the browser bench's options (top 5, prefix and typos on):
//! `cargo run --release --example open_memory -- <index.ekb> [queries.jsonl]`.
//!
//! The heap is counted by a wrapper around the system allocator: the peak while the index
//! opens and is verified, and what stays allocated after. In wasm, memory never shrinks, so
//! the peak is what the page keeps (the bytes themselves are allocated before it is reset).
use fst::Streamer;

#[path = "../benches/common/counting.rs"]
mod counting;
use counting::{keep_peak, now, peak, reset_peak};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: open_memory <index.ekb>");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).expect("read the index");
    let len = bytes.len();
    let base = reset_peak();
    let index = edgekb::Index::open(bytes).expect("open");
    index.verify().expect("verify");
    let (most, kept) = (peak() - base, now() - base);
    println!("{path}: {len} bytes");
    println!("open + verify: heap peak {most} bytes above the file's, {kept} kept");

    // The dictionary: its keys, their longest, and its paths from the root (one per distinct
    // prefix of a key), which is what the open's check walks.
    let mut stream = index.terms().stream();
    let (mut keys, mut longest, mut paths) = (0usize, 0usize, 1usize);
    let mut previous: Vec<u8> = Vec::new();
    while let Some((k, _)) = stream.next() {
        let shared = previous.iter().zip(k).take_while(|(a, b)| a == b).count();
        paths += k.len() - shared;
        longest = longest.max(k.len());
        keys += 1;
        previous = k.to_vec();
    }
    let fst_bytes = index.terms().as_fst().as_bytes().len();
    println!(
        "term dictionary: {keys} keys (longest {longest} bytes), {paths} paths, {fst_bytes} bytes"
    );

    let Some(queries) = std::env::args().nth(2) else {
        return;
    };
    let text = std::fs::read_to_string(&queries).expect("read the queries");
    let queries: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["text"].as_str().expect("a text field").to_string()
        })
        .collect();
    let opts = edgekb::SearchOptions {
        limit: 5,
        ..Default::default()
    };
    let base = reset_peak();
    let mut each: Vec<(usize, &str)> = Vec::with_capacity(queries.len());
    for q in &queries {
        let before = peak();
        let at = reset_peak();
        let results = edgekb::Searcher::new(&index)
            .search(q, &opts)
            .expect("search");
        drop(results);
        each.push((peak() - at, q));
        keep_peak(before);
    }
    println!(
        "{} queries: heap peak {} bytes above the opened index's",
        queries.len(),
        peak() - base
    );
    each.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let at = |q: f64| each[((each.len() - 1) as f64 * (1.0 - q)).round() as usize].0;
    if !each.is_empty() {
        println!(
            "per query: p50 {} B, p90 {} B, p99 {} B; the worst:",
            at(0.5),
            at(0.9),
            at(0.99)
        );
        for (bytes, q) in each.iter().take(10) {
            println!("  {bytes:>9} B  {q:?}");
        }
    }
}
