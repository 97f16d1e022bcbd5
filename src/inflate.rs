//! How is a deflate chunk of the document store read back? A raw deflate stream (RFC 1951:
//! stored, fixed-Huffman and dynamic-Huffman blocks, no zlib or gzip wrapper) is inflated in
//! one call into a buffer of the size the chunk table declares.
//!
//! The writer compresses with `miniz_oxide`; this decoder is the crate's own because a reader
//! of one whole stream into a buffer of known size needs none of a streaming decoder's state
//! machine, and the search `.wasm` carries every byte of code it links (`miniz_oxide`'s
//! decoder added 7.3 KB gzip to it, this one about a quarter of that). Every read is checked: a
//! stream that is malformed, ends early, refers before the start of the output or would write
//! past the declared size is an error, and the work is bounded by the input and output sizes.

/// Why a stream does not inflate.
pub type Failure = &'static str;

/// Longest code of a deflate Huffman code.
const MAX_BITS: usize = 15;
/// Bits resolved by one table lookup; longer codes are decoded bit by bit.
const FAST_BITS: u32 = 9;

/// Base lengths of the length symbols 257–285, and their extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of the distance symbols 0–29, and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which a dynamic block lists its code length code's lengths.
const CLEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Inflates the raw deflate stream `input` into exactly `len` bytes.
pub fn inflate(input: &[u8], len: usize) -> Result<Vec<u8>, Failure> {
    inflate_until(&[], input, len, &|_| false)
}

/// Inflates the raw deflate stream `input`, compressed against the preset dictionary `dict`
/// (its copies may reach back into `dict` as if it were earlier output), into exactly `len`
/// bytes.
pub fn inflate_with(dict: &[u8], input: &[u8], len: usize) -> Result<Vec<u8>, Failure> {
    inflate_until(dict, input, len, &|_| false)
}

/// Output bytes between two questions to `enough`.
const ASK_EVERY: usize = 1024;

/// Inflates `input` (compressed against the preset dictionary `dict`, empty for none),
/// declared to hold `len` bytes, until `enough` says the output so far is all the caller needs
/// (asked every [`ASK_EVERY`] bytes and after each stored block): then that prefix, whose rest
/// is never decoded nor checked; else, as [`inflate`], all `len` bytes.
pub fn inflate_until(
    dict: &[u8],
    input: &[u8],
    len: usize,
    enough: &dyn Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, Failure> {
    let start = dict.len();
    let mut buf = Vec::with_capacity(start + len);
    buf.extend_from_slice(dict);
    buf.resize(start + len, 0);
    let mut out = Out {
        buf,
        at: start,
        start,
        ask: start + ASK_EVERY,
        enough,
    };
    let mut bits = Bits {
        input,
        pos: 0,
        buf: 0,
        n: 0,
    };
    loop {
        let last = bits.take(1)? == 1;
        let (lit, dist) = match bits.take(2)? {
            0 => {
                stored(&mut bits, &mut out)?;
                if (out.enough)(&out.buf[start..out.at]) {
                    return Ok(out.finish());
                }
                if last {
                    break;
                }
                continue;
            }
            1 => fixed()?,
            2 => dynamic(&mut bits)?,
            _ => return Err("a block of the reserved type 3"),
        };
        if codes(&mut bits, &mut out, &lit, &dist)? {
            return Ok(out.finish());
        }
        if last {
            break;
        }
    }
    match out.at == start + len {
        true => Ok(out.finish()),
        false => Err("the stream ends before the declared size"),
    }
}

/// The output: the preset dictionary (`..start`), then a buffer of the declared size, filled
/// up to `at`; `enough` is asked again once `at` reaches `ask`.
struct Out<'e> {
    buf: Vec<u8>,
    at: usize,
    start: usize,
    ask: usize,
    enough: &'e dyn Fn(&[u8]) -> bool,
}

impl Out<'_> {
    /// What was inflated, without the dictionary.
    fn finish(mut self) -> Vec<u8> {
        self.buf.truncate(self.at);
        if self.start > 0 {
            self.buf.drain(..self.start);
        }
        self.buf
    }
}

