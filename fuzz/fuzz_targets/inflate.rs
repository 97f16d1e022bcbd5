//! The document store's deflate decoder (`edgekb::raw::inflate`) on any bytes, and against
//! `miniz_oxide` (which writes the store's chunks).
//!
//! Input layout (see `fuzz/README.md`): `len: u16 LE | level: u8 | data`. `data` is inflated
//! as a stream declared to hold `len` bytes, and compressed at `level % 11` then inflated back;
//! then (format 11's preset dictionaries) its first `len % (data's length + 1)` bytes serve as
//! a dictionary: the rest is inflated against it as any stream, and compressed against it
//! (`Deflater`) then inflated back.
#![no_main]

use edgekb::raw::{inflate, inflate_with, Deflater};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if input.len() < 3 {
        return;
    }
    let len = u16::from_le_bytes([input[0], input[1]]) as usize;
    let level = input[2] % 11;
    let data = &input[3..];
    // Any bytes: an error, or exactly the declared size; where miniz_oxide inflates the same
    // stream to that size, the same bytes.
    let mine = inflate(data, len);
    if let Ok(out) = &mine {
        assert_eq!(out.len(), len);
    }
    if let (Ok(out), Ok(theirs)) = (&mine, miniz_oxide::inflate::decompress_to_vec_with_limit(data, len)) {
        if theirs.len() == len {
            assert_eq!(out, &theirs, "the two decoders disagree");
        }
    }
    // What the writer writes always reads back.
    let z = miniz_oxide::deflate::compress_to_vec(data, level);
    assert_eq!(inflate(&z, data.len()).as_deref(), Ok(data));
    // Against a preset dictionary: any stream is an error or the declared size; what the
    // writer writes reads back.
    let (dict, rest) = data.split_at(len % (data.len() + 1));
    if let Ok(out) = inflate_with(dict, rest, len) {
        assert_eq!(out.len(), len);
    }
    let z = Deflater::new(dict, level).compress(rest);
    assert_eq!(inflate_with(dict, &z, rest.len()).as_deref(), Ok(rest));
});
