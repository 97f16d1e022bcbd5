//! Where do the stored fields of a document live?
//!
//! Documents are appended in id order to chunks of about [`CHUNK_TARGET`] bytes, each
//! compressed on its own ([`Codec`]: the document store in deflate from format
//! [`DEFLATE_STORE_VERSION`], the hit-display store and older stores in LZ4), so reading a
//! document decompresses one small chunk. From format [`PRESET_VERSION`] the document store's
//! data begins with a preset dictionary (the `preset` module) that its chunks refer back into;
//! from format [`DISPLAY_PRESET_VERSION`] the hit-display store's LZ4 chunks have one too, handed
//! over by the writer apart from the section (the index's DISPLAYPRESET section).
//! A chunk is a sequence of documents, each `varint length` + record; a record holds, for every
//! stored field in schema order, `varint count` + that many length-prefixed strings.
//!
//! The chunk table says where each chunk is. Up to format 5 it is fixed-width (16 bytes a
//! chunk); from format 6 ([`COMPACT_TABLE_VERSION`]) it is compact: blocks of
//! [`TABLE_BLOCK`] chunks, each a fixed header (the block's first document and offset, and a
//! base and bit width per column) and three bit-packed columns (documents per chunk,
//! compressed and raw lengths), so an entry costs about 4 bytes and is found by summing at most
//! [`TABLE_BLOCK`] − 1 values.

use crate::codec::{bits_needed, pack, packed_len, put_str, put_varint, Reader};
use crate::error::{Error, Result};
use crate::preset::PRESET_BYTES;

mod chunk;
pub use chunk::{decompress_chunk, decompress_records, records_needed, Codec};

/// Uncompressed bytes after which a chunk is closed.
pub const CHUNK_TARGET: usize = 16 * 1024;

/// Uncompressed bytes after which a chunk of the hit-display store is closed: small, since
/// showing a hit reads one chunk of it (and decodes it as far as the hit's record). 8 KiB
/// before format 12, whose chunks are compressed against a preset dictionary: with it, chunks
/// half the size take fewer bytes than the larger ones did without.
pub const DISPLAY_CHUNK_TARGET: usize = 4 * 1024;

/// The first format version whose hit-display chunks are compressed against a preset
/// dictionary: a DISPLAYPRESET section of its own (none for a small store), which a split
/// index keeps resident.
pub const DISPLAY_PRESET_VERSION: u32 = 12;

/// Bytes of the hit-display store's preset dictionary, at most, as written.
pub const DISPLAY_PRESET_BYTES: usize = 8 * 1024;

/// Uncompressed hit-display bytes per byte of its dictionary, at least: a small store's is
/// resident with it, and a dictionary pays for itself sooner than the document store's, whose
/// chunks are four times larger (from 16 KiB of records on, one of 1 KiB, the trainer's
/// least).
const DISPLAY_PRESET_RATIO: usize = 16;

/// The largest hit-display preset dictionary a reader accepts: as far as an LZ4 offset
/// reaches (a larger one could not be reached, and every chunk decoded starts from a copy).
pub const DISPLAY_PRESET_MAX: usize = u16::MAX as usize;

/// Bytes of one entry of a fixed-width chunk table (formats 1 to 5).
pub const CHUNK_ENTRY: usize = 16;

/// The first format version whose chunk tables are compact.
pub const COMPACT_TABLE_VERSION: u32 = 6;

/// The first format version whose document store (not the hit-display store) is compressed
/// with deflate rather than LZ4: a third smaller, in exchange for a slower decompression of the
/// chunks that snippets and stored documents read (hits read the display store).
pub const DEFLATE_STORE_VERSION: u32 = 10;

/// Compression level of the document store's deflate chunks (`miniz_oxide`, 0 to 10).
const DEFLATE_LEVEL: u8 = 9;

/// The first format version whose document store begins with a preset dictionary (the
/// `preset` module): its chunks' deflate streams may refer back into it.
pub const PRESET_VERSION: u32 = 11;

/// Chunks per block of a compact chunk table.
pub const TABLE_BLOCK: usize = 64;

/// Bytes of one block header of a compact chunk table: FirstDoc, Offset, Start and the three
/// columns' bases (u32 each), their three widths (u8) and a zero byte.
const BLOCK_HEADER: usize = 28;

/// The stored values of one document: for each stored field (schema order), its values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// Values per stored field.
    pub fields: Vec<Vec<String>>,
}

/// Encodes one document's record.
pub fn encode_record(fields: &[Vec<String>], out: &mut Vec<u8>) {
    for values in fields {
        put_varint(out, values.len() as u64);
        for v in values {
            put_str(out, v);
        }
    }
}