/// The input read as bits, least significant first; past its end it reads zeros, and taking
/// any of those is an error.
struct Bits<'a> {
    input: &'a [u8],
    /// Next byte to load.
    pos: usize,
    buf: u64,
    /// Bits in `buf` (zeros past the input's end count too).
    n: u32,
}

impl Bits<'_> {
    /// At least 56 bits in `buf` (out of line: the search `.wasm` links one copy): eight
    /// bytes at once while eight remain, then byte by byte.
    #[inline(never)]
    fn fill(&mut self) {
        if let Some(word) = self.input.get(self.pos..self.pos + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            self.buf |= word << self.n;
            self.pos += ((63 - self.n) / 8) as usize;
            self.n |= 56;
            return;
        }
        while self.n <= 56 {
            let byte = self.input.get(self.pos).copied().unwrap_or(0);
            self.buf |= u64::from(byte) << self.n;
            self.pos += 1;
            self.n += 8;
        }
    }

    /// The next `k` (≤ 32) bits without taking them.
    fn peek(&mut self, k: u32) -> u32 {
        if self.n < k {
            self.fill();
        }
        (self.buf & ((1u64 << k) - 1)) as u32
    }

    /// Drops `k` bits already peeked; an error when they lie past the input's end.
    fn consume(&mut self, k: u32) -> Result<(), Failure> {
        self.buf >>= k;
        self.n -= k;
        // Bits read so far: 8·pos − n; the input holds 8·len.
        match (self.pos * 8).saturating_sub(self.n as usize) <= self.input.len() * 8 {
            true => Ok(()),
            false => Err("the stream ends early"),
        }
    }

    /// (Out of line in the search `.wasm`, which links one copy; inlined natively, where it and
    /// `Huffman::decode` were a tenth of a snippet query's instructions.)
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn take(&mut self, k: u32) -> Result<u32, Failure> {
        let v = self.peek(k);
        self.consume(k)?;
        Ok(v)
    }

    /// Drops the bits up to the next byte boundary, and returns the input from there (the
    /// whole bytes still in `buf` given back).
    fn align(&mut self) -> Result<usize, Failure> {
        let k = self.n % 8;
        self.consume(k)?;
        let at = self.pos - (self.n / 8) as usize;
        self.buf = 0;
        self.n = 0;
        self.pos = at;
        Ok(at)
    }
}

/// A stored block: LEN, NLEN, then LEN bytes as they are.
fn stored(bits: &mut Bits<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
    let at = bits.align()?;
    let header = bits.input.get(at..at + 4).ok_or("the stream ends early")?;
    let n = u16::from_le_bytes([header[0], header[1]]);
    if n != !u16::from_le_bytes([header[2], header[3]]) {
        return Err("a stored block's length and its complement disagree");
    }
    let bytes = bits
        .input
        .get(at + 4..at + 4 + n as usize)
        .ok_or("the stream ends early")?;
    let to = out
        .buf
        .get_mut(out.at..out.at + bytes.len())
        .ok_or("the stream inflates past the declared size")?;
    to.copy_from_slice(bytes);
    out.at += bytes.len();
    bits.pos = at + 4 + n as usize;
    Ok(())
}

/// A canonical Huffman code: a table of the codes of up to [`FAST_BITS`] bits, and the counts
/// and sorted symbols that decode the longer ones.
struct Huffman {
    /// Indexed by the next `FAST_BITS` input bits: `symbol << 4 | length`, 0 when the code is
    /// longer (or there is none).
    fast: Vec<u16>,
    /// Codes of each length.
    count: [u16; MAX_BITS + 1],
    /// Symbols in code order.
    symbols: Vec<u16>,
}

