//! How is an index file laid out, and how is it opened?
//!
//! See `docs/FORMAT.md` for the byte-level description. [`Index::open`] reads the fixed header
//! and the section table only (O(1), no copy); [`Index::verify`] checks every section's CRC32.
//! The accessors decode what they need from the bytes on each call.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use crate::analysis::Analyzer;
use crate::bm25::{average_lengths, fieldnorm, Bm25F};
use crate::error::{Error, Result};
use crate::header::WRITTEN_FORMS_WITHOUT_POSITIONS;
use crate::header::{read_header, Meta, Section, SectionKind, KNOWN_SECTIONS};
use crate::postings::{decode_positions, decode_postings_for, Layout, PositionList, PostingList};
use crate::schema::Schema;
use crate::source::{DataFile, DataSource, Pages};
use crate::terminfo::{term_doc_freq, term_info, term_names, TermInfo};

mod stored;

impl<D: AsRef<[u8]>> DataSource for Index<D> {
    fn read(&self, file: DataFile, range: Range<u64>) -> Result<std::borrow::Cow<'_, [u8]>> {
        // A split dictionary holds no data, except a small hit-display store kept resident.
        if self.is_split() && !(file == DataFile::Display && self.display_resident()) {
            return Err(Error::NotLoaded {
                file: file.name(),
                start: range.start,
                end: range.end,
            });
        }
        let section = match file {
            DataFile::Postings => self.section(SectionKind::Postings),
            DataFile::Positions => self.section(SectionKind::Positions),
            DataFile::Store => {
                let s = self.section(SectionKind::Store);
                let table = self.store_table()?.table_len();
                &s[table.min(s.len())..]
            }
            // A single file's dictionary is whole.
            DataFile::Terms => &[],
            DataFile::Norms => self.section(SectionKind::FieldNorms),
            DataFile::Display => {
                let s = self.section(SectionKind::Display);
                let table = match self.display_table()? {
                    Some(t) => t.table_len(),
                    None => 0,
                };
                &s[table.min(s.len())..]
            }
        };
        let (a, b) = (range.start as usize, range.end as usize);
        // (Not `ok_or`: the error would be built, and dropped, on every read.)
        match section.get(a..b) {
            Some(bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            None => Err(Error::Truncated {
                what: file.name(),
                needed: range.end,
                available: section.len() as u64,
            }),
        }
    }
}

/// Bytes shared by the sections of one index: an `Arc` of the owner plus a range.
#[derive(Clone)]
pub struct Slice<D> {
    owner: Arc<D>,
    range: Range<usize>,
}

impl<D: AsRef<[u8]>> AsRef<[u8]> for Slice<D> {
    fn as_ref(&self) -> &[u8] {
        &(*self.owner).as_ref()[self.range.clone()]
    }
}

/// An opened index over bytes `D` (a `Vec<u8>`, a `&'static [u8]`, an mmap…).
pub struct Index<D> {
    data: Arc<D>,
    version: u32,
    sections: Vec<Section>,
    meta: Meta,
    terms: fst::Map<Slice<D>>,
    analyzer: Analyzer,
    indexed: Vec<usize>,
    stored: Vec<usize>,
    /// The stored fields whose values STORE records hold (format 2: all but those DISPLAY
    /// holds).
    store_fields: Vec<usize>,
    avg_lengths: Vec<f32>,
    /// BM25F over this index's fields.
    scorer: Bm25F,
    /// Byte range of each section, indexed by `kind as usize - 1` (`0..0` when absent).
    ranges: [Range<usize>; KNOWN_SECTIONS.len()],
    /// The page table of a split dictionary.
    pages: Option<Pages>,
    /// The parts of a cut dictionary.
    router: Option<crate::dict::Router>,
    /// Groups of equivalent words (format 5; empty when the file has none).
    synonyms: crate::synonyms::Synonyms,
}

fn bytes_of<D: AsRef<[u8]>>(d: &Arc<D>) -> &[u8] {
    (**d).as_ref()
}

