//! Byte-level encodings shared by every structure: LEB128 varints, little-endian integers,
//! bit-packing, and a bounds-checked reader that turns every short read into an error.

use crate::error::{Error, Result};

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-prefixed UTF-8 string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Number of bits needed to represent `v` (0 for 0).
pub fn bits_needed(v: u32) -> u8 {
    (32 - v.leading_zeros()) as u8
}

/// Bytes taken by `n` values packed at `width` bits.
pub fn packed_len(n: usize, width: u8) -> usize {
    (n * width as usize).div_ceil(8)
}

/// Appends `values` packed at `width` bits each, least significant bit first.
pub fn pack(out: &mut Vec<u8>, values: &[u32], width: u8) {
    debug_assert!(width <= 32);
    let mut acc: u64 = 0;
    let mut nbits = 0u32;
    for &v in values {
        debug_assert!(width == 32 || v >> width == 0);
        acc |= (v as u64) << nbits;
        nbits += width as u32;
        while nbits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            nbits -= 8;
        }
    }
    if nbits > 0 {
        out.push(acc as u8);
    }
}

/// Reads value `i` of a sequence packed at `width` bits. `data` must hold at least
/// `packed_len(i + 1, width)` bytes (checked by the caller).
pub fn unpack_one(data: &[u8], width: u8, i: usize) -> u32 {
    if width == 0 {
        return 0;
    }
    let bit = i * width as usize;
    let mut acc: u64 = 0;
    let first = bit / 8;
    let last = (bit + width as usize).div_ceil(8); // exclusive
    for (k, &b) in data[first..last].iter().enumerate() {
        acc |= (b as u64) << (8 * k);
    }
    let v = acc >> (bit % 8);
    if width == 32 {
        v as u32
    } else {
        (v as u32) & ((1u32 << width) - 1)
    }
}

/// Unpacks `n` values at `width` bits, appending them to `out`.
pub fn unpack(data: &[u8], width: u8, n: usize, out: &mut Vec<u32>) -> Result<()> {
    // Checked before anything grows: `n` may come from untrusted bytes.
    packed(data, width, n)?;
    let at = out.len();
    out.resize(at + n, 0);
    unpack_into(data, width, &mut out[at..])
}

/// The `packed_len(n, width)` bytes of `data` that hold `n` values at `width` bits.
fn packed(data: &[u8], width: u8, n: usize) -> Result<&[u8]> {
    if width > 32 {
        return Err(Error::corrupt(format!("bit width {width} is above 32")));
    }
    let need = packed_len(n, width);
    // (Not `ok_or`: the error would be built, and dropped, on every read.)
    match data.get(..need) {
        Some(d) => Ok(d),
        None => Err(Error::Truncated {
            what: "bit-packed block",
            needed: need as u64,
            available: data.len() as u64,
        }),
    }
}