/// Writes the store section: chunk count, chunk table, then the data: the preset dictionary
/// (when there is one) and the compressed chunks.
pub struct StoreWriter {
    target: usize,
    codec: Codec,
    table: Vec<(u32, u32, u32, u32)>,
    data: Vec<u8>,
    current: Vec<u8>,
    current_first: u32,
    docs: u32,
    record: Vec<u8>,
    /// Until the preset dictionary is learnt: the chunks it is learnt from.
    learner: Option<crate::preset::Learner>,
    /// The compressor primed with the dictionary learnt (`None`: not learnt, or none).
    deflater: Option<crate::preset::Deflater>,
    /// LZ4 chunks: the dictionary learnt (empty: not learnt, or none), which is not part of
    /// the section ([`StoreWriter::finish`] hands it over).
    lz4_preset: Vec<u8>,
}

impl Default for StoreWriter {
    /// The document store of this format: chunks of [`CHUNK_TARGET`] bytes in deflate, against
    /// a preset dictionary of up to [`PRESET_BYTES`].
    fn default() -> Self {
        StoreWriter::new(CHUNK_TARGET, Codec::Deflate).with_preset(PRESET_BYTES)
    }
}

impl StoreWriter {
    /// A writer closing chunks after `target` uncompressed bytes, compressing them with `codec`.
    pub fn new(target: usize, codec: Codec) -> Self {
        StoreWriter {
            target,
            codec,
            table: Vec::new(),
            data: Vec::new(),
            current: Vec::new(),
            current_first: 0,
            docs: 0,
            record: Vec::new(),
            learner: None,
            deflater: None,
            lz4_preset: Vec::new(),
        }
    }

    /// Chunks compressed against a preset dictionary of up to `bytes`
    /// ([`crate::preset::Learner`]): deflate chunks (format [`PRESET_VERSION`]) with the
    /// dictionary first in the section's data, LZ4 chunks (format [`DISPLAY_PRESET_VERSION`])
    /// with the dictionary handed over apart by [`StoreWriter::finish`].
    pub fn with_preset(mut self, bytes: usize) -> Self {
        if bytes > 0 {
            let ratio = match self.codec {
                Codec::Deflate => crate::preset::RATIO,
                Codec::Lz4 => DISPLAY_PRESET_RATIO,
            };
            self.learner = Some(crate::preset::Learner::new(bytes, ratio));
        }
        self
    }

    /// Appends the next document.
    pub fn add(&mut self, fields: &[Vec<String>]) {
        if self.current.is_empty() {
            self.current_first = self.docs;
        }
        self.record.clear();
        encode_record(fields, &mut self.record);
        put_varint(&mut self.current, self.record.len() as u64);
        self.current.extend_from_slice(&self.record);
        self.docs += 1;
        if self.current.len() >= self.target {
            self.close_chunk();
        }
    }

    fn close_chunk(&mut self) {
        if self.current.is_empty() {
            return;
        }
        if let Some(learner) = &mut self.learner {
            if learner.hold(self.current_first, std::mem::take(&mut self.current)) {
                self.learn();
            }
            return;
        }
        let raw = std::mem::take(&mut self.current);
        self.push_chunk(self.current_first, &raw);
        self.current = raw;
        self.current.clear();
    }

    /// Compresses chunk `raw` (first document `first`) and appends it.
    fn push_chunk(&mut self, first: u32, raw: &[u8]) {
        let compressed = match &self.deflater {
            Some(d) => d.compress(raw),
            None if self.codec == Codec::Lz4 => crate::lz4::compress_with(&self.lz4_preset, raw),
            None => self.codec.compress(raw),
        };
        self.table.push((
            first,
            self.data.len() as u32,
            compressed.len() as u32,
            raw.len() as u32,
        ));
        self.data.extend_from_slice(&compressed);
    }

    /// Learns the preset dictionary, puts it first in the data (deflate) or aside (LZ4), and
    /// compresses the chunks held back until now.
    fn learn(&mut self) {
        let Some(learner) = self.learner.take() else {
            return;
        };
        let (dict, held) = learner.learn();
        match self.codec {
            Codec::Deflate => {
                self.data.extend_from_slice(&dict);
                self.deflater = Some(crate::preset::Deflater::new(&dict, DEFLATE_LEVEL));
            }
            Codec::Lz4 => self.lz4_preset = dict,
        }
        for (first, raw) in held {
            self.push_chunk(first, &raw);
        }
    }

