//! What does a split index look like on a static host?
//!
//! A directory of one small mutable `manifest.json`, a copy of the dictionary under a fixed
//! name ([`DICTIONARY_ALIAS`]: from layout 6 it holds the manifest, and readers open the index
//! from it alone), and seven immutable files named by content (`<kind>.<16 hex digits of
//! SHA-256>.bin`, cacheable forever):
//!
//! - `dictionary.*.bin`: an index file (same header and sections as a single-file index)
//!   holding meta, the term dictionary (or, when it is big, the router of its parts), the two
//!   stores' chunk tables (a small hit-display store whole) and the page table. It is fetched
//!   whole and stays resident: queries are analyzed and expanded (exact, prefix, typo) against
//!   it, and the dictionary parts it names, before anything else is fetched. (Layouts 2 and 3
//!   kept the field norms here too; layout 4 moved them to a pack.)
//! - `postings.*.bin`, `positions.*.bin`, `store.*.bin`, `terms.*.bin` (dictionary parts),
//!   `display.*.bin` (hit fields), `norms.*.bin` (field-length codes): a 16-byte pack header
//!   (magic `EDGEKBPK`, format version, data-file kind) followed by the data, fetched in
//!   page-aligned HTTP ranges; every page's CRC32 is in the dictionary's page table.
//!
//! A pack larger than [`SplitOptions::max_file_bytes`] (static hosts refuse big files:
//! Cloudflare's assets and Pages stop at 25 MiB) is written as *pieces*: consecutive byte
//! ranges of the pack, each a file of its own named by its content, cut at page boundaries so
//! that no page straddles two. The manifest (layout version 3) lists them under the pack's
//! entry; the pack itself is then not written, and its name and SHA-256 only identify it.

use serde::Serialize;

use crate::tree::{read, Tree};
use sha2::{Digest, Sha256};

use crate::builder::BuildStats;
use crate::error::{Error, Quoted, Result};
use crate::header::{FORMAT_VERSION, OLDEST_SUPPORTED_FORMAT_VERSION};
use crate::source::DataFile;

mod cut;

/// Magic label of a data ("pack") file.
pub const PACK_MAGIC: &[u8; 8] = b"EDGEKBPK";
/// Bytes before a pack file's data.
pub const PACK_HEADER_LEN: u64 = 16;
/// Version of the manifest's own layout that this code writes: 6, whose dictionary carries the
/// manifest too ([`EMBEDDED_MANIFEST_VERSION`]; version 5's packs' pages carry their CRC32, in
/// format 6 files and later; version 4 named the field norms' pack, [`Manifest::norms`];
/// version 3 added [`FileEntry::pieces`]; versions 2 and 3 kept the norms in the resident
/// dictionary).
pub const MANIFEST_VERSION: u32 = 6;
/// The newest manifest layout this code reads and writes.
pub const NEWEST_MANIFEST_VERSION: u32 = 6;
/// The first layout whose dictionary holds the manifest (its MANIFEST section: the manifest
/// without its own dictionary entry), so that a reader opens the index with one request, for
/// the dictionary under its alias ([`DICTIONARY_ALIAS`]).
pub const EMBEDDED_MANIFEST_VERSION: u32 = 6;
/// The oldest manifest layout this code reads.
pub const OLDEST_MANIFEST_VERSION: u32 = 2;
/// The first layout with the field norms in a pack of their own.
pub const NORMS_MANIFEST_VERSION: u32 = 4;
/// The first layout whose pages carry their CRC32 (format 6 dictionaries: no CRCs resident).
pub const TRAILER_MANIFEST_VERSION: u32 = 5;
/// Default [`SplitOptions::max_file_bytes`]: 24 MiB, under the 25 MiB per file that Cloudflare's
/// static assets and Pages accept.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 24 << 20;
/// Largest manifest accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// One file of a split index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// File name, relative to the manifest's URL.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    /// The files a pack larger than the hosts accept is written as, in order: consecutive byte
    /// ranges of it, cut at page boundaries (absent when the pack is one file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<FileEntry>,
}

