//! How is one term scored in one document, and how high can that score go within a block?
//!
//! BM25F: a term's frequency in each field is normalized by that field's length (relative to
//! the field's average) and weighted by the schema, the weighted frequencies are summed into
//! `tf~`, and the sum is saturated: `tf~ (k1 + 1) / (tf~ + k1)`. The term's score is that times
//! its IDF (and times the weight of a prefix or typo match), computed by the searcher.
//!
//! The builder writes, for every postings block of a term of more than one block, an *impact*
//! byte: an upper bound of the saturated part over the block's documents, `ceil(255 · tf~ /
//! (tf~ + k1))` at the block's best document ([`Bm25F::impact`]). The searcher turns it back into
//! a bound ([`Bm25F::bound`]) to skip blocks that cannot reach the top `k`. Restricting a term
//! to some fields only lowers `tf~`, and saturation is monotonic, so the bound holds for every
//! field restriction. Builder and searcher share this code, so both round the same way.

/// BM25 parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bm25 {
    /// Term-frequency saturation.
    pub k1: f32,
    /// Length normalization.
    pub b: f32,
}

impl Default for Bm25 {
    fn default() -> Self {
        Bm25 { k1: 1.2, b: 0.75 }
    }
}

/// Field lengths are kept as one-byte codes: exact up to 34, then within about 6%.
pub mod fieldnorm {
    /// The length each code stands for. Built with integer steps so every platform agrees.
    pub fn table() -> &'static [u32; 256] {
        static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            let mut t = [0u32; 256];
            for c in 1..256 {
                let prev = t[c - 1];
                t[c] = if c < 24 {
                    c as u32
                } else {
                    prev.saturating_add((prev * 6 / 100).max(1))
                };
            }
            t
        })
    }

    /// The largest code whose length does not exceed `len`.
    pub fn encode(len: u32) -> u8 {
        let t = table();
        match t.binary_search(&len) {
            Ok(i) => i as u8,
            Err(i) => (i - 1) as u8,
        }
    }

    /// The length of a code.
    pub fn decode(code: u8) -> u32 {
        table()[code as usize]
    }
}

/// BM25F parameters and field statistics of one index.
#[derive(Clone, Debug, PartialEq)]
pub struct Bm25F {
    k1: f32,
    /// Length normalization of each indexed field, by bit (the index's `b` unless the field
    /// has its own, format 9).
    bs: Vec<f32>,
    /// Weight of each indexed field, by bit.
    weights: Vec<f32>,
    /// Average length of each indexed field, by bit.
    avgs: Vec<f32>,
}

/// Average field lengths (at least 1) from their totals, as the reader and the builder agree.
pub fn average_lengths(total_lengths: &[u64], doc_count: u32) -> Vec<f32> {
    total_lengths
        .iter()
        .map(|&t| {
            if doc_count == 0 {
                1.0
            } else {
                (t as f64 / doc_count as f64).max(1.0) as f32
            }
        })
        .collect()
}

impl Bm25F {
    /// The name fields, as bits of indexed fields: those of the largest weight when some
    /// indexed field weighs less (`title` in the default schema), else none. The builder
    /// writes each term's name-field postings ([`crate::terminfo`], format 7) and the searcher
    /// scores a prefix completion by them, both through this.
    pub fn name_fields(&self) -> u16 {
        let max = self.weights.iter().copied().fold(0.0f32, f32::max);
        if self.weights.iter().all(|&w| w == max) {
            return 0;
        }
        let mut bits = 0u16;
        for (bit, &w) in self.weights.iter().enumerate().take(16) {
            if w == max {
                bits |= 1 << bit;
            }
        }
        bits
    }

    /// Parameters `bm25`, indexed field weights and averages by bit.
    pub fn new(bm25: Bm25, weights: Vec<f32>, avgs: Vec<f32>) -> Self {
        debug_assert_eq!(weights.len(), avgs.len());
        Bm25F {
            k1: bm25.k1,
            bs: vec![bm25.b; weights.len()],
            weights,
            avgs,
        }
    }

    /// With each indexed field's own `b` where it has one (by bit).
    pub fn with_field_b(mut self, own: impl IntoIterator<Item = Option<f32>>) -> Self {
        for (b, own) in self.bs.iter_mut().zip(own) {
            if let Some(x) = own {
                *b = x;
            }
        }
        self
    }