    /// The finished section, with a compact chunk table (format 6), and the preset
    /// dictionary its LZ4 chunks were compressed against (empty: none; a deflate store's is
    /// in the section).
    pub fn finish(mut self) -> Result<(Vec<u8>, Vec<u8>)> {
        self.close_chunk();
        self.learn();
        if self.data.len() > u32::MAX as usize {
            return Err(Error::LimitExceeded {
                what: "document store bytes",
                limit: u32::MAX as u64,
            });
        }
        let count = self.table.len();
        let mut headers = Vec::with_capacity(count.div_ceil(TABLE_BLOCK) * BLOCK_HEADER);
        let mut columns = Vec::new();
        let mut cols: [Vec<u32>; 3] = Default::default();
        for (b, block) in self.table.chunks(TABLE_BLOCK).enumerate() {
            for c in &mut cols {
                c.clear();
            }
            for (k, &(first, _, clen, rlen)) in block.iter().enumerate() {
                let next = match self.table.get(b * TABLE_BLOCK + k + 1) {
                    Some(e) => e.0,
                    None => self.docs,
                };
                cols[0].push(next - first);
                cols[1].push(clen);
                cols[2].push(rlen);
            }
            headers.extend_from_slice(&block[0].0.to_le_bytes());
            headers.extend_from_slice(&block[0].1.to_le_bytes());
            headers.extend_from_slice(&(columns.len() as u32).to_le_bytes());
            let mut widths = [0u8; 3];
            for (c, w) in cols.iter_mut().zip(&mut widths) {
                let base = c.iter().copied().min().unwrap_or(0);
                c.iter_mut().for_each(|v| *v -= base);
                *w = bits_needed(c.iter().copied().max().unwrap_or(0));
                headers.extend_from_slice(&base.to_le_bytes());
            }
            headers.extend_from_slice(&widths);
            headers.push(0);
            for (c, &w) in cols.iter().zip(&widths) {
                pack(&mut columns, c, w);
            }
        }
        let mut out = Vec::with_capacity(8 + headers.len() + columns.len() + self.data.len());
        out.extend_from_slice(&(count as u32).to_le_bytes());
        out.extend_from_slice(&(columns.len() as u32).to_le_bytes());
        out.extend_from_slice(&headers);
        out.extend_from_slice(&columns);
        out.extend_from_slice(&self.data);
        Ok((out, self.lz4_preset))
    }
}

/// One entry of the chunk table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkInfo {
    /// Id of the first document in the chunk.
    pub first_doc: u32,
    /// Offset of the compressed chunk from the start of the chunk data.
    pub offset: u32,
    /// Compressed length.
    pub compressed_len: u32,
    /// Uncompressed length.
    pub raw_len: u32,
}

impl ChunkInfo {
    /// The chunk's bytes, counted from the start of the chunk data.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.offset as u64..self.offset as u64 + self.compressed_len as u64
    }
}

/// Where a reader finds the chunk table's entries.
#[derive(Clone, Copy, Debug)]
enum Table<'a> {
    /// Formats 1 to 5: `CHUNK_ENTRY` bytes a chunk.
    Fixed(&'a [u8]),
    /// Format 6: block headers, then the blocks' bit-packed columns.
    Compact {
        headers: &'a [u8],
        columns: &'a [u8],
    },
}

/// One block header of a compact chunk table.
struct Block {
    /// Chunks in the block.
    n: usize,
    first_doc: u32,
    offset: u32,
    bases: [u32; 3],
    /// The block's three columns: documents per chunk, compressed and raw lengths.
    columns: [(usize, u8); 3],
}

/// One bit-packed column of a block, read in order (each value with the column's base added).
struct Column<'c> {
    data: &'c [u8],
    width: u8,
    base: u64,
    acc: u64,
    bits: u32,
    pos: usize,
}

impl Column<'_> {
    /// The next value (bytes past the column read as zeros: the block's check keeps the
    /// readers within it).
    fn next(&mut self) -> u64 {
        if self.width == 0 {
            return self.base;
        }
        while self.bits < self.width as u32 {
            self.acc |= (self.data.get(self.pos).copied().unwrap_or(0) as u64) << self.bits;
            self.pos += 1;
            self.bits += 8;
        }
        let v = self.acc & ((1u64 << self.width) - 1);
        self.acc >>= self.width;
        self.bits -= self.width as u32;
        self.base + v
    }

    /// Value `k` from here.
    fn nth(&mut self, k: usize) -> u64 {
        for _ in 0..k {
            self.next();
        }
        self.next()
    }
}

/// Reads the store section.
#[derive(Clone, Copy, Debug)]
pub struct StoreReader<'a> {
    table: Table<'a>,
    data: &'a [u8],
    count: usize,
    table_len: usize,
    version: u32,
    /// The preset dictionary of LZ4 chunks (format 12's hit display; empty: none).
    lz4_preset: &'a [u8],
}