impl FileEntry {
    /// The entry of a content-addressed file of `kind` (`postings`, `dictionary`, …) holding
    /// `bytes`: named `<kind>.<16 hex digits of its SHA-256>.bin`.
    pub fn of(kind: &str, bytes: &[u8]) -> FileEntry {
        let sha256 = sha256_hex(bytes);
        FileEntry {
            name: format!("{kind}.{}.bin", &sha256[..16]),
            size: bytes.len() as u64,
            sha256,
            pieces: Vec::new(),
        }
    }

    /// The files of this entry with the offset of each in the whole: its pieces, or itself.
    pub fn files(&self) -> Vec<(u64, &FileEntry)> {
        if self.pieces.is_empty() {
            return vec![(0, self)];
        }
        let mut at = 0;
        self.pieces
            .iter()
            .map(|p| {
                let start = at;
                at += p.size;
                (start, p)
            })
            .collect()
    }
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Layout version of this manifest ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// Format version of the index files.
    pub format_version: u32,
    /// Number of documents.
    pub doc_count: u32,
    /// Number of terms.
    pub term_count: u32,
    /// Stemming language (informational; the dictionary holds the analyzer).
    pub language: String,
    /// Field names (informational; the dictionary holds the schema).
    pub fields: Vec<String>,
    /// The resident dictionary.
    pub dictionary: FileEntry,
    /// Postings pack.
    pub postings: FileEntry,
    /// Positions pack.
    pub positions: FileEntry,
    /// Stored-field chunks pack.
    pub store: FileEntry,
    /// Parts of a cut term dictionary (an empty pack when the dictionary is whole).
    pub terms: FileEntry,
    /// Hit-display chunks (`id`, `title`, `url` of every document).
    pub display: FileEntry,
    /// Field-length codes (layout 4; absent from older layouts, whose dictionary holds them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub norms: Option<FileEntry>,
}

/// Most pieces one pack is written as, and most field names, that a manifest may list.
const MAX_MANIFEST_LIST: usize = 4096;

impl FileEntry {
    /// Reads an entry from a parsed `manifest.json` (`pieces` may be absent).
    fn from_tree<T: Tree>(t: &T, depth: usize) -> std::result::Result<FileEntry, String> {
        Ok(FileEntry {
            name: read::text(t, "name")?,
            size: read::whole(t, "size", MAX_SAFE_INTEGER)?,
            sha256: read::text(t, "sha256")?,
            // A piece's own pieces are read (the manifest is then refused), not theirs.
            pieces: match read::absent(t, "pieces") || depth > 1 {
                true => Vec::new(),
                false => read::list(t, "pieces", MAX_MANIFEST_LIST, |p| {
                    FileEntry::from_tree(p, depth + 1)
                })?,
            },
        })
    }
}

/// The largest whole number a JSON reader (JavaScript's `JSON.parse`) keeps exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl Manifest {
    /// Reads `manifest.json` once parsed (by `serde_json` natively, by the host's `JSON.parse`
    /// in wasm); unknown fields are ignored, `norms` may be absent. [`Manifest::validate`]
    /// checks what it says.
    pub fn from_tree<T: Tree>(t: &T) -> std::result::Result<Manifest, String> {
        if !matches!(t.node(0), crate::tree::Node::Map(_)) {
            return Err("not a JSON object".to_string());
        }
        let entry = |key: &str| FileEntry::from_tree(&read::field(t, key)?, 0);
        let number = |key: &str| read::whole(t, key, u32::MAX as u64).map(|n| n as u32);
        Ok(Manifest {
            manifest_version: number("manifest_version")?,
            format_version: number("format_version")?,
            doc_count: number("doc_count")?,
            term_count: number("term_count")?,
            language: read::text(t, "language")?,
            fields: read::list(t, "fields", MAX_MANIFEST_LIST, |f| match f.node(0) {
                crate::tree::Node::Text(s) => Ok(s),
                _ => Err("field names must be strings".to_string()),
            })?,
            // Absent only from the copy a dictionary holds of its manifest (layout 6), whose
            // reader fills it in; `validate` refuses a manifest without it.
            dictionary: match read::absent(t, "dictionary") {
                true => ABSENT.clone(),
                false => entry("dictionary")?,
            },
            postings: entry("postings")?,
            positions: entry("positions")?,
            store: entry("store")?,
            terms: entry("terms")?,
            display: entry("display")?,
            norms: match read::absent(t, "norms") {
                true => None,
                false => Some(entry("norms")?),
            },
        })
    }
}

