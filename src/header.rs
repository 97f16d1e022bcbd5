//! What does an index file say about itself? The header (magic label, format version, a CRC'd
//! section table) and the META section (counts, analyzer settings, BM25 parameters, schema,
//! field lengths): their writer and their reader.

use std::ops::Range;

use crate::analysis::{AnalyzerConfig, Language};
use crate::bm25::Bm25;
use crate::codec::{crc32, Reader};
use crate::error::{Error, Result};
use crate::schema::{FieldOptions, Schema};

/// The label every index file starts with.
pub const MAGIC: &[u8; 8] = b"EDGEKBIX";
/// The format version this code writes.
pub const FORMAT_VERSION: u32 = 12;
/// The first version whose terms met only as words' written forms have no positions.
pub const WRITTEN_FORMS_WITHOUT_POSITIONS: u32 = 7;
/// The oldest format version this code reads.
pub const OLDEST_SUPPORTED_FORMAT_VERSION: u32 = 1;
/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 24;
/// Bytes of one section table entry.
pub const SECTION_ENTRY_LEN: usize = 24;

/// The sections of an index file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SectionKind {
    /// Schema, analyzer, ranking parameters, corpus statistics.
    Meta = 1,
    /// The `fst::Map` term dictionary: term → ordinal.
    Terms = 2,
    /// Per ordinal: document frequency and the byte ranges of postings and positions.
    TermInfo = 3,
    /// Postings blocks.
    Postings = 4,
    /// Positions streams.
    Positions = 5,
    /// One length code per document per indexed field.
    FieldNorms = 6,
    /// Compressed stored-field chunks (in a split dictionary: the chunk table only).
    Store = 7,
    /// Split indexes only: page size and CRC32 of every page of the data files.
    Pages = 8,
    /// Split indexes with a cut dictionary only: the parts of the `terms` pack (format 2).
    Router = 9,
    /// What a hit shows (`id`, `title`, `url`) in small compressed chunks (format 2; in a
    /// split dictionary: the chunk table only).
    Display = 10,
    /// Facet values with their documents' sets and columns, and sort keys (format 5, optional:
    /// written when the schema has facet or sortable fields; see `src/facets/`).
    Facets = 11,
    /// Groups of equivalent words from the build config (format 5, optional; see
    /// `src/synonyms.rs`).
    Synonyms = 12,
    /// What a query needs of Unicode's normalization data to fold as the index was folded
    /// (format 5, optional; see `src/fold.rs`).
    Fold = 13,
    /// The preset dictionary the hit-display store's LZ4 chunks were compressed against
    /// (format 12, optional: none for a small store). A section of its own, so that a split
    /// index keeps it resident: every query's hits need it.
    DisplayPreset = 14,
    /// Split dictionaries of manifest layout 6 only: the manifest without its own dictionary
    /// entry (JSON, as in `manifest.json`), so that opening a split index takes one request:
    /// the dictionary under its fixed alias (see `src/split/mod.rs`). Older readers skip it.
    Manifest = 15,
}

/// Every section kind this version knows, in number order (`KNOWN_SECTIONS[k as usize - 1] == k`).
pub const KNOWN_SECTIONS: [SectionKind; 15] = [
    SectionKind::Meta,
    SectionKind::Terms,
    SectionKind::TermInfo,
    SectionKind::Postings,
    SectionKind::Positions,
    SectionKind::FieldNorms,
    SectionKind::Store,
    SectionKind::Pages,
    SectionKind::Router,
    SectionKind::Display,
    SectionKind::Facets,
    SectionKind::Synonyms,
    SectionKind::Fold,
    SectionKind::DisplayPreset,
    SectionKind::Manifest,
];

/// The section kinds of a single-file index, in the order they are written.
pub const SECTIONS: [SectionKind; 8] = [
    SectionKind::Meta,
    SectionKind::Terms,
    SectionKind::TermInfo,
    SectionKind::Postings,
    SectionKind::Positions,
    SectionKind::FieldNorms,
    SectionKind::Store,
    SectionKind::Display,
];

impl SectionKind {
    /// Its name in messages and `edgekb inspect`.
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Meta => "meta",
            SectionKind::Terms => "terms",
            SectionKind::TermInfo => "terminfo",
            SectionKind::Postings => "postings",
            SectionKind::Positions => "positions",
            SectionKind::FieldNorms => "fieldnorms",
            SectionKind::Store => "store",
            SectionKind::Pages => "pages",
            SectionKind::Router => "router",
            SectionKind::Display => "display",
            SectionKind::Facets => "facets",
            SectionKind::Synonyms => "synonyms",
            SectionKind::Fold => "fold",
            SectionKind::DisplayPreset => "displaypreset",
            SectionKind::Manifest => "manifest",
        }
    }
}