impl Huffman {
    /// The code of `lengths` (0: the symbol has no code). An over-subscribed set of lengths is
    /// an error; an incomplete one is accepted, and input that reaches a missing code fails.
    fn new(lengths: &[u8]) -> Result<Huffman, Failure> {
        let mut count = [0u16; MAX_BITS + 1];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut left = 1i32;
        for &c in &count[1..] {
            left = 2 * left - i32::from(c);
            if left < 0 {
                return Err("an over-subscribed Huffman code");
            }
        }
        // First index in `symbols` of each length, then the symbols sorted by (length, symbol).
        let mut offs = [0u16; MAX_BITS + 2];
        for l in 1..=MAX_BITS {
            offs[l + 1] = offs[l] + count[l];
        }
        let mut symbols = vec![0u16; offs[MAX_BITS + 1] as usize];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbols[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        // Canonical codes in order; each short one fills every table slot it prefixes (the
        // table is indexed by the bits as read, so by the code reversed).
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let (mut code, mut i) = (0u32, 0usize);
        for l in 1..=MAX_BITS as u32 {
            for _ in 0..count[l as usize] {
                if l <= FAST_BITS {
                    let rev = code.reverse_bits() >> (32 - l);
                    let mut slot = rev as usize;
                    while slot < fast.len() {
                        fast[slot] = symbols[i] << 4 | l as u16;
                        slot += 1 << l;
                    }
                }
                code += 1;
                i += 1;
            }
            code <<= 1;
        }
        Ok(Huffman {
            fast,
            count,
            symbols,
        })
    }

    /// The next symbol (inlined natively, like [`Bits::take`]).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, Failure> {
        let window = bits.peek(MAX_BITS as u32);
        let e = self.fast[(window & ((1 << FAST_BITS) - 1)) as usize];
        if e != 0 {
            bits.consume(u32::from(e & 15))?;
            return Ok(e >> 4);
        }
        self.slow(bits, window)
    }

    /// A code longer than [`FAST_BITS`] (or none), bit by bit from `window`.
    #[cold]
    #[inline(never)]
    fn slow(&self, bits: &mut Bits<'_>, window: u32) -> Result<u16, Failure> {
        // Bit by bit (canonical order): `code` holds the bits so far, `first` the first code
        // of this length, `index` the first symbol of this length.
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for l in 1..=MAX_BITS {
            code |= ((window >> (l - 1)) & 1) as i32;
            let c = i32::from(self.count[l]);
            if code - first < c {
                bits.consume(l as u32)?;
                return Ok(self.symbols[(index + code - first) as usize]);
            }
            index += c;
            first = (first + c) << 1;
            code <<= 1;
        }
        Err("a Huffman code that the block's code does not have")
    }
}

/// The codes of a fixed-Huffman block.
fn fixed() -> Result<(Huffman, Huffman), Failure> {
    let mut lengths = [0u8; 320];
    lengths[..144].fill(8);
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    lengths[280..288].fill(8);
    lengths[288..].fill(5);
    Ok((
        Huffman::new(&lengths[..288])?,
        Huffman::new(&lengths[288..])?,
    ))
}

