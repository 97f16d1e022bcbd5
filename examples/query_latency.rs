//! Times each query of a file on an index (best of `runs` after a warm-up pass), prints the
//! percentiles and the slowest queries with what the searcher did for them.
//!
//!     cargo run --release --example query_latency -- <index.ekb> <queries.jsonl> [runs] [slowest]
//!
//! The queries are JSON Lines with a `text` field (as `edgekb search --queries` reads them).
//! `ANY=1` ranks with OR; `AT=0.5` lists the queries around the median instead of the slowest.
use std::time::Instant;

use edgekb::{Index, SearchOptions, Searcher};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: query_latency <index.ekb> <queries.jsonl> [runs] [slowest]");
        std::process::exit(2);
    }
    let index = Index::open(std::fs::read(&args[1]).unwrap()).unwrap();
    let queries: Vec<String> = std::fs::read_to_string(&args[2])
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let runs: usize = args.get(3).map(|r| r.parse().unwrap()).unwrap_or(3);
    let show: usize = args.get(4).map(|r| r.parse().unwrap()).unwrap_or(15);
    let opts = SearchOptions {
        limit: 5,
        any: std::env::var_os("ANY").is_some(),
        ..Default::default()
    };
    let mut s = Searcher::new(&index);
    let (mut scored, mut blocks, mut decoded) = (0, 0, 0);
    for q in &queries {
        std::hint::black_box(s.search(q, &opts).unwrap());
        let st = s.stats();
        (scored, blocks, decoded) = (
            scored + st.scored,
            blocks + st.blocks,
            decoded + st.blocks_decoded,
        );
    }
    println!("over the queries: {scored} documents scored; {blocks} blocks read, {decoded} decoded whole to score");
    let mut times: Vec<(f64, usize)> = Vec::with_capacity(queries.len());
    // Each query's first run, after the other queries ran (as a benchmark's single pass sees
    // it: the query's data is no longer in the CPU's caches).
    let mut first: Vec<f64> = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let mut best = f64::MAX;
        for run in 0..runs {
            // A searcher that has not seen the query: one that has reuses its parse, analysis
            // and expansions, and would time half the work.
            let mut s = Searcher::new(&index);
            let t = Instant::now();
            std::hint::black_box(s.search(q, &opts).unwrap());
            let ms = t.elapsed().as_secs_f64() * 1e3;
            if run == 0 {
                first.push(ms);
            }
            best = best.min(ms);
        }
        times.push((best, i));
    }
    first.sort_by(f64::total_cmp);
    let at = |v: &[f64], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "first runs: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms",
        at(&first, 0.5),
        at(&first, 0.9),
        at(&first, 0.99)
    );
    let mut sorted: Vec<f64> = times.iter().map(|t| t.0).collect();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{} queries, best of {runs}: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms, mean {:.3} ms",
        sorted.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        sorted[sorted.len() - 1],
        sorted.iter().sum::<f64>() / sorted.len() as f64
    );
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    // AT=p: the queries around percentile p instead of the slowest.
    let from = std::env::var("AT").ok().map_or(0, |p| {
        let p: f64 = p.parse().unwrap();
        (((1.0 - p) * times.len() as f64) as usize).saturating_sub(show / 2)
    });
    for &(ms, i) in times.iter().skip(from).take(show) {
        s.search(&queries[i], &opts).unwrap();
        println!("{ms:8.3} ms  {:?}  {:?}", queries[i], s.stats());
    }
}
