//! Where does a search's data come from?
//!
//! [`DataFile`] names the data files of a split index, [`Pages`] is the page table that
//! checks any page-aligned range of them, and [`DataSource`] is what the searcher reads
//! postings, positions, field norms, stored chunks and dictionary parts through: the sections
//! of a single file, or a [`WorkingSet`] of pages a lazy query fetched.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::codec::{crc32, Reader};
use crate::error::{Error, Result};

/// The files a split index keeps apart from its dictionary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataFile {
    /// Postings blocks.
    Postings = 0,
    /// Positions streams.
    Positions = 1,
    /// Compressed stored-field chunks.
    Store = 2,
    /// The parts of a cut term dictionary (empty when the dictionary is whole).
    Terms = 3,
    /// Compressed chunks of what hits show.
    Display = 4,
    /// Field-length codes, one byte per document per indexed field (split layout 4; older
    /// split dictionaries keep them resident).
    Norms = 5,
}

impl DataFile {
    /// All of them.
    pub const ALL: [DataFile; 6] = [
        DataFile::Postings,
        DataFile::Positions,
        DataFile::Store,
        DataFile::Terms,
        DataFile::Display,
        DataFile::Norms,
    ];

    /// The order in which `prefetch` loads them: what every query reads first.
    pub const PREFETCH_ORDER: [DataFile; 6] = [
        DataFile::Terms,
        DataFile::Display,
        DataFile::Norms,
        DataFile::Postings,
        DataFile::Positions,
        DataFile::Store,
    ];

    /// Its name in manifests and messages.
    pub fn name(self) -> &'static str {
        match self {
            DataFile::Postings => "postings",
            DataFile::Positions => "positions",
            DataFile::Store => "store",
            DataFile::Terms => "terms",
            DataFile::Display => "display",
            DataFile::Norms => "norms",
        }
    }
}

/// Where postings, positions and compressed store chunks come from: the sections of a single
/// file, or the pages a lazy loader fetched.
pub trait DataSource {
    /// The bytes of `range`, an offset range within the data of `file`.
    fn read(&self, file: DataFile, range: Range<u64>) -> Result<Cow<'_, [u8]>>;

    /// A dictionary part whose bytes were checked (CRCs and a walk of its fst) when they
    /// arrived, if the source holds it so; `None` makes the searcher read and check it.
    fn checked_part(&self, _part: usize) -> Option<Arc<[u8]>> {
        None
    }
}

/// The page table of a split index: each data file is cut into pages of `page_size` bytes,
/// each checked by its CRC32 before anything uses it. Up to format 5 (split layouts 2 to 4) the
/// CRCs are here, in the resident dictionary; from format 6 (layout 5) each page carries its
/// own in a 4-byte trailer ([`Pages::trailers`]), so the table holds only the files' lengths.
/// Either way, [`Pages::stored_range`] and [`Pages::check_page`] are the one place where a
/// page's stored bytes are found and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pages {
    /// Bytes per page.
    pub page_size: u32,
    /// Per data file ([`DataFile`] order): data length and page CRCs (none with trailers).
    /// Five files in split layouts 2 and 3 (field norms resident), six from layout 4 (the
    /// norms pack last).
    pub files: Vec<(u64, Vec<u32>)>,
    /// Whether each stored page is followed by its CRC32 (format 6, split layout 5).
    pub trailers: bool,
}

impl Pages {
    /// Page size used by `edgekb build --split`.
    pub const DEFAULT_PAGE_SIZE: u32 = 4096;

    /// Bytes of a page's CRC trailer.
    pub const TRAILER: u64 = 4;

    /// The first format version whose pages carry their CRCs.
    pub const TRAILER_VERSION: u32 = 6;

    /// Computes the table for the data files (five, or six with the norms pack), in
    /// [`DataFile`] order: with `trailers`, only their lengths.
    pub fn compute(page_size: u32, data: &[&[u8]], trailers: bool) -> Pages {
        debug_assert!(matches!(data.len(), 5 | 6));
        let crcs = |d: &[u8]| match trailers {
            true => Vec::new(),
            false => d.chunks(page_size as usize).map(crc32).collect(),
        };
        Pages {
            page_size,
            files: data.iter().map(|d| (d.len() as u64, crcs(d))).collect(),
            trailers,
        }
    }