/// The entry of a data file a manifest's layout does not have.
static ABSENT: FileEntry = FileEntry {
    name: String::new(),
    size: 0,
    sha256: String::new(),
    pieces: Vec::new(),
};

fn bad(message: impl Into<String>) -> Error {
    Error::InvalidConfig {
        message: format!("manifest: {}", message.into()),
    }
}

/// A copy of the current version's dictionary under a name that does not change, written
/// before the manifest (by rename, like it). From layout 6 the dictionary holds its manifest,
/// and a reader opening the index asks for this file alone (past any HTTP cache): one request.
/// Without a MANIFEST section in it (an older layout), or when it is missing, the reader asks
/// for `manifest.json`, keeps this file only when it is the one the manifest names (its size
/// and SHA-256), and else fetches the named file in the next round.
pub const DICTIONARY_ALIAS: &str = "dictionary.bin";

/// Whether `name` is a file name a manifest may use: `<lowercase kind>.<16 hex>.bin`, so it
/// cannot leave the manifest's directory or reach another host.
pub fn valid_file_name(name: &str) -> bool {
    let mut parts = name.split('.');
    let (Some(kind), Some(hash), Some("bin"), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !kind.is_empty()
        && kind.len() <= 32
        && kind.bytes().all(|b| b.is_ascii_lowercase())
        && hash.len() == 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Manifest {
    /// Checks versions and file names.
    pub fn validate(&self) -> Result<()> {
        if !(OLDEST_MANIFEST_VERSION..=NEWEST_MANIFEST_VERSION).contains(&self.manifest_version) {
            return Err(bad(format!(
                "layout version {} (this edgekb reads {OLDEST_MANIFEST_VERSION} to \
                 {NEWEST_MANIFEST_VERSION}); rebuild with this edgekb",
                self.manifest_version
            )));
        }
        if self.norms.is_some() != (self.manifest_version >= NORMS_MANIFEST_VERSION) {
            return Err(bad(format!(
                "a layout {} manifest {} a norms pack",
                self.manifest_version,
                if self.norms.is_some() {
                    "with"
                } else {
                    "without"
                }
            )));
        }
        if !(OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION).contains(&self.format_version) {
            return Err(Error::UnsupportedVersion {
                found: self.format_version,
                oldest: OLDEST_SUPPORTED_FORMAT_VERSION,
                newest: FORMAT_VERSION,
            });
        }
        // Pages carry their CRCs from format 6, which only layouts 5 and later describe.
        let trailers = self.format_version >= crate::source::Pages::TRAILER_VERSION;
        if trailers != (self.manifest_version >= TRAILER_MANIFEST_VERSION) {
            return Err(bad(format!(
                "a layout {} manifest of format {} files",
                self.manifest_version, self.format_version
            )));
        }
        let packs = self.data_files().into_iter().map(|f| self.data_file(f));
        for f in std::iter::once(&self.dictionary).chain(packs) {
            if !valid_file_name(&f.name) {
                return Err(bad(format!(
                    "file name {} is not of the form kind.<16 hex>.bin",
                    Quoted(&f.name)
                )));
            }
            if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("{}: sha256 must be 64 hex digits", f.name)));
            }
            if f.pieces.is_empty() {
                continue;
            }
            if self.manifest_version < 3 || f.pieces.len() < 2 || f.pieces.len() > MAX_PIECES {
                return Err(bad(format!(
                    "{}: {} pieces in a layout {} manifest",
                    f.name,
                    f.pieces.len(),
                    self.manifest_version
                )));
            }
            let mut total = 0u64;
            for p in &f.pieces {
                let hex = p.sha256.len() == 64 && p.sha256.bytes().all(|b| b.is_ascii_hexdigit());
                if !valid_file_name(&p.name) || !hex || !p.pieces.is_empty() || p.size == 0 {
                    return Err(bad(format!(
                        "{}: a bad piece {}",
                        f.name,
                        crate::error::Quoted(&p.name)
                    )));
                }
                total = total.saturating_add(p.size);
            }
            if total != f.size {
                return Err(bad(format!(
                    "{}: pieces of {total} bytes for {} bytes",
                    f.name, f.size
                )));
            }
        }
        Ok(())
    }

    /// What a layout 6 dictionary holds of its manifest (its MANIFEST section): the manifest
    /// as JSON, without the dictionary's own entry (a file cannot hold its own SHA-256).
    pub fn embedded_json(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(self).expect("a manifest serializes");
        if let Some(map) = value.as_object_mut() {
            map.remove("dictionary");
        }
        serde_json::to_vec(&value).expect("a manifest serializes")
    }

    /// The data files this manifest's layout has: [`DataFile::ALL`], without the norms pack
    /// before layout 4.
    pub fn data_files(&self) -> Vec<DataFile> {
        DataFile::ALL
            .into_iter()
            .filter(|&f| f != DataFile::Norms || self.norms.is_some())
            .collect()
    }

    /// Every file the manifest names (the dictionary, each pack or its pieces), by name.
    pub fn file_names(&self) -> Vec<&str> {
        let mut out = vec![self.dictionary.name.as_str()];
        for f in self.data_files() {
            out.extend(
                self.data_file(f)
                    .files()
                    .into_iter()
                    .map(|(_, e)| e.name.as_str()),
            );
        }
        out
    }

    /// The entry of a data file (an empty entry, of no name and no size, for the norms pack
    /// of a layout that has none: see [`Manifest::data_files`]).
    pub fn data_file(&self, file: DataFile) -> &FileEntry {
        match file {
            DataFile::Postings => &self.postings,
            DataFile::Positions => &self.positions,
            DataFile::Store => &self.store,
            DataFile::Terms => &self.terms,
            DataFile::Display => &self.display,
            DataFile::Norms => self.norms.as_ref().unwrap_or(&ABSENT),
        }
    }
}

