//! The hit-display store's LZ4 decoder (`edgekb::raw::lz4_until`) on any bytes, against
//! `lz4_flex`'s; its writer (`edgekb::raw::lz4_compress`) on any bytes, read back by both; and
//! the same with a preset dictionary (format 12: `lz4_until_with`, `lz4_compress_with`).
//!
//! Input layout (see `fuzz/README.md`): `len: u16 LE | stop: u16 LE | data`. `data` is decoded
//! as a block declared to hold `len` bytes (whole, and up to `stop` bytes), and compressed by
//! edgekb's writer and by `lz4_flex`'s, then decoded back. Then its first `stop % (len(data) +
//! 1)` bytes are a preset dictionary and the rest a block decoded against it (against
//! `lz4_flex`'s dictionary decoder), and compressed against it and decoded back.
#![no_main]

use edgekb::raw::{lz4_compress, lz4_compress_with, lz4_until, lz4_until_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let len = u16::from_le_bytes([input[0], input[1]]) as usize;
    let stop = u16::from_le_bytes([input[2], input[3]]) as usize;
    let data = &input[4..];
    // Any bytes: an error, or exactly the declared size, the same as lz4_flex's decoder gives.
    let whole = lz4_until(data, len, &|_| false);
    if let Ok(out) = &whole {
        assert_eq!(out.len(), len);
        if let Ok(theirs) = lz4_flex::block::decompress(data, len) {
            assert_eq!(out, &theirs, "the two decoders disagree");
        }
    }
    // Stopped early: a prefix of the whole output.
    if let (Ok(out), Ok(part)) = (&whole, lz4_until(data, len, &|p| p.len() >= stop)) {
        assert!(out.starts_with(&part));
    }
    // What the writer writes always reads back, with either decoder.
    let z = lz4_compress(data);
    assert_eq!(lz4_until(&z, data.len(), &|_| false).as_deref(), Ok(data));
    assert_eq!(lz4_flex::block::decompress(&z, data.len()).ok().as_deref(), Some(data));
    // And so does what lz4_flex wrote (every display store before edgekb's writer).
    let z = lz4_flex::block::compress(data);
    assert_eq!(lz4_until(&z, data.len(), &|_| false).as_deref(), Ok(data));

    // With a preset dictionary: the output never holds the dictionary, and agrees with
    // lz4_flex's; what the writer writes against it reads back.
    let (dict, rest) = data.split_at(stop % (data.len() + 1));
    if let Ok(out) = lz4_until_with(dict, rest, len, &|_| false) {
        assert_eq!(out.len(), len);
        if let Ok(theirs) = lz4_flex::block::decompress_with_dict(rest, len, dict) {
            assert_eq!(out, theirs, "the two decoders disagree with a dictionary");
        }
    }
    let z = lz4_compress_with(dict, rest);
    assert_eq!(lz4_until_with(dict, &z, rest.len(), &|_| false).as_deref(), Ok(rest));
    assert_eq!(
        lz4_flex::block::decompress_with_dict(&z, rest.len(), dict).ok().as_deref(),
        Some(rest)
    );
});
