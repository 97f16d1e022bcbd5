//! What does `edgekb verify` check?
//!
//! Everything a search checks, on every byte, so that an index `verify` passes cannot fail a
//! search with `Corrupt`, `Truncated` or `ChecksumMismatch`:
//!
//! - a single file: every section's CRC32, then every term's postings and positions decoded,
//!   every stored document and hit-display record decompressed;
//! - a split directory: the manifest (layout, versions, names), the dictionary's size, SHA-256,
//!   section CRCs and fst; every pack's size and SHA-256, its header, its data length against
//!   the page table and **every page's CRC32 against the page table** (a file whose SHA-256
//!   was recomputed after damage passes the manifest but not this); then, through the packs,
//!   every dictionary part (its fst walked, its term count and first term against the router),
//!   every term's postings and positions, every stored document and hit-display record; from
//!   layout 6, that the manifest the dictionary holds is `manifest.json`'s; and whether
//!   `dictionary.bin` is the dictionary the manifest names (a missing or stale copy is no
//!   damage: readers then fetch the manifest and the named dictionary, two more requests and
//!   a second round trip, which `verify` reports as a warning).
//!
//! Decompression is bounded by the same per-chunk budget a search uses
//! (`SearchLimits::max_chunk_bytes`); a chunk declaring more is an error, not an allocation.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use edgekb::lazy::Version;
use edgekb::raw::PartView;
use edgekb::raw::TermInfo;
use edgekb::split::{check_file, unpack_file, Manifest, EMBEDDED_MANIFEST_VERSION};
use edgekb::{DataFile, DataSource};
use edgekb::{Error, Index, SearchLimits};

use crate::publish::{holds, io_error, read_manifest, MANIFEST};

/// Documents whose stored fields are decompressed in one call (each chunk once per call).
const DOC_BATCH: u32 = 1024;

/// What was checked.
pub struct Summary {
    /// Terms whose postings and positions were decoded.
    pub terms: u64,
    /// Documents whose stored fields were read.
    pub docs: u32,
    /// Pages whose CRC32 was checked (split only).
    pub pages: u64,
    /// What `dictionary.bin` holds (split only; `None` for a single file).
    pub alias: Option<Alias>,
}

/// What a split directory's `dictionary.bin` ([`edgekb::split::DICTIONARY_ALIAS`]) holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alias {
    /// The dictionary the manifest names: opening takes one round trip (from layout 6, one
    /// request).
    Current,
    /// Absent: opening takes two round trips.
    Missing,
    /// Another file (a version behind, or damaged): opening takes two round trips.
    Stale,
}

impl Alias {
    /// A warning for a copy that costs readers a round trip, or `None`.
    pub fn warning(self, dictionary: &str) -> Option<String> {
        let what = match self {
            Alias::Current => return None,
            Alias::Missing => "is missing",
            Alias::Stale => "is not the dictionary the manifest names",
        };
        Some(format!(
            "{} {what}: readers open the index with the manifest and the dictionary it names, \
             in two or three round trips instead of one request (a rebuild writes it; or copy \
             {dictionary} to it)",
            edgekb::split::DICTIONARY_ALIAS
        ))
    }
}

/// What `dictionary.bin` in `dir` holds, against the manifest's dictionary entry.
fn alias_of(dir: &Path, dictionary: &edgekb::split::FileEntry) -> Result<Alias, Error> {
    let path = dir.join(edgekb::split::DICTIONARY_ALIAS);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Alias::Missing),
        Err(e) => Err(io_error(&path, e)),
        // The rule a publish keeps it by (size first: a huge stray file is not read whole).
        Ok(_) if holds(&path, dictionary) => Ok(Alias::Current),
        Ok(_) => Ok(Alias::Stale),
    }
}

fn corrupt(what: impl Into<String>) -> Error {
    Error::Corrupt { what: what.into() }
}

/// The data of a split index's five packs, in memory.
struct Packs(Vec<Vec<u8>>);

impl DataSource for Packs {
    fn read(&self, file: DataFile, range: Range<u64>) -> edgekb::Result<Cow<'_, [u8]>> {
        let data: &[u8] = self.0.get(file as usize).map_or(&[], |d| d);
        usize::try_from(range.start)
            .ok()
            .zip(usize::try_from(range.end).ok())
            .and_then(|(a, b)| data.get(a..b))
            .map(Cow::Borrowed)
            .ok_or(Error::Truncated {
                what: "data pack",
                needed: range.end,
                available: data.len() as u64,
            })
    }
}

fn decode_term(
    index: &Index<Vec<u8>>,
    info: &TermInfo,
    src: &dyn DataSource,
) -> edgekb::Result<()> {
    let list = index.postings_from(info, src)?;
    if index.has_positions(info) {
        index.positions_from(info, &list, src)?;
    }
    if !info.names_postings.is_empty() {
        // Format 7: the name-field postings after the postings.
        index.postings_from(&info.clone().view(true), src)?;
    }
    Ok(())
}

/// Decodes every term's postings and positions of a whole dictionary (a single file's, or a
/// split index's resident one).
fn decode_whole_dictionary(index: &Index<Vec<u8>>, src: &dyn DataSource) -> edgekb::Result<u64> {
    use fst::Streamer;
    let mut stream = index.terms().stream();
    let mut terms = 0;
    while let Some((_, ord)) = stream.next() {
        decode_term(index, &index.term_info(ord)?, src)?;
        terms += 1;
    }
    Ok(terms)
}