    /// Whether the field norms are a pack of their own (layout 4), not resident.
    pub fn has_norms(&self) -> bool {
        self.files.len() > DataFile::Norms as usize
    }

    /// Data length of `file` (0 for a file this layout does not have).
    pub fn len_of(&self, file: DataFile) -> u64 {
        self.files.get(file as usize).map_or(0, |f| f.0)
    }

    /// Pages of `file`.
    pub fn page_count(&self, file: DataFile) -> u32 {
        self.len_of(file).div_ceil(self.page_size as u64) as u32
    }

    /// Bytes a stored page takes (its data and, with trailers, its CRC), the last one less.
    pub fn stride(&self) -> u64 {
        self.page_size as u64 + if self.trailers { Self::TRAILER } else { 0 }
    }

    /// Stored bytes of `file` after its pack header: data and trailers.
    pub fn stored_len(&self, file: DataFile) -> u64 {
        let trailers = if self.trailers { Self::TRAILER } else { 0 };
        self.len_of(file) + trailers * self.page_count(file) as u64
    }

    /// Where `pages` of `file` are stored, counted from the end of its pack header.
    pub fn stored_range(&self, file: DataFile, pages: Range<u32>) -> Range<u64> {
        let end = (pages.end as u64 * self.stride()).min(self.stored_len(file));
        (pages.start as u64 * self.stride()).min(end)..end
    }