/// Most pieces one pack may have (a manifest stays small: 64 KiB).
pub const MAX_PIECES: usize = 256;

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks that `data` is the file `entry` describes (size and SHA-256).
pub fn check_file(entry: &FileEntry, data: &[u8]) -> Result<()> {
    if data.len() as u64 != entry.size {
        return Err(Error::Corrupt {
            what: format!(
                "{} has {} bytes, the manifest says {}",
                entry.name,
                data.len(),
                entry.size
            ),
        });
    }
    let found = sha256_hex(data);
    if !found.eq_ignore_ascii_case(&entry.sha256) {
        return Err(Error::Corrupt {
            what: format!("{} does not match its SHA-256 ({found})", entry.name),
        });
    }
    Ok(())
}

/// A pack file: header then `data`.
pub fn pack_file(file: DataFile, data: &[u8]) -> Vec<u8> {
    let mut out = pack_header(file, data.len() as u64);
    out.extend_from_slice(data);
    out
}

/// A pack's header, in a vector with room for `data_len` bytes after it.
fn pack_header(file: DataFile, data_len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity((PACK_HEADER_LEN + data_len) as usize);
    out.extend_from_slice(PACK_MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(file as u32).to_le_bytes());
    out
}

/// Checks a whole pack file's header and returns its data.
pub fn unpack_file(file: DataFile, bytes: &[u8]) -> Result<&[u8]> {
    if bytes.len() < PACK_HEADER_LEN as usize || &bytes[..8] != PACK_MAGIC {
        return Err(Error::BadMagic {
            found: bytes[..bytes.len().min(8)].to_vec(),
        });
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if !(OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            found: version,
            oldest: OLDEST_SUPPORTED_FORMAT_VERSION,
            newest: FORMAT_VERSION,
        });
    }
    let kind = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    if kind != file as u32 {
        return Err(Error::corrupt(format!(
            "pack file of kind {kind} where {} was expected",
            file.name()
        )));
    }
    Ok(&bytes[PACK_HEADER_LEN as usize..])
}

