//! How is an index cut into a split index's files? From a single-file index
//! ([`SplitOutput::from_index_with`], each section copied) or from a fresh build's sections
//! ([`SplitOutput::from_built`], each section moved into its pack and freed once the pack is
//! made, so a build's split holds the index about once). Both run the one cut below and give
//! the same files byte for byte.

use std::borrow::Cow;

use super::{
    bad, pack_header, FileEntry, Manifest, SplitOptions, SplitOutput, MANIFEST_VERSION, MAX_PIECES,
    PACK_HEADER_LEN,
};
use crate::builder::BuiltIndex;
use crate::error::{Error, Result};
use crate::header::{SectionKind, FORMAT_VERSION};
use crate::source::{DataFile, Pages};
use crate::terminfo::term_info;

impl SplitOutput {
    /// Cuts a single-file index into the split layout with default options.
    pub fn from_index<D: AsRef<[u8]>>(index: &crate::Index<D>) -> Result<SplitOutput> {
        SplitOutput::from_index_with(index, &SplitOptions::default())
    }

    /// Cuts a single-file index into the split layout: the dictionary file (meta, the term
    /// dictionary or its router, the stores' chunk tables and a page table) and six data files
    /// (postings, positions, store, dictionary parts, hit display, field norms).
    pub fn from_index_with<D: AsRef<[u8]>>(
        index: &crate::Index<D>,
        options: &SplitOptions,
    ) -> Result<SplitOutput> {
        if index.is_split() {
            return Err(bad("the index is already split"));
        }
        if index.version() != FORMAT_VERSION {
            return Err(Error::Unsupported {
                what: format!(
                    "splitting a format {} index; rebuild it with this edgekb first",
                    index.version()
                ),
            });
        }
        cut(
            |k| Cow::Borrowed(index.section_bytes(k)),
            index.meta().term_count,
            options,
        )
    }

    /// Cuts a fresh build into the split layout, as [`SplitOutput::from_index_with`] cuts the
    /// single file it would write (the same files, byte for byte), without that file: each
    /// section is freed once its pack is made.
    pub fn from_built(built: BuiltIndex, options: &SplitOptions) -> Result<SplitOutput> {
        let term_count = built.stats().terms;
        let mut sections = built.into_sections();
        cut(
            |k| match sections.iter_mut().find(|(kind, _)| *kind == k) {
                Some((_, bytes)) => Cow::Owned(std::mem::take(bytes)),
                None => Cow::Owned(Vec::new()),
            },
            term_count,
            options,
        )
    }
}

/// Splits a store section into its chunk table (copied) and its data (moved when owned).
fn split_table<'a>(section: Cow<'a, [u8]>, table_len: usize) -> (Vec<u8>, Cow<'a, [u8]>) {
    let table = section[..table_len].to_vec();
    let data = match section {
        Cow::Borrowed(b) => Cow::Borrowed(&b[table_len..]),
        Cow::Owned(mut v) => {
            v.drain(..table_len);
            Cow::Owned(v)
        }
    };
    (table, data)
}

/// The cut. `take(kind)` hands over a section of a current-format index, once each (absent:
/// empty); `term_count` is its META's.
fn cut<'a>(
    mut take: impl FnMut(SectionKind) -> Cow<'a, [u8]>,
    term_count: u32,
    options: &SplitOptions,
) -> Result<SplitOutput> {
    let version = FORMAT_VERSION;
    let store = take(SectionKind::Store);
    let table_len = crate::store::StoreReader::open(&store, version)?.table_len();
    let (store_table, store_data) = split_table(store, table_len);
    let display = take(SectionKind::Display);
    let resident_display = display.len() <= options.resident_display_bytes;
    let (display_table, display_data) = if display.is_empty() || resident_display {
        // A small hit-display store stays whole in the dictionary.
        (display.into_owned(), Cow::Borrowed(&[][..]))
    } else {
        let table_len = crate::store::StoreReader::open(&display, version)?.table_len();
        split_table(display, table_len)
    };
    let (terms, info) = (take(SectionKind::Terms), take(SectionKind::TermInfo));
    let (terms, info, router, parts) = if terms.len() + info.len()
        > options.resident_dictionary_bytes
    {
        use fst::Streamer;
        let map =
            fst::Map::new(&*terms).map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        let mut stream = map.stream();
        let next = || -> Result<_> {
            Ok(match stream.next() {
                Some((key, ord)) => Some((key.to_vec(), ord, term_info(&info, term_count, ord)?)),
                None => None,
            })
        };
        let (router, parts) = crate::dict::cut(next, term_count as u64, options.part_bytes.max(1))?;
        let empty = fst::MapBuilder::memory()
            .into_inner()
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        (empty, Vec::new(), Some(router.encode()), parts)
    } else {
        (terms.into_owned(), info.into_owned(), None, Vec::new())
    };
    // Facet data (value sets and columns) follows the store chunks in the store pack, from
    // a page boundary; the dictionary keeps the value dictionaries and offset tables.
    let facets = take(SectionKind::Facets);
    let mut store_pack = store_data.into_owned();
    let facet_directory = match facets.is_empty() {
        true => None,
        false => {
            let page = options.page_size as usize;
            store_pack.resize(store_pack.len().div_ceil(page) * page, 0);
            let (directory, data) = crate::facets::externalize(&facets, store_pack.len() as u64)?;
            store_pack.extend_from_slice(&data);
            Some(directory)
        }
    };
    drop(facets);
    // Field norms are a pack of their own (layout 4): a query fetches the pages of the
    // documents it may score, so nothing that grows with the corpus by the document stays
    // resident for them. Small norms stay in the dictionary (the pack is then empty).
    let norms = take(SectionKind::FieldNorms);
    let resident_norms = norms.len() <= options.resident_norms_bytes;
    let (norms, norms_pack) = match resident_norms {
        true => (Some(norms.into_owned()), Cow::Borrowed(&[][..])),
        false => (None, norms),
    };
    let data: [Cow<'a, [u8]>; 6] = [
        take(SectionKind::Postings),
        take(SectionKind::Positions),
        Cow::Owned(store_pack),
        Cow::Owned(parts),
        display_data,
        norms_pack,
    ];
    let pages = Pages::compute(options.page_size, &data.each_ref().map(|d| &**d), true);
    let mut sections = vec![
        (SectionKind::Meta, take(SectionKind::Meta).into_owned()),
        (SectionKind::Terms, terms),
        (SectionKind::TermInfo, info),
        (SectionKind::Store, store_table),
        (SectionKind::Pages, pages.encode()),
    ];
    if let Some(norms) = norms {
        sections.push((SectionKind::FieldNorms, norms));
    }
    if let Some(router) = router {
        sections.push((SectionKind::Router, router));
    }
    if !display_table.is_empty() {
        sections.push((SectionKind::Display, display_table));
    }
    if let Some(directory) = facet_directory {
        sections.push((SectionKind::Facets, directory));
    }
    // Resident as they are: the hit display's preset dictionary too (format 12), which
    // decoding any hit needs.
    for kind in [
        SectionKind::Synonyms,
        SectionKind::Fold,
        SectionKind::DisplayPreset,
    ] {
        let bytes = take(kind);
        if !bytes.is_empty() {
            sections.push((kind, bytes.into_owned()));
        }
    }
    SplitOutput::new(sections, data, options)
}