/// A dynamic block's header: its literal/length and distance codes.
fn dynamic(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), Failure> {
    let nlit = bits.take(5)? as usize + 257;
    let ndist = bits.take(5)? as usize + 1;
    let nclen = bits.take(4)? as usize + 4;
    if nlit > 286 || ndist > 30 {
        return Err("a dynamic block with too many codes");
    }
    let mut clens = [0u8; 19];
    for &i in &CLEN_ORDER[..nclen] {
        clens[i] = bits.take(3)? as u8;
    }
    let clen = Huffman::new(&clens)?;
    let mut lengths = [0u8; 286 + 30];
    let mut i = 0;
    while i < nlit + ndist {
        let (value, repeat) = match clen.decode(bits)? {
            s @ 0..=15 => (s as u8, 1),
            16 => {
                let prev = *i
                    .checked_sub(1)
                    .and_then(|p| lengths.get(p))
                    .ok_or("a dynamic block repeats a length before the first")?;
                (prev, 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        if i + repeat > nlit + ndist {
            return Err("a dynamic block's lengths run past its codes");
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err("a dynamic block without an end-of-block code");
    }
    Ok((
        Huffman::new(&lengths[..nlit])?,
        Huffman::new(&lengths[nlit..nlit + ndist])?,
    ))
}

/// The width of the fixed move that copies a short match (here, and a short literal run or
/// match in the LZ4 reader).
pub(crate) const WIDE: usize = 16;

/// Whether short copies take the fixed moves (both readers): natively; not in the search
/// `.wasm`, where the two readers' fixed moves measured 164 B gzip and copies are one
/// `memory.copy` each.
pub(crate) const WIDE_COPIES: bool = !cfg!(all(target_arch = "wasm32", feature = "binding"));

/// A Huffman-coded block's literals and copies, up to its end-of-block symbol; `true` when
/// `enough` stopped it first.
fn codes(
    bits: &mut Bits<'_>,
    out: &mut Out<'_>,
    lit: &Huffman,
    dist: &Huffman,
) -> Result<bool, Failure> {
    let past = "the stream inflates past the declared size";
    loop {
        if out.at >= out.ask {
            if (out.enough)(&out.buf[out.start..out.at]) {
                return Ok(true);
            }
            out.ask = out.at + ASK_EVERY;
        }
        let s = lit.decode(bits)? as usize;
        if s < 256 {
            *out.buf.get_mut(out.at).ok_or(past)? = s as u8;
            out.at += 1;
            continue;
        }
        if s == 256 {
            return Ok(false);
        }
        let l = s - 257;
        let (Some(&base), Some(&extra)) = (LEN_BASE.get(l), LEN_EXTRA.get(l)) else {
            return Err("an invalid length symbol");
        };
        let n = base as usize + bits.take(u32::from(extra))? as usize;
        let d = dist.decode(bits)? as usize;
        let (Some(&base), Some(&extra)) = (DIST_BASE.get(d), DIST_EXTRA.get(d)) else {
            return Err("an invalid distance symbol");
        };
        let back = base as usize + bits.take(u32::from(extra))? as usize;
        let from = out
            .at
            .checked_sub(back)
            .ok_or("a copy from before the start of the output")?;
        if out.at + n > out.buf.len() {
            return Err(past);
        }
        if WIDE_COPIES && back >= WIDE && n <= WIDE && out.at + WIDE <= out.buf.len() {
            // One fixed 16-byte move (the bytes past the copy are written over next).
            out.buf.copy_within(from..from + WIDE, out.at);
        } else if back >= n {
            out.buf.copy_within(from..from + n, out.at);
        } else {
            // An overlapping copy repeats its last `back` bytes.
            for k in 0..n {
                out.buf[out.at + k] = out.buf[from + k];
            }
        }
        out.at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn deflate(data: &[u8], level: u8) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec(data, level)
    }

    /// Text-like bytes: words from a small vocabulary, so that every kind of copy occurs.
    fn text(seed: u64, len: usize) -> Vec<u8> {
        let words = [
            "debian", "package", "library", "the", "of", "a", "python3", "-dev", "\n",
        ];
        let mut x = seed | 1;
        let mut out = Vec::new();
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(words[(x % words.len() as u64) as usize].as_bytes());
            out.push(if x % 5 == 0 { b'.' } else { b' ' });
        }
        out.truncate(len);
        out
    }

    proptest! {
        /// Whatever `miniz_oxide` writes at any level (stored, fixed and dynamic blocks)
        /// inflates back to the input, and a declared size off by one is refused.
        #[test]
        fn round_trips(data in proptest::collection::vec(any::<u8>(), 0..3000),
                       seed in any::<u64>(), len in 0usize..70_000, level in 0u8..=10) {
            for raw in [data, text(seed, len)] {
                let z = deflate(&raw, level);
                prop_assert_eq!(inflate(&z, raw.len()).unwrap(), raw.clone());
                prop_assert!(inflate(&z, raw.len() + 1).is_err());
                if !raw.is_empty() {
                    prop_assert!(inflate(&z, raw.len() - 1).is_err());
                }
            }
        }

        /// Damaged streams never panic, and never give more or fewer bytes than declared;
        /// where `miniz_oxide`'s own decoder accepts one, both give the same bytes.
        #[test]
        fn damage_is_an_error_or_the_declared_size(seed in any::<u64>(), len in 1usize..5000,
                                                   level in 0u8..=9,
                                                   flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
                                                   cut in any::<usize>()) {
            let raw = text(seed, len);
            let mut z = deflate(&raw, level);
            for (at, x) in flips {
                let i = at % z.len();
                z[i] ^= x;
            }
            for bytes in [&z[..], &z[..cut % (z.len() + 1)]] {
                let mine = inflate(bytes, raw.len());
                if let Ok(out) = &mine {
                    prop_assert_eq!(out.len(), raw.len());
                }
                let theirs = miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, raw.len());
                if let (Ok(a), Ok(b)) = (&mine, &theirs) {
                    if b.len() == raw.len() {
                        prop_assert_eq!(a, b);
                    }
                }
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400),
                                len in 0usize..2000) {
            if let Ok(out) = inflate(&data, len) {
                prop_assert_eq!(out.len(), len);
            }
        }
    }

    /// `inflate_until` stops once the output is enough, with a prefix of the whole (at most
    /// `ASK_EVERY` bytes and one copy past the point), and inflates everything otherwise.
    #[test]
    fn stops_when_enough() {
        for (seed, level) in [(1u64, 9u8), (2, 1), (3, 0), (4, 6)] {
            let raw = text(seed, 40_000);
            let z = deflate(&raw, level);
            for want in [0usize, 1, 1000, 5000, 39_000] {
                let got = inflate_until(&[], &z, raw.len(), &|p| p.len() >= want).unwrap();
                assert!(got.len() >= want, "level {level}: {} < {want}", got.len());
                assert_eq!(got[..], raw[..got.len()]);
                if level != 0 {
                    assert!(
                        got.len() < want + ASK_EVERY + 258,
                        "level {level}: {}",
                        got.len()
                    );
                }
            }
            assert_eq!(inflate_until(&[], &z, raw.len(), &|_| false).unwrap(), raw);
            assert_eq!(
                inflate_until(&[], &z, raw.len(), &|p| p.len() > raw.len()).unwrap(),
                raw
            );
        }
    }

    /// Hand-made streams of each block type and each failure.    /// Hand-made streams of each block type and each failure.
    #[test]
    fn streams_table() {
        let ok: &[(&[u8], &[u8])] = &[
            // A final stored block of "abc".
            (&[0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b', b'c'], b"abc"),
            // A final fixed block, empty.
            (&[0x03, 0x00], b""),
            // A final fixed block: "a", then a copy of length 4 at distance 1.
            (&[0x4b, 0x04, 0x01, 0x00], b"aaaaa"),
        ];
        for (z, want) in ok {
            assert_eq!(inflate(z, want.len()).unwrap(), *want, "{z:02x?}");
        }
        let bad: &[(&[u8], usize, &str)] = &[
            (&[], 0, "the stream ends early"),
            (&[0x07], 0, "a block of the reserved type 3"),
            (
                &[0x01, 0x03, 0x00, 0xfc, 0xfe, b'a', b'b', b'c'],
                3,
                "a stored block's length and its complement disagree",
            ),
            (
                &[0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b'],
                3,
                "the stream ends early",
            ),
            (
                &[0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b', b'c'],
                2,
                "the stream inflates past the declared size",
            ),
            (
                &[0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b', b'c'],
                4,
                "the stream ends before the declared size",
            ),
            // A fixed block whose first symbol copies from distance 1 of nothing.
            (
                &[0x03, 0x02],
                3,
                "a copy from before the start of the output",
            ),
            // A non-final empty stored block, then nothing.
            (&[0x00, 0x00, 0x00, 0xff, 0xff], 0, "the stream ends early"),
        ];
        for (z, len, why) in bad {
            assert_eq!(inflate(z, *len), Err(*why), "{z:02x?}");
        }
    }

    /// The 16 KiB chunks of the fixture corpus, as the store writes them.
    #[test]
    fn fixture_corpus_round_trips() {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/docs.jsonl"
        ))
        .unwrap();
        for chunk in text.chunks(16 * 1024) {
            for level in [1, 6, 9] {
                assert_eq!(inflate(&deflate(chunk, level), chunk.len()).unwrap(), chunk);
            }
        }
    }
}