/// Default [`SplitOptions::resident_display_bytes`]: about 600 documents' hit fields.
pub const DEFAULT_RESIDENT_DISPLAY_BYTES: usize = 64 * 1024;

/// How `edgekb build --split` cuts an index.
#[derive(Clone, Debug)]
pub struct SplitOptions {
    /// Bytes per page of the data files (the unit of a range request and of a page CRC).
    pub page_size: u32,
    /// A dictionary (fst and term-info table) larger than this is cut into parts behind a
    /// router; a smaller one stays whole and resident.
    pub resident_dictionary_bytes: usize,
    /// Target bytes of one dictionary part.
    pub part_bytes: usize,
    /// Hit-display data (`id`, `title`, `url` of every document, compressed) up to this size
    /// stays in the resident dictionary, so that hits cost no request; larger data goes to the
    /// display pack, read chunk by chunk.
    pub resident_display_bytes: usize,
    /// A pack larger than this is written as pieces of at most this size, cut at page
    /// boundaries (static hosts refuse big files).
    pub max_file_bytes: u64,
    /// Field norms (one byte per document per indexed field) up to this size stay in the
    /// resident dictionary, so that scoring a small index costs no request; larger norms go
    /// to the norms pack, whose pages a query fetches for the documents it may score.
    pub resident_norms_bytes: usize,
}

/// Default [`SplitOptions::resident_norms_bytes`]: 16 KiB, the norms of about 5,000 documents
/// of three indexed fields.
pub const DEFAULT_RESIDENT_NORMS_BYTES: usize = 16 * 1024;

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            page_size: crate::source::Pages::DEFAULT_PAGE_SIZE,
            resident_dictionary_bytes: crate::dict::DEFAULT_RESIDENT_BYTES,
            part_bytes: crate::dict::DEFAULT_PART_BYTES,
            resident_display_bytes: DEFAULT_RESIDENT_DISPLAY_BYTES,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            resident_norms_bytes: DEFAULT_RESIDENT_NORMS_BYTES,
        }
    }
}

/// The files of a split index, in memory, ready to be written.
#[derive(Clone, Debug)]
pub struct SplitOutput {
    /// The manifest.
    pub manifest: Manifest,
    /// (name, bytes) of every immutable file.
    pub files: Vec<(String, Vec<u8>)>,
    /// Sizes of the dictionary's sections.
    pub dictionary_stats: BuildStats,
    /// Parts of the cut dictionary (0: the dictionary is whole).
    pub dictionary_parts: usize,
}

impl SplitOutput {
    /// The dictionary's bytes (what [`DICTIONARY_ALIAS`] holds beside the manifest).
    pub fn dictionary(&self) -> &[u8] {
        let name = &self.manifest.dictionary.name;
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, bytes)| bytes.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_table() {
        for (name, ok) in [
            ("postings.0123456789abcdef.bin", true),
            ("dictionary.ffffffffffffffff.bin", true),
            ("../postings.0123456789abcdef.bin", false),
            ("postings.0123456789abcdef.bin/..", false),
            ("/etc/passwd", false),
            ("https://evil.example/x.bin", false),
            ("postings.0123456789ABCDEF.bin", false),
            ("postings.0123456789abcde.bin", false),
            ("post ings.0123456789abcdef.bin", false),
            ("postings.0123456789abcdef.bin.gz", false),
            ("", false),
            (".0123456789abcdef.bin", false),
        ] {
            assert_eq!(valid_file_name(name), ok, "{name}");
        }
    }

    #[test]
    fn pack_header_round_trips_and_is_checked() {
        let p = pack_file(DataFile::Positions, b"abc");
        assert_eq!(unpack_file(DataFile::Positions, &p).unwrap(), b"abc");
        assert_eq!(
            unpack_file(DataFile::Postings, &p).unwrap_err().code(),
            "Corrupt"
        );
        assert_eq!(
            unpack_file(DataFile::Positions, &p[..10])
                .unwrap_err()
                .code(),
            "BadMagic"
        );
    }
}