/// One entry of the section table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Which section.
    pub kind: SectionKind,
    /// CRC32 of its bytes.
    pub crc: u32,
    /// Byte range in the file.
    pub range: Range<usize>,
}

impl Section {
    /// Its bytes in `file`, once their CRC32 matches the table's (`ChecksumMismatch` naming the
    /// section otherwise).
    pub fn checked<'b>(&self, file: &'b [u8]) -> Result<&'b [u8]> {
        let b = &file[self.range.clone()];
        let found = crc32(b);
        if found != self.crc {
            return Err(Error::ChecksumMismatch {
                section: self.kind.name(),
                expected: self.crc,
                found,
            });
        }
        Ok(b)
    }
}

/// What the META section holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// Number of documents.
    pub doc_count: u32,
    /// Number of terms in the dictionary.
    pub term_count: u32,
    /// Analyzer settings.
    pub analyzer: AnalyzerConfig,
    /// Ranking parameters.
    pub bm25: Bm25,
    /// Fields.
    pub schema: Schema,
    /// Sum of field lengths (in positions) per indexed field.
    pub total_lengths: Vec<u64>,
}

impl Meta {
    /// Encodes the section.
    pub fn encode(&self) -> Vec<u8> {
        use crate::codec::{put_str, put_varint};
        let mut out = Vec::new();
        out.extend_from_slice(&self.doc_count.to_le_bytes());
        out.extend_from_slice(&self.term_count.to_le_bytes());
        put_str(&mut out, self.analyzer.language.name());
        out.push(
            self.analyzer.stop_words as u8
                | (self.analyzer.word_parts as u8) << 1
                | (self.analyzer.surface_forms as u8) << 2
                | (self.analyzer.identifier_parts as u8) << 3
                | (self.analyzer.typography as u8) << 4,
        );
        out.extend_from_slice(&self.bm25.k1.to_le_bytes());
        out.extend_from_slice(&self.bm25.b.to_le_bytes());
        let fields = self.schema.fields();
        out.push(fields.len() as u8);
        for f in fields {
            put_str(&mut out, &f.name);
            out.push(f.flags());
            out.extend_from_slice(&f.weight.to_le_bytes());
            if let Some(b) = f.b {
                out.extend_from_slice(&b.to_le_bytes());
            }
        }
        for &t in &self.total_lengths {
            put_varint(&mut out, t);
        }
        out
    }

    /// Decodes the section.
    pub fn decode(data: &[u8]) -> Result<Meta> {
        let mut r = Reader::new(data, "meta");
        let doc_count = r.u32()?;
        let term_count = r.u32()?;
        let lang = r.str()?;
        let language = Language::from_name(lang).ok_or_else(|| {
            Error::corrupt(format!(
                "unknown analyzer language {}",
                crate::error::Quoted(lang)
            ))
        })?;
        if !language.is_supported() {
            return Err(Error::Unsupported {
                what: format!(
                    "the index stems {}, which this build leaves out; use a build with the \
                     `all-languages` feature",
                    language.name()
                ),
            });
        }
        // Analyzer flags: bit 0 stop words, bit 1 word parts (format 3), bit 2 surface forms
        // (format 4; earlier formats wrote 0 to 3), bit 3 identifier parts (format 5), bit 4
        // typography folded: apostrophes to ASCII, invisible characters dropped (format 8).
        let flags = r.u8()?;
        if flags > 31 {
            return Err(Error::corrupt(format!("analyzer flags {flags:#x}")));
        }
        let (stop_words, word_parts, surface_forms, identifier_parts, typography) = (
            flags & 1 != 0,
            flags & 2 != 0,
            flags & 4 != 0,
            flags & 8 != 0,
            flags & 16 != 0,
        );
        let bm25 = Bm25 {
            k1: r.f32()?,
            b: r.f32()?,
        };
        if !(bm25.k1.is_finite() && bm25.k1 >= 0.0 && (0.0..=1.0).contains(&bm25.b)) {
            return Err(Error::corrupt(format!(
                "BM25 parameters k1={} b={}",
                crate::error::number(bm25.k1 as f64),
                crate::error::number(bm25.b as f64)
            )));
        }
        let n = r.u8()? as usize;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.str()?.to_string();
            let flags = r.u8()?;
            let weight = r.f32()?;
            let mut field = FieldOptions::from_flags(name, weight, flags);
            // Flags bit 4 (format 9): the field's own BM25 `b` follows.
            if flags & 16 != 0 {
                field.b = Some(r.f32()?);
            }
            fields.push(field);
        }
        let schema = Schema::new(fields).map_err(|e| Error::corrupt(format!("schema: {e}")))?;
        let indexed = schema.indexed().len();
        let mut total_lengths = Vec::with_capacity(indexed);
        for _ in 0..indexed {
            total_lengths.push(r.varint()?);
        }
        Ok(Meta {
            doc_count,
            term_count,
            analyzer: AnalyzerConfig {
                language,
                stop_words,
                word_parts,
                surface_forms,
                identifier_parts,
                typography,
            },
            bm25,
            schema,
            total_lengths,
        })
    }
}