/// Unpacks `out.len()` values at `width` bits into `out`.
pub fn unpack_into(data: &[u8], width: u8, out: &mut [u32]) -> Result<()> {
    let data = packed(data, width, out.len())?;
    let need = data.len();
    if width == 0 {
        out.fill(0);
        return Ok(());
    }
    // Up to 10 bits (field masks and frequencies, and the documents' gaps of every list but
    // the sparsest), by code generic over the width: groups of eight values (`width` bytes
    // each), read from a zero-padded copy so that every group, the last included, is read the
    // same way. Wider values take the loop below. (Widths to 16 cost 1 KB more of gzipped
    // `.wasm` for 0.6% fewer instructions natively, and none fewer in wasm.)
    macro_rules! widths {
        ($($w:literal)*) => {
            match width {
                $($w => {
                    unpack_padded::<$w>(data, out);
                    return Ok(());
                })*
                _ => {}
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10);
    let w = width as usize;
    let mask: u64 = (1u64 << width) - 1;
    // Value `i` starts at bit `i * w`: one little-endian load of the 8 bytes from its first
    // byte holds it (at most 7 + 32 bits), for every value whose 8 bytes lie within `data`.
    let whole = match need.checked_sub(8) {
        Some(last_start) => ((last_start * 8 + 7) / w + 1).min(out.len()),
        None => 0,
    };
    for (i, v) in out[..whole].iter_mut().enumerate() {
        let bit = i * w;
        let at = bit / 8;
        let word = data
            .get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_le_bytes);
        *v = ((word >> (bit % 8)) & mask) as u32;
    }
    // The last few, a byte at a time.
    for (i, v) in out.iter_mut().enumerate().skip(whole) {
        *v = unpack_one(data, width, i);
    }
    Ok(())
}

/// Values unpacked per copy into [`unpack_padded`]'s buffer.
const PADDED_VALUES: usize = 128;

/// Unpacks `out.len()` values at `W` ≤ 16 bits from `data` (exactly their packed bytes):
/// [`PADDED_VALUES`] at a time, copied into a zero-padded buffer, eight at a time.
fn unpack_padded<const W: usize>(data: &[u8], out: &mut [u32]) {
    // 128 values at 16 bits, and the 8 bytes the last group's last load may reach past them.
    let mut buf = [0u8; PADDED_VALUES * 2 + 8];
    for (k, values) in out.chunks_mut(PADDED_VALUES).enumerate() {
        let start = k * PADDED_VALUES * W / 8;
        let len = packed_len(values.len(), W as u8);
        let Some(bytes) = data.get(start..start + len) else {
            return;
        };
        buf[..len].copy_from_slice(bytes);
        // (Bytes past `len` hold zeros or an earlier window's bytes: only values past
        // `values.len()`, which are dropped, read them.)
        let n = values.len();
        let mut groups = values.chunks_exact_mut(8);
        for (g, group) in (&mut groups).enumerate() {
            unpack_group::<W>(&buf[g * W..], group);
        }
        let rest = groups.into_remainder();
        if !rest.is_empty() {
            let mut last = [0u32; 8];
            unpack_group::<W>(&buf[n / 8 * W..], &mut last);
            rest.copy_from_slice(&last[..rest.len()]);
        }
    }
}

/// Eight values at `W` bits from the start of `bytes` (which holds `W + 8` bytes or more).
#[inline(always)]
fn unpack_group<const W: usize>(bytes: &[u8], out: &mut [u32]) {
    let mask: u64 = (1u64 << W) - 1;
    for (j, v) in out.iter_mut().enumerate().take(8) {
        // Value `j`: bit `j·W` from the group's first byte.
        let at = j * W / 8;
        let word = bytes
            .get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_le_bytes);
        *v = ((word >> (j * W % 8)) & mask) as u32;
    }
}

/// A cursor over untrusted bytes: every read is bounds-checked and fails with
/// [`Error::Truncated`] or [`Error::Corrupt`], never a panic.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `data`; `what` names the structure in error messages.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    #[cfg(test)]
    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Current offset from the start.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::Truncated {
                what: self.what,
                needed: n as u64,
                available: self.remaining() as u64,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A little-endian f32.
    pub fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_bits(self.u32()?))
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    pub fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(Error::corrupt(format!(
                    "{}: varint overflows 64 bits",
                    self.what
                )));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::corrupt(format!(
            "{}: varint longer than 10 bytes",
            self.what
        )))
    }

    /// A varint that must fit in a u32.
    pub fn varint_u32(&mut self) -> Result<u32> {
        let v = self.varint()?;
        u32::try_from(v)
            .map_err(|_| Error::corrupt(format!("{}: value {v} does not fit 32 bits", self.what)))
    }

    /// A varint length that must not exceed what is left (guards allocations).
    pub fn len_prefix(&mut self) -> Result<usize> {
        let n = self.varint()?;
        if n > self.remaining() as u64 {
            return Err(Error::Truncated {
                what: self.what,
                needed: n,
                available: self.remaining() as u64,
            });
        }
        Ok(n as usize)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        let n = self.len_prefix()?;
        let b = self.bytes(n)?;
        std::str::from_utf8(b)
            .map_err(|_| Error::corrupt(format!("{}: string is not UTF-8", self.what)))
    }
}

