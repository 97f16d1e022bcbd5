//! An experiment, measured and not kept (BENCHMARKS.md, session 17): JSON Lines documents
//! reordered by recursive graph bisection (documents that share words side by side, the order
//! that shrinks postings gaps in the literature), written back as JSON Lines, to build an index
//! from and compare with the input's own order.
//!
//!     cargo run --release --example reorder -- in.jsonl out.jsonl
//!
//! Words are letter-and-digit runs of `title`, `body` and `tags`, lower-cased (close to the
//! analyzer's terms, without stemming).
use std::io::{BufRead, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lines: Vec<String> = std::io::BufReader::new(std::fs::File::open(&args[0]).unwrap())
        .lines()
        .map(|l| l.unwrap())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut ids = std::collections::HashMap::<String, u32>::new();
    let docs: Vec<Vec<u32>> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut text = String::new();
            for f in ["title", "body", "tags"] {
                match &v[f] {
                    serde_json::Value::String(s) => text.push_str(s),
                    serde_json::Value::Array(a) => {
                        for s in a.iter().filter_map(|s| s.as_str()) {
                            text.push(' ');
                            text.push_str(s);
                        }
                    }
                    _ => {}
                }
                text.push(' ');
            }
            let mut t: Vec<u32> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let w = w.to_lowercase();
                    let n = ids.len() as u32;
                    *ids.entry(w).or_insert(n)
                })
                .collect();
            t.sort_unstable();
            t.dedup();
            t
        })
        .collect();
    let t0 = std::time::Instant::now();
    let order = edgekb_reorder::order(&docs, ids.len());
    eprintln!(
        "{} documents, {} terms: ordered in {:?}",
        docs.len(),
        ids.len(),
        t0.elapsed()
    );
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[1]).unwrap());
    for d in order {
        writeln!(out, "{}", lines[d as usize]).unwrap();
    }
}

mod edgekb_reorder {
    /// A document order by recursive graph bisection: `docs[d]` lists document `d`'s
    /// distinct term ids (below `terms`). Returns the documents in their new order.
    pub fn order(docs: &[Vec<u32>], terms: usize) -> Vec<u32> {
        // Terms in one document only do not bind documents together.
        let mut df = vec![0u32; terms];
        for d in docs {
            for &t in d {
                df[t as usize] += 1;
            }
        }
        let docs: Vec<Vec<u32>> = docs
            .iter()
            .map(|d| d.iter().copied().filter(|&t| df[t as usize] > 1).collect())
            .collect();
        let mut ids: Vec<u32> = (0..docs.len() as u32).collect();
        let mut bp = Bp {
            docs: &docs,
            left: vec![0; terms],
            right: vec![0; terms],
            gain: vec![0.0; docs.len()],
            seen: vec![0; terms],
            stamp: 0,
            to_left: vec![0.0; terms],
            to_right: vec![0.0; terms],
        };
        bp.bisect(&mut ids, 0);
        ids
    }

    const LEAF: usize = 16;
    const ITERATIONS: usize = 20;
    const MAX_DEPTH: usize = 40;

    struct Bp<'a> {
        docs: &'a [Vec<u32>],
        left: Vec<u32>,
        right: Vec<u32>,
        gain: Vec<f32>,
        seen: Vec<u32>,
        stamp: u32,
        to_left: Vec<f32>,
        to_right: Vec<f32>,
    }

    /// The cost of a term's `n` documents among `size` (log of the average gap).
    fn cost(n: u32, size: usize) -> f32 {
        n as f32 * ((size as f32) / (n as f32 + 1.0)).log2()
    }

    impl Bp<'_> {
        fn bisect(&mut self, ids: &mut [u32], depth: usize) {
            if ids.len() <= LEAF || depth >= MAX_DEPTH {
                return;
            }
            let mid = ids.len() / 2;
            for _ in 0..ITERATIONS {
                let (a, b) = ids.split_at(mid);
                for &d in a {
                    for &t in &self.docs[d as usize] {
                        self.left[t as usize] += 1;
                    }
                }
                for &d in b {
                    for &t in &self.docs[d as usize] {
                        self.right[t as usize] += 1;
                    }
                }
                let (na, nb) = (a.len(), b.len());
                self.stamp += 1;
                let stamp = self.stamp;
                // Gain of moving a document to the other side: the cost saved, summed over its
                // terms (each term's two deltas computed once per iteration).
                for (side, from_left) in [(a, true), (b, false)] {
                    for &d in side {
                        let mut g = 0.0;
                        for &t in &self.docs[d as usize] {
                            let t = t as usize;
                            if self.seen[t] != stamp {
                                self.seen[t] = stamp;
                                let (l, r) = (self.left[t], self.right[t]);
                                let before = cost(l, na) + cost(r, nb);
                                self.to_right[t] = if l > 0 {
                                    before - cost(l - 1, na) - cost(r + 1, nb)
                                } else {
                                    0.0
                                };
                                self.to_left[t] = if r > 0 {
                                    before - cost(l + 1, na) - cost(r - 1, nb)
                                } else {
                                    0.0
                                };
                            }
                            g += if from_left {
                                self.to_right[t]
                            } else {
                                self.to_left[t]
                            };
                        }
                        self.gain[d as usize] = g;
                    }
                }
                for &d in ids.iter() {
                    for &t in &self.docs[d as usize] {
                        self.left[t as usize] = 0;
                        self.right[t as usize] = 0;
                    }
                }
                let gain = &self.gain;
                let (a, b) = ids.split_at_mut(mid);
                a.sort_unstable_by(|x, y| gain[*y as usize].total_cmp(&gain[*x as usize]));
                b.sort_unstable_by(|x, y| gain[*y as usize].total_cmp(&gain[*x as usize]));
                let mut swapped = 0;
                for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                    if gain[*x as usize] + gain[*y as usize] <= 0.0 {
                        break;
                    }
                    std::mem::swap(x, y);
                    swapped += 1;
                }
                if swapped == 0 {
                    break;
                }
            }
            let (a, b) = ids.split_at_mut(mid);
            self.bisect(a, depth + 1);
            self.bisect(b, depth + 1);
        }
    }
}