/// The length of a file of these sections (what [`header_and_table`] gives, without the CRCs).
pub(crate) fn file_len(sections: &[(SectionKind, Vec<u8>)]) -> u64 {
    let lens: u64 = sections.iter().map(|(_, b)| b.len() as u64).sum();
    (HEADER_LEN + sections.len() * SECTION_ENTRY_LEN) as u64 + lens
}

/// The header and section table for `sections`, written in this order after them: (header,
/// table, total file length).
pub(crate) fn header_and_table(sections: &[(SectionKind, Vec<u8>)]) -> (Vec<u8>, Vec<u8>, u64) {
    let mut table = Vec::with_capacity(sections.len() * SECTION_ENTRY_LEN);
    let mut offset = (HEADER_LEN + sections.len() * SECTION_ENTRY_LEN) as u64;
    for (kind, bytes) in sections {
        table.extend_from_slice(&(*kind as u32).to_le_bytes());
        table.extend_from_slice(&crc32(bytes).to_le_bytes());
        table.extend_from_slice(&offset.to_le_bytes());
        table.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        offset += bytes.len() as u64;
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    header.extend_from_slice(&crc32(&table).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    (header, table, offset)
}

/// Reads and checks the header and section table of an index file.
pub fn read_header(bytes: &[u8]) -> Result<(u32, Vec<Section>)> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::BadMagic {
            found: bytes[..bytes.len().min(8)].to_vec(),
        });
    }
    let mut r = Reader::new(bytes, "header");
    r.bytes(8)?;
    let version = r.u32()?;
    if !(OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            found: version,
            oldest: OLDEST_SUPPORTED_FORMAT_VERSION,
            newest: FORMAT_VERSION,
        });
    }
    let count = r.u32()? as usize;
    let table_crc = r.u32()?;
    let reserved = r.u32()?;
    if reserved != 0 {
        return Err(Error::corrupt(format!(
            "reserved header bytes hold {reserved:#x}, not zero"
        )));
    }
    if count > 64 {
        return Err(Error::corrupt(format!("{count} sections; at most 64")));
    }
    let table = r.bytes(count * SECTION_ENTRY_LEN)?;
    let found = crc32(table);
    if found != table_crc {
        return Err(Error::ChecksumMismatch {
            section: "section table",
            expected: table_crc,
            found,
        });
    }
    let mut t = Reader::new(table, "section table");
    let mut sections = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = t.u32()?;
        let crc = t.u32()?;
        let offset = t.u64()?;
        let len = t.u64()?;
        let end = offset
            .checked_add(len)
            .ok_or_else(|| Error::corrupt("section range overflows"))?;
        if end > bytes.len() as u64 {
            return Err(Error::Truncated {
                what: "section",
                needed: end,
                available: bytes.len() as u64,
            });
        }
        // Unknown kinds are skipped: a newer writer may add sections an older reader ignores.
        if let Some(kind) = KNOWN_SECTIONS.iter().copied().find(|k| *k as u32 == kind) {
            if sections.iter().any(|s: &Section| s.kind == kind) {
                return Err(Error::corrupt(format!(
                    "section {} appears twice",
                    kind.name()
                )));
            }
            sections.push(Section {
                kind,
                crc,
                range: offset as usize..end as usize,
            });
        }
    }
    // A split dictionary (with a pages section) keeps postings and positions in their own files,
    // and from split layout 4 the field norms (the index checks that its page table has them).
    let split = sections.iter().any(|s| s.kind == SectionKind::Pages);
    for k in SECTIONS {
        if split
            && matches!(
                k,
                SectionKind::Postings | SectionKind::Positions | SectionKind::FieldNorms
            )
        {
            continue;
        }
        // Format 1 had no hit-display store.
        if version < 2 && k == SectionKind::Display {
            continue;
        }
        if !sections.iter().any(|s| s.kind == k) {
            return Err(Error::corrupt(format!("section {} is missing", k.name())));
        }
    }
    Ok((version, sections))
}
