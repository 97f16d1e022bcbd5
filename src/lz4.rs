//! How is an LZ4 block of the hit-display store read back, only as far as a hit needs?
//!
//! An LZ4 block (the format `lz4_flex::block` writes, no frame) is a run of sequences: a token
//! byte (literal count in its high four bits, match length minus 4 in its low four, 15 in
//! either meaning more length bytes follow, each adding up to 255), the literals, then a
//! two-byte little-endian offset back into the output and the match copied from there. The
//! last sequence has literals only and ends the input.
//!
//! The writer compresses with `lz4_flex`; this reader is the crate's own so that showing a hit
//! decodes its chunk only up to the hit's record, not the whole chunk (with `lz4_flex` a
//! chunk was zeroed, then decoded whole: a tenth of a typical query's instructions). Every read
//! is checked: a block that ends early, refers before the start of the output or would write
//! past the declared size is an error, and the work is bounded by the input and output sizes.

use crate::inflate::Failure;

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
    let mut out: Vec<u8> = Vec::with_capacity(len);
    let mut at = 0usize;
    let mut ask = ASK_EVERY;
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
        let lit = input
            .get(at..at + literals)
            .ok_or("the block ends in its literals")?;
        if out.len() + literals > len {
            return Err("literals run past the output");
        }
        out.extend_from_slice(lit);
        at += literals;
        if at == input.len() {
            break;
        }
        let offset = byte(&mut at)? | byte(&mut at)? << 8;
        let matched = long(&mut at, token & 15)? + 4;
        if offset == 0 || offset > out.len() {
            return Err("a match refers before the output");
        }
        if out.len() + matched > len {
            return Err("a match runs past the output");
        }
        let from = out.len() - offset;
        if offset >= matched {
            out.extend_from_within(from..from + matched);
        } else {
            // Overlapping: the match repeats the last `offset` bytes.
            for i in from..from + matched {
                out.push(out[i]);
            }
        }
        if out.len() >= ask {
            if enough(&out) {
                return Ok(out);
            }
            ask = out.len() + ASK_EVERY;
        }
    }
    if out.len() != len {
        return Err("the block decodes to another size than declared");
    }
    Ok(out)
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
        /// Whole blocks decode to what `lz4_flex` compressed; a prefix stops where asked.
        #[test]
        fn decodes_what_lz4_flex_writes(seed in proptest::collection::vec(any::<u8>(), 1..64),
                                        n in 0usize..20_000, stop in 0usize..20_000) {
            let raw = sample(&seed, n);
            let z = lz4_flex::block::compress(&raw);
            prop_assert_eq!(&decompress_until(&z, raw.len(), &|_| false).unwrap(), &raw);
            let part = decompress_until(&z, raw.len(), &|p| p.len() >= stop).unwrap();
            prop_assert!(raw.starts_with(&part));
            prop_assert!(part.len() >= stop.min(raw.len()));
            // The declared size is checked.
            prop_assert!(decompress_until(&z, raw.len() + 1, &|_| false).is_err());
            if !raw.is_empty() {
                prop_assert!(decompress_until(&z, raw.len() - 1, &|_| false).is_err());
            }
        }

        /// Damaged blocks give an error or some output within the declared size, never a
        /// panic.
        #[test]
        fn damaged_blocks_never_panic(seed in proptest::collection::vec(any::<u8>(), 1..64),
                                      n in 1usize..3000, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                      cut in any::<usize>()) {
            let raw = sample(&seed, n);
            let mut z = lz4_flex::block::compress(&raw);
            for (i, b) in flips {
                let i = i % z.len();
                z[i] ^= b;
            }
            z.truncate(1 + cut % z.len());
            if let Ok(out) = decompress_until(&z, raw.len(), &|_| false) {
                prop_assert_eq!(out.len(), raw.len());
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