    /// The weighted, length-normalized frequency sum `tf~`: `tfs` per set bit of `mask`,
    /// counting only the fields in `allowed`; `len(bit)` is the document's length in field `bit`.
    pub fn tilde(&self, len: impl Fn(usize) -> u32, mask: u16, tfs: &[u32], allowed: u16) -> f32 {
        let mut tf_tilde = 0.0f32;
        let mut k = 0;
        for bit in 0..self.weights.len() {
            if mask & (1 << bit) == 0 {
                continue;
            }
            let tf = tfs[k] as f32;
            k += 1;
            if allowed & (1 << bit) == 0 {
                continue;
            }
            let b = self.bs[bit];
            let norm = 1.0 - b + b * len(bit) as f32 / self.avgs[bit];
            tf_tilde += self.weights[bit] * tf / norm;
        }
        tf_tilde
    }

    /// The saturated score of `tf~` (below `k1 + 1`).
    pub fn saturate(&self, tf_tilde: f32) -> f32 {
        tf_tilde * (self.k1 + 1.0) / (tf_tilde + self.k1)
    }

    /// The impact byte bounding `saturate(tf_tilde)`: 0 for no match, else at least 1.
    pub fn impact(&self, tf_tilde: f32) -> u8 {
        if tf_tilde <= 0.0 || !tf_tilde.is_finite() {
            return if tf_tilde > 0.0 { 255 } else { 0 };
        }
        // In f64, so the rounding up covers the f32 arithmetic of the score.
        let ratio = tf_tilde as f64 / (tf_tilde as f64 + self.k1 as f64);
        (ratio * 255.0).ceil().clamp(1.0, 255.0) as u8
    }

    /// An upper bound of the saturated score of any document of a block with impact `impact`,
    /// slightly inflated so that f32 rounding of the exact score never exceeds it.
    pub fn bound(&self, impact: u8) -> f32 {
        (self.k1 + 1.0) * impact as f32 / 255.0 * 1.0001 + 1e-6
    }

    /// The bound with no impact known: saturation's ceiling.
    pub fn ceiling(&self) -> f32 {
        self.bound(255)
    }
}

/// Computes the impact byte of each block while a builder writes a term.
pub(crate) struct ImpactOf<'b> {
    pub(crate) scorer: &'b Bm25F,
    /// Field-norm codes, `fields` per document.
    pub(crate) norms: &'b [u8],
    pub(crate) fields: usize,
}

impl ImpactOf<'_> {
    /// The impact of one posting.
    pub(crate) fn of(&self, doc: u32, mask: u16, tfs: &[u32]) -> u8 {
        let base = doc as usize * self.fields;
        let len = |bit: usize| {
            self.norms
                .get(base + bit)
                .map(|&c| fieldnorm::decode(c))
                .unwrap_or(0)
        };
        self.scorer
            .impact(self.scorer.tilde(len, mask, tfs, u16::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The bound of a posting's impact is never below its exact saturated score, for any
        /// parameters, lengths, frequencies and field restriction.
        #[test]
        fn bound_covers_the_score(k1 in 0.0f32..4.0, b in 0.0f32..=1.0,
                                  weights in proptest::collection::vec(0.0f32..20.0, 1..5),
                                  seed in proptest::collection::vec((1u32..400, 1u32..50, 0u32..5000), 5),
                                  mask in 1u16..32, allowed in 1u16..32) {
            let n = weights.len();
            let mask = mask & ((1 << n) - 1);
            prop_assume!(mask != 0);
            let avgs: Vec<f32> = seed.iter().take(n).map(|s| s.0 as f32 / 3.0 + 1.0).collect();
            let s = Bm25F::new(Bm25 { k1, b }, weights, avgs);
            let tfs: Vec<u32> = seed.iter().take(mask.count_ones() as usize).map(|s| s.1).collect();
            let lens: Vec<u32> = seed.iter().map(|s| s.2).collect();
            let len = |bit: usize| fieldnorm::decode(fieldnorm::encode(lens[bit % lens.len()]));
            let impact = s.impact(s.tilde(len, mask, &tfs, u16::MAX));
            let exact = s.saturate(s.tilde(len, mask, &tfs, allowed));
            prop_assert!(exact <= s.bound(impact) || exact.is_nan(), "{exact} > {}", s.bound(impact));
        }
    }

    #[test]
    fn impact_edges() {
        let s = Bm25F::new(Bm25::default(), vec![1.0], vec![10.0]);
        assert_eq!(s.impact(0.0), 0);
        assert_eq!(s.impact(f32::INFINITY), 255);
        assert!(s.impact(1e-9) >= 1);
        assert_eq!(s.impact(1e30), 255);
        assert!(s.bound(255) >= s.saturate(1e30));
    }
}