impl<'a> StoreReader<'a> {
    /// Opens the section of a file of format `version` (O(1): checks only the table's size).
    pub fn open(section: &'a [u8], version: u32) -> Result<Self> {
        let mut r = Reader::new(section, "document store");
        let count = r.u32()? as usize;
        let table = if version >= COMPACT_TABLE_VERSION {
            let columns_len = r.u32()? as usize;
            let headers = r.bytes(
                count
                    .div_ceil(TABLE_BLOCK)
                    .checked_mul(BLOCK_HEADER)
                    .ok_or_else(|| Error::corrupt("store chunk count"))?,
            )?;
            let columns = r.bytes(columns_len)?;
            Table::Compact { headers, columns }
        } else {
            Table::Fixed(
                r.bytes(
                    count
                        .checked_mul(CHUNK_ENTRY)
                        .ok_or_else(|| Error::corrupt("store chunk count"))?,
                )?,
            )
        };
        let table_len = r.position();
        let data = &section[table_len..];
        Ok(StoreReader {
            table,
            data,
            count,
            table_len,
            version,
            lz4_preset: &[],
        })
    }

    /// The same store, its LZ4 chunks compressed against `dict` (format 12's hit display: the
    /// index's DISPLAY_PRESET section).
    pub fn with_lz4_preset(mut self, dict: &'a [u8]) -> Self {
        self.lz4_preset = dict;
        self
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.count
    }

    /// Bytes of the section before the chunk data (the count and the chunk table).
    pub fn table_len(&self) -> usize {
        self.table_len
    }

    /// Where the preset dictionary is in the chunk data (format 11, `PRESET_VERSION`: before the
    /// first chunk, at most `PRESET_BYTES`, 32 KiB; empty in earlier formats and when the store has
    /// none).
    pub fn preset(&self) -> Result<std::ops::Range<u64>> {
        if self.version < PRESET_VERSION || self.count == 0 {
            return Ok(0..0);
        }
        let end = self.chunk(0)?.offset as u64;
        if end > PRESET_BYTES as u64 {
            return Err(Error::corrupt(format!(
                "document store preset dictionary of {end} bytes"
            )));
        }
        Ok(0..end)
    }

    /// Header `b` of a compact table, with its columns' byte offsets checked.
    fn block(&self, headers: &[u8], columns: &[u8], b: usize) -> Result<Block> {
        let mut r = Reader::new(
            &headers[b * BLOCK_HEADER..(b + 1) * BLOCK_HEADER],
            "store chunk table",
        );
        let (first_doc, offset, start) = (r.u32()?, r.u32()?, r.u32()? as usize);
        let bases = [r.u32()?, r.u32()?, r.u32()?];
        let widths = [r.u8()?, r.u8()?, r.u8()?];
        let n = (self.count - b * TABLE_BLOCK).min(TABLE_BLOCK);
        let mut at = start;
        let mut cols = [(0, 0); 3];
        for (c, &w) in cols.iter_mut().zip(&widths) {
            if w > 32 {
                return Err(Error::corrupt(format!("chunk table bit width {w}")));
            }
            *c = (at, w);
            at += packed_len(n, w);
        }
        if at > columns.len() {
            return Err(Error::Truncated {
                what: "store chunk table",
                needed: at as u64,
                available: columns.len() as u64,
            });
        }
        Ok(Block {
            n,
            first_doc,
            offset,
            bases,
            columns: cols,
        })
    }

