//! One version of a split index (a manifest and its resident dictionary) and what it says
//! about the rest: which pages a range touches, how missing pages become requests, and whether
//! the bytes that arrive are the ones it describes.

use std::ops::Range;
use std::sync::Arc;

use crate::error::Error;
use crate::header::{read_header, SectionKind};
use crate::index::Index;
use crate::source::{DataFile, Pages};
use crate::split::{
    check_file, FileEntry, Manifest, EMBEDDED_MANIFEST_VERSION, PACK_HEADER_LEN,
    TRAILER_MANIFEST_VERSION,
};

use super::MAX_GAP_PAGES;

/// Cache key: (file identity from its content hash, page number).
pub type PageKey = (u64, u32);

/// One request of a fetch plan: a byte range of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The data file.
    pub file: DataFile,
    /// Its name (relative to the manifest).
    pub name: String,
    /// Byte range within the whole pack (pack header included).
    pub range: Range<u64>,
    /// Where the file `name` starts in the pack (0, or a piece's offset): the HTTP `Range` is
    /// `range` minus this.
    pub offset: u64,
    /// The pages it covers.
    pub pages: Range<u32>,
}

impl Request {
    /// The byte range to ask `name` for.
    pub fn file_range(&self) -> Range<u64> {
        self.range.start - self.offset..self.range.end - self.offset
    }
}

/// One version of a split index: its manifest and its resident dictionary.
pub struct Version {
    /// The manifest it was opened from.
    pub manifest: Manifest,
    /// The dictionary.
    pub index: Index<Vec<u8>>,
    ids: [u64; DataFile::ALL.len()],
}

impl Version {
    /// Checks the manifest and the dictionary's bytes and opens it.
    pub fn open(manifest: Manifest, dictionary: Vec<u8>) -> crate::Result<Version> {
        manifest.validate()?;
        check_file(&manifest.dictionary, &dictionary)?;
        Version::open_valid(manifest, dictionary)
    }

    /// The manifest a layout 6 dictionary holds (its MANIFEST section, CRC checked, read with
    /// `read`), its dictionary entry made from `dictionary` itself; `None` when it holds none
    /// (an older layout).
    pub fn embedded_manifest(
        dictionary: &[u8],
        read: fn(&[u8]) -> crate::Result<Manifest>,
    ) -> crate::Result<Option<Manifest>> {
        let (_, sections) = read_header(dictionary)?;
        let Some(section) = sections.iter().find(|s| s.kind == SectionKind::Manifest) else {
            return Ok(None);
        };
        let mut manifest = read(section.checked(dictionary)?)?;
        if manifest.manifest_version < EMBEDDED_MANIFEST_VERSION
            || manifest.dictionary != FileEntry::default()
        {
            return Err(Error::corrupt(format!(
                "the manifest in a dictionary is of layout {} or names a dictionary",
                manifest.manifest_version
            )));
        }
        manifest.dictionary = FileEntry::of("dictionary", dictionary);
        Ok(Some(manifest))
    }

    /// Checks the manifest and opens the dictionary, whose size and SHA-256 are known to be the
    /// manifest's (checked, or computed from these bytes: [`Version::embedded_manifest`]).
    pub fn open_hashed(manifest: Manifest, dictionary: Vec<u8>) -> crate::Result<Version> {
        manifest.validate()?;
        Version::open_valid(manifest, dictionary)
    }

    /// Opens the dictionary of a manifest already validated, whose size and SHA-256 are known
    /// to be the manifest's.
    fn open_valid(manifest: Manifest, dictionary: Vec<u8>) -> crate::Result<Version> {
        // The whole file's SHA-256 is the manifest's; `open` checks the term dictionary's CRC
        // and walks it, `verify` the other sections' CRCs.
        let index = Index::open(dictionary)?;
        index.verify()?;
        let pages = index
            .pages()
            .ok_or_else(|| Error::corrupt("the manifest's dictionary has no page table"))?;
        if pages.has_norms() != manifest.norms.is_some() {
            return Err(Error::corrupt(
                "the manifest and its dictionary's page table disagree on a norms pack",
            ));
        }
        if pages.trailers != (manifest.manifest_version >= TRAILER_MANIFEST_VERSION) {
            return Err(Error::corrupt(format!(
                "a layout {} manifest with a format {} dictionary",
                manifest.manifest_version,
                index.version()
            )));
        }
        for f in manifest.data_files() {
            let entry = manifest.data_file(f);
            if entry.size != PACK_HEADER_LEN + pages.stored_len(f) {
                return Err(Error::corrupt(format!(
                    "{} is {} bytes, its page table says {}",
                    entry.name,
                    entry.size,
                    PACK_HEADER_LEN + pages.stored_len(f)
                )));
            }
            // Pieces end on page boundaries, so a page never straddles two.
            for (start, piece) in entry.files().into_iter().skip(1) {
                if (start - PACK_HEADER_LEN) % pages.stride() != 0 {
                    return Err(Error::corrupt(format!(
                        "piece {} of {} starts inside a page",
                        piece.name, entry.name
                    )));
                }
            }
        }
        let id = |f: DataFile| {
            let hex = manifest.data_file(f).sha256.get(..16).unwrap_or_default();
            u64::from_str_radix(hex, 16).unwrap_or(0)
        };
        let ids = DataFile::ALL.map(id);
        Ok(Version {
            manifest,
            index,
            ids,
        })
    }

