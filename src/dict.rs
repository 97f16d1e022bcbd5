//! How is a big term dictionary cut so that a query fetches only a small part of it?
//!
//! A split index whose dictionary (fst + term-info table) is larger than a budget keeps only a
//! [`Router`] resident: the first term, first ordinal and byte range of each *part*. A part is a
//! run of consecutive terms, stored in the `terms` pack as its own small `fst::Map` (term →
//! ordinal within the part) followed by the term-info table of those terms (offsets absolute in
//! the postings and positions packs). Global ordinals are the part's first ordinal plus the
//! ordinal within the part, so they equal those of the unsplit dictionary and results are the
//! same whether the dictionary is whole or in parts.
//!
//! Which parts a word needs is known from its text alone: an exact lookup reads the one part
//! whose range holds the term, a prefix the parts overlapping `[prefix, prefix⁺)`, and a typo
//! expansion (whose first character is fixed, see [`crate::fuzzy`]) the parts of the word's
//! first character.

use std::ops::Range;

use crate::codec::{put_varint, Reader};
use crate::error::{Error, Result};
use crate::terminfo::{encode_term_infos, term_doc_freq, term_info, term_names, TermInfo, TermRow};

/// Target bytes of one dictionary part (fst and term-info table together).
pub const DEFAULT_PART_BYTES: usize = 32 * 1024;
/// Dictionaries (fst + term-info table) up to this size stay whole and resident.
pub const DEFAULT_RESIDENT_BYTES: usize = 128 * 1024;
/// Longest first term a router entry may hold.
const MAX_KEY: usize = 1024;

/// One part of a cut dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartEntry {
    /// Its first term.
    pub first: Vec<u8>,
    /// The global ordinal of its first term.
    pub ord_base: u64,
    /// Its byte range in the `terms` pack's data.
    pub range: Range<u64>,
}

/// The resident index of a cut dictionary's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Router {
    parts: Vec<PartEntry>,
    term_count: u64,
}

impl Router {
    /// The parts, in term order.
    pub fn parts(&self) -> &[PartEntry] {
        &self.parts
    }

    /// Terms in part `i`.
    pub fn part_terms(&self, i: usize) -> u64 {
        let next = self
            .parts
            .get(i + 1)
            .map_or(self.term_count, |p| p.ord_base);
        next - self.parts[i].ord_base
    }

    /// The part whose term range holds `key`.
    pub fn part_of_key(&self, key: &[u8]) -> usize {
        self.parts
            .partition_point(|p| p.first.as_slice() <= key)
            .saturating_sub(1)
    }

    /// The parts overlapping keys `lo..hi` (`hi` `None`: no upper bound).
    pub fn parts_in(&self, lo: &[u8], hi: Option<&[u8]>) -> Range<usize> {
        let start = self.part_of_key(lo);
        let end = match hi {
            None => self.parts.len(),
            Some(hi) => self.parts.partition_point(|p| p.first.as_slice() < hi),
        };
        start..end.max(start + 1).min(self.parts.len())
    }

    /// The part holding global ordinal `ord`.
    pub fn part_of_ord(&self, ord: u64) -> Option<usize> {
        if ord >= self.term_count {
            return None;
        }
        Some(self.parts.partition_point(|p| p.ord_base <= ord) - 1)
    }

    /// Encodes the section: part count, then per part the first term, the first ordinal and
    /// the byte length (parts are contiguous from offset 0), all varints.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, self.parts.len() as u64);
        for p in &self.parts {
            put_varint(&mut out, p.first.len() as u64);
            out.extend_from_slice(&p.first);
            put_varint(&mut out, p.ord_base);
            put_varint(&mut out, p.range.end - p.range.start);
        }
        out
    }

    /// Decodes and checks the section against the dictionary's term count and the `terms`
    /// pack's data length.
    pub fn decode(data: &[u8], term_count: u64, pack_len: u64) -> Result<Router> {
        let mut r = Reader::new(data, "router");
        let count = r.varint()?;
        // Every entry takes at least three bytes: no allocation beyond what the bytes justify.
        if count == 0 || count > (r.remaining() / 3) as u64 {
            return Err(Error::corrupt(format!("router lists {count} parts")));
        }
        let mut parts: Vec<PartEntry> = Vec::with_capacity(count as usize);
        let mut offset = 0u64;
        for i in 0..count {
            let klen = r.varint()? as usize;
            if klen > MAX_KEY {
                return Err(Error::corrupt(format!("router key of {klen} bytes")));
            }
            let first = r.bytes(klen)?.to_vec();
            let ord_base = r.varint()?;
            let len = r.varint()?;
            let ok = match parts.last() {
                None => ord_base == 0,
                Some(prev) => prev.first < first && prev.ord_base < ord_base,
            };
            let end = offset.checked_add(len).filter(|&e| e <= pack_len);
            let Some(end) = end.filter(|_| ok && ord_base < term_count.max(1) && len > 0) else {
                return Err(Error::corrupt(format!(
                    "router part {i} is out of order or out of range; rebuild the index"
                )));
            };
            parts.push(PartEntry {
                first,
                ord_base,
                range: offset..end,
            });
            offset = end;
        }
        if offset != pack_len || r.remaining() != 0 {
            return Err(Error::corrupt(
                "router does not cover the terms pack exactly; rebuild the index",
            ));
        }
        Ok(Router { parts, term_count })
    }
}

