//! Replays fuzz inputs: `cargo run --example replay -- <files>…` prints, per file, whether
//! opening and searching it returned (`ok`) or panicked.
use edgekb::{Index, SearchOptions, Searcher};

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| {
            if let Ok(index) = Index::open(bytes) {
                for q in ["strategy game", "stra", "stratgy", "\"real time\"", "a"] {
                    let _ = Searcher::new(&index).search(q, &SearchOptions::default());
                }
            }
        });
        println!("{path}: {}", if r.is_ok() { "ok" } else { "PANIC" });
    }
}
