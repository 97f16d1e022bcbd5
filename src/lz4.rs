//! How is the hit-display store compressed, and read back only as far as a hit needs?
//!
//! An LZ4 block (no frame) is a run of sequences: a token byte (literal count in its high four
//! bits, match length minus 4 in its low four, 15 in either meaning more length bytes follow,
//! each adding up to 255), the literals, then a two-byte little-endian offset back into the
//! output and the match copied from there. The last sequence has literals only and ends the
//! input.
//!
//! [`compress`] searches harder than a fast LZ4 compressor (every earlier position with the
//! same four bytes, up to [`CHAIN_DEPTH`] of them, and a match deferred when the next position
//! starts a longer one): the Debian hit-display store is 8% smaller than with `lz4_flex`'s
//! fast writer, whose blocks (every store written before) this reader reads the same way. It
//! keeps the format's end rules (the last five bytes are literals; no match starts in the last
//! twelve), so any LZ4 decoder reads its blocks.
//!
//! The reader is the crate's own so that showing a hit decodes its chunk only up to the hit's
//! record, not the whole chunk (with `lz4_flex` a chunk was zeroed, then decoded whole: a
//! tenth of a typical query's instructions). Every read is checked: a block that ends early,
//! refers before the start of the output or would write past the declared size is an error,
//! and the work is bounded by the input and output sizes.

use crate::inflate::{Failure, WIDE, WIDE_COPIES};

/// Output bytes between two questions to `enough`.
const ASK_EVERY: usize = 256;

