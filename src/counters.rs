//! How often did the engine do its expensive steps?
//!
//! Per-thread counters of work that should happen once per query or once per arrival of
//! bytes: tests assert on them (one searcher state and one parse per query, one walk per
//! dictionary part that arrives) instead of on timings. Each test thread counts its own.

use std::cell::Cell;

/// The counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Searcher states made (one per query).
    pub searchers: u64,
    /// Queries parsed and analyzed.
    pub parses: u64,
    /// Walks of a dictionary part's fst (its bytes checked node by node).
    pub part_walks: u64,
    /// Walks of a whole term dictionary (at open).
    pub dictionary_walks: u64,
    /// Whole-section CRC checks at open and verify.
    pub section_crcs: u64,
}

impl Counts {
    /// `{searchers, parses, partWalks, dictionaryWalks, sectionCrcs}`.
    pub fn to_tree<B: crate::tree::Build>(&self) -> B {
        B::map(vec![
            ("searchers", B::count(self.searchers)),
            ("parses", B::count(self.parses)),
            ("partWalks", B::count(self.part_walks)),
            ("dictionaryWalks", B::count(self.dictionary_walks)),
            ("sectionCrcs", B::count(self.section_crcs)),
        ])
    }
}

thread_local! {
    static COUNTS: Cell<Counts> = Cell::new(Counts::default());
}

/// This thread's counts so far.
pub fn counts() -> Counts {
    COUNTS.with(Cell::get)
}

pub(crate) fn bump(f: impl FnOnce(&mut Counts)) {
    COUNTS.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    });
}
