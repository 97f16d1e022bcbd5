//! The worst query a search over hostile shapes finds: its time and the memory it takes above
//! the index's own, natively, on a real corpus (default: the Debian package descriptions
//! beside the checkout). Figures for BENCHMARKS.md, not a test.
//!
//!     cargo bench --bench hostile -- [path/to/docs.jsonl[.gz]] [--seed N] [--tries N]
//!                                       [--out DIR]
//!
//! With `--out DIR`, the index (`DIR/index.ekb`) and every query with its native time
//! (`DIR/queries.jsonl`) are written too, for `scripts/hostile-wasm.mjs` to run the same queries
//! in wasm and compare.
//!
//! Shapes: long `OR` chains, long phrases, many prefixes, many typos, huge limits, deep
//! nesting of quotes/operators/fields, a 1 MB query; each built from the index's own words
//! (common ones, the costliest) with a seeded generator, `--tries` of each. Memory is the peak
//! of bytes allocated (a counting allocator) above what the index held before the shape ran.

use std::io::Read;
use std::time::Instant;

use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{Index, SearchOptions, Searcher};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

#[path = "common/counting.rs"]
mod counting;

fn typo(w: &str, rng: &mut Rng) -> String {
    let mut c: Vec<char> = w.chars().collect();
    if c.len() > 2 {
        let i = 1 + rng.below(c.len() - 1);
        c[i] = (b'a' + rng.below(26) as u8) as char;
    }
    c.into_iter().collect()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let flag = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let path = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/debian-packages.jsonl.gz"
            )
            .into()
        });
    let (seed, tries) = (flag("--seed", 7), flag("--tries", 20) as usize);
    let out_dir = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let mut raw = Vec::new();
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if path.ends_with(".gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut raw)
            .unwrap();
    } else {
        std::io::BufReader::new(f).read_to_end(&mut raw).unwrap();
    }
    let mut b = IndexBuilder::new(Default::default(), Default::default(), Default::default());
    add_jsonl(&mut b, raw.as_slice(), &path).unwrap();
    drop(raw);
    let bytes = b.to_bytes().unwrap();
    let mut dump = out_dir.as_ref().map(|dir| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("index.ekb"), &bytes).unwrap();
        std::fs::File::create(dir.join("queries.jsonl")).unwrap()
    });
    let index = Index::open(bytes).unwrap();
    // Words of the corpus, most common first (the costliest to read).
    let mut words: Vec<(u32, String)> = Vec::new();
    {
        use fst::Streamer;
        let mut s = index.terms().stream();
        while let Some((k, ord)) = s.next() {
            let w = String::from_utf8_lossy(k).into_owned();
            if w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()) {
                words.push((index.term_info(ord).unwrap().doc_freq, w));
            }
        }
    }
    words.sort_by_key(|w| std::cmp::Reverse(w.0));
    let common: Vec<String> = words.iter().take(2000).map(|w| w.1.clone()).collect();
    let mut rng = Rng(seed.max(1));
    let mut pick = |rng: &mut Rng| common[rng.below(common.len())].clone();
    type Shape = fn(&mut Rng, &mut dyn FnMut(&mut Rng) -> String) -> (String, usize);
    let shapes: Vec<(&str, Shape)> = vec![
        ("10k-way OR", |r, p| {
            (
                (0..10_000).map(|_| p(r)).collect::<Vec<_>>().join(" OR "),
                10,
            )
        }),
        ("10k-word phrase", |r, p| {
            (
                format!(
                    "\"{}\"",
                    (0..10_000).map(|_| p(r)).collect::<Vec<_>>().join(" ")
                ),
                10,
            )
        }),
        ("64 two-letter prefixes", |r, p| {
            (
                (0..64)
                    .map(|_| format!("{}*", &p(r)[..2]))
                    .collect::<Vec<_>>()
                    .join(" "),
                10,
            )
        }),
        ("64 one-letter prefixes OR", |r, p| {
            (
                (0..64)
                    .map(|_| format!("{}*", &p(r)[..1]))
                    .collect::<Vec<_>>()
                    .join(" OR "),
                10,
            )
        }),
        ("64 long typos", |r, p| {
            (
                (0..64)
                    .map(|_| {
                        let w = p(r) + &p(r);
                        typo(&w, r)
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                10,
            )
        }),
        ("64 typos OR", |r, p| {
            (
                (0..64)
                    .map(|_| typo(&p(r), r))
                    .collect::<Vec<_>>()
                    .join(" OR "),
                10,
            )
        }),
        ("huge limit, any", |r, p| {
            (
                (0..8).map(|_| p(r)).collect::<Vec<_>>().join(" OR "),
                usize::MAX,
            )
        }),
        ("deep nesting", |r, p| {
            (
                (0..5_000)
                    .map(|i| match i % 4 {
                        0 => format!("-\"{}", p(r)),
                        1 => format!("title:{}*", p(r)),
                        2 => "OR".into(),
                        _ => format!("({}", p(r)),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                10,
            )
        }),
        ("1 MB query", |r, p| {
            let mut q = String::new();
            while q.len() < 1 << 20 {
                q.push_str(&p(r));
                q.push(' ');
            }
            (q, 10)
        }),
        ("64 common words phrase", |r, p| {
            (
                format!(
                    "\"{}\"",
                    (0..64).map(|_| p(r)).collect::<Vec<_>>().join(" ")
                ),
                10,
            )
        }),
    ];
    println!(
        "hostile queries on {} ({} documents), seed {seed}, {tries} tries per shape",
        path,
        index.doc_count()
    );
    println!("| shape | worst ms | median ms | truncated | peak allocated above the index (MB) |");
    println!("|---|---|---|---|---|");
    let (mut worst_ms, mut worst_shape, mut worst_mb) = (0.0f64, "", 0.0f64);
    for (name, shape) in &shapes {
        let mut times = Vec::new();
        let mut truncated = 0;
        let base = counting::reset_peak();
        for _ in 0..tries {
            let (q, limit) = shape(&mut rng, &mut pick);
            for any in [false, true] {
                let opts = SearchOptions {
                    limit,
                    any,
                    ..SearchOptions::default()
                };
                let t = Instant::now();
                let r = Searcher::new(&index)
                    .search(&q, &opts)
                    .expect("a hostile query is answered");
                let ms = t.elapsed().as_secs_f64() * 1e3;
                times.push(ms);
                truncated += r.truncated as usize;
                if let Some(f) = dump.as_mut() {
                    use std::io::Write;
                    let limit = (limit != usize::MAX).then_some(limit);
                    let line = serde_json::json!({"shape": name, "query": q, "limit": limit,
                        "any": any, "nativeMs": ms, "total": r.total, "truncated": r.truncated});
                    writeln!(f, "{line}").unwrap();
                }
            }
        }
        times.sort_by(f64::total_cmp);
        let worst = *times.last().unwrap();
        if worst > worst_ms {
            (worst_ms, worst_shape) = (worst, name);
        }
        let mb = counting::peak().saturating_sub(base) as f64 / (1 << 20) as f64;
        worst_mb = worst_mb.max(mb);
        println!(
            "| {name} | {worst:.2} | {:.2} | {truncated}/{} | {mb:.1} |",
            times[times.len() / 2],
            times.len()
        );
    }
    println!(
        "\nworst: {worst_ms:.2} ms ({worst_shape}); most memory allocated above the index: {worst_mb:.1} MB"
    );
}