    pub(crate) fn pages(&self) -> &Pages {
        self.index.pages().expect("checked at open")
    }

    /// The cache key of a page.
    pub fn key(&self, file: DataFile, page: u32) -> PageKey {
        (self.ids[file as usize], page)
    }

    /// The cache key of a checked dictionary part: the `terms` pack's identity and the part's
    /// index with the top bit set (no page number reaches it: 2³¹ pages).
    pub fn part_key(&self, part: usize) -> PageKey {
        (self.ids[DataFile::Terms as usize], 1 << 31 | part as u32)
    }

    /// Pages that `needs` touches, per file, ascending. A range past the end of its file (a
    /// damaged dictionary) is an error, not a request.
    pub fn pages_of(
        &self,
        needs: &[(DataFile, Range<u64>)],
    ) -> crate::Result<Vec<(DataFile, u32)>> {
        let pages = self.pages();
        let ps = pages.page_size as u64;
        let mut out = Vec::new();
        for (file, r) in needs {
            if r.start >= r.end {
                continue;
            }
            let len = pages.len_of(*file);
            if r.end > len {
                return Err(Error::Truncated {
                    what: file.name(),
                    needed: r.end,
                    available: len,
                });
            }
            for p in r.start / ps..=(r.end - 1) / ps {
                out.push((*file, p as u32));
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The file (the pack, or its piece) holding page `page` of `file`, and where it starts.
    fn file_of(&self, file: DataFile, page: u32) -> (u64, &FileEntry) {
        let at = PACK_HEADER_LEN + self.pages().stored_range(file, page..page + 1).start;
        let files = self.manifest.data_file(file).files();
        let i = files
            .partition_point(|(start, _)| *start <= at)
            .saturating_sub(1);
        files[i]
    }

    /// Coalesces missing pages into requests: runs separated by at most [`MAX_GAP_PAGES`],
    /// never across two files (pieces) of a pack.
    pub fn requests(&self, missing: &[(DataFile, u32)]) -> Vec<Request> {
        let pages = self.pages();
        let mut out: Vec<Request> = Vec::new();
        for &(file, page) in missing {
            let (offset, entry) = self.file_of(file, page);
            if let Some(last) = out.last_mut() {
                if last.file == file
                    && last.offset == offset
                    && page <= last.pages.end + MAX_GAP_PAGES
                {
                    last.pages.end = page + 1;
                    continue;
                }
            }
            out.push(Request {
                file,
                name: entry.name.clone(),
                range: 0..0,
                offset,
                pages: page..page + 1,
            });
        }
        for r in &mut out {
            let stored = pages.stored_range(r.file, r.pages.clone());
            r.range = PACK_HEADER_LEN + stored.start..PACK_HEADER_LEN + stored.end;
        }
        out
    }

    /// Checks a response to `req` and returns its pages. `body` is either exactly the range
    /// asked for (HTTP 206) or the whole file (a host that ignores `Range`).
    pub fn check(&self, req: &Request, body: &[u8]) -> crate::Result<Vec<(u32, Arc<[u8]>)>> {
        let pages = self.pages();
        let want = req.range.end - req.range.start;
        let (offset, entry) = self.file_of(req.file, req.pages.start);
        let (data, base): (&[u8], u64) = if body.len() as u64 == want {
            (body, req.range.start - PACK_HEADER_LEN)
        } else if body.len() as u64 == entry.size && offset == req.offset {
            // A host that ignores `Range` sent the whole file: its SHA-256 vouches for it.
            check_file(entry, body)?;
            let start = (req.range.start - offset) as usize;
            let slice = body
                .get(start..start + want as usize)
                .ok_or(Error::Truncated {
                    what: "fetched file",
                    needed: (start as u64) + want,
                    available: body.len() as u64,
                })?;
            (slice, req.range.start - PACK_HEADER_LEN)
        } else {
            return Err(Error::Truncated {
                what: "fetched range",
                needed: want,
                available: body.len() as u64,
            });
        };
        let mut out = Vec::with_capacity(req.pages.len());
        let short = || Error::Truncated {
            what: "fetched range",
            needed: want,
            available: data.len() as u64,
        };
        for page in req.pages.clone() {
            let stored = pages.stored_range(req.file, page..page + 1);
            let bytes = data
                .get(
                    (stored.start.saturating_sub(base)) as usize
                        ..(stored.end.saturating_sub(base)) as usize,
                )
                .ok_or_else(short)?;
            out.push((page, Arc::from(pages.check_page(req.file, page, bytes)?)));
        }
        Ok(out)
    }
}

/// Parses `manifest.json` with `parse` (`serde_json` natively; the host's `JSON.parse` in
/// wasm, which then carries no JSON parser), within the size limit, and checks it.
pub fn parse_manifest_with(
    bytes: &[u8],
    parse: impl FnOnce(&str) -> Result<Manifest, String>,
) -> crate::Result<Manifest> {
    let m = read_manifest_with(bytes, parse)?;
    m.validate()?;
    Ok(m)
}

/// Reads a manifest's JSON (`manifest.json`, or the copy a layout 6 dictionary holds, which
/// has no dictionary entry) with `parse`, within the size limit, without checking what it
/// says ([`Manifest::validate`]).
pub fn read_manifest_with(
    bytes: &[u8],
    parse: impl FnOnce(&str) -> Result<Manifest, String>,
) -> crate::Result<Manifest> {
    if bytes.len() > crate::split::MAX_MANIFEST_BYTES {
        return Err(Error::LimitExceeded {
            what: "manifest bytes",
            limit: crate::split::MAX_MANIFEST_BYTES as u64,
        });
    }
    let bad = |m: String| Error::InvalidConfig {
        message: format!("manifest.json is not a valid manifest: {m}"),
    };
    let text = std::str::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
    parse(text).map_err(bad)
}

/// Parses and checks `manifest.json`.
pub fn parse_manifest(bytes: &[u8]) -> crate::Result<Manifest> {
    let m = read_manifest(bytes)?;
    m.validate()?;
    Ok(m)
}

/// Reads a manifest's JSON, unchecked ([`read_manifest_with`] over `serde_json`).
pub fn read_manifest(bytes: &[u8]) -> crate::Result<Manifest> {
    read_manifest_with(bytes, |text| {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Manifest::from_tree(&&value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{header_and_table, SECTIONS};

    /// A file of the sections a split dictionary must have (empty) and, when given, a MANIFEST
    /// section holding `manifest`.
    fn file_with(manifest: Option<&str>) -> Vec<u8> {
        let mut sections: Vec<(SectionKind, Vec<u8>)> =
            SECTIONS.iter().map(|&k| (k, Vec::new())).collect();
        sections.push((SectionKind::Pages, Vec::new()));
        if let Some(m) = manifest {
            sections.push((SectionKind::Manifest, m.as_bytes().to_vec()));
        }
        let (mut out, table, _) = header_and_table(&sections);
        out.extend_from_slice(&table);
        for (_, bytes) in sections {
            out.extend_from_slice(&bytes);
        }
        out
    }

    fn manifest_json(layout: u32, dictionary: bool) -> String {
        let entry = |kind: &str| {
            format!(
                r#"{{"name":"{kind}.0123456789abcdef.bin","size":16,"sha256":"{}"}}"#,
                "0".repeat(64)
            )
        };
        let mut fields = vec![
            format!(r#""manifest_version":{layout}"#),
            r#""format_version":12,"doc_count":1,"term_count":1,"language":"english""#.into(),
            r#""fields":["title"]"#.into(),
        ];
        for kind in [
            "postings",
            "positions",
            "store",
            "terms",
            "display",
            "norms",
        ] {
            fields.push(format!(r#""{kind}":{}"#, entry(kind)));
        }
        if dictionary {
            fields.push(format!(r#""dictionary":{}"#, entry("dictionary")));
        }
        format!("{{{}}}", fields.join(","))
    }

    /// The manifest a dictionary holds: absent before layout 6 (`None`); read, with its
    /// dictionary entry made from the file itself, from layout 6; refused when it is of an older
    /// layout or names a dictionary of its own.
    #[test]
    fn a_dictionary_holds_its_manifest_without_its_own_entry() {
        let none = file_with(None);
        assert_eq!(
            Version::embedded_manifest(&none, read_manifest).unwrap(),
            None
        );
        let file = file_with(Some(&manifest_json(6, false)));
        let m = Version::embedded_manifest(&file, read_manifest)
            .unwrap()
            .unwrap();
        assert_eq!(m.dictionary, FileEntry::of("dictionary", &file));
        assert_eq!(m.manifest_version, 6);
        assert_eq!(m.postings.name, "postings.0123456789abcdef.bin");
        m.validate().unwrap();
        for (json, what) in [
            (manifest_json(5, false), "an older layout"),
            (manifest_json(6, true), "a dictionary entry"),
            ("[1]".to_string(), "not an object"),
            ("{".to_string(), "not JSON"),
        ] {
            let file = file_with(Some(&json));
            let e = Version::embedded_manifest(&file, read_manifest).unwrap_err();
            assert!(
                matches!(e.code(), "Corrupt" | "InvalidConfig"),
                "{what}: {e}"
            );
        }
    }
}
