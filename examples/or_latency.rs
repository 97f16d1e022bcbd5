//! OR-ranking latency with block-max pruning against scoring every match, on real queries; checks that
//! both give the same results.
//!
//!     cargo run --release --example or_latency -- <index.ekb> <queries.jsonl> [limit]
use std::time::Instant;

use edgekb::{Index, SearchOptions, Searcher};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let index = Index::open(std::fs::read(&args[1]).unwrap()).unwrap();
    let limit = args.get(3).map(|l| l.parse().unwrap()).unwrap_or(10);
    let queries: Vec<String> = std::fs::read_to_string(&args[2])
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let opts = SearchOptions {
        limit,
        any: true,
        prefix: false,
        ..Default::default()
    };
    for exhaustive in [false, true] {
        let mut lat = Vec::new();
        for _round in 0..3 {
            for q in &queries {
                let t = Instant::now();
                let r = Searcher::new(&index)
                    .exhaustive(exhaustive)
                    .search(q, &opts)
                    .unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                if !exhaustive {
                    let s = Searcher::new(&index)
                        .exhaustive(true)
                        .search(q, &opts)
                        .unwrap();
                    assert_eq!(r, s, "{q}");
                }
            }
        }
        lat.sort_by(f64::total_cmp);
        let p = |x: f64| lat[((lat.len() - 1) as f64 * x) as usize];
        println!(
            "{}: {} queries × 3, top {limit}: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms",
            if exhaustive {
                "every match scored"
            } else {
                "block-max pruning"
            },
            queries.len(),
            p(0.5),
            p(0.9),
            p(0.99)
        );
    }
}
