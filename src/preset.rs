//! What goes in the document store's preset dictionary, and how is a chunk compressed against
//! it?
//!
//! From format 11 the document store's deflate chunks are compressed as if each were preceded
//! by the same few KiB of text: the *preset dictionary* (RFC 1950's term), stored once at the
//! start of the store's data. A chunk's matches may then reach back into it, so phrases that
//! recur across documents ("This package contains the development files", licence names,
//! tag values) cost a back-reference in every chunk instead of being spelled out once per chunk.
//!
//! [`train`] picks the dictionary from a sample of the records, in the manner of the COVER
//! algorithm (Liao, Petri, Moffat and Wirth, "Effective construction of relative Lempel-Ziv
//! dictionaries", WWW 2016, as zstd's dictionary builder implements it): every 6-byte
//! substring is weighed by how many records contain it; the sample is cut into as many epochs
//! as the dictionary has segments, and from each epoch the segment whose distinct substrings
//! weigh most is taken, after which its substrings weigh nothing. The segments are laid out by
//! weight, heaviest last, nearest the chunk (deflate spends fewer bits on nearer distances).
//! Everything is computed with fixed-width integers, so 32- and 64-bit builders write the same
//! bytes.
//!
//! [`Deflater`] compresses chunks against a dictionary with `miniz_oxide`, which has no call
//! for a preset dictionary: it compresses the dictionary once, ends that output with a sync
//! flush (so what follows starts on a byte boundary) and drops it; each chunk is compressed by
//! a copy of the compressor in that state, keeping only the chunk's own output. The copy's
//! window holds the dictionary, so the chunk's matches reach into it; its output is a raw
//! deflate stream that inflates given the dictionary as prior output (`inflate::inflate_with`).

/// Bytes of the document store's preset dictionary, at most (deflate's window is 32 KiB: a
/// larger one could not be reached from a chunk's first byte).
pub const PRESET_BYTES: usize = 32 * 1024;

/// Uncompressed chunk bytes per byte of dictionary, at least, for the document store: a
/// dictionary is stored as it is, so a small store gets a small one, or none (all 32 KiB from
/// 2 MiB of chunks on).
pub const RATIO: usize = 64;

/// Uncompressed chunk bytes the dictionary is learnt from: the first chunks' records, so that
/// the writer holds at most these chunks (and their records) back.
const TRAIN_BYTES: usize = 8 << 20;

/// Bytes of a substring weighed by the trainer.
const DMER: usize = 6;

/// Bytes of one dictionary segment.
const SEGMENT: usize = 64;

/// Segments of the smallest dictionary worth learning (1 KiB).
const MIN_SEGMENTS: usize = 16;

/// log2 of the trainer's table of substring weights (a hash table without collision handling:
/// two substrings in one slot share a weight, which costs compression, never correctness).
const TABLE_BITS: u32 = 20;

/// The slot of the substring starting at `s[i]` (`DMER` bytes must follow).
fn slot(s: &[u8], i: usize) -> usize {
    let mut w = [0u8; 8];
    w[..DMER].copy_from_slice(&s[i..i + DMER]);
    let h = u64::from_le_bytes(w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - TABLE_BITS)) as usize
}

/// A dictionary of at most `size` bytes for compressing chunks made of `records` (each one
/// document's bytes), or empty when the records are too few to learn from.
pub fn train(records: &[&[u8]], size: usize) -> Vec<u8> {
    let sample: Vec<u8> = records.concat();
    let segments = size / SEGMENT;
    if segments < MIN_SEGMENTS || sample.len() < segments * SEGMENT * 4 {
        return Vec::new();
    }
    // How many records hold each substring (`last` keeps a slot from counting twice for one
    // record).
    let mut weight = vec![0u32; 1 << TABLE_BITS];
    let mut last = vec![u32::MAX; 1 << TABLE_BITS];
    for (r, rec) in records.iter().enumerate() {
        for i in 0..rec.len().saturating_sub(DMER - 1) {
            let h = slot(rec, i);
            if last[h] != r as u32 {
                last[h] = r as u32;
                weight[h] += 1;
            }
        }
    }
    // A substring met in one record only teaches nothing.
    weight.iter_mut().filter(|w| **w < 2).for_each(|w| *w = 0);
    // Per epoch, the segment whose distinct substrings weigh most: a window slid over the
    // epoch, `seen` counting each slot's substrings inside it.
    let mut seen = vec![0u16; 1 << TABLE_BITS];
    let epoch = sample.len() / segments;
    let mut chosen: Vec<(u64, usize)> = Vec::with_capacity(segments);
    for e in 0..segments {
        let (lo, hi) = (e * epoch, (e * epoch + epoch).min(sample.len()));
        if hi - lo < SEGMENT {
            continue;
        }
        let dmers = SEGMENT - DMER + 1;
        let mut score: u64 = 0;
        let mut best = (0u64, lo);
        for i in lo..hi - DMER + 1 {
            let h = slot(&sample, i);
            seen[h] += 1;
            if seen[h] == 1 {
                score += u64::from(weight[h]);
            }
            if i >= lo + dmers {
                let g = slot(&sample, i - dmers);
                seen[g] -= 1;
                if seen[g] == 0 {
                    score -= u64::from(weight[g]);
                }
            }
            if i + 1 >= lo + dmers && score > best.0 {
                best = (score, i + 1 - dmers);
            }
        }
        // Empty `seen` for the next epoch.
        for i in hi.saturating_sub(dmers + DMER - 1).max(lo)..hi - DMER + 1 {
            seen[slot(&sample, i)] = 0;
        }
        if best.0 == 0 {
            continue;
        }
        for i in best.1..best.1 + dmers {
            weight[slot(&sample, i)] = 0;
        }
        chosen.push(best);
    }
    // Lightest first, heaviest last; ties by position, so the order is total.
    chosen.sort_unstable();
    let mut dict = Vec::with_capacity(chosen.len() * SEGMENT);
    for &(_, at) in &chosen {
        dict.extend_from_slice(&sample[at..at + SEGMENT]);
    }
    dict
}