impl SplitOutput {
    /// The files of a split index from its dictionary's sections and its six packs' data, each
    /// pack's data freed (when owned) once the pack is made. The packs come first: the
    /// dictionary then holds the manifest that names them (layout 6, a MANIFEST section).
    pub(crate) fn new(
        mut sections: Vec<(SectionKind, Vec<u8>)>,
        data: [Cow<'_, [u8]>; 6],
        options: &SplitOptions,
    ) -> Result<SplitOutput> {
        // The dictionary without its manifest, read for what the packs and the manifest need.
        let first = BuiltIndex::new(sections.clone())?.into_bytes();
        let index = crate::Index::open(first.as_slice())?;
        let pages = index
            .pages()
            .ok_or_else(|| Error::corrupt("a split dictionary without a page table"))?;
        // Pieces: the pack header and whole stored pages, at most `max_file_bytes` each.
        let page = pages.stride().max(1);
        let pages_per_piece =
            (options.max_file_bytes.saturating_sub(PACK_HEADER_LEN) / page).max(1);
        let piece_len = PACK_HEADER_LEN + pages_per_piece * page;
        let mut files = vec![(String::new(), Vec::new())];
        let mut entries = Vec::with_capacity(data.len());
        for (&f, d) in DataFile::ALL.iter().zip(data) {
            let mut pack = pack_header(f, pages.stored_len_of(d.len()));
            pages.store_into(&d, &mut pack);
            drop(d);
            let mut entry = FileEntry::of(f.name(), &pack);
            if pack.len() as u64 > options.max_file_bytes {
                // The first piece holds the header; every piece ends on a page boundary. Cut
                // from the end, so the pack shrinks as its pieces are made.
                let mut starts = vec![0];
                while let Some(&at) = starts.last().filter(|&&at| at < pack.len()) {
                    let len = if at == 0 {
                        piece_len
                    } else {
                        piece_len - PACK_HEADER_LEN
                    };
                    starts.push((at + len as usize).min(pack.len()));
                }
                starts.pop();
                if starts.len() > MAX_PIECES {
                    return Err(Error::LimitExceeded {
                        what: "pieces of one pack (raise the largest file size)",
                        limit: MAX_PIECES as u64,
                    });
                }
                let mut pieces = Vec::with_capacity(starts.len());
                for &at in starts.iter().rev() {
                    let piece = pack.split_off(at);
                    pack.shrink_to_fit();
                    pieces.push((FileEntry::of(f.name(), &piece), piece));
                }
                for (piece_entry, piece) in pieces.into_iter().rev() {
                    files.push((piece_entry.name.clone(), piece));
                    entry.pieces.push(piece_entry);
                }
            } else {
                files.push((entry.name.clone(), pack));
            }
            entries.push(entry);
        }
        let [postings, positions, store, terms, display, norms]: [FileEntry; 6] =
            entries.try_into().expect("one entry per data file");
        let mut manifest = Manifest {
            manifest_version: MANIFEST_VERSION,
            format_version: FORMAT_VERSION,
            doc_count: index.doc_count(),
            term_count: index.meta().term_count,
            language: index.meta().analyzer.language.name().to_string(),
            fields: index
                .schema()
                .fields()
                .iter()
                .map(|f| f.name.clone())
                .collect(),
            // Filled in below, once the dictionary holds the rest.
            dictionary: FileEntry::default(),
            postings,
            positions,
            store,
            terms,
            display,
            norms: Some(norms),
        };
        let dictionary_parts = index.router().map_or(0, |r| r.parts().len());
        drop(index);
        drop(first);
        sections.push((SectionKind::Manifest, manifest.embedded_json()));
        let dictionary = BuiltIndex::new(sections)?;
        let dictionary_stats = dictionary.stats().clone();
        let dictionary = dictionary.into_bytes();
        manifest.dictionary = FileEntry::of("dictionary", &dictionary);
        files[0] = (manifest.dictionary.name.clone(), dictionary);
        Ok(SplitOutput {
            manifest,
            files,
            dictionary_stats,
            dictionary_parts,
        })
    }
}