impl<D: AsRef<[u8]>> Index<D> {
    /// Opens an index: checks the magic label, the version and the section table, decodes the
    /// (small) meta section and opens the term dictionary. Section CRCs are checked by
    /// [`Index::verify`].
    pub fn open(data: D) -> Result<Index<D>> {
        let bytes = data.as_ref();
        let (version, sections) = read_header(bytes)?;
        // Byte range of each known section (`0..0` when absent; read_header checked which
        // must be there).
        let ranges = KNOWN_SECTIONS.map(|k| {
            sections
                .iter()
                .find(|s| s.kind == k)
                .map(|s| s.range.clone())
                .unwrap_or(0..0)
        });
        let find = |k: SectionKind| ranges[k as usize - 1].clone();
        let meta = Meta::decode(&bytes[find(SectionKind::Meta)])?;
        // The fst crate trusts its bytes (a damaged node can make a traversal panic), so the
        // dictionary's CRC is checked here, at open: O(dictionary), not O(1), and the one
        // section checked before use.
        let terms_entry = sections
            .iter()
            .find(|s| s.kind == SectionKind::Terms)
            .expect("checked by read_header");
        crate::counters::bump(|c| {
            c.section_crcs += 1;
            c.dictionary_walks += 1;
        });
        crate::fstcheck::check(terms_entry.checked(bytes)?)
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}; rebuild the index")))?;
        let data = Arc::new(data);
        let terms = fst::Map::new(Slice {
            owner: data.clone(),
            range: find(SectionKind::Terms),
        })
        .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        let cut = sections.iter().any(|s| s.kind == SectionKind::Router);
        if cut && !terms.is_empty() {
            return Err(Error::corrupt(
                "a cut dictionary (with a router) whose own term dictionary is not empty",
            ));
        }
        if !cut && terms.len() != meta.term_count as usize {
            return Err(Error::corrupt(format!(
                "dictionary has {} terms, meta says {}",
                terms.len(),
                meta.term_count
            )));
        }
        let indexed = meta.schema.indexed();
        let stored = meta.schema.stored();
        let store_fields = match version {
            1 => stored.clone(),
            _ => meta.schema.store_only_fields(),
        };
        let avg_lengths = average_lengths(&meta.total_lengths, meta.doc_count);
        let weights = indexed.iter().map(|&f| meta.schema.fields()[f].weight);
        let scorer = Bm25F::new(meta.bm25, weights.collect(), avg_lengths.clone())
            .with_field_b(indexed.iter().map(|&f| meta.schema.fields()[f].b));
        let pages = match sections.iter().any(|s| s.kind == SectionKind::Pages) {
            true => Some(Pages::decode(
                &bytes_of(&data)[find(SectionKind::Pages)],
                version,
            )?),
            false => None,
        };
        // Field norms: a section, or (split layout 4) a pack of the page table, never both.
        let has_section = sections.iter().any(|s| s.kind == SectionKind::FieldNorms);
        let paged = pages.as_ref().map_or(0, |p| p.len_of(DataFile::Norms));
        let norms_len = match (has_section, paged) {
            (true, 0) => find(SectionKind::FieldNorms).len() as u64,
            (false, n) if pages.as_ref().is_some_and(Pages::has_norms) => n,
            _ => {
                return Err(Error::corrupt(
                    "field norms must be either a section or a pack of the page table",
                ))
            }
        };
        if norms_len != meta.doc_count as u64 * indexed.len() as u64 {
            return Err(Error::corrupt(format!(
                "field norms hold {norms_len} bytes for {} documents × {} fields",
                meta.doc_count,
                indexed.len()
            )));
        }
        let router = match (cut, &pages) {
            (false, _) => None,
            (true, None) => return Err(Error::corrupt("a dictionary router without a page table")),
            (true, Some(p)) => {
                let section = &bytes_of(&data)[find(SectionKind::Router)];
                let router = crate::dict::Router::decode(
                    section,
                    meta.term_count as u64,
                    p.len_of(DataFile::Terms),
                )?;
                Some(router)
            }
        };
        if let Some(s) = sections.iter().find(|s| s.kind == SectionKind::Facets) {
            // Checked once here (CRC, value dictionaries walked, offsets): a query then reads it
            // without checking again.
            let b = s.checked(bytes_of(&data))?;
            let split = sections.iter().any(|s| s.kind == SectionKind::Pages);
            crate::facets::Facets::open(
                b,
                meta.doc_count,
                meta.schema.fields().len(),
                true,
                split,
            )?;
        }
        let analyzer = query_analyzer(meta.analyzer, &sections, bytes_of(&data))?;
        // The hit display's preset dictionary (format 12): every decoded chunk starts from a
        // copy of it, so its size is bounded here and its CRC checked (once, 8 KiB at most as
        // written), so that no damaged dictionary is ever decoded against.
        if let Some(s) = sections
            .iter()
            .find(|s| s.kind == SectionKind::DisplayPreset)
        {
            if version >= crate::store::DISPLAY_PRESET_VERSION {
                if s.range.len() > crate::store::DISPLAY_PRESET_MAX {
                    return Err(Error::corrupt(format!(
                        "hit-display preset dictionary of {} bytes",
                        s.range.len()
                    )));
                }
                s.checked(bytes_of(&data))?;
            }
        }
        let synonyms = match sections.iter().find(|s| s.kind == SectionKind::Synonyms) {
            None => crate::synonyms::Synonyms::default(),
            Some(s) => {
                let groups = crate::synonyms::decode(s.checked(bytes_of(&data))?)?;
                crate::synonyms::Synonyms::new(groups, |w| analyzer.synonym_key(w))
            }
        };
        Ok(Index {
            synonyms,
            router,
            pages,
            ranges,
            analyzer,
            data,
            version,
            sections,
            meta,
            terms,
            indexed,
            stored,
            store_fields,
            avg_lengths,
            scorer,
        })
    }

    /// Checks every section's CRC32 (the term dictionary's was checked at open).
    pub fn verify(&self) -> Result<()> {
        let bytes = (*self.data).as_ref();
        for s in self
            .sections
            .iter()
            .filter(|s| s.kind != SectionKind::Terms)
        {
            crate::counters::bump(|c| c.section_crcs += 1);
            s.checked(bytes)?;
        }
        Ok(())
    }

    /// The format version of the file.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The section table.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Total bytes.
    pub fn len(&self) -> usize {
        (*self.data).as_ref().len()
    }

    /// Whether the file is empty (never, for an opened index).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The meta section.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The analyzer the index was built with.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.meta.schema
    }

    /// Number of documents.
    pub fn doc_count(&self) -> u32 {
        self.meta.doc_count
    }

    /// Schema ids of the indexed fields (bit `i` of a posting mask is `indexed_fields()[i]`).
    pub fn indexed_fields(&self) -> &[usize] {
        &self.indexed
    }

    /// Average length of each indexed field.
    pub fn avg_lengths(&self) -> &[f32] {
        &self.avg_lengths
    }

    /// The term dictionary.
    pub fn terms(&self) -> &fst::Map<Slice<D>> {
        &self.terms
    }

    /// Groups of equivalent words from the build config (empty when there are none).
    pub fn synonyms(&self) -> &crate::synonyms::Synonyms {
        &self.synonyms
    }

    /// The FACETS section, when the file has one (format 5: facet values and sort keys).
    pub fn facets(&self) -> Result<Option<crate::facets::Facets<'_>>> {
        let bytes = self.section_bytes(SectionKind::Facets);
        if bytes.is_empty() {
            return Ok(None);
        }
        let fields = self.schema().fields().len();
        crate::facets::Facets::open(bytes, self.doc_count(), fields, false, self.is_split())
            .map(Some)
    }

    /// The bytes of a section (empty when the file has none of that kind).
    pub fn section_bytes(&self, kind: SectionKind) -> &[u8] {
        self.section(kind)
    }

    fn section(&self, kind: SectionKind) -> &[u8] {
        &(*self.data).as_ref()[self.ranges[kind as usize - 1].clone()]
    }

    /// The parts of a cut dictionary (`None` when the dictionary is whole).
    pub fn router(&self) -> Option<&crate::dict::Router> {
        self.router.as_ref()
    }

    /// Where term `ord`'s data is (a whole dictionary; with a cut one, see
    /// [`crate::dict::PartView::term_info`]).
    pub fn term_info(&self, ord: u64) -> Result<TermInfo> {
        let section = self.section(SectionKind::TermInfo);
        term_info(section, self.meta.term_count, ord)
    }

    /// The document frequency of term `ord` (from the term-info table).
    pub fn term_doc_freq(&self, ord: u64) -> Result<u32> {
        let section = self.section(SectionKind::TermInfo);
        term_doc_freq(section, self.meta.term_count, ord)
    }

    /// How many documents hold term `ord` in a name field (0 before format 7).
    pub fn term_names(&self, ord: u64) -> Result<u32> {
        let section = self.section(SectionKind::TermInfo);
        term_names(section, self.meta.term_count, ord)
    }

    /// Whether terms carry name-field counts (format 7) and the schema has name fields.
    pub fn has_names(&self) -> bool {
        self.version >= 7 && self.scorer().name_fields() != 0
    }

    /// Whether this is the dictionary of a split index (its data lives in other files).
    pub fn is_split(&self) -> bool {
        self.pages.is_some()
    }

    /// The page table of a split dictionary.
    pub fn pages(&self) -> Option<&Pages> {
        self.pages.as_ref()
    }

    /// The postings of a term, from this file.
    pub fn postings(&self, info: &TermInfo) -> Result<PostingList> {
        self.postings_from(info, self)
    }

    /// The postings of a term, with bytes from `src`.
    pub fn postings_from(&self, info: &TermInfo, src: &dyn DataSource) -> Result<PostingList> {
        self.decode_term(info, src, None)
    }

    /// The postings of a term in the blocks that may hold one of `candidates` (ascending), with
    /// bytes from `src` (see [`crate::postings::decode_postings_for`]).
    pub fn postings_for(
        &self,
        info: &TermInfo,
        src: &dyn DataSource,
        candidates: &[u32],
    ) -> Result<PostingList> {
        self.decode_term(info, src, Some(candidates))
    }

    fn decode_term(
        &self,
        info: &TermInfo,
        src: &dyn DataSource,
        candidates: Option<&[u32]>,
    ) -> Result<PostingList> {
        let data = src.read(DataFile::Postings, info.postings.clone())?;
        // Format 1 wrote no skip tables.
        decode_postings_for(
            &data,
            info.doc_freq,
            self.meta.doc_count,
            self.indexed.len(),
            self.postings_layout(),
            candidates,
        )
    }

    /// The positions of a term whose postings are `list`, from this file.
    pub fn positions(&self, info: &TermInfo, list: &PostingList) -> Result<PositionList> {
        self.positions_from(info, list, self)
    }

    /// Whether the term has positions (from format 7, a term met only as written forms has none).
    pub fn has_positions(&self, info: &TermInfo) -> bool {
        self.version < WRITTEN_FORMS_WITHOUT_POSITIONS || !info.positions.is_empty()
    }

    /// The positions of a term whose postings are `list`, with bytes from `src`.
    pub fn positions_from(
        &self,
        info: &TermInfo,
        list: &PostingList,
        src: &dyn DataSource,
    ) -> Result<PositionList> {
        if !self.has_positions(info) {
            return Err(Error::corrupt("positions of a term that has none"));
        }
        let data = src.read(DataFile::Positions, info.positions.clone())?;
        decode_positions(&data, list)
    }

    /// BM25F with this index's parameters, field weights and average lengths.
    pub fn scorer(&self) -> &Bm25F {
        &self.scorer
    }

    /// How this file lays out postings (format 3 writes block impacts, format 2 skip tables).
    pub fn postings_layout(&self) -> Layout {
        Layout::of_version(self.version)
    }

    /// Whether the field norms are in a pack of their own (split layout 4), read through a
    /// [`DataSource`], rather than resident in this file.
    pub fn norms_paged(&self) -> bool {
        self.ranges[SectionKind::FieldNorms as usize - 1].is_empty()
            && self.pages.as_ref().is_some_and(Pages::has_norms)
    }

    /// The byte range of `doc`'s field-length codes (one per indexed field) in the norms.
    pub fn norms_range(&self, doc: u32) -> Range<u64> {
        let fields = self.indexed.len() as u64;
        doc as u64 * fields..(doc as u64 + 1) * fields
    }

    /// The field-length codes of `doc` (one per indexed field): from this file, or, when they
    /// are paged, from `src` (`Err(NotLoaded)` when it lacks them).
    pub fn norms_from<'s>(&'s self, doc: u32, src: &'s dyn DataSource) -> Result<Cow<'s, [u8]>> {
        let r = self.norms_range(doc);
        if self.norms_paged() {
            return src.read(DataFile::Norms, r);
        }
        let norms = self.section(SectionKind::FieldNorms);
        Ok(Cow::Borrowed(
            norms
                .get(r.start as usize..r.end as usize)
                .unwrap_or_default(),
        ))
    }

    /// The length of indexed field `bit` in document `doc` (0 past the codes), from the
    /// codes [`Index::norms_from`] gave.
    pub fn field_len(codes: &[u8], bit: usize) -> u32 {
        codes.get(bit).map(|&c| fieldnorm::decode(c)).unwrap_or(0)
    }
}

