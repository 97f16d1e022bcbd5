//! What warm queries cost on the wire: a split index directory read into the counting
//! in-memory loader, opened once, then a query file run in order on one cache (the first query
//! apart, as the browser benchmark counts it), printing requests, round trips and bytes per
//! query, by file, and how often a query needed 0, 1, 2… requests and rounds.
//!
//!     edgekb build docs.jsonl --out /tmp/kb --split
//!     cargo run --release --example warm_wire -- /tmp/kb queries.jsonl [--cache-bytes N] [--limit N] [--json]
//!
//! The query file is JSON Lines `{"id","text"}` (as `edgekb search --queries` reads);
//! default cache 8 MiB, default options (prefix and typos on, 10 hits).
use std::collections::BTreeMap;
use std::io::BufRead;

use edgekb::lazy::LazyIndex;

mod common;
use edgekb::SearchOptions;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<usize>().expect("a number"))
    };
    let positional: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--cache-bytes"))
        })
        .filter(|(i, _)| *i == 0 || args[i - 1] != "--limit")
        .map(|(_, a)| a)
        .collect();
    let (dir, qfile) = (
        std::path::Path::new(positional[0]),
        std::path::Path::new(positional[1]),
    );
    let budget = flag("--cache-bytes").unwrap_or(8 << 20);
    let opts = SearchOptions {
        limit: flag("--limit").unwrap_or(10),
        ..Default::default()
    };
    let mut loader = common::load_dir(dir);
    let queries: Vec<String> = std::io::BufReader::new(std::fs::File::open(qfile).unwrap())
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.ok()?).ok()?;
            v["text"].as_str().map(str::to_string)
        })
        .collect();
    let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
    let opened = lazy.load_stats();
    let first = lazy.load_stats();
    lazy.search(&mut loader, &queries[0], &opts).unwrap();
    let first = lazy.load_stats().since(&first);
    let (mut by_file, mut req_hist, mut round_hist) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let start = lazy.load_stats();
    let n = queries.len() - 1;
    for q in &queries[1..] {
        let (before, log0) = (lazy.load_stats(), loader.log.len());
        lazy.search(&mut loader, q, &opts).unwrap();
        let w = lazy.load_stats().since(&before);
        *req_hist.entry(w.requests).or_insert(0usize) += 1;
        *round_hist.entry(w.round_trips).or_insert(0usize) += 1;
        for (name, _) in &loader.log[log0..] {
            let kind = name.split('.').next().unwrap_or("").to_string();
            *by_file.entry(kind).or_insert(0usize) += 1;
        }
    }
    let w = lazy.load_stats().since(&start);
    let per = |x: u64| x as f64 / n as f64;
    let c = lazy.cache_stats();
    let out = serde_json::json!({
        "cacheBytes": budget,
        "limit": opts.limit,
        "open": {"requests": opened.requests, "bytes": opened.bytes_fetched, "roundTrips": opened.round_trips},
        "first": {"query": queries[0], "requests": first.requests, "bytes": first.bytes_fetched, "roundTrips": first.round_trips},
        "warm": {
            "queries": n,
            "requestsPerQuery": per(w.requests),
            "roundTripsPerQuery": per(w.round_trips),
            "bytesPerQuery": per(w.bytes_fetched),
            "maxRoundTrips": round_hist.keys().max(),
            "requestsPerQueryByFile": by_file.iter().map(|(k, v)| (k.clone(), *v as f64 / n as f64)).collect::<BTreeMap<_, _>>(),
            "queriesByRequests": req_hist,
            "queriesByRoundTrips": round_hist,
        },
        "cache": {"bytesHeld": c.bytes_held, "evictions": c.evictions},
    });
    if args.iter().any(|a| a == "--json") {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
    }
}
