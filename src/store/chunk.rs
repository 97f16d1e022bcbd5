//! How is one chunk of a store compressed, and read back (whole, or as far as some of its
//! records)? LZ4 for the hit display and the stores before format 10, deflate for the document
//! store from then on, either against a preset dictionary (the `preset` module).

use super::{ChunkInfo, DEFLATE_LEVEL, DEFLATE_STORE_VERSION};
use crate::codec::Reader;
use crate::error::{Error, Result};

/// How the chunks of a store are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// An LZ4 block (written and read by the `lz4` module): the hit-display store, and every
    /// store before format 10 (`DEFLATE_STORE_VERSION`).
    Lz4,
    /// A raw deflate stream (RFC 1951, no zlib or gzip wrapper).
    Deflate,
}

impl Codec {
    /// The codec of the hit-display store (`display`) or the document store in a file of
    /// format `version`.
    pub fn of(display: bool, version: u32) -> Codec {
        match !display && version >= DEFLATE_STORE_VERSION {
            true => Codec::Deflate,
            false => Codec::Lz4,
        }
    }

    /// `raw` compressed (without a preset dictionary).
    pub(super) fn compress(self, raw: &[u8]) -> Vec<u8> {
        match self {
            Codec::Lz4 => crate::lz4::compress(raw),
            Codec::Deflate => miniz_oxide::deflate::compress_to_vec(raw, DEFLATE_LEVEL),
        }
    }
}

/// Decompresses one chunk in `codec` whose declared uncompressed size is `raw_len`, refusing
/// a size above `max_raw` before allocating; the output is never more than `raw_len` bytes.
pub fn decompress_chunk(
    bytes: &[u8],
    dict: &[u8],
    raw_len: u32,
    max_raw: usize,
    codec: Codec,
) -> Result<Vec<u8>> {
    if raw_len as usize > max_raw {
        return Err(Error::LimitExceeded {
            what: "decompressed store chunk bytes",
            limit: max_raw as u64,
        });
    }
    let out = match codec {
        Codec::Lz4 => crate::lz4::decompress_until_with(dict, bytes, raw_len as usize, &|_| false)
            .map_err(not_inflated)?,
        Codec::Deflate => {
            crate::inflate::inflate_with(dict, bytes, raw_len as usize).map_err(not_inflated)?
        }
    };
    if out.len() != raw_len as usize {
        return Err(Error::corrupt("store chunk decompressed to the wrong size"));
    }
    Ok(out)
}

/// How many of `chunk`'s records reading `docs` (whose chunks are `infos`) needs: up to the
/// last of them in it.
pub fn records_needed(docs: &[u32], infos: &[ChunkInfo], chunk: &ChunkInfo) -> usize {
    let in_chunk = docs
        .iter()
        .zip(infos)
        .filter(|(_, c)| c.offset == chunk.offset);
    let need = in_chunk.map(|(&d, c)| d.saturating_sub(c.first_doc) as usize + 1);
    need.max().unwrap_or(0)
}

/// Like [`decompress_chunk`], but a chunk is decompressed only as far as its first `records`
/// records (the rest is neither decoded nor checked): what reading some of a chunk's
/// documents needs.
pub fn decompress_records(
    bytes: &[u8],
    dict: &[u8],
    raw_len: u32,
    max_raw: usize,
    codec: Codec,
    records: usize,
) -> Result<Vec<u8>> {
    if raw_len as usize > max_raw {
        return decompress_chunk(bytes, dict, raw_len, max_raw, codec);
    }
    // Never at the full size: a whole chunk is inflated to its end, and checked. The records
    // are parsed once each, resuming where the last question stopped (linear in the output).
    let parsed = std::cell::Cell::new((0usize, 0usize));
    let holds = |prefix: &[u8]| {
        if prefix.len() >= raw_len as usize {
            return false;
        }
        let (mut at, mut seen) = parsed.get();
        while seen < records {
            let mut r = Reader::new(prefix.get(at..).unwrap_or_default(), "store chunk");
            if r.len_prefix().and_then(|n| r.bytes(n)).is_err() {
                break;
            }
            at += r.position();
            seen += 1;
        }
        parsed.set((at, seen));
        seen >= records
    };
    match codec {
        Codec::Lz4 => crate::lz4::decompress_until_with(dict, bytes, raw_len as usize, &holds),
        Codec::Deflate => crate::inflate::inflate_until(dict, bytes, raw_len as usize, &holds),
    }
    .map_err(not_inflated)
}

/// A chunk that does not decompress, and why.
fn not_inflated(why: crate::inflate::Failure) -> Error {
    Error::corrupt(format!("store chunk does not decompress: {why}"))
}