    /// Column `c` of a block, read value by value (base added).
    fn column<'c>(columns: &'c [u8], block: &Block, c: usize) -> Column<'c> {
        let (at, width) = block.columns[c];
        Column {
            data: &columns[at..],
            width,
            base: block.bases[c] as u64,
            acc: 0,
            bits: 0,
            pos: 0,
        }
    }

    /// Entry `i` of the chunk table.
    pub fn chunk(&self, i: usize) -> Result<ChunkInfo> {
        if i >= self.count {
            return Err(Error::corrupt(format!("store chunk {i} of {}", self.count)));
        }
        let (headers, columns) = match self.table {
            Table::Fixed(table) => {
                let mut r = Reader::new(
                    &table[i * CHUNK_ENTRY..(i + 1) * CHUNK_ENTRY],
                    "store chunk table",
                );
                return Ok(ChunkInfo {
                    first_doc: r.u32()?,
                    offset: r.u32()?,
                    compressed_len: r.u32()?,
                    raw_len: r.u32()?,
                });
            }
            Table::Compact { headers, columns } => (headers, columns),
        };
        let (b, j) = (i / TABLE_BLOCK, i % TABLE_BLOCK);
        let block = self.block(headers, columns, b)?;
        Self::entry(columns, &block, |k, _| k == j).map(|(_, info)| info)
    }

    /// The entry of the first chunk `k` of a block for which `stop(k, its first document)`
    /// holds (the block's last chunk when none does): one pass over its columns.
    fn entry(
        columns: &[u8],
        block: &Block,
        mut stop: impl FnMut(usize, u64) -> bool,
    ) -> Result<(usize, ChunkInfo)> {
        let (mut docs, mut clens) = (
            Self::column(columns, block, 0),
            Self::column(columns, block, 1),
        );
        let (mut first, mut offset) = (block.first_doc as u64, block.offset as u64);
        let mut k = 0;
        while k + 1 < block.n && !stop(k, first) {
            first += docs.next();
            offset += clens.next();
            k += 1;
        }
        let fit = |v: u64| u32::try_from(v).map_err(|_| Error::corrupt("store chunk table sums"));
        let mut rlens = Self::column(columns, block, 2);
        let info = ChunkInfo {
            first_doc: fit(first)?,
            offset: fit(offset)?,
            compressed_len: fit(clens.next())?,
            raw_len: fit(rlens.nth(k))?,
        };
        Ok((k, info))
    }

    /// The chunk holding `doc`: the last whose first document is at most `doc`.
    pub fn chunk_of(&self, doc: u32) -> Result<usize> {
        self.locate(doc).map(|(i, _)| i)
    }

    /// The chunk holding `doc` (the last whose first document is at most `doc`) and its entry.
    pub fn locate(&self, doc: u32) -> Result<(usize, ChunkInfo)> {
        let missing = || Error::corrupt(format!("no store chunk holds document {doc}"));
        let (headers, columns) = match self.table {
            Table::Fixed(_) => {
                // Binary search on first_doc.
                let (mut lo, mut hi) = (0usize, self.count);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if self.chunk(mid)?.first_doc <= doc {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                let i = lo.checked_sub(1).ok_or_else(missing)?;
                return Ok((i, self.chunk(i)?));
            }
            Table::Compact { headers, columns } => (headers, columns),
        };
        // Binary search on the blocks' first documents, then one pass within the block.
        let first_of = |b: usize| {
            let h = &headers[b * BLOCK_HEADER..];
            u32::from_le_bytes([h[0], h[1], h[2], h[3]])
        };
        let (mut lo, mut hi) = (0usize, self.count.div_ceil(TABLE_BLOCK));
        while lo < hi {
            let mid = (lo + hi) / 2;
            if first_of(mid) <= doc {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let b = lo.checked_sub(1).ok_or_else(missing)?;
        let block = self.block(headers, columns, b)?;
        // Stop at the chunk after which the next one starts past `doc`.
        let mut docs = Self::column(columns, &block, 0);
        let (k, info) = Self::entry(columns, &block, |_, first| first + docs.next() > doc as u64)?;
        Ok((b * TABLE_BLOCK + k, info))
    }

    /// Decompresses chunk `i` (in `codec`), refusing a declared size above `max_raw`.
    pub fn load_chunk(&self, i: usize, max_raw: usize, codec: Codec) -> Result<Vec<u8>> {
        let c = self.chunk(i)?;
        let start = c.offset as usize;
        let end = start
            .checked_add(c.compressed_len as usize)
            .ok_or_else(|| Error::corrupt("store chunk range"))?;
        let bytes = self.data.get(start..end).ok_or(Error::Truncated {
            what: "store chunk",
            needed: end as u64,
            available: self.data.len() as u64,
        })?;
        let dict = match codec {
            Codec::Deflate => {
                let preset = self.preset()?;
                (self.data.get(..preset.end as usize))
                    .ok_or_else(|| Error::corrupt("store preset dictionary past the chunk data"))?
            }
            Codec::Lz4 => self.lz4_preset,
        };
        decompress_chunk(bytes, dict, c.raw_len, max_raw, codec)
    }
}

/// Finds document `doc` in a decompressed chunk that starts at `first_doc` and decodes it for
/// `stored_fields` fields.
pub fn read_doc(chunk: &[u8], first_doc: u32, doc: u32, stored_fields: usize) -> Result<StoredDoc> {
    let mut r = Reader::new(chunk, "store chunk");
    let skip = doc
        .checked_sub(first_doc)
        .ok_or_else(|| Error::corrupt("document before its chunk"))?;
    for _ in 0..skip {
        let n = r.len_prefix()?;
        r.bytes(n)?;
    }
    let n = r.len_prefix()?;
    let mut rec = Reader::new(r.bytes(n)?, "stored document");
    let mut fields = Vec::with_capacity(stored_fields);
    for _ in 0..stored_fields {
        let count = rec.varint()?;
        if count > rec.remaining() as u64 {
            return Err(Error::corrupt("stored field value count"));
        }
        let mut values = Vec::with_capacity(count as usize);
        for _ in 0..count {
            values.push(rec.str()?.to_string());
        }
        fields.push(values);
    }
    Ok(StoredDoc { fields })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The same store with a fixed-width table (formats 1 to 5), from a compact section.
    fn as_fixed(section: &[u8]) -> Vec<u8> {
        let s = StoreReader::open(section, COMPACT_TABLE_VERSION).unwrap();
        let mut out = (s.chunk_count() as u32).to_le_bytes().to_vec();
        for i in 0..s.chunk_count() {
            let c = s.chunk(i).unwrap();
            for v in [c.first_doc, c.offset, c.compressed_len, c.raw_len] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out.extend_from_slice(&section[s.table_len()..]);
        out
    }

    proptest! {
        #[test]
        fn store_round_trips(docs in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(".{0,40}", 0..3), 2..=2), 0..300),
            target in prop_oneof![Just(CHUNK_TARGET), 1usize..400],
            deflate in any::<bool>()) {
            let codec = if deflate { Codec::Deflate } else { Codec::Lz4 };
            let mut w = StoreWriter::new(target, codec);
            for d in &docs { w.add(d); }
            let section = w.finish().unwrap().0;
            let fixed = as_fixed(&section);
            for (bytes, version) in [(&section, COMPACT_TABLE_VERSION), (&fixed, 5)] {
                let s = StoreReader::open(bytes, version).unwrap();
                prop_assert_eq!(s.data.len(), section.len() - StoreReader::open(&section, 6).unwrap().table_len());
                for (i, d) in docs.iter().enumerate() {
                    let (c, info) = s.locate(i as u32).unwrap();
                    prop_assert_eq!(s.chunk(c).unwrap(), info);
                    prop_assert_eq!(s.chunk_of(i as u32).unwrap(), c);
                    prop_assert!(info.first_doc <= i as u32);
                    if c + 1 < s.chunk_count() {
                        prop_assert!(s.chunk(c + 1).unwrap().first_doc > i as u32);
                    }
                    let raw = s.load_chunk(c, 1 << 20, codec).unwrap();
                    let got = read_doc(&raw, info.first_doc, i as u32, 2).unwrap();
                    prop_assert_eq!(&got.fields, d);
                    // Only as far as this document's record: a prefix that still reads it.
                    let need = records_needed(&[i as u32], &[info], &info);
                    prop_assert_eq!(need, i - info.first_doc as usize + 1);
                    let bytes = &s.data[info.range().start as usize..info.range().end as usize];
                    let part = decompress_records(bytes, &[], info.raw_len, 1 << 20, codec, need).unwrap();
                    prop_assert_eq!(&part[..], &raw[..part.len()]);
                    let got = read_doc(&part, info.first_doc, i as u32, 2).unwrap();
                    prop_assert_eq!(&got.fields, d);
                }
                prop_assert!(s.chunk(s.chunk_count()).is_err());
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200),
                                version in prop_oneof![5u32..=6, Just(PRESET_VERSION)],
                                deflate in any::<bool>()) {
            let codec = if deflate { Codec::Deflate } else { Codec::Lz4 };
            if let Ok(s) = StoreReader::open(&data, version) {
                for i in 0..s.chunk_count().min(70) {
                    let _ = s.chunk(i);
                    if let Ok(raw) = s.load_chunk(i, 1 << 16, codec) { let _ = read_doc(&raw, 0, 1, 3); }
                }
                for doc in [0, 3, 1000, u32::MAX] {
                    let _ = s.chunk_of(doc);
                }
            }
        }
    }

    /// A store of enough text gets a preset dictionary before its first chunk (format 11),
    /// every document reads back through it, and a first offset past the dictionary's limit or
    /// past the data is a typed error.
    #[test]
    fn preset_dictionary_reads_back_and_bad_offsets_are_errors() {
        let words = [
            "package",
            "library",
            "files",
            "the",
            "development",
            "python",
            "support",
        ];
        let mut x: u64 = 7;
        let docs: Vec<Vec<Vec<String>>> = (0..3000)
            .map(|i| {
                let mut body = format!("document {i}:");
                for _ in 0..30 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    body += " ";
                    body += words[(x % words.len() as u64) as usize];
                }
                vec![vec![body], vec![]]
            })
            .collect();
        let mut w = StoreWriter::default();
        for d in &docs {
            w.add(d);
        }
        let section = w.finish().unwrap().0;
        let s = StoreReader::open(&section, PRESET_VERSION).unwrap();
        let preset = s.preset().unwrap();
        assert!(
            preset.end >= 1024 && preset.end <= PRESET_BYTES as u64,
            "{preset:?}"
        );
        assert_eq!(s.chunk(0).unwrap().offset as u64, preset.end);
        for (i, d) in docs.iter().enumerate().step_by(7) {
            let (c, info) = s.locate(i as u32).unwrap();
            let raw = s.load_chunk(c, 1 << 20, Codec::Deflate).unwrap();
            assert_eq!(
                &read_doc(&raw, info.first_doc, i as u32, 2).unwrap().fields,
                d
            );
        }
        // Read as format 10 (no dictionary), the first chunk refers before its start.
        let old = StoreReader::open(&section, DEFLATE_STORE_VERSION).unwrap();
        assert_eq!(old.preset().unwrap(), 0..0);
        assert!(old.load_chunk(0, 1 << 20, Codec::Deflate).is_err());
        // The first block header's Offset (after ChunkCount and ColumnsLen, then FirstDoc).
        for bad in [PRESET_BYTES as u32 + 1, u32::MAX] {
            let mut b = section.clone();
            b[12..16].copy_from_slice(&bad.to_le_bytes());
            let s = StoreReader::open(&b, PRESET_VERSION).unwrap();
            assert_eq!(s.preset().unwrap_err().code(), "Corrupt");
            assert!(s.load_chunk(0, 1 << 20, Codec::Deflate).is_err());
        }
    }

    /// A hit-display store of enough records gets a preset dictionary (format 12), handed
    /// over apart from the section (whose first chunk starts at offset 0); every record reads
    /// back through it, whole chunks and prefixes, and its chunks are smaller than without it.
    /// Without the dictionary they are refused, never misread.
    #[test]
    fn lz4_preset_dictionary_reads_back() {
        let mut x: u64 = 11;
        let words = [
            "lib", "python3", "dev", "doc", "data", "utils", "common", "plugin",
        ];
        let docs: Vec<Vec<Vec<String>>> = (0..4000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let name = format!(
                    "{}-{}{i}",
                    words[(x % 8) as usize],
                    words[(x >> 8) as usize % 8]
                );
                let title = format!(
                    "{name}: library for handling {} files",
                    words[(x >> 16) as usize % 8]
                );
                let url = format!("https://github.com/{name}/{name}");
                vec![vec![name], vec![title], vec![url]]
            })
            .collect();
        let build = |preset: usize| {
            let mut w = StoreWriter::new(DISPLAY_CHUNK_TARGET, Codec::Lz4).with_preset(preset);
            for d in &docs {
                w.add(d);
            }
            w.finish().unwrap()
        };
        let (section, dict) = build(DISPLAY_PRESET_BYTES);
        let (plain, none) = build(0);
        assert!(none.is_empty());
        assert!(
            dict.len() >= 1024 && dict.len() <= DISPLAY_PRESET_BYTES,
            "{}",
            dict.len()
        );
        assert!(
            section.len() < plain.len(),
            "{} >= {}",
            section.len(),
            plain.len()
        );
        let s = StoreReader::open(&section, DISPLAY_PRESET_VERSION)
            .unwrap()
            .with_lz4_preset(&dict);
        assert_eq!(s.preset().unwrap(), 0..0);
        for (i, d) in docs.iter().enumerate().step_by(13) {
            let (c, info) = s.locate(i as u32).unwrap();
            let raw = s.load_chunk(c, 1 << 20, Codec::Lz4).unwrap();
            assert_eq!(
                &read_doc(&raw, info.first_doc, i as u32, 3).unwrap().fields,
                d
            );
            let bytes = &s.data[info.range().start as usize..info.range().end as usize];
            let need = (i as u32 - info.first_doc) as usize + 1;
            let part =
                decompress_records(bytes, &dict, info.raw_len, 1 << 20, Codec::Lz4, need).unwrap();
            assert_eq!(
                &read_doc(&part, info.first_doc, i as u32, 3).unwrap().fields,
                d
            );
        }
        let bare = StoreReader::open(&section, DISPLAY_PRESET_VERSION).unwrap();
        assert!((0..bare.chunk_count()).any(|c| bare.load_chunk(c, 1 << 20, Codec::Lz4).is_err()));
    }

    /// The compact table costs a few bytes a chunk, where the fixed one took 16.
    #[test]
    fn compact_table_is_small() {
        let mut w = StoreWriter::new(1000, Codec::Lz4);
        for d in 0..20_000u32 {
            w.add(&[vec![
                format!("document {d} ").repeat(1 + (d as usize * 7) % 13)
            ]]);
        }
        let section = w.finish().unwrap().0;
        let s = StoreReader::open(&section, COMPACT_TABLE_VERSION).unwrap();
        assert!(s.chunk_count() > 1000, "{}", s.chunk_count());
        let per_chunk = s.table_len() as f64 / s.chunk_count() as f64;
        assert!(per_chunk < 6.0, "{per_chunk} bytes a chunk");
        assert_eq!(
            as_fixed(&section).len() - section.len(),
            4 + s.chunk_count() * CHUNK_ENTRY - s.table_len()
        );
    }

    #[test]
    fn decompression_budget_is_enforced() {
        for codec in [Codec::Lz4, Codec::Deflate] {
            let mut w = StoreWriter::new(CHUNK_TARGET, codec);
            w.add(&[vec!["x".repeat(1000)]]);
            let section = w.finish().unwrap().0;
            let s = StoreReader::open(&section, COMPACT_TABLE_VERSION).unwrap();
            assert!(matches!(
                s.load_chunk(0, 100, codec),
                Err(Error::LimitExceeded { .. })
            ));
            assert!(s.load_chunk(0, 2000, codec).is_ok());
        }
    }

    /// A deflate chunk that is cut, damaged, longer than declared or followed by the other
    /// codec's reading is a typed error, never a panic or an output past its declared size.
    #[test]
    fn damaged_deflate_chunks_are_corrupt() {
        let raw: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("word{} ", i % 97).into_bytes())
            .collect();
        let good = Codec::Deflate.compress(&raw);
        assert_eq!(
            decompress_chunk(&good, &[], raw.len() as u32, 1 << 20, Codec::Deflate).unwrap(),
            raw
        );
        let corrupt = |bytes: &[u8], len: usize, codec: Codec| {
            matches!(
                decompress_chunk(bytes, &[], len as u32, 1 << 20, codec),
                Err(Error::Corrupt { .. })
            )
        };
        // Cut anywhere: the stream ends early.
        for cut in [0, 1, good.len() / 2, good.len() - 1] {
            assert!(
                corrupt(&good[..cut], raw.len(), Codec::Deflate),
                "cut at {cut}"
            );
        }
        // Declared shorter or longer than it inflates to.
        assert!(corrupt(&good, raw.len() - 1, Codec::Deflate));
        assert!(corrupt(&good, raw.len() + 1, Codec::Deflate));
        // A block type of 3 (reserved) in the first byte's bits 1–2.
        let mut bad = good.clone();
        bad[0] |= 0b110;
        assert!(corrupt(&bad, raw.len(), Codec::Deflate));
        // Each byte flipped: an error or some output of exactly the declared size.
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x5a;
            if let Ok(out) = decompress_chunk(&b, &[], raw.len() as u32, 1 << 20, Codec::Deflate) {
                assert_eq!(out.len(), raw.len());
            }
        }
        // An LZ4 chunk read as deflate (a version mix-up) fails cleanly.
        let lz4 = Codec::Lz4.compress(&raw);
        let _ = decompress_chunk(&lz4, &[], raw.len() as u32, 1 << 20, Codec::Deflate);
    }

    /// Inflating as far as some records: a prefix holding them (and little more), however
    /// many questions it takes; all of them, or more than there are, inflate the whole chunk.
    #[test]
    fn records_prefix_of_many_small_records() {
        // 600,000 empty records (each the VInt 0), then one of three bytes.
        let mut raw = vec![0u8; 600_000];
        raw.extend_from_slice(&[3, b'a', b'b', b'c']);
        let z = Codec::Deflate.compress(&raw);
        let len = raw.len() as u32;
        for need in [1usize, 1000, 300_000, 599_999] {
            let got = decompress_records(&z, &[], len, 1 << 20, Codec::Deflate, need).unwrap();
            assert!(
                got.len() >= need && got.len() < need + 2048,
                "{need}: {}",
                got.len()
            );
            assert_eq!(got[..], raw[..got.len()]);
        }
        for need in [600_001, 700_000] {
            let got = decompress_records(&z, &[], len, 1 << 20, Codec::Deflate, need).unwrap();
            assert_eq!(got, raw);
        }
    }

    /// On text, deflate chunks are smaller than LZ4 chunks of the same bytes.
    #[test]
    fn deflate_is_smaller_on_text() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/docs.jsonl"
        ))
        .unwrap();
        let (lz4, deflate) = (
            Codec::Lz4.compress(text.as_bytes()),
            Codec::Deflate.compress(text.as_bytes()),
        );
        assert!(
            deflate.len() * 10 < lz4.len() * 9,
            "deflate {} lz4 {}",
            deflate.len(),
            lz4.len()
        );
    }
}
