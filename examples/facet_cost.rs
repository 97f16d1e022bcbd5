//! What filters, facet counts and snippets cost on a split index: queries drawn from the
//! documents' titles, each with a filter on one tag of the document it was drawn from, run
//! through the lazy `Query` machine on an in-memory copy of the split directory (counting
//! rounds, requests and bytes).
//!
//!     edgekb build docs.jsonl --out /tmp/kb --split
//!     cargo run --release --example facet_cost -- /tmp/kb docs.jsonl [queries]
//!
//! Cold data: a fresh cache per query and variant (the dictionary, opened once, stays warm).
//! Warm: the variant run after the plain query with the same text, on the same cache, so what
//! the option adds alone shows. Latency: everything cached, CPU time only.
use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;

use edgekb::lazy::{LazyIndex, MemoryLoader, PageStore, Query, Version};

mod common;
use edgekb::Refine;
use edgekb::{Filter, SearchOptions, SearchResults};

/// Runs one query; returns its answer, rounds, requests and bytes.
fn run(
    version: &Arc<Version>,
    store: &mut PageStore,
    loader: &mut MemoryLoader,
    q: &str,
    o: SearchOptions,
    refine: Refine,
) -> (SearchResults, u64, u64, u64) {
    common::run(
        Query::new(version.clone(), q, o).refine(refine),
        store,
        loader,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&args[1]);
    let mut loader = common::load_dir(dir);
    let n: usize = args.get(3).map_or(300, |s| s.parse().unwrap());
    let docs: Vec<(String, Vec<String>)> =
        std::io::BufReader::new(std::fs::File::open(&args[2]).unwrap())
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l.ok()?).ok()?;
                let tags = v["tags"]
                    .as_array()?
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect();
                Some((v["title"].as_str()?.to_string(), tags))
            })
            .collect();
    let mut rng = common::Rng(0x5eed_5eed_1234_5678);
    let mut queries = Vec::new();
    while queries.len() < n {
        let (title, tags) = &docs[rng.below(docs.len())];
        if tags.is_empty() {
            continue;
        }
        let Some(query) = common::title_query(&mut rng, title) else {
            continue;
        };
        let tag = tags[rng.below(tags.len())].clone();
        queries.push((query, tag));
    }
    let plain = SearchOptions {
        limit: 10,
        ..Default::default()
    };
    let snip = SearchOptions {
        snippets: Some(160),
        ..plain
    };
    let facets = |_: &str| Refine {
        facets: vec!["tags".into()],
        ..Refine::default()
    };
    let filter = |tag: &str| Refine {
        filter: Some(Filter::Is {
            field: "tags".into(),
            value: tag.into(),
        }),
        ..Refine::default()
    };
    let both = |tag: &str| Refine {
        facets: vec!["tags".into()],
        ..filter(tag)
    };
    let none = |_: &str| Refine::default();
    type Variant<'a> = (&'a str, SearchOptions, &'a dyn Fn(&str) -> Refine);
    let variants: [Variant; 5] = [
        ("plain", plain, &none),
        ("snippets", snip, &none),
        ("facets", plain, &facets),
        ("filter", plain, &filter),
        ("filter + facets + snippets", snip, &both),
    ];
    let lazy = LazyIndex::open(&mut loader, 32 << 20).unwrap();
    let version = lazy.version();
    let nv = variants.len();
    let mut cold = vec![[0u64; 3]; nv];
    let mut warm = vec![[0u64; 3]; nv];
    let mut matched = vec![0usize; nv];
    for (q, tag) in &queries {
        for (i, (_, o, refine)) in variants.iter().enumerate() {
            let mut fresh = PageStore::new(32 << 20);
            let (r, rounds, req, bytes) =
                run(&version, &mut fresh, &mut loader, q, *o, refine(tag));
            cold[i][0] += rounds;
            cold[i][1] += req;
            cold[i][2] += bytes;
            matched[i] += r.total;
            let mut store = PageStore::new(32 << 20);
            run(
                &version,
                &mut store,
                &mut loader,
                q,
                plain,
                Refine::default(),
            );
            let (_, rounds, req, bytes) =
                run(&version, &mut store, &mut loader, q, *o, refine(tag));
            warm[i][0] += rounds;
            warm[i][1] += req;
            warm[i][2] += bytes;
        }
    }
    // Latency, everything cached.
    let mut store = PageStore::new(256 << 20);
    let mut lat = vec![Vec::new(); nv];
    for round in 0..4 {
        for (q, tag) in &queries {
            for (i, (_, o, refine)) in variants.iter().enumerate() {
                let t = Instant::now();
                let (_, _, req, _) = run(&version, &mut store, &mut loader, q, *o, refine(tag));
                if round > 0 {
                    lat[i].push(t.elapsed().as_secs_f64() * 1e3);
                    assert_eq!(req, 0, "cached");
                }
            }
        }
    }
    let nq = queries.len() as f64;
    println!(
        "{} queries (top 10), each with a filter on one tag of the document it came from",
        queries.len()
    );
    for (i, (label, _, _)) in variants.iter().enumerate() {
        println!(
            "{label}: {:.0} matches; cold {:.2} rounds, {:.2} requests, {:.0} bytes; after the \
             plain query {:+.2} rounds, {:+.2} requests, {:+.0} bytes; all cached p50 {:.3} ms, \
             p90 {:.3} ms",
            matched[i] as f64 / nq,
            cold[i][0] as f64 / nq,
            cold[i][1] as f64 / nq,
            cold[i][2] as f64 / nq,
            warm[i][0] as f64 / nq,
            warm[i][1] as f64 / nq,
            warm[i][2] as f64 / nq,
            common::pct(&mut lat[i], 0.5),
            common::pct(&mut lat[i], 0.9),
        );
    }
}