/// The writer's side of a store with a preset dictionary: the first chunks are held back
/// until [`TRAIN_BYTES`] of them (or all, if fewer) are there to learn the dictionary from
/// their records.
pub struct Learner {
    max: usize,
    ratio: usize,
    held: Vec<(u32, Vec<u8>)>,
    held_bytes: usize,
}

impl Learner {
    /// A learner of a dictionary of up to `max` bytes (at most [`PRESET_BYTES`]) and of at
    /// most one byte per `ratio` bytes of the chunks it learns from.
    pub fn new(max: usize, ratio: usize) -> Learner {
        Learner {
            max: max.min(PRESET_BYTES),
            ratio: ratio.max(1),
            held: Vec::new(),
            held_bytes: 0,
        }
    }

    /// Holds back a closed chunk (its first document and raw bytes); `true` once enough is
    /// held to learn from.
    pub fn hold(&mut self, first: u32, raw: Vec<u8>) -> bool {
        self.held_bytes += raw.len();
        self.held.push((first, raw));
        self.held_bytes >= TRAIN_BYTES
    }

    /// The dictionary learnt from the held chunks' records (empty: none), and those chunks.
    pub fn learn(self) -> (Vec<u8>, Vec<(u32, Vec<u8>)>) {
        // A chunk is `VInt length, record` after `VInt length, record` (the store's format).
        let mut records: Vec<&[u8]> = Vec::new();
        for (_, raw) in &self.held {
            let mut r = crate::codec::Reader::new(raw, "store chunk");
            while let Ok(record) = r.len_prefix().and_then(|n| r.bytes(n)) {
                records.push(record);
            }
        }
        let dict = train(&records, self.max.min(self.held_bytes / self.ratio));
        (dict, self.held)
    }
}

/// A deflate compressor primed with a preset dictionary: each chunk it compresses is a raw
/// deflate stream (RFC 1951) whose matches may reach back into the dictionary, as if the
/// dictionary had been inflated just before it.
pub struct Deflater {
    /// `miniz_oxide`'s compressor after the dictionary and a sync flush (`None`: no
    /// dictionary); each chunk starts from a copy of it. Boxed: it holds a 64 KiB buffer, which
    /// would otherwise be copied on the stack wherever the store's writer moves (a thread's
    /// closure, in a debug build, overflowed a test's stack).
    primed: Option<Box<miniz_oxide::deflate::core::CompressorOxide>>,
    level: u8,
}

impl Deflater {
    /// A compressor at `level` (0 to 10) against `dict` (empty: none).
    pub fn new(dict: &[u8], level: u8) -> Deflater {
        use miniz_oxide::deflate::core::{
            create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
        };
        if dict.is_empty() {
            return Deflater {
                primed: None,
                level,
            };
        }
        let mut c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
            level.into(),
            0,
            0,
        )));
        // The dictionary's own output is dropped: only the window and match tables it leaves
        // behind matter.
        let _ = run(&mut c, dict, TDEFLFlush::Sync);
        Deflater {
            primed: Some(c),
            level,
        }
    }

    /// `raw`, compressed. Without a dictionary, what `miniz_oxide::deflate::compress_to_vec`
    /// writes.
    pub fn compress(&self, raw: &[u8]) -> Vec<u8> {
        match &self.primed {
            None => miniz_oxide::deflate::compress_to_vec(raw, self.level),
            Some(c) => run(
                &mut c.clone(),
                raw,
                miniz_oxide::deflate::core::TDEFLFlush::Finish,
            ),
        }
    }
}

