//! Times one query on an index, pruned and exhaustive, with ranking statistics.
//!
//!     cargo run --release --example profile_query -- <index.ekb> "<query>" [runs]
use std::time::Instant;

use edgekb::{Index, SearchOptions, Searcher};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let index = Index::open(std::fs::read(&args[1]).unwrap()).unwrap();
    let runs: usize = args.get(3).map(|r| r.parse().unwrap()).unwrap_or(200);
    let opts = SearchOptions {
        limit: 5,
        any: std::env::var_os("ANY").is_some(),
        ..Default::default()
    };
    let only = std::env::var("ONLY").ok();
    for exhaustive in [false, true] {
        if only
            .as_deref()
            .is_some_and(|o| (o == "pruned") == exhaustive)
        {
            continue;
        }
        let mut s = Searcher::new(&index).exhaustive(exhaustive);
        let mut best = f64::MAX;
        let mut r = None;
        for _ in 0..runs {
            let t = Instant::now();
            r = Some(s.search(&args[2], &opts).unwrap());
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
        }
        let r = r.unwrap();
        println!(
            "{}: best {best:.3} ms, total {}, {:?}",
            if exhaustive { "exhaustive" } else { "pruned" },
            r.total,
            s.stats()
        );
    }
}