/// Reads every document's stored fields and hit-display record, chunk budget applied.
fn decode_documents(index: &Index<Vec<u8>>, src: &dyn DataSource) -> edgekb::Result<u32> {
    let budget = SearchLimits::default().max_chunk_bytes;
    let n = index.doc_count();
    let mut start = 0;
    while start < n {
        let docs: Vec<u32> = (start..n.min(start.saturating_add(DOC_BATCH))).collect();
        index.docs_from(&docs, budget, src)?;
        index.hit_fields_from(&docs, budget, src)?;
        start += docs.len() as u32;
    }
    Ok(n)
}

/// Verifies a single-file index.
pub fn verify_file(path: &Path) -> Result<Summary, Error> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let index = Index::open(bytes)?;
    index.verify()?;
    let terms = decode_whole_dictionary(&index, &index)?;
    let docs = decode_documents(&index, &index)?;
    Ok(Summary {
        terms,
        docs,
        pages: 0,
        alias: None,
    })
}

fn read_checked(dir: &Path, entry: &edgekb::split::FileEntry) -> Result<Vec<u8>, Error> {
    let path = dir.join(&entry.name);
    let bytes = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
    check_file(entry, &bytes)?;
    Ok(bytes)
}

/// A pack's bytes: its file, or its pieces (each checked, then the whole).
fn read_pack(dir: &Path, entry: &edgekb::split::FileEntry) -> Result<Vec<u8>, Error> {
    if entry.pieces.is_empty() {
        return read_checked(dir, entry);
    }
    let mut bytes = Vec::with_capacity(entry.size as usize);
    for piece in &entry.pieces {
        bytes.extend_from_slice(&read_checked(dir, piece)?);
    }
    check_file(entry, &bytes)?;
    Ok(bytes)
}

/// Checks a pack's header, length and every page CRC; returns its data.
fn check_pack(
    index: &Index<Vec<u8>>,
    file: DataFile,
    name: &str,
    bytes: &[u8],
) -> Result<(Vec<u8>, u64), Error> {
    let data = unpack_file(file, bytes)?;
    let pages = index
        .pages()
        .ok_or_else(|| corrupt("a split dictionary without a page table"))?;
    let len = pages.stored_len(file);
    if data.len() as u64 != len {
        return Err(corrupt(format!(
            "{name} holds {} bytes after its header, the page table says {len}",
            data.len()
        )));
    }
    let count = pages.page_count(file);
    let mut out = Vec::with_capacity(pages.len_of(file) as usize);
    for page in 0..count {
        let stored = pages.stored_range(file, page..page + 1);
        let bytes = &data[stored.start as usize..stored.end as usize];
        match pages.check_page(file, page, bytes) {
            Ok(checked) => out.extend_from_slice(checked),
            Err(Error::ChecksumMismatch {
                expected, found, ..
            }) => {
                let a = page as u64 * pages.page_size as u64;
                return Err(corrupt(format!(
                    "{name}: page {page} (bytes {a}..{} of its data) has CRC32 {found:08x}, its \
                     check says {expected:08x}; a search reading it would fail: rebuild the index",
                    a + pages.page_size as u64
                )));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((out, count as u64))
}

/// Verifies a split index directory.
pub fn verify_split(dir: &Path) -> Result<(Manifest, Summary), Error> {
    let manifest = read_manifest(&dir.join(MANIFEST))?
        .ok_or_else(|| io_error(&dir.join(MANIFEST), std::io::ErrorKind::NotFound.into()))?;
    let dictionary = read_checked(dir, &manifest.dictionary)?;
    let embedded = Version::embedded_manifest(&dictionary, edgekb::lazy::read_manifest)?;
    let index = Index::open(dictionary)?;
    index.verify()?;
    if !index.is_split() {
        return Err(corrupt(format!(
            "{} is not a split dictionary",
            manifest.dictionary.name
        )));
    }
    let mut packs = Vec::new();
    let mut pages = 0;
    for f in manifest.data_files() {
        let entry = manifest.data_file(f);
        let (data, n) = check_pack(&index, f, &entry.name, &read_pack(dir, entry)?)?;
        packs.push(data);
        pages += n;
    }
    let packs = Packs(packs);
    let terms = match index.router() {
        None => decode_whole_dictionary(&index, &packs)?,
        Some(router) => {
            let mut terms = 0;
            for (i, part) in router.parts().iter().enumerate() {
                let bytes = packs.read(DataFile::Terms, part.range.clone())?;
                let view = PartView::open(&bytes, router.part_terms(i), true)?;
                use fst::Streamer;
                let first_key = view.map.stream().next().map(|(k, _)| k.to_vec());
                if first_key.as_deref() != Some(part.first.as_slice()) {
                    return Err(corrupt(format!(
                        "dictionary part {i} does not start with the term the router gives it"
                    )));
                }
                for local in 0..router.part_terms(i) {
                    decode_term(&index, &view.term_info(local)?, &packs)?;
                }
                terms += router.part_terms(i);
            }
            terms
        }
    };
    let docs = decode_documents(&index, &packs)?;
    // From layout 6 the dictionary holds its manifest, which readers open the index from: it
    // must say what `manifest.json` says (checked last: damage to a pack is named first).
    let layout6 = manifest.manifest_version >= EMBEDDED_MANIFEST_VERSION;
    if embedded.as_ref() != layout6.then_some(&manifest) {
        return Err(corrupt(format!(
            "{} {} the manifest of a layout {} index{}",
            manifest.dictionary.name,
            if embedded.is_some() { "holds" } else { "lacks" },
            manifest.manifest_version,
            if embedded.is_some() && layout6 {
                ", and it is not manifest.json"
            } else {
                ""
            }
        )));
    }
    let alias = Some(alias_of(dir, &manifest.dictionary)?);
    Ok((
        manifest,
        Summary {
            terms,
            docs,
            pages,
            alias,
        },
    ))
}