/// An opened part: its fst and term-info table.
pub struct PartView<'a> {
    /// Term → ordinal within the part.
    pub map: fst::Map<&'a [u8]>,
    info: &'a [u8],
    count: u32,
}

impl<'a> PartView<'a> {
    /// Opens a part's bytes (`fst length: u32 | fst | term-info table`) and checks its term
    /// count against the router's; with `check`, also that the fst is safe to walk (bytes
    /// from the network are checked once, when first read).
    pub fn open(bytes: &'a [u8], terms: u64, check: bool) -> Result<PartView<'a>> {
        let mut r = Reader::new(bytes, "dictionary part");
        let fst_len = r.u32()? as usize;
        let fst_bytes = r.bytes(fst_len)?;
        let info = &bytes[4 + fst_len..];
        let view = PartView::over(fst_bytes, info, check)?;
        if view.count as u64 != terms {
            return Err(Error::corrupt(format!(
                "dictionary part holds {} terms, the router says {terms}",
                view.count
            )));
        }
        Ok(view)
    }

    /// A view of an fst and its term-info table (a whole dictionary is one part); with
    /// `check`, the fst is first checked safe to walk.
    pub fn over(fst_bytes: &'a [u8], info: &'a [u8], check: bool) -> Result<PartView<'a>> {
        if check {
            crate::counters::bump(|c| c.part_walks += 1);
            crate::fstcheck::check(fst_bytes)
                .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        }
        let map = fst::Map::new(fst_bytes)
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        let count = u32::try_from(map.len())
            .map_err(|_| Error::corrupt("term dictionary holds over 2³² terms"))?;
        Ok(PartView { map, info, count })
    }

    /// Where the part's term `local` has its data.
    pub fn term_info(&self, local: u64) -> Result<TermInfo> {
        term_info(self.info, self.count, local)
    }

    /// The document frequency of the part's term `local`.
    pub fn doc_freq(&self, local: u64) -> Result<u32> {
        term_doc_freq(self.info, self.count, local)
    }

    /// How many documents hold the part's term `local` in a name field (0 before format 7).
    pub fn names(&self, local: u64) -> Result<u32> {
        term_names(self.info, self.count, local)
    }

    /// `f(local, doc_freq, names)` for each term of `locals`, in order (each term-info block
    /// read once).
    pub fn each_doc_freq(
        &self,
        locals: std::ops::Range<u64>,
        f: impl FnMut(u64, u32, u32) -> Result<()>,
    ) -> Result<()> {
        crate::terminfo::each_doc_freq(self.info, self.count, locals, f)
    }
}

/// The smallest key above every key that starts with `prefix` (`None`: there is none).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A part at least `part_bytes` divided by this ends before a term whose first character is
/// not its last term's ([`cut`]).
const LETTER_PART_FRACTION: usize = 8;