/// Decodes the LZ4 block `input` whose output is `len` bytes. `enough` is asked, as the
/// output grows, whether the output so far is all the caller needs: then that prefix is
/// returned, and the rest of the block is neither decoded nor checked. Otherwise the whole
/// output is returned, once it is exactly `len` bytes.
pub fn decompress_until(
    input: &[u8],
    len: usize,
    enough: &dyn Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, Failure> {
    decompress_until_with(&[], input, len, enough)
}

/// [`decompress_until`] for a block compressed against the preset dictionary `dict` (by
/// [`compress_with`]): its matches may reach back into `dict` as if it were earlier output.
/// `len` and what `enough` sees and what is returned are the block's own output, without
/// `dict`.
pub fn decompress_until_with(
    dict: &[u8],
    input: &[u8],
    len: usize,
    enough: &dyn Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, Failure> {
    // The dictionary goes first in the output, as the bytes the block's matches may reach;
    // it is drained before returning. `len` counts from its end from here on.
    let start = dict.len();
    let len = start
        .checked_add(len)
        .ok_or("a block past the address space")?;
    // A short literal run or match is copied as one fixed 16-byte move, not a copy sized at
    // run time, and the output is then cut back to its length (`len` bounds every move).
    let mut out: Vec<u8> = Vec::with_capacity(len);
    out.extend_from_slice(dict);
    let mut ask = start + ASK_EVERY;
    let mut at = 0usize;
    let byte = |at: &mut usize| -> Result<usize, Failure> {
        let b = *input.get(*at).ok_or("the block ends early")?;
        *at += 1;
        Ok(b as usize)
    };
    // A length of 15 goes on in the bytes after it, each adding up to 255 (bounded by `len`:
    // a longer one is an error before it is read further).
    let long = |at: &mut usize, mut n: usize| -> Result<usize, Failure> {
        if n == 15 {
            loop {
                let b = byte(at)?;
                n += b;
                if n > len {
                    return Err("a length runs past the output");
                }
                if b != 255 {
                    break;
                }
            }
        }
        Ok(n)
    };
    loop {
        let token = byte(&mut at)?;
        let literals = long(&mut at, token >> 4)?;
        let o = out.len();
        if WIDE_COPIES && literals <= WIDE && at + WIDE <= input.len() && o + WIDE <= len {
            out.extend_from_slice(&input[at..at + WIDE]);
            out.truncate(o + literals);
        } else {
            let lit = input
                .get(at..at + literals)
                .ok_or("the block ends in its literals")?;
            if o + literals > len {
                return Err("literals run past the output");
            }
            out.extend_from_slice(lit);
        }
        at += literals;
        if at == input.len() {
            break;
        }
        let offset = byte(&mut at)? | byte(&mut at)? << 8;
        let matched = long(&mut at, token & 15)? + 4;
        let o = out.len();
        if offset == 0 || offset > o {
            return Err("a match refers before the output");
        }
        if o + matched > len {
            return Err("a match runs past the output");
        }
        let from = o - offset;
        if WIDE_COPIES && offset >= WIDE && matched <= WIDE && o + WIDE <= len {
            out.extend_from_within(from..from + WIDE);
            out.truncate(o + matched);
        } else if offset >= matched {
            out.extend_from_within(from..from + matched);
        } else {
            // Overlapping: the match repeats the last `offset` bytes.
            for i in from..from + matched {
                out.push(out[i]);
            }
        }
        if out.len() >= ask {
            if enough(&out[start..]) {
                out.drain(..start);
                return Ok(out);
            }
            ask = out.len() + ASK_EVERY;
        }
    }
    if out.len() != len {
        return Err("the block decodes to another size than declared");
    }
    out.drain(..start);
    Ok(out)
}

/// The shortest match a sequence can hold.
const MIN_MATCH: usize = 4;

/// A block ends with at least this many literals (the format's end rule).
const LAST_LITERALS: usize = 5;

/// No match starts in a block's last this many bytes (the format's end rule).
const NO_MATCH_TAIL: usize = 12;

/// The farthest back a match can refer.
const MAX_OFFSET: usize = u16::MAX as usize;

/// Earlier positions with the same four bytes tried per position, nearest first.
pub const CHAIN_DEPTH: usize = 64;

/// Bits of the hash of four bytes that picks a chain.
const HASH_BITS: u32 = 14;

/// Compresses `input` into one LZ4 block (what [`decompress_until`] reads back).
pub fn compress(input: &[u8]) -> Vec<u8> {
    compress_from(input, 0)
}

/// Compresses `raw` into one LZ4 block whose matches may reach back into the preset dictionary
/// `dict` (at most 64 KiB back from any byte: the farthest an offset reaches), as if `dict`
/// had been written just before it ([`decompress_until_with`] reads it back).
pub fn compress_with(dict: &[u8], raw: &[u8]) -> Vec<u8> {
    if dict.is_empty() {
        return compress(raw);
    }
    let mut whole = Vec::with_capacity(dict.len() + raw.len());
    whole.extend_from_slice(dict);
    whole.extend_from_slice(raw);
    compress_from(&whole, dict.len())
}

/// Compresses `input[begin..]` into one LZ4 block, its matches reaching back into
/// `input[..begin]` too (the format's end rules count from the end of `input`, the block's
/// end).
fn compress_from(input: &[u8], begin: usize) -> Vec<u8> {
    let n = input.len();
    let mut out = Vec::with_capacity((n - begin) / 2 + 16);
    // Matches start before `starts` and end by `ends`.
    let starts = n.saturating_sub(NO_MATCH_TAIL).max(begin);
    let ends = n.saturating_sub(LAST_LITERALS);
    let mut chains = Chains::new(input, starts);
    let (mut anchor, mut i) = (begin, begin);
    while i < starts {
        let (mut len, mut offset) = chains.longest(i, ends);
        if len < MIN_MATCH {
            i += 1;
            continue;
        }
        // Deferred while the next position starts a longer match.
        while i + 1 < starts {
            let (next, at) = chains.longest(i + 1, ends);
            if next <= len {
                break;
            }
            (i, len, offset) = (i + 1, next, at);
        }
        sequence(&mut out, &input[anchor..i], Some((offset, len)));
        i += len;
        anchor = i;
    }
    sequence(&mut out, &input[anchor..], None);
    out
}

/// Per hash of four bytes, the positions holding them, latest first.
struct Chains<'a> {
    input: &'a [u8],
    /// The latest position of each hash (`u32::MAX`: none).
    head: Vec<u32>,
    /// The position before each one with the same hash.
    prev: Vec<u32>,
    /// Positions below this are in the chains.
    filled: usize,
}

impl<'a> Chains<'a> {
    /// Chains for the positions of `input` below `starts`.
    fn new(input: &'a [u8], starts: usize) -> Self {
        Chains {
            input,
            head: vec![u32::MAX; 1 << HASH_BITS],
            prev: vec![u32::MAX; starts],
            filled: 0,
        }
    }

    fn hash(&self, at: usize) -> usize {
        let four: [u8; 4] = self.input[at..at + 4].try_into().unwrap_or_default();
        (u32::from_le_bytes(four).wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
    }

    /// The longest match (length, offset) for position `at` ending by `ends`, among the
    /// nearest [`CHAIN_DEPTH`] earlier positions with the same four bytes; the nearer on a tie.
    /// Length 0: none.
    fn longest(&mut self, at: usize, ends: usize) -> (usize, usize) {
        while self.filled < at {
            let h = self.hash(self.filled);
            self.prev[self.filled] = self.head[h];
            self.head[h] = self.filled as u32;
            self.filled += 1;
        }
        let want = &self.input[at..ends];
        let (mut best, mut offset) = (0, 0);
        let mut candidate = self.head[self.hash(at)];
        for _ in 0..CHAIN_DEPTH {
            let Some(c) = usize::try_from(candidate).ok().filter(|&c| c < at) else {
                break;
            };
            if at - c > MAX_OFFSET {
                break;
            }
            // Only a candidate that beats the best so far at its last byte is compared whole.
            if want.get(best) == self.input.get(c + best) {
                let len = want
                    .iter()
                    .zip(&self.input[c..])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best {
                    (best, offset) = (len, at - c);
                    if len == want.len() {
                        break;
                    }
                }
            }
            candidate = self.prev[c];
        }
        (best, offset)
    }
}

/// Appends one sequence: `literals`, then the match (offset, length) if any.
fn sequence(out: &mut Vec<u8>, literals: &[u8], matched: Option<(usize, usize)>) {
    let extra = matched.map_or(0, |(_, len)| len - MIN_MATCH);
    out.push((literals.len().min(15) << 4 | extra.min(15)) as u8);
    length_rest(out, literals.len());
    out.extend_from_slice(literals);
    if let Some((offset, _)) = matched {
        out.extend_from_slice(&(offset as u16).to_le_bytes());
        length_rest(out, extra);
    }
}

/// The bytes after a token's 15 that carry the rest of a length.
fn length_rest(out: &mut Vec<u8>, n: usize) {
    if n >= 15 {
        let mut rest = n - 15;
        while rest >= 255 {
            out.push(255);
            rest -= 255;
        }
        out.push(rest as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text with repeats near and far, as records are.
    fn sample(seed: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        let mut i = 0usize;
        while out.len() < n {
            let s = seed[i % seed.len()] as usize;
            if s % 3 == 0 && out.len() > 8 {
                let back = 1 + s % out.len().min(40);
                let from = out.len() - back;
                for k in 0..(s % 23 + 1).min(n - out.len()) {
                    out.push(out[from + k]);
                }
            } else {
                out.push(b'a' + (s % 26) as u8);
            }
            i += 1;
        }
        out
    }

    proptest! {
        /// Whole blocks decode to what was compressed, by this reader and by `lz4_flex`'s (so
        /// the blocks are the format's, end rules included); a prefix stops where asked.
        #[test]
        fn decodes_what_compress_writes(seed in proptest::collection::vec(any::<u8>(), 1..64),
                                        n in 0usize..20_000, stop in 0usize..20_000) {
            let raw = sample(&seed, n);
            let z = compress(&raw);
            prop_assert_eq!(&decompress_until(&z, raw.len(), &|_| false).unwrap(), &raw);
            prop_assert_eq!(&lz4_flex::block::decompress(&z, raw.len()).unwrap(), &raw);
            let part = decompress_until(&z, raw.len(), &|p| p.len() >= stop).unwrap();
            prop_assert!(raw.starts_with(&part));
            prop_assert!(part.len() >= stop.min(raw.len()));
            // The declared size is checked.
            prop_assert!(decompress_until(&z, raw.len() + 1, &|_| false).is_err());
            if !raw.is_empty() {
                prop_assert!(decompress_until(&z, raw.len() - 1, &|_| false).is_err());
            }
        }

        /// Blocks compressed against a preset dictionary decode with it, by this reader and by
        /// `lz4_flex`'s; a prefix stops where asked; the dictionary is not in the output.
        #[test]
        fn decodes_what_compress_with_writes(seed in proptest::collection::vec(any::<u8>(), 1..64),
                                             d in 0usize..20_000, n in 0usize..6_000,
                                             stop in 0usize..6_000) {
            let both = sample(&seed, d + n);
            let (dict, raw) = both.split_at(d);
            let z = compress_with(dict, raw);
            prop_assert_eq!(&decompress_until_with(dict, &z, raw.len(), &|_| false).unwrap(), raw);
            prop_assert_eq!(&lz4_flex::block::decompress_with_dict(&z, raw.len(), dict).unwrap(), raw);
            let part = decompress_until_with(dict, &z, raw.len(), &|p| p.len() >= stop).unwrap();
            prop_assert!(raw.starts_with(&part));
            prop_assert!(part.len() >= stop.min(raw.len()));
            prop_assert!(decompress_until_with(dict, &z, raw.len() + 1, &|_| false).is_err());
            // Without its dictionary, a block that reaches into it is refused, never misread
            // as something else of the declared size that reaches before the output.
            if let Ok(out) = decompress_until(&z, raw.len(), &|_| false) {
                prop_assert_eq!(&out, raw);
            }
        }

        /// What `lz4_flex` writes decodes too (the stores built before this compressor).
        #[test]
        fn decodes_what_lz4_flex_writes(seed in proptest::collection::vec(any::<u8>(), 1..64),
                                        n in 0usize..20_000) {
            let raw = sample(&seed, n);
            let z = lz4_flex::block::compress(&raw);
            prop_assert_eq!(&decompress_until(&z, raw.len(), &|_| false).unwrap(), &raw);
        }

        /// Arbitrary bytes round-trip, and never compress to more than the format's worst case.
        #[test]
        fn arbitrary_bytes_round_trip(raw in proptest::collection::vec(0u8..4, 0..5000)) {
            let z = compress(&raw);
            prop_assert!(z.len() <= raw.len() + raw.len() / 255 + 16);
            prop_assert_eq!(&decompress_until(&z, raw.len(), &|_| false).unwrap(), &raw);
        }

        /// Damaged blocks give an error or output of exactly the declared size, never a panic.
        #[test]
        fn damaged_blocks_never_panic(seed in proptest::collection::vec(any::<u8>(), 1..64),
                                      n in 1usize..3000, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                      cut in any::<usize>()) {
            let raw = sample(&seed, n);
            let mut z = compress(&raw);
            for (i, b) in flips {
                let i = i % z.len();
                z[i] ^= b;
            }
            z.truncate(1 + cut % z.len());
            let ours = decompress_until(&z, raw.len(), &|_| false);
            if let Ok(out) = &ours {
                prop_assert_eq!(out.len(), raw.len());
            }
            // Where both decoders accept the damaged block, they agree on every byte (the
            // short copies move 16 bytes, then cut back: nothing past a run may show).
            if let (Ok(out), Ok(theirs)) = (&ours, lz4_flex::block::decompress(&z, raw.len())) {
                prop_assert_eq!(out, &theirs);
            }
        }
    }

    /// A block, its declared size, and what it decodes to (`Err(())`: an error).
    type Case = (&'static [u8], usize, Result<&'static [u8], ()>);

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (&[0x00], 0, Ok(b"")),
            (&[0x30, b'a', b'b', b'c'], 3, Ok(b"abc")),
            // "ab" then a match of 4 at offset 2 ("abab"), then literals "c".
            (&[0x20, b'a', b'b', 2, 0, 0x10, b'c'], 7, Ok(b"abababc")),
            // Offset 0, offset before the output, a match past the size.
            (&[0x20, b'a', b'b', 0, 0, 0x10, b'c'], 7, Err(())),
            (&[0x20, b'a', b'b', 3, 0, 0x10, b'c'], 7, Err(())),
            (&[0x20, b'a', b'b', 2, 0, 0x10, b'c'], 5, Err(())),
            // Ends early: no literals, a token only, a half offset.
            (&[], 0, Err(())),
            (&[0x30, b'a'], 3, Err(())),
            (&[0x20, b'a', b'b', 2], 7, Err(())),
            // A literal length of 15 + 255 + 255 + … past the size.
            (&[0xf0, 255, 255, 255, 255], 100, Err(())),
        ];
        for (block, len, want) in cases {
            let got = decompress_until(block, *len, &|_| false);
            assert_eq!(got.as_deref().map_err(|_| ()), *want, "{block:?}");
        }
    }
}
