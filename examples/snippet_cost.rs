//! What snippets cost on a split index: for queries drawn from the documents' titles, each run
//! through the lazy `Query` machine on an in-memory copy of the split directory (counting
//! rounds, requests and bytes), without and with snippets of the top 10 hits.
//!
//!     edgekb build docs.jsonl --out /tmp/kb --split
//!     cargo run --release --example snippet_cost -- /tmp/kb docs.jsonl [queries]
//!
//! Cold data: a fresh cache per query (the dictionary, opened once, stays warm), so every
//! phase fetches. Warm: the same query again with its plain answer's pages cached, so what
//! snippets add alone shows. Latency: everything cached, CPU time only.
use std::io::BufRead;
use std::time::Instant;

use std::sync::Arc;

use edgekb::lazy::{LazyIndex, MemoryLoader, PageStore, Query, Version};

mod common;
use edgekb::{SearchOptions, SearchResults};

/// Runs one query; returns its answer, rounds, requests and bytes.
fn run(
    version: &Arc<Version>,
    store: &mut PageStore,
    loader: &mut MemoryLoader,
    q: &str,
    o: SearchOptions,
) -> (SearchResults, u64, u64, u64) {
    common::run(Query::new(version.clone(), q, o), store, loader)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&args[1]);
    let mut loader = common::load_dir(dir);
    let n: usize = args.get(3).map_or(500, |s| s.parse().unwrap());
    let titles: Vec<String> = std::io::BufReader::new(std::fs::File::open(&args[2]).unwrap())
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.ok()?).ok()?;
            v["title"].as_str().map(str::to_string)
        })
        .collect();
    let mut rng = common::Rng(0x5eed_5eed_1234_5678);
    let mut queries = Vec::new();
    while queries.len() < n {
        let title = &titles[rng.below(titles.len())];
        queries.extend(common::title_query(&mut rng, title));
    }
    let plain = SearchOptions {
        limit: 10,
        ..Default::default()
    };
    let snip = SearchOptions {
        snippets: Some(160),
        ..plain
    };
    let lazy = LazyIndex::open(&mut loader, 32 << 20).unwrap();
    let version = lazy.version();
    let mut store = PageStore::new(32 << 20);
    // Cold data, a fresh cache per query.
    let mut cold = [[0u64; 3]; 2];
    let mut hits = 0usize;
    for q in &queries {
        for (i, o) in [plain, snip].into_iter().enumerate() {
            let mut fresh = PageStore::new(32 << 20);
            let (r, rounds, req, bytes) = run(&version, &mut fresh, &mut loader, q, o);
            cold[i][0] += rounds;
            cold[i][1] += req;
            cold[i][2] += bytes;
            if i == 1 {
                hits += r.hits.len();
            }
        }
    }
    // Warm: plain first, then with snippets (what snippets add alone).
    let mut warm = [0u64; 3];
    for q in &queries {
        run(&version, &mut store, &mut loader, q, plain);
        let (_, rounds, req, bytes) = run(&version, &mut store, &mut loader, q, snip);
        warm[0] += rounds;
        warm[1] += req;
        warm[2] += bytes;
    }
    // Latency, everything cached.
    let mut lat = [Vec::new(), Vec::new()];
    for _ in 0..3 {
        for q in &queries {
            for (i, o) in [plain, snip].into_iter().enumerate() {
                let t = Instant::now();
                let (_, _, req, _) = run(&version, &mut store, &mut loader, q, o);
                lat[i].push(t.elapsed().as_secs_f64() * 1e3);
                assert_eq!(req, 0, "cached");
            }
        }
    }
    let nq = queries.len() as f64;
    println!(
        "{} queries (top 10), {:.2} hits per query",
        queries.len(),
        hits as f64 / nq
    );
    for (i, label) in ["plain", "snippets"].iter().enumerate() {
        println!(
            "cold data, {label}: {:.2} rounds, {:.2} requests, {:.0} bytes per query",
            cold[i][0] as f64 / nq,
            cold[i][1] as f64 / nq,
            cold[i][2] as f64 / nq
        );
    }
    println!(
        "warm (plain answer cached), snippets add: {:.2} rounds, {:.2} requests, {:.0} bytes per query",
        warm[0] as f64 / nq,
        warm[1] as f64 / nq,
        warm[2] as f64 / nq
    );
    for (i, label) in ["plain", "snippets"].iter().enumerate() {
        let v = &mut lat[i];
        println!(
            "latency all cached, {label}: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms",
            common::pct(v, 0.5),
            common::pct(v, 0.9),
            common::pct(v, 0.99)
        );
    }
}