    /// Checks the stored bytes of page `page` of `file` (exactly its [`Pages::stored_range`])
    /// against its CRC32, and returns its data.
    pub fn check_page<'b>(&self, file: DataFile, page: u32, stored: &'b [u8]) -> Result<&'b [u8]> {
        let want = self.stored_range(file, page..page + 1);
        if stored.len() as u64 != want.end - want.start || want.is_empty() {
            return Err(Error::Truncated {
                what: "stored page",
                needed: want.end - want.start,
                available: stored.len() as u64,
            });
        }
        let (data, expected) = match self.trailers {
            true => {
                let (data, crc) = stored.split_at(stored.len() - Self::TRAILER as usize);
                let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
                // The trailer names its page: a page served in another's place is refused.
                (data, crc ^ page)
            }
            false => match self.crcs_of(file).get(page as usize) {
                Some(&crc) => (stored, crc),
                None => return Err(Error::corrupt(format!("no CRC for page {page}"))),
            },
        };
        let found = crc32(data);
        if found != expected {
            return Err(Error::ChecksumMismatch {
                section: file.name(),
                expected,
                found,
            });
        }
        Ok(data)
    }

    /// The bytes to store for a file's `data`: with trailers, each page `i` followed by
    /// `CRC32(page) XOR i` (little-endian, so that the trailer names its page too); without,
    /// the data itself.
    pub fn stored<'d>(&self, data: &'d [u8]) -> Cow<'d, [u8]> {
        if !self.trailers {
            return Cow::Borrowed(data);
        }
        let mut out = Vec::with_capacity(self.stored_len_of(data.len()) as usize);
        self.store_into(data, &mut out);
        Cow::Owned(out)
    }

    /// The stored length of `len` bytes of data: with trailers, 4 more bytes per page.
    pub fn stored_len_of(&self, len: usize) -> u64 {
        let trailers = if self.trailers { Self::TRAILER } else { 0 };
        len as u64 + trailers * (len as u64).div_ceil(self.page_size as u64)
    }

    /// Appends `data` to `out` as [`Pages::stored`] gives it.
    pub fn store_into(&self, data: &[u8], out: &mut Vec<u8>) {
        if !self.trailers {
            out.extend_from_slice(data);
            return;
        }
        for (i, page) in data.chunks(self.page_size as usize).enumerate() {
            out.extend_from_slice(page);
            out.extend_from_slice(&(crc32(page) ^ i as u32).to_le_bytes());
        }
    }

    /// Page CRCs of `file` in the table (none for a file this layout does not have, nor with
    /// trailers).
    pub fn crcs_of(&self, file: DataFile) -> &[u32] {
        self.files.get(file as usize).map_or(&[], |f| &f.1)
    }

    /// Encodes the section.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.page_size.to_le_bytes());
        for (len, crcs) in &self.files {
            out.extend_from_slice(&len.to_le_bytes());
            if !self.trailers {
                out.extend_from_slice(&(crcs.len() as u32).to_le_bytes());
                for c in crcs {
                    out.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
        out
    }

    /// Decodes the section of a file of format `version`.
    pub fn decode(data: &[u8], version: u32) -> Result<Pages> {
        let mut r = Reader::new(data, "pages");
        let trailers = version >= Self::TRAILER_VERSION;
        let page_size = r.u32()?;
        if !(512..=1 << 24).contains(&page_size) {
            return Err(Error::corrupt(format!("page size {page_size}")));
        }
        let mut files = Vec::with_capacity(DataFile::ALL.len());
        // Five files, then (layout 4) the norms pack's entry when bytes remain.
        while files.len() < 5 || (files.len() < DataFile::ALL.len() && r.remaining() > 0) {
            let len = r.u64()?;
            if len > 1 << 48 {
                return Err(Error::corrupt(format!("a data file of {len} bytes")));
            }
            if trailers {
                files.push((len, Vec::new()));
                continue;
            }
            let count = r.u32()? as usize;
            if count as u64 != len.div_ceil(page_size as u64) || count * 4 > r.remaining() {
                return Err(Error::corrupt(format!("{count} pages for {len} bytes")));
            }
            let mut crcs = Vec::with_capacity(count);
            for _ in 0..count {
                crcs.push(r.u32()?);
            }
            files.push((len, crcs));
        }
        if r.remaining() > 0 {
            return Err(Error::corrupt(format!(
                "{} bytes after the page table",
                r.remaining()
            )));
        }
        Ok(Pages {
            page_size,
            files,
            trailers,
        })
    }
}

/// The pages one lazy query has at hand (shared with the cache, no copies), and the
/// dictionary parts it has, checked.
#[derive(Default)]
pub struct WorkingSet {
    pages: HashMap<(DataFile, u32), Arc<[u8]>>,
    parts: HashMap<usize, Arc<[u8]>>,
    page_size: u64,
}

impl WorkingSet {
    /// An empty set over pages of `page_size` bytes.
    pub fn new(page_size: u32) -> Self {
        WorkingSet {
            page_size: page_size as u64,
            ..WorkingSet::default()
        }
    }

    /// Bytes of page and part data held.
    pub fn bytes(&self) -> usize {
        self.pages
            .values()
            .chain(self.parts.values())
            .map(|p| p.len())
            .sum()
    }

    /// Whether it holds page `page` of `file`.
    pub fn has_page(&self, file: DataFile, page: u32) -> bool {
        self.pages.contains_key(&(file, page))
    }

    /// Whether it holds dictionary part `part`, checked.
    pub fn has_part(&self, part: usize) -> bool {
        self.parts.contains_key(&part)
    }

    /// Adds a page (checked against the page table by the caller).
    pub fn insert_page(&mut self, file: DataFile, page: u32, bytes: Arc<[u8]>) {
        self.pages.insert((file, page), bytes);
    }

    /// Adds a dictionary part (checked by the caller).
    pub fn insert_part(&mut self, part: usize, bytes: Arc<[u8]>) {
        self.parts.insert(part, bytes);
    }
}

impl DataSource for WorkingSet {
    fn read(&self, file: DataFile, range: Range<u64>) -> Result<Cow<'_, [u8]>> {
        if range.start >= range.end {
            return Ok(Cow::Borrowed(&[]));
        }
        let ps = self.page_size;
        let missing = || Error::NotLoaded {
            file: file.name(),
            start: range.start,
            end: range.end,
        };
        if ps == 0 {
            return Err(missing()); // nothing planned yet, so nothing loaded
        }
        let (first, last) = ((range.start / ps) as u32, ((range.end - 1) / ps) as u32);
        if first == last {
            let p = self.pages.get(&(file, first)).ok_or_else(missing)?;
            let a = (range.start - first as u64 * ps) as usize;
            let b = (range.end - first as u64 * ps) as usize;
            return p.get(a..b).map(Cow::Borrowed).ok_or_else(missing);
        }
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        for page in first..=last {
            let p = self.pages.get(&(file, page)).ok_or_else(missing)?;
            let base = page as u64 * ps;
            let a = range.start.max(base) - base;
            let b = range.end.min(base + p.len() as u64) - base;
            out.extend_from_slice(p.get(a as usize..b as usize).ok_or_else(missing)?);
        }
        Ok(Cow::Owned(out))
    }

    fn checked_part(&self, part: usize) -> Option<Arc<[u8]>> {
        self.parts.get(&part).cloned()
    }
}