/// What compressing `input` with `c` and then `flush` outputs.
fn run(
    c: &mut miniz_oxide::deflate::core::CompressorOxide,
    mut input: &[u8],
    flush: miniz_oxide::deflate::core::TDEFLFlush,
) -> Vec<u8> {
    use miniz_oxide::deflate::core::{compress, TDEFLFlush, TDEFLStatus};
    let mut out = vec![0u8; input.len() / 2 + 1024];
    let mut at = 0;
    loop {
        let (status, read, wrote) = compress(c, input, &mut out[at..], flush);
        at += wrote;
        input = &input[read.min(input.len())..];
        let done = match status {
            TDEFLStatus::Done => true,
            TDEFLStatus::Okay => flush != TDEFLFlush::Finish && input.is_empty() && at < out.len(),
            _ => unreachable!("miniz_oxide refused its input"),
        };
        if done {
            out.truncate(at);
            return out;
        }
        if out.len() - at < 1024 {
            out.resize(out.len() * 2, 0);
        }
    }
}

/// `raw` compressed at `level` against `dict` (a [`Deflater`] used once).
#[cfg(test)]
fn deflate(dict: &[u8], raw: &[u8], level: u8) -> Vec<u8> {
    Deflater::new(dict, level).compress(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn records(n: usize, seed: u64) -> Vec<Vec<u8>> {
        let words = [
            "package",
            "contains",
            "the",
            "development",
            "files",
            "for",
            "library",
            "shared",
            "this",
            "documentation",
            "python",
            "module",
            "provides",
            "support",
        ];
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                let mut r = String::new();
                for _ in 0..40 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    r.push_str(words[(x % words.len() as u64) as usize]);
                    r.push(' ');
                }
                r.into_bytes()
            })
            .collect()
    }

    /// Too little to learn from gives no dictionary; enough gives one of at most the size
    /// asked, made of the records' own bytes, the same on every run.
    #[test]
    fn trains_within_its_size() {
        let few = records(3, 1);
        let few: Vec<&[u8]> = few.iter().map(|r| r.as_slice()).collect();
        assert!(train(&few, 4096).is_empty());
        let many = records(2000, 2);
        let many: Vec<&[u8]> = many.iter().map(|r| r.as_slice()).collect();
        let d = train(&many, 4096);
        assert!(
            !d.is_empty() && d.len() <= 4096 && d.len() % SEGMENT == 0,
            "{}",
            d.len()
        );
        let sample = many.concat();
        for seg in d.chunks(SEGMENT) {
            assert!(sample.windows(SEGMENT).any(|w| w == seg));
        }
        assert_eq!(d, train(&many, 4096));
    }

    /// Chunks compressed against the dictionary inflate back given it, and are smaller than
    /// without it.
    #[test]
    fn deflate_against_a_dictionary_is_smaller() {
        let recs = records(3000, 3);
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        let dict = train(&refs, 8192);
        let (mut with, mut without) = (0, 0);
        for chunk in refs.chunks(40) {
            let raw = chunk.concat();
            let z = deflate(&dict, &raw, 9);
            assert_eq!(
                crate::inflate::inflate_with(&dict, &z, raw.len()).unwrap(),
                raw
            );
            with += z.len();
            without += deflate(&[], &raw, 9).len();
        }
        assert!(with * 10 < without * 9, "{with} against {without}");
    }

    proptest! {
        /// Any bytes against any dictionary inflate back, with our decoder and miniz_oxide's.
        #[test]
        fn round_trips(dict in proptest::collection::vec(any::<u8>(), 0..3000),
                       raw in proptest::collection::vec(any::<u8>(), 0..5000),
                       level in 1u8..=9) {
            let z = deflate(&dict, &raw, level);
            prop_assert_eq!(crate::inflate::inflate_with(&dict, &z, raw.len()).unwrap(), raw.clone());
            let mut whole = dict.clone();
            let mut theirs = miniz_oxide::inflate::core::DecompressorOxide::new();
            whole.resize(dict.len() + raw.len() + 16, 0);
            let (status, _, wrote) = miniz_oxide::inflate::core::decompress(
                &mut theirs, &z, &mut whole, dict.len(),
                miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
            );
            prop_assert_eq!(status, miniz_oxide::inflate::TINFLStatus::Done);
            prop_assert_eq!(&whole[dict.len()..dict.len() + wrote], &raw[..]);
        }
    }
}
