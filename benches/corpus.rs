//! Benchmark on a real corpus (default: the Debian package descriptions beside the checkout).
//!
//! Prints: build time, index size by section (raw and gzip), native query latency (p50/p99)
//! with prefix and typo matching on, and the success rates of typo and prefix queries.
//!
//!     cargo bench --bench corpus -- [path/to/docs.jsonl[.gz]] [--queries N]
//!
//! The query sets are drawn from the corpus itself with a fixed seed:
//! - "typo": a distinctive word (6+ letters, in at most 20 documents) of a document's title, with
//!   one edit (substitution, deletion, insertion or transposition) anywhere but the first letter;
//!   success = the document is in the top 5.
//! - "prefix": the first 4 or 5 letters of a distinctive word of a document's title; success =
//!   the document is in the top 5.
//! - latency: 1–3 title words of random documents, the last one cut to a prefix half the time,
//!   one edit in a word a quarter of the time.

use std::io::{Read, Write};
use std::time::Instant;

use edgekb::AnalyzerConfig;
use edgekb::Bm25;
use edgekb::{add_jsonl, IndexBuilder};
use edgekb::{Index, Schema, SearchOptions, Searcher};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

fn gzip_len(data: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap().len()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn typo(word: &[char], rng: &mut Rng) -> String {
    let mut w = word.to_vec();
    let i = 1 + rng.below(w.len() - 1);
    let letters: Vec<char> = "abcdefghijklmnopqrstuvwxyz".chars().collect();
    match rng.below(4) {
        0 => {
            let mut c = letters[rng.below(26)];
            while c == w[i] {
                c = letters[rng.below(26)];
            }
            w[i] = c;
        }
        1 => {
            w.remove(i);
        }
        2 => w.insert(i, letters[rng.below(26)]),
        _ => {
            if i + 1 < w.len() && w[i] != w[i + 1] {
                w.swap(i, i + 1);
            } else {
                w.remove(i);
            }
        }
    }
    w.into_iter().collect()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let path = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--queries"))
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/debian-packages.jsonl.gz"
            )
            .to_string()
        });
    let nq: usize = args
        .iter()
        .position(|a| a == "--queries")
        .map(|i| args[i + 1].parse().unwrap())
        .unwrap_or(2000);
    let mut raw = Vec::new();
    let mut f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if path.ends_with(".gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut raw)
            .unwrap();
    } else {
        f.read_to_end(&mut raw).unwrap();
    }
    println!("corpus: {path} ({:.1} MB of JSONL)", raw.len() as f64 / 1e6);

    // Build: JSON parsing, analysis and writing, from JSONL bytes in memory.
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut b = IndexBuilder::new(
            Schema::default(),
            AnalyzerConfig::default(),
            Bm25::default(),
        );
        add_jsonl(&mut b, &raw[..], &path).unwrap();
        bytes = b.to_bytes().unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let index = Index::open(bytes.clone()).unwrap();
    println!(
        "build: {:.2} s (best of 3; runs {:?})",
        times[0],
        times.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>()
    );
    println!(
        "documents: {}, terms: {}",
        index.doc_count(),
        index.meta().term_count
    );
    println!("{:<12} {:>12} {:>12}", "section", "bytes", "gzip");
    let mut searchable = (0usize, 0usize);
    for s in index.sections() {
        let data = &bytes[s.range.clone()];
        let gz = gzip_len(data);
        println!("{:<12} {:>12} {:>12}", s.kind.name(), data.len(), gz);
        if matches!(
            s.kind.name(),
            "terms" | "terminfo" | "postings" | "positions" | "fieldnorms" | "meta"
        ) {
            searchable.0 += data.len();
            searchable.1 += gz;
        }
    }
    println!(
        "{:<12} {:>12} {:>12}",
        "searchable", searchable.0, searchable.1
    );
    println!(
        "{:<12} {:>12} {:>12}",
        "whole file",
        bytes.len(),
        gzip_len(&bytes)
    );

    // Document titles and their distinctive words, from the stored fields.
    let analyzer = index.analyzer().clone();
    let mut titles = Vec::new();
    for d in 0..index.doc_count() {
        let doc = index.doc(d, usize::MAX).unwrap();
        let id = index.stored_value(&doc, "id")[0].clone();
        let title = index
            .stored_value(&doc, "title")
            .first()
            .cloned()
            .unwrap_or_default();
        titles.push((id, title));
    }
    let word_df = |w: &str| -> u32 {
        let stem = analyzer.stem(w).into_owned();
        index
            .terms()
            .get(&stem)
            .map(|o| index.term_info(o).unwrap().doc_freq)
            .unwrap_or(0)
    };
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut searcher = Searcher::new(&index);
    let opts = SearchOptions {
        limit: 5,
        ..Default::default()
    };

    // Latency.
    let mut queries = Vec::new();
    while queries.len() < nq {
        let (_, title) = &titles[rng.below(titles.len())];
        let words: Vec<String> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(|w| w.to_lowercase())
            .collect();
        if words.is_empty() {
            continue;
        }
        let n = 1 + rng.below(3.min(words.len()));
        let start = rng.below(words.len() - n + 1);
        let mut q: Vec<String> = words[start..start + n].to_vec();
        if rng.below(4) == 0 {
            let k = rng.below(q.len());
            let chars: Vec<char> = q[k].chars().collect();
            if chars.len() >= 5 {
                q[k] = typo(&chars, &mut rng);
            }
        }
        let mut s = q.join(" ");
        if rng.below(2) == 0 {
            let last: Vec<char> = q.last().unwrap().chars().collect();
            if last.len() > 3 {
                let cut = 3 + rng.below(last.len() - 3);
                s = q[..q.len() - 1]
                    .iter()
                    .cloned()
                    .chain([last[..cut].iter().collect::<String>()])
                    .collect::<Vec<_>>()
                    .join(" ");
            }
        } else {
            s.push(' ');
        }
        queries.push(s);
    }
    // EDGEKB_BENCH_ONLY=rates: only the typo and prefix rates (the same samples: the latency
    // queries are still drawn from the generator).
    let rates_only = std::env::var("EDGEKB_BENCH_ONLY").is_ok_and(|v| v == "rates");
    for (label, o, exhaustive) in [
        ("prefix+typos on", opts, false),
        (
            "typos off",
            SearchOptions {
                typos: false,
                ..opts
            },
            false,
        ),
        (
            "prefix off",
            SearchOptions {
                prefix: false,
                ..opts
            },
            false,
        ),
        (
            "both off",
            SearchOptions {
                prefix: false,
                typos: false,
                ..opts
            },
            false,
        ),
        (
            "OR ranking, block-max pruning",
            SearchOptions { any: true, ..opts },
            false,
        ),
        (
            "OR ranking, every match scored",
            SearchOptions { any: true, ..opts },
            true,
        ),
    ] {
        if rates_only {
            break;
        }
        let mut searcher = Searcher::new(&index).exhaustive(exhaustive);
        for q in &queries {
            searcher.search(q, &o).unwrap(); // warm-up
        }
        let mut lat = Vec::with_capacity(queries.len());
        let mut slowest: Vec<(f64, &str)> = Vec::new();
        for q in &queries {
            let t = Instant::now();
            let r = searcher.search(q, &o).unwrap();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            lat.push(ms);
            slowest.push((ms, q));
            std::hint::black_box(r);
        }
        if std::env::var_os("EDGEKB_BENCH_SLOWEST").is_some() {
            slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
            println!("slowest ({label}): {:?}", &slowest[..8.min(slowest.len())]);
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "latency ({} queries, {label}, top 5 with stored fields): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            lat.len(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.9),
            percentile(&lat, 0.99),
            lat[lat.len() - 1]
        );
    }

    // The split index, searched lazily through an in-memory loader that counts requests.
    if !rates_only {
        use edgekb::lazy::{LazyIndex, MemoryLoader};
        let split = edgekb::split::SplitOutput::from_index(&index).unwrap();
        let dict = &split.files[0].1;
        println!(
            "split: dictionary {} bytes ({} gzip, {} parts in a terms pack of {} bytes); postings {} / positions {} / display {} / store {} bytes",
            dict.len(),
            gzip_len(dict),
            split.dictionary_parts,
            split.manifest.terms.size,
            split.manifest.postings.size,
            split.manifest.positions.size,
            split.manifest.display.size,
            split.manifest.store.size
        );
        let loader_for = || MemoryLoader::from_split(&split);
        for budget in [8usize << 20, 32 << 20] {
            let mut loader = loader_for();
            let mut lazy = LazyIndex::open(&mut loader, budget).unwrap();
            let (open_req, open_bytes) = (loader.requests, loader.bytes);
            let first = &queries[0];
            lazy.search(&mut loader, first, &opts).unwrap();
            let (first_req, first_bytes) = (loader.requests - open_req, loader.bytes - open_bytes);
            let n = 10_000usize;
            let (r0, b0) = (loader.requests, loader.bytes);
            let mut max_held = 0;
            for i in 0..n {
                let q = &queries[i % queries.len()];
                lazy.search(&mut loader, q, &opts).unwrap();
                max_held = max_held.max(lazy.cache_stats().bytes_held);
            }
            let c = lazy.cache_stats();
            println!(
                "lazy, cache {} MiB: open {} requests / {} bytes; first query {:?}: {} requests / {} bytes; \
                 {} queries: {:.2} requests and {:.0} bytes per query; cache after: {} bytes held (max {}), {} evictions, hit rate {:.1}%",
                budget >> 20,
                open_req,
                open_bytes,
                first,
                first_req,
                first_bytes,
                n,
                (loader.requests - r0) as f64 / n as f64,
                (loader.bytes - b0) as f64 / n as f64,
                c.bytes_held,
                max_held,
                c.evictions,
                100.0 * c.hits as f64 / (c.hits + c.misses).max(1) as f64
            );
        }
    }

    // Typo and prefix success rates, from their own generator (the same samples whatever
    // `--queries` is).
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let mut tries = [0usize; 2];
    let mut ok = [0usize; 2];
    let mut guard = 0;
    let show_misses = std::env::var_os("EDGEKB_BENCH_MISSES").is_some();
    while (tries[0] < 500 || tries[1] < 500) && guard < 1_000_000 {
        guard += 1;
        let (id, title) = &titles[rng.below(titles.len())];
        let words: Vec<String> = title
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 6 && w.is_ascii())
            .map(|w| w.to_lowercase())
            .collect();
        let Some(word) = words.iter().find(|w| (1..=20).contains(&word_df(w))) else {
            continue;
        };
        let chars: Vec<char> = word.chars().collect();
        let kind = if tries[0] <= tries[1] { 0 } else { 1 };
        let q = if kind == 0 {
            typo(&chars, &mut rng) + " "
        } else {
            chars[..4 + rng.below(2)].iter().collect::<String>()
        };
        let hits = searcher.search(&q, &opts).unwrap().hits;
        tries[kind] += 1;
        if hits.iter().any(|h| &h.id == id) {
            ok[kind] += 1;
        } else if show_misses {
            let top: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
            // Where the wanted document ranks, within the first 100.
            let deep = SearchOptions { limit: 100, ..opts };
            let rank = searcher
                .search(&q, &deep)
                .unwrap()
                .hits
                .iter()
                .position(|h| &h.id == id);
            println!(
                "miss [{}] {q:?} (from {word:?}, df {}) wants {id} (rank {}), got {top:?}",
                ["typo", "prefix"][kind],
                word_df(word),
                rank.map_or("over 100".to_string(), |r| (r + 1).to_string())
            );
        }
    }
    println!(
        "typo queries found in top 5: {}/{} = {:.1}%; prefix (4-5 letters) found in top 5: {}/{} = {:.1}%",
        ok[0],
        tries[0],
        100.0 * ok[0] as f64 / tries[0] as f64,
        ok[1],
        tries[1],
        100.0 * ok[1] as f64 / tries[1] as f64
    );
}
