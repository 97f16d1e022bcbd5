//! Where do the stored fields of a document live?
//!
//! Documents are appended in id order to chunks of about [`CHUNK_TARGET`] bytes, each
//! compressed with LZ4 on its own, so showing a hit decompresses one small chunk. A chunk is a
//! sequence of documents, each `varint length` + record; a record holds, for every stored field
//! in schema order, `varint count` + that many length-prefixed strings.

use crate::codec::{put_str, put_varint, Reader};
use crate::error::{Error, Result};

/// Uncompressed bytes after which a chunk is closed.
pub const CHUNK_TARGET: usize = 16 * 1024;

/// Uncompressed bytes after which a chunk of the hit-display store is closed: small, since
/// showing a hit reads one chunk of it.
pub const DISPLAY_CHUNK_TARGET: usize = 8 * 1024;

/// Bytes of one entry of the chunk table.
pub const CHUNK_ENTRY: usize = 16;

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

/// Writes the store section: chunk count, chunk table, compressed chunks.
pub struct StoreWriter {
    target: usize,
    table: Vec<(u32, u32, u32, u32)>,
    data: Vec<u8>,
    current: Vec<u8>,
    current_first: u32,
    docs: u32,
    record: Vec<u8>,
}

impl Default for StoreWriter {
    fn default() -> Self {
        StoreWriter::with_target(CHUNK_TARGET)
    }
}

impl StoreWriter {
    /// A writer closing chunks after `target` uncompressed bytes.
    pub fn with_target(target: usize) -> Self {
        StoreWriter {
            target,
            table: Vec::new(),
            data: Vec::new(),
            current: Vec::new(),
            current_first: 0,
            docs: 0,
            record: Vec::new(),
        }
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
        let compressed = lz4_flex::block::compress(&self.current);
        self.table.push((
            self.current_first,
            self.data.len() as u32,
            compressed.len() as u32,
            self.current.len() as u32,
        ));
        self.data.extend_from_slice(&compressed);
        self.current.clear();
    }

    /// The finished section.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        self.close_chunk();
        if self.data.len() > u32::MAX as usize {
            return Err(Error::LimitExceeded {
                what: "document store bytes",
                limit: u32::MAX as u64,
            });
        }
        let mut out = Vec::with_capacity(4 + self.table.len() * CHUNK_ENTRY + self.data.len());
        out.extend_from_slice(&(self.table.len() as u32).to_le_bytes());
        for (first, off, clen, rlen) in &self.table {
            for v in [first, off, clen, rlen] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.data);
        Ok(out)
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

/// Reads the store section.
#[derive(Clone, Copy, Debug)]
pub struct StoreReader<'a> {
    table: &'a [u8],
    data: &'a [u8],
    count: usize,
}

impl<'a> StoreReader<'a> {
    /// Opens the section (O(1): checks only the table's size).
    pub fn open(section: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(section, "document store");
        let count = r.u32()? as usize;
        let table = r.bytes(
            count
                .checked_mul(CHUNK_ENTRY)
                .ok_or_else(|| Error::corrupt("store chunk count"))?,
        )?;
        let data = &section[r.position()..];
        Ok(StoreReader { table, data, count })
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.count
    }

    /// Entry `i` of the chunk table.
    pub fn chunk(&self, i: usize) -> Result<ChunkInfo> {
        let mut r = Reader::new(
            &self.table[i * CHUNK_ENTRY..(i + 1) * CHUNK_ENTRY],
            "store chunk table",
        );
        Ok(ChunkInfo {
            first_doc: r.u32()?,
            offset: r.u32()?,
            compressed_len: r.u32()?,
            raw_len: r.u32()?,
        })
    }

    /// The chunk holding `doc`.
    pub fn chunk_of(&self, doc: u32) -> Result<usize> {
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
        if lo == 0 {
            return Err(Error::corrupt(format!(
                "no store chunk holds document {doc}"
            )));
        }
        Ok(lo - 1)
    }

    /// Decompresses chunk `i`, refusing a declared size above `max_raw`.
    pub fn load_chunk(&self, i: usize, max_raw: usize) -> Result<Vec<u8>> {
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
        decompress_chunk(bytes, c.raw_len, max_raw)
    }
}

/// Decompresses one chunk whose declared uncompressed size is `raw_len`.
pub fn decompress_chunk(bytes: &[u8], raw_len: u32, max_raw: usize) -> Result<Vec<u8>> {
    if raw_len as usize > max_raw {
        return Err(Error::LimitExceeded {
            what: "decompressed store chunk bytes",
            limit: max_raw as u64,
        });
    }
    let out = lz4_flex::block::decompress(bytes, raw_len as usize)
        .map_err(|e| Error::corrupt(format!("store chunk does not decompress: {e}")))?;
    if out.len() != raw_len as usize {
        return Err(Error::corrupt("store chunk decompressed to the wrong size"));
    }
    Ok(out)
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

    proptest! {
        #[test]
        fn store_round_trips(docs in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(".{0,40}", 0..3), 2..=2), 0..300)) {
            let mut w = StoreWriter::default();
            for d in &docs { w.add(d); }
            let section = w.finish().unwrap();
            let s = StoreReader::open(&section).unwrap();
            for (i, d) in docs.iter().enumerate() {
                let c = s.chunk_of(i as u32).unwrap();
                let info = s.chunk(c).unwrap();
                let raw = s.load_chunk(c, 1 << 20).unwrap();
                let got = read_doc(&raw, info.first_doc, i as u32, 2).unwrap();
                prop_assert_eq!(&got.fields, d);
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(s) = StoreReader::open(&data) {
                for i in 0..s.chunk_count().min(4) {
                    if let Ok(raw) = s.load_chunk(i, 1 << 16) { let _ = read_doc(&raw, 0, 1, 3); }
                }
                let _ = s.chunk_of(3);
            }
        }
    }

    #[test]
    fn decompression_budget_is_enforced() {
        let mut w = StoreWriter::default();
        w.add(&[vec!["x".repeat(1000)]]);
        let section = w.finish().unwrap();
        let s = StoreReader::open(&section).unwrap();
        assert!(matches!(
            s.load_chunk(0, 100),
            Err(Error::LimitExceeded { .. })
        ));
        assert!(s.load_chunk(0, 2000).is_ok());
    }
}
