//! Where are a document's stored fields and hit fields, and how are they read? The index's
//! readers of its two stores (the `store` module's format): chunk lookups, the hit-display
//! fields of hits, whole stored documents (merged from both stores from format 2), and the
//! document store's preset dictionary (format 11), through any [`DataSource`].

use std::ops::Range;

use super::Index;
use crate::error::{Error, Result};
use crate::header::SectionKind;
use crate::source::{DataFile, DataSource};
use crate::store::{decompress_records, read_doc, records_needed};
use crate::store::{ChunkInfo, Codec, StoreReader, StoredDoc};

impl<D: AsRef<[u8]>> Index<D> {
    pub(super) fn store_table(&self) -> Result<StoreReader<'_>> {
        StoreReader::open(self.section(SectionKind::Store), self.version)
    }

    /// The chunk table of the hit-display store (`None`: a format 1 file, which has none).
    pub(super) fn display_table(&self) -> Result<Option<StoreReader<'_>>> {
        if self.ranges[SectionKind::Display as usize - 1].is_empty() {
            return Ok(None);
        }
        let table = StoreReader::open(self.section(SectionKind::Display), self.version)?;
        Ok(Some(table.with_lz4_preset(self.display_preset())))
    }

    /// The preset dictionary the hit-display chunks were compressed against (format 12; empty
    /// before, and for a small store). `Index::open` bounded its size and checked its CRC.
    pub fn display_preset(&self) -> &[u8] {
        match self.version >= crate::store::DISPLAY_PRESET_VERSION {
            true => self.section(SectionKind::DisplayPreset),
            false => &[],
        }
    }

    /// Whether this split dictionary holds its hit-display chunks itself (a small store kept
    /// resident), not only their table.
    pub fn display_resident(&self) -> bool {
        self.is_split()
            && self
                .display_table()
                .ok()
                .flatten()
                .is_some_and(|t| self.section(SectionKind::Display).len() > t.table_len())
    }

    /// The chunk that showing `doc` as a hit reads: in the hit-display store, or (format 1)
    /// in the document store.
    pub fn hit_chunk_of(&self, doc: u32) -> Result<(DataFile, ChunkInfo)> {
        match self.display_table()? {
            None => Ok((DataFile::Store, self.chunk_of(doc)?)),
            Some(table) => {
                if doc >= self.meta.doc_count {
                    return Err(Error::corrupt(format!(
                        "document {doc} of {}",
                        self.meta.doc_count
                    )));
                }
                Ok((DataFile::Display, table.locate(doc)?.1))
            }
        }
    }

    /// `[id, title, url]` of each of `docs` (in the order given; empty strings for fields the
    /// schema does not store), read from the hit-display store, or (format 1) the document
    /// store; each chunk is decompressed once.
    pub fn hit_fields_from(
        &self,
        docs: &[u32],
        max_chunk: usize,
        src: &dyn DataSource,
    ) -> Result<Vec<[String; 3]>> {
        let first = |mut v: Vec<String>| {
            if v.is_empty() {
                String::new()
            } else {
                v.swap_remove(0)
            }
        };
        if self.display_table()?.is_none() {
            let stored = self.docs_from(docs, max_chunk, src)?;
            return Ok(stored
                .iter()
                .map(|d| {
                    ["id", "title", "url"]
                        .map(|f| self.stored_value(d, f).first().cloned().unwrap_or_default())
                })
                .collect());
        }
        Ok(self
            .records(DataFile::Display, docs, 3, max_chunk, src)?
            .into_iter()
            .map(|r| {
                let mut it = r.fields.into_iter();
                [0, 1, 2].map(|_| first(it.next().unwrap_or_default()))
            })
            .collect())
    }

    /// The records of `docs` in the document store (`file` Store) or the hit-display store
    /// (`file` Display), each holding `fields` fields; each chunk is decompressed once, as far
    /// as the last record read.
    fn records(
        &self,
        file: DataFile,
        docs: &[u32],
        fields: usize,
        max_chunk: usize,
        src: &dyn DataSource,
    ) -> Result<Vec<StoredDoc>> {
        let mut chunks: Vec<(ChunkInfo, Vec<u8>)> = Vec::new();
        let codec = Codec::of(file == DataFile::Display, self.version);
        let infos = docs.iter().map(|&doc| match file {
            DataFile::Display => Ok(self.hit_chunk_of(doc)?.1),
            _ => self.chunk_of(doc),
        });
        let infos = infos.collect::<Result<Vec<_>>>()?;
        // The document store's preset dictionary, at the start of its chunk data (read like
        // a chunk); the hit display's, a section of the index (resident in a split one).
        let preset = match file {
            DataFile::Store if !docs.is_empty() => self.store_preset()?,
            _ => 0..0,
        };
        let dict = match (file, preset.is_empty()) {
            (DataFile::Display, _) => std::borrow::Cow::Borrowed(self.display_preset()),
            (_, true) => Default::default(),
            (_, false) => src.read(DataFile::Store, preset)?,
        };
        let mut record = |(&doc, &info): (&u32, &ChunkInfo)| {
            let i = match chunks.iter().position(|(c, _)| c.offset == info.offset) {
                Some(i) => i,
                None => {
                    let src: &dyn DataSource = match file {
                        DataFile::Display if self.display_resident() => self,
                        _ => src,
                    };
                    let bytes = src.read(file, info.range())?;
                    let need = records_needed(docs, &infos, &info);
                    let raw =
                        decompress_records(&bytes, &dict, info.raw_len, max_chunk, codec, need)?;
                    chunks.push((info, raw));
                    chunks.len() - 1
                }
            };
            read_doc(&chunks[i].1, info.first_doc, doc, fields)
        };
        docs.iter().zip(&infos).map(&mut record).collect()
    }

    /// Where the document store's preset dictionary is in its chunk data (empty before format
    /// 11, and when the store has none): what reading any stored document reads besides its
    /// chunk.
    pub fn store_preset(&self) -> Result<Range<u64>> {
        self.store_table()?.preset()
    }

    /// The store chunk holding `doc`: its table entry and its byte range in the chunk data.
    pub fn chunk_of(&self, doc: u32) -> Result<ChunkInfo> {
        if doc >= self.meta.doc_count {
            return Err(Error::corrupt(format!(
                "document {doc} of {}",
                self.meta.doc_count
            )));
        }
        Ok(self.store_table()?.locate(doc)?.1)
    }

    /// The stored fields of `doc` from this file, decompressing at most `max_chunk` bytes.
    pub fn doc(&self, doc: u32, max_chunk: usize) -> Result<StoredDoc> {
        self.doc_from(doc, max_chunk, self)
    }

    /// The stored fields of `doc`, with chunk bytes from `src`.
    pub fn doc_from(&self, doc: u32, max_chunk: usize, src: &dyn DataSource) -> Result<StoredDoc> {
        self.docs_from(&[doc], max_chunk, src)
            .map(|mut v| v.remove(0))
    }

    /// The stored fields of several documents, in the order given (format 2: from the document
    /// store and the hit-display store, merged); each chunk is decompressed once however many
    /// of them it holds.
    pub fn docs_from(
        &self,
        docs: &[u32],
        max_chunk: usize,
        src: &dyn DataSource,
    ) -> Result<Vec<StoredDoc>> {
        let rest = self.records(
            DataFile::Store,
            docs,
            self.store_fields.len(),
            max_chunk,
            src,
        )?;
        if self.store_fields.len() == self.stored.len() {
            return Ok(rest);
        }
        let shown = self.records(DataFile::Display, docs, 3, max_chunk, src)?;
        let display = self.meta.schema.display_fields();
        Ok(rest
            .into_iter()
            .zip(shown)
            .map(|(rest, shown)| {
                let mut rest = rest.fields.into_iter();
                let mut shown = shown.fields;
                let fields = self
                    .stored
                    .iter()
                    .map(|f| match display.iter().position(|d| *d == Some(*f)) {
                        Some(k) => shown.get_mut(k).map(std::mem::take).unwrap_or_default(),
                        None => rest.next().unwrap_or_default(),
                    })
                    .collect();
                StoredDoc { fields }
            })
            .collect())
    }

    /// The values of field `name` in a stored document (empty when not stored).
    pub fn stored_value<'a>(&self, doc: &'a StoredDoc, name: &str) -> &'a [String] {
        self.meta
            .schema
            .field(name)
            .and_then(|f| self.stored.iter().position(|&s| s == f))
            .and_then(|i| doc.fields.get(i))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }
}