/// The first character of a term (`None` for the empty term, or bytes that are not UTF-8).
fn first_char(key: &[u8]) -> Option<char> {
    let len = match key.first()? {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    std::str::from_utf8(key.get(..len)?).ok()?.chars().next()
}

/// A part being written by [`cut`].
struct OpenPart {
    builder: fst::MapBuilder<Vec<u8>>,
    /// Each term's row of the term-info table.
    infos: Vec<TermRow>,
    /// Global ordinal of its first term.
    base: u64,
    /// Where its first term's postings and positions start.
    postings_start: u64,
    positions_start: u64,
}

impl OpenPart {
    /// Appends the finished part (`fst length: u32 | fst | term-info table`) to `pack`.
    fn finish(self, pack: &mut Vec<u8>) -> Result<()> {
        let fst_bytes = self
            .builder
            .into_inner()
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        let table = encode_term_infos(&self.infos, self.postings_start, self.positions_start);
        pack.extend_from_slice(&(fst_bytes.len() as u32).to_le_bytes());
        pack.extend_from_slice(&fst_bytes);
        pack.extend_from_slice(&table);
        Ok(())
    }
}

/// Cuts a whole dictionary into parts of about `part_bytes`: the router and the `terms`
/// pack's data. `next` gives its terms in order: (key, ordinal, term info), `None` at the end.
/// A part also ends where the terms' first character changes, once it holds an eighth of
/// `part_bytes` or when it continues the run of the part before, so the parts a typo
/// expansion reads hold little else.
pub fn cut(
    mut next: impl FnMut() -> Result<Option<(Vec<u8>, u64, TermInfo)>>,
    term_count: u64,
    part_bytes: usize,
) -> Result<(Router, Vec<u8>)> {
    let mut pack = Vec::new();
    let mut parts: Vec<PartEntry> = Vec::new();
    let mut current: Option<OpenPart> = None;
    let mut last_first: Option<char> = None;
    // Whether the open part continues a first character's run from the part before.
    let mut tail = false;
    while let Some((key, ord, info)) = next()? {
        let key = key.as_slice();
        // The fst's bytes so far plus about five bytes of term info per term.
        let size = current
            .as_ref()
            .map(|p| p.builder.bytes_written() as usize + p.infos.len() * 5);
        let full = size.is_some_and(|s| s >= part_bytes);
        // A new first character starts a new part unless the open one is small: a typo
        // expansion reads every part overlapping its word's first character, so a part that
        // also holds the end of the previous character (or the start of the next) makes it
        // read terms it can never match.
        // (The end of a run that filled earlier parts is closed at any size: else the next
        // character's terms would fill its part, and the run's typos would read them.)
        let first = first_char(key);
        let new_letter = last_first.is_some_and(|c| Some(c) != first)
            && (tail || size.is_some_and(|s| s >= part_bytes / LETTER_PART_FRACTION));
        let starts_part = full || new_letter || current.is_none();
        if starts_part {
            tail = full && last_first == first;
        }
        last_first = first;
        if starts_part {
            if let Some(part) = current.take() {
                part.finish(&mut pack)?;
                parts.last_mut().expect("a part is open").range.end = pack.len() as u64;
            }
            if key.len() > MAX_KEY {
                return Err(Error::LimitExceeded {
                    what: "bytes of a term that starts a dictionary part",
                    limit: MAX_KEY as u64,
                });
            }
            parts.push(PartEntry {
                first: key.to_vec(),
                ord_base: ord,
                range: pack.len() as u64..pack.len() as u64,
            });
            current = Some(OpenPart {
                builder: fst::MapBuilder::memory(),
                infos: Vec::new(),
                base: ord,
                postings_start: info.postings.start,
                positions_start: info.positions.start,
            });
        }
        let part = current.as_mut().expect("a part is open");
        part.builder
            .insert(key, ord - part.base)
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        part.infos.push(TermRow::of(&info)?);
    }
    match current.take() {
        Some(part) => {
            part.finish(&mut pack)?;
            parts.last_mut().expect("a part is open").range.end = pack.len() as u64;
        }
        None => return Err(Error::corrupt("cannot cut an empty dictionary")),
    }
    Ok((Router { parts, term_count }, pack))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn router(firsts: &[&str], total: u64) -> Router {
        let n = firsts.len() as u64;
        Router {
            parts: firsts
                .iter()
                .enumerate()
                .map(|(i, f)| PartEntry {
                    first: f.as_bytes().to_vec(),
                    ord_base: i as u64 * total / n,
                    range: i as u64 * 10..(i as u64 + 1) * 10,
                })
                .collect(),
            term_count: total,
        }
    }

    #[test]
    fn part_lookup_table() {
        let r = router(&["a", "ca", "m", "s"], 100);
        for (key, part) in [
            ("", 0),
            ("a", 0),
            ("bzz", 0),
            ("ca", 1),
            ("c", 0),
            ("lion", 1),
            ("m", 2),
            ("zebra", 3),
        ] {
            assert_eq!(r.part_of_key(key.as_bytes()), part, "{key}");
        }
        let range = |lo: &str, hi: Option<&str>| r.parts_in(lo.as_bytes(), hi.map(str::as_bytes));
        assert_eq!(range("b", Some("c")), 0..1);
        assert_eq!(range("c", Some("d")), 0..2);
        assert_eq!(range("m", Some("n")), 2..3);
        assert_eq!(range("t", None), 3..4);
        assert_eq!(range("a", None), 0..4);
        assert_eq!(r.part_of_ord(0), Some(0));
        assert_eq!(r.part_of_ord(49), Some(1));
        assert_eq!(r.part_of_ord(50), Some(2));
        assert_eq!(r.part_of_ord(99), Some(3));
        assert_eq!(r.part_of_ord(100), None);
        assert_eq!(r.part_terms(3), 25);
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    /// Cuts `keys` (ascending) at `part_bytes`; each term one document, 10 bytes of postings.
    fn cut_keys(keys: &[String], part_bytes: usize) -> (Router, Vec<u8>) {
        let mut i = 0u64;
        let next = || -> Result<_> {
            let Some(key) = keys.get(i as usize) else {
                return Ok(None);
            };
            let info = TermInfo {
                doc_freq: 1,
                postings: i * 10..i * 10 + 10,
                positions: i * 10..i * 10 + 10,
                names: 0,
                names_postings: 0..0,
            };
            i += 1;
            Ok(Some((key.as_bytes().to_vec(), i - 1, info)))
        };
        cut(next, keys.len() as u64, part_bytes).unwrap()
    }

    /// The terms of each part, read back from the pack.
    fn part_terms(r: &Router, pack: &[u8]) -> Vec<Vec<String>> {
        (0..r.parts().len())
            .map(|i| {
                let range = r.parts()[i].range.clone();
                let view = PartView::open(
                    &pack[range.start as usize..range.end as usize],
                    r.part_terms(i),
                    true,
                )
                .unwrap();
                let mut out = Vec::new();
                let mut stream = view.map.stream();
                while let Some((k, local)) = fst::Streamer::next(&mut stream) {
                    assert_eq!(local, out.len() as u64);
                    out.push(String::from_utf8(k.to_vec()).unwrap());
                }
                out
            })
            .collect()
    }

    #[test]
    fn parts_end_where_the_first_character_changes() {
        // Three big letters, a small one between them, and a two-byte first character.
        let mut keys: Vec<String> = Vec::new();
        for (first, n) in [("a", 300), ("b", 250), ("c", 3), ("d", 120), ("é", 90)] {
            keys.extend((0..n).map(|i| format!("{first}{i:05}")));
        }
        keys.sort();
        let part_bytes = 1024;
        let (r, pack) = cut_keys(&keys, part_bytes);
        let parts = part_terms(&r, &pack);
        // Every term once, in order, and the router agrees with the parts.
        assert_eq!(parts.concat(), keys);
        for (i, terms) in parts.iter().enumerate() {
            assert_eq!(r.parts()[i].first, terms[0].as_bytes());
            let first = |t: &String| t.chars().next().unwrap();
            // A part holds one first character, except that the small `c` run (less than an
            // eighth of a part, after the tail of `b`, which ends its part) shares its part
            // with the start of `d`.
            let firsts: String = terms
                .iter()
                .map(first)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            match firsts.contains('c') {
                true => assert_eq!(firsts, "cd", "part {i}"),
                false => assert_eq!(firsts.chars().count(), 1, "part {i}: {firsts}"),
            }
        }
        // And without characters to align on, parts are cut by size alone (the size counted
        // while writing is an estimate: these parts come out at about half of it).
        let same: Vec<String> = (0..2000).map(|i| format!("x{i:05}")).collect();
        let (r, pack) = cut_keys(&same, part_bytes);
        assert_eq!(part_terms(&r, &pack).concat(), same);
        let sizes: Vec<u64> = r
            .parts()
            .iter()
            .map(|p| p.range.end - p.range.start)
            .collect();
        assert!(sizes.len() > 4, "{sizes:?}");
        for s in &sizes[..sizes.len() - 1] {
            assert!(
                (part_bytes as u64 / 4..part_bytes as u64).contains(s),
                "{sizes:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn router_round_trips(keys in proptest::collection::btree_set("[a-z]{1,6}", 1..20), step in 1u64..50) {
            let parts: Vec<PartEntry> = keys.iter().enumerate().map(|(i, k)| PartEntry {
                first: k.as_bytes().to_vec(),
                ord_base: i as u64 * step,
                range: i as u64 * 7..(i as u64 + 1) * 7,
            }).collect();
            let n = parts.len() as u64;
            let r = Router { parts, term_count: n * step };
            let bytes = r.encode();
            prop_assert_eq!(Router::decode(&bytes, n * step, n * 7).unwrap(), r.clone());
            // Any other pack length, or a cut, is refused.
            prop_assert!(Router::decode(&bytes, n * step, n * 7 + 1).is_err());
            for cut in 0..bytes.len() {
                prop_assert!(Router::decode(&bytes[..cut], n * step, n * 7).is_err());
            }
        }
    }
}
