//! A split index as a static host serves it (`manifest.json`, a dictionary and five pack
//! files), opened and searched lazily through a loader that may misbehave like a real host.
//!
//! The attacker is the host: it controls every file, so the harness writes a manifest whose
//! sizes and SHA-256 match whatever dictionary and packs the fuzzer made (otherwise nothing
//! would get past the hash check). The dictionary is served under its fixed name too, so the
//! open starts from the manifest a layout 6 dictionary holds when it holds one. The whole input
//! is also parsed as a `manifest.json`, and as a dictionary holding a manifest.
//!
//! Input (format 2, manifest layout 2): `flags: u8 | flip: u8 | dict_len: u32 LE | dictionary |
//! postings_len: u32 LE | postings pack | positions_len: u32 LE | positions pack | store_len:
//! u32 LE | store pack | terms_len: u32 LE | terms pack | display pack (the rest)`. Packs include
//! their 16-byte header; the terms pack holds the parts of a cut dictionary (ROUTER section in
//! the dictionary) and is an empty pack (header only) when the dictionary is whole. Flags:
//! bit 0 the host ignores `Range` (whole files), bit 1 range responses lose their last byte,
//! bit 2 byte `flip` of every data response (postings, positions, store, terms, display) is
//! flipped, bit 3 every data file answers 404, bit 4 the harness rewrites the page table's CRCs
//! (all five files) to match the packs, bit 5 it rewrites the dictionary's section and table
//! CRCs (as an attacker would, so that mutations get past `Index::verify`), bit 6 the input is
//! a manifest layout 4 index: the display pack is length-prefixed too and the norms pack is the
//! rest (without it, manifest layout 2 and five packs, as the committed seeds are); with a
//! format 6 dictionary that is a layout 5 index, whose pages carry their CRCs (bit 4 then
//! rewrites the packs' page trailers).
//!
//! Set `EDGEKB_FUZZ_SKIP_KNOWN_BUGS=1` to fuzz past the bugs already found (`common/mod.rs`).
#![no_main]

use std::ops::Range;

use edgekb::raw::PartView;
use edgekb::raw::{SectionKind, TermInfo};
use edgekb::DataFile;
use edgekb::lazy::{parse_manifest, read_manifest, LazyIndex, LoadError, Loader, MemoryLoader};
use edgekb::split::{FileEntry, Manifest, MANIFEST_VERSION};
use edgekb::raw::StoreReader;
use edgekb::SearchOptions;
use libfuzzer_sys::fuzz_target;

mod common;

const QUERIES: &[&str] = &[
    "strategy game",
    "\"real time\"",
    "stra",
    "stratgy",
    "title:git",
    "-x y",
    "東京",
];
const CACHE_BYTES: usize = 1 << 20;

struct HostLoader {
    files: MemoryLoader,
    flags: u8,
    flip: u8,
}

impl Loader for HostLoader {
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        let data_file = DataFile::ALL
            .iter()
            .map(|f| f.name())
            .any(|p| name.strip_prefix(p).is_some_and(|r| r.starts_with('.')));
        if data_file && self.flags & 8 != 0 {
            return Err(LoadError::Http {
                name: name.into(),
                status: 404,
            });
        }
        let ranged = range.is_some();
        let range = if self.flags & 1 != 0 { None } else { range };
        let mut body = self.files.fetch(name, range)?;
        if ranged && self.flags & 2 != 0 {
            body.pop();
        }
        if data_file && self.flags & 4 != 0 && !body.is_empty() {
            let i = self.flip as usize % body.len();
            body[i] ^= 0x55;
        }
        Ok(body)
    }
}

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let rest = &data[4..];
    let (part, rest) = rest.split_at(len.min(rest.len()));
    *data = rest;
    Some(part)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The (kind, entry offset, section range) of every in-bounds entry of an index's section table.
fn sections(b: &[u8]) -> Vec<(u32, usize, Range<usize>)> {
    let count = u32_at(b, 12).unwrap_or(0).min(64) as usize;
    (0..count)
        .filter_map(|k| {
            let e = 24 + 24 * k;
            let (kind, off, len) = (u32_at(b, e)?, u64_at(b, e + 8)?, u64_at(b, e + 16)?);
            let end = off.checked_add(len)?;
            (end <= b.len() as u64).then(|| (kind, e, off as usize..end as usize))
        })
        .collect()
}