/// CRC32 (IEEE, reflected, polynomial `0xEDB88320`) of `data`, eight bytes per step
/// ("slicing-by-8"). Its tables (8 KiB) are computed on first use rather than stored in the
/// binary: a stored 16 KiB table (the `crc32fast` crate's) was 5% of the search `.wasm`
/// gzipped. A few GB/s natively, which is far from what a query or a build spends its time on.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLES: std::sync::OnceLock<Box<[[u32; 256]; 8]>> = std::sync::OnceLock::new();
    let t = TABLES.get_or_init(|| {
        let mut t = Box::new([[0u32; 256]; 8]);
        // Opaque to the optimizer, which would otherwise compute the first table at build time
        // and store it in the binary (1 KB of the `.wasm`, gzip or not).
        let poly = std::hint::black_box(0xEDB8_8320u32);
        for i in 0..256 {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 { poly ^ (c >> 1) } else { c >> 1 };
            }
            t[0][i] = c;
        }
        for i in 0..256 {
            for k in 1..8 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            }
        }
        t
    });
    let mut crc = !0u32;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        crc = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ b as u32) & 0xFF) as usize];
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_check_values() {
        // The standard check value, and the empty input.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    proptest! {
        #[test]
        fn crc32_equals_the_crc32fast_crate(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(crc32(&data), crc32fast::hash(&data));
        }

        #[test]
        fn varint_round_trips(values in proptest::collection::vec(any::<u64>(), 0..50)) {
            let mut buf = Vec::new();
            for &v in &values { put_varint(&mut buf, v); }
            let mut r = Reader::new(&buf, "test");
            for &v in &values { prop_assert_eq!(r.varint().unwrap(), v); }
            prop_assert!(r.is_empty());
        }

        #[test]
        fn pack_round_trips(values in proptest::collection::vec(any::<u32>(), 0..300), width in 0u8..=32) {
            let mask = if width == 32 { u32::MAX } else { (1u32 << width) - 1 };
            let values: Vec<u32> = values.into_iter().map(|v| v & mask).collect();
            let mut buf = Vec::new();
            pack(&mut buf, &values, width);
            prop_assert_eq!(buf.len(), packed_len(values.len(), width));
            // Appends after what `out` holds; bytes past the values are not read.
            let mut out = vec![7];
            let mut padded = buf.clone();
            padded.extend_from_slice(&[0xff; 9]);
            unpack(&padded, width, values.len(), &mut out).unwrap();
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(unpack_one(&buf, width, i), *v);
            }
            prop_assert_eq!(out[0], 7);
            prop_assert_eq!(&out[1..], &values[..]);
            // One byte short fails, and `out` is left as it was.
            if !buf.is_empty() {
                let mut out = vec![7];
                prop_assert!(unpack(&buf[..buf.len() - 1], width, values.len(), &mut out).is_err());
                prop_assert_eq!(out, vec![7]);
            }
        }

        #[test]
        fn reader_never_panics_on_garbage(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data, "garbage");
            while r.varint().is_ok() {}
            let mut r = Reader::new(&data, "garbage");
            let _ = r.str();
            let _ = r.u64();
        }
    }

    #[test]
    fn edge_cases() {
        // (input, expected outcome)
        let cases: &[(&[u8], Option<u64>)] = &[
            (&[], None),
            (&[0x00], Some(0)),
            (&[0x7f], Some(127)),
            (&[0x80, 0x01], Some(128)),
            (&[0x80], None),
            (&[0xff; 11], None),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                Some(u64::MAX),
            ),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                None,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                Reader::new(input, "t").varint().ok(),
                *want,
                "input {input:02x?}"
            );
        }
        assert_eq!(bits_needed(0), 0);
        assert_eq!(bits_needed(1), 1);
        assert_eq!(bits_needed(u32::MAX), 32);
        let mut r = Reader::new(&[5, b'a', b'b'], "t");
        assert!(matches!(
            r.str(),
            Err(Error::Truncated {
                needed: 5,
                available: 2,
                ..
            })
        ));
    }
}