/// The analyzer of an opened index. With the `table-folding` feature, it folds with the
/// index's FOLD section, or for an index without one (formats 1 to 4, or written without it)
/// with the built-in table for Latin, Greek and Cyrillic (docs/FORMAT.md says which queries
/// that changes). Without the feature, the full Unicode data, as the builder folds. Either way
/// a FOLD section is checked (CRC, then decoded) here, so a damaged one is an error at open.
fn query_analyzer(
    config: crate::analysis::AnalyzerConfig,
    sections: &[crate::header::Section],
    bytes: &[u8],
) -> Result<crate::analysis::Analyzer> {
    let table = match sections
        .iter()
        .find(|s| s.kind == crate::header::SectionKind::Fold)
    {
        None if cfg!(feature = "table-folding") => crate::fold::shared(crate::fold::BUILTIN)?,
        None => Arc::default(),
        Some(s) => crate::fold::shared(s.checked(bytes)?)?,
    };
    if cfg!(feature = "table-folding") {
        Ok(crate::analysis::Analyzer::with_fold_table(config, table))
    } else {
        Ok(crate::analysis::Analyzer::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{FORMAT_VERSION, MAGIC, SECTIONS};

    #[test]
    fn known_sections_are_in_number_order() {
        for (i, k) in KNOWN_SECTIONS.iter().enumerate() {
            assert_eq!(*k as usize, i + 1, "{}", k.name());
        }
        assert!(SECTIONS.iter().all(|k| KNOWN_SECTIONS.contains(k)));
    }

    #[test]
    fn fieldnorm_codes_are_monotonic_and_close() {
        let t = fieldnorm::table();
        for c in 1..256 {
            assert!(t[c] > t[c - 1], "code {c}");
        }
        for len in [0u32, 1, 5, 23, 24, 25, 100, 1000, 12345, 1_000_000] {
            let d = fieldnorm::decode(fieldnorm::encode(len));
            assert!(
                d <= len && (len - d) as f64 <= 0.07 * len as f64,
                "len {len} → {d}"
            );
        }
        assert_eq!(fieldnorm::encode(u32::MAX), 255);
    }

    #[test]
    fn header_errors_table() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "BadMagic"),
            (b"PK\x03\x04junkjunkjunkjunk".to_vec(), "BadMagic"),
            ([&MAGIC[..], &[13, 0, 0, 0]].concat(), "UnsupportedVersion"),
            ([&MAGIC[..], &[0, 0, 0, 0]].concat(), "UnsupportedVersion"),
            ([&MAGIC[..], &[1, 0, 0, 0]].concat(), "Truncated"),
            (
                [&MAGIC[..], &[1, 0, 0, 0], &[200, 0, 0, 0], &[0; 8]].concat(),
                "Corrupt",
            ),
            (
                [
                    &MAGIC[..],
                    &[1, 0, 0, 0],
                    &[0, 0, 0, 0],
                    &[5, 0, 0, 0],
                    &[0; 4],
                ]
                .concat(),
                "ChecksumMismatch",
            ),
            (
                [&MAGIC[..], &[1, 0, 0, 0], &[0, 0, 0, 0], &[0; 8]].concat(),
                "Corrupt",
            ),
        ];
        for (bytes, code) in cases {
            let e = read_header(&bytes).unwrap_err();
            assert_eq!(e.code(), code, "{bytes:02x?}: {e}");
        }
        match read_header(&[&MAGIC[..], &[13, 0, 0, 0]].concat()) {
            Err(Error::UnsupportedVersion {
                found: 13,
                oldest: 1,
                newest: FORMAT_VERSION,
            }) => {}
            other => panic!("{other:?}"),
        }
    }
}