/// Rewrites the page table (section kind 8) so every page CRC matches the packs' data (the
/// five or six packs in `DataFile::ALL` order).
fn fix_page_crcs(dict: &mut [u8], packs: &[&[u8]]) {
    let Some((_, _, r)) = sections(dict).into_iter().find(|s| s.0 == 8) else {
        return;
    };
    let table = &mut dict[r];
    let Some(page_size) = u32_at(table, 0).filter(|&p| p >= 512) else {
        return;
    };
    let mut at = 4;
    for pack in packs {
        let data = pack.get(16..).unwrap_or(&[]);
        let Some(count) = u32_at(table, at + 8) else {
            return;
        };
        at += 12;
        for (i, page) in data
            .chunks(page_size as usize)
            .enumerate()
            .take(count as usize)
        {
            let crc = edgekb::raw::crc32(page).to_le_bytes();
            match table.get_mut(at + 4 * i..at + 4 * i + 4) {
                Some(slot) => slot.copy_from_slice(&crc),
                None => return,
            }
        }
        at += 4 * count as usize;
    }
}

/// Rewrites the CRC32 trailer of every page of every pack (split layout 5) to match its data.
fn fix_page_trailers(dict: &[u8], packs: &mut [Vec<u8>]) {
    let Some((_, _, r)) = sections(dict).into_iter().find(|s| s.0 == 8) else {
        return;
    };
    let Some(page_size) = u32_at(&dict[r], 0).filter(|&p| p >= 512) else {
        return;
    };
    for pack in packs {
        let Some(data) = pack.get_mut(16..) else {
            continue;
        };
        for (i, page) in data.chunks_mut(page_size as usize + 4).enumerate() {
            if let Some(n) = page.len().checked_sub(4).filter(|&n| n > 0) {
                let crc = (edgekb::raw::crc32(&page[..n]) ^ i as u32).to_le_bytes();
                page[n..].copy_from_slice(&crc);
            }
        }
    }
}

/// Rewrites every section CRC and the table CRC of an index file.
fn fix_crcs(dict: &mut [u8]) {
    if dict.len() < 24 {
        return;
    }
    let secs = sections(dict);
    for (_, e, r) in &secs {
        let crc = edgekb::raw::crc32(&dict[r.clone()]).to_le_bytes();
        dict[e + 4..e + 8].copy_from_slice(&crc);
    }
    let count = u32_at(dict, 12).unwrap_or(0).min(64) as usize;
    if let Some(table) = dict.get(24..24 + 24 * count) {
        let crc = edgekb::raw::crc32(table).to_le_bytes();
        dict[16..20].copy_from_slice(&crc);
    }
}

/// Known bug 2: a range in the dictionary that ends past its pack file (a term's postings or
/// positions, a store or display chunk) made `Version::check` slice out of bounds (fixed since
/// 036d8da: `Version::pages_of` refuses such ranges; the filter stays so that a return of the
/// bug can be fuzzed past). Whether this dictionary has such a range (or too many terms to
/// tell). `terms` is the terms pack's data: the term infos of a cut dictionary are in its parts
/// (the router's own part ranges are checked against the pack by `Index::open`).
fn reaches_past_packs(lazy: &LazyIndex, terms: &[u8]) -> bool {
    let version = lazy.version();
    let index = &version.index;
    let Some(pages) = index.pages() else {
        return false;
    };
    let len = |f: DataFile| pages.len_of(f);
    for (kind, file) in [
        (SectionKind::Store, DataFile::Store),
        (SectionKind::Display, DataFile::Display),
    ] {
        if let Ok(table) = StoreReader::open(index.section_bytes(kind), index.version()) {
            for i in 0..table.chunk_count() {
                if let Ok(c) = table.chunk(i) {
                    if c.offset as u64 + c.compressed_len as u64 > len(file) {
                        return true;
                    }
                }
            }
        }
    }
    let term_count = index.meta().term_count as u64;
    if term_count > 100_000 {
        return true;
    }
    let past = |t: TermInfo| {
        t.postings.end > len(DataFile::Postings) || t.positions.end > len(DataFile::Positions)
    };
    match index.router() {
        None => (0..term_count).any(|ord| index.term_info(ord).is_ok_and(past)),
        Some(router) => router.parts().iter().enumerate().any(|(i, p)| {
            let Some(bytes) = terms.get(p.range.start as usize..p.range.end as usize) else {
                return true;
            };
            let n = router.part_terms(i);
            // A part that does not open is refused by the reader before any range is used.
            PartView::open(bytes, n, true)
                .is_ok_and(|part| (0..n).any(|local| part.term_info(local).is_ok_and(past)))
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    // The whole input as a manifest, and as a dictionary holding one (layout 6): parsing and
    // validation must never panic.
    if let Ok(m) = parse_manifest(data) {
        assert!(m.validate().is_ok());
    }
    if let Ok(Some(m)) = edgekb::lazy::Version::embedded_manifest(data, read_manifest) {
        assert_eq!(m.dictionary.size, data.len() as u64);
    }
    common::run_guarded(|| run(data));
});

fn run(data: &[u8]) {
    let [flags, flip, ref rest @ ..] = *data else {
        return;
    };
    let mut rest = rest;
    let (Some(dictionary), Some(postings), Some(positions), Some(store), Some(terms)) = (
        take(&mut rest),
        take(&mut rest),
        take(&mut rest),
        take(&mut rest),
        take(&mut rest),
    ) else {
        return;
    };
    // Flag 64: a layout 4 index, whose norms pack follows the display pack; else layout 2
    // (the display pack is the rest, as the seeds of `seeds.py` are laid out).
    let (display, norms) = if flags & 64 != 0 {
        let mut r = rest;
        (take(&mut r).unwrap_or(&[]), Some(r))
    } else {
        (rest, None)
    };
    // In `DataFile::ALL` order.
    let packs: Vec<&[u8]> = [postings, positions, store, terms, display]
        .into_iter()
        .chain(norms)
        .collect();
    let mut dict = dictionary.to_vec();
    // Format 6 dictionaries (split layout 5, with a norms pack) keep no page CRCs: each page
    // carries its own in a trailer.
    let dict_version = u32_at(dictionary, 8).unwrap_or(0);
    let trailers = dict_version >= 6 && norms.is_some();
    let mut packs: Vec<Vec<u8>> = packs.iter().map(|p| p.to_vec()).collect();
    if flags & 16 != 0 {
        if trailers {
            fix_page_trailers(&dict, &mut packs);
        } else {
            let refs: Vec<&[u8]> = packs.iter().map(|p| p.as_slice()).collect();
            fix_page_crcs(&mut dict, &refs);
        }
    }
    if flags & 32 != 0 {
        fix_crcs(&mut dict);
    }
    let dictionary = dict.as_slice();
    let manifest = Manifest {
        manifest_version: match (norms.is_some(), trailers) {
            (true, true) => MANIFEST_VERSION,
            (true, false) => 4,
            (false, _) => 2,
        },
        format_version: if trailers { edgekb::FORMAT_VERSION } else { 5 },
        doc_count: 0,
        term_count: 0,
        language: "english".into(),
        fields: Vec::new(),
        dictionary: FileEntry::of("dictionary", dictionary),
        // The packs as served: after flag 16 has rewritten their page trailers, which the
        // whole-file hashes must cover (a host that ignores `Range` is checked by them).
        postings: FileEntry::of("postings", &packs[0]),
        positions: FileEntry::of("positions", &packs[1]),
        store: FileEntry::of("store", &packs[2]),
        terms: FileEntry::of("terms", &packs[3]),
        display: FileEntry::of("display", &packs[4]),
        norms: packs.get(5).map(|n| FileEntry::of("norms", n)),
    };
    let mut files = MemoryLoader::default();
    files
        .files
        .insert(manifest.dictionary.name.clone(), dictionary.to_vec());
    for (f, bytes) in DataFile::ALL.into_iter().zip(packs) {
        files
            .files
            .insert(manifest.data_file(f).name.clone(), bytes.to_vec());
    }
    let json = serde_json::to_vec(&manifest).expect("a manifest serializes");
    files.files.insert("manifest.json".into(), json);
    // The dictionary under its fixed name too: the open starts from it, and from layout 6
    // opens from the manifest it holds (the host's, unchecked against the packs' hashes).
    files
        .files
        .insert(edgekb::split::DICTIONARY_ALIAS.into(), dictionary.to_vec());
    let mut loader = HostLoader { files, flags, flip };

    let Ok(mut lazy) = LazyIndex::open(&mut loader, CACHE_BYTES) else {
        return;
    };
    if common::skip_known_bugs() && reaches_past_packs(&lazy, terms.get(16..).unwrap_or(&[])) {
        return;
    }
    let search_all = |lazy: &mut LazyIndex, loader: &mut HostLoader| {
        for opts in [
            SearchOptions::default(),
            SearchOptions {
                any: true,
                typos: false,
                prefix: false,
                limit: 3,
                ..SearchOptions::default()
            },
        ] {
            for q in QUERIES {
                if let Ok(r) = lazy.search(loader, q, &opts) {
                    assert!(r.hits.len() <= opts.limit);
                    assert!(r.total >= r.hits.len());
                }
            }
        }
    };
    search_all(&mut lazy, &mut loader);
    // With whatever the cache holds now, then with everything that fits prefetched.
    let _ = lazy.prefetch(&mut loader);
    search_all(&mut lazy, &mut loader);
    // The same manifest again: nothing changes (unless the index opened from a manifest the
    // dictionary holds, which `manifest.json` is not).
    let opened_from_manifest_json = lazy.version().manifest == manifest;
    if let Ok(changed) = lazy.refresh(&mut loader) {
        assert!(!changed || !opened_from_manifest_json);
    }
}
