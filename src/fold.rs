//! How does a query fold without Unicode's normalization tables?
//!
//! The analyzer folds a word with NFKD, then case and diacritic folding, then NFC (see
//! `analysis`). Those steps need the decomposition, combining-class and composition data of all
//! of Unicode (64.6 KB gzip of the search `.wasm`). A query word can only find something if its
//! folding reaches an indexed term, and the builder knows every character of those terms: it
//! writes a [`FoldTable`] holding just the data such a query needs (the FOLD section of format
//! 5, docs/FORMAT.md), and a search build with the `table-folding` feature folds queries with it.
//!
//! The table holds:
//! - the NFKD decomposition of every character whose own fold is made only of characters of
//!   the indexed terms (Hangul syllables are decomposed by rule, not listed);
//! - the canonical combining class and the combining-mark property of every character that has
//!   either (all of Unicode: a mark typed after any letter must fold as it does at build time);
//! - the canonical compositions that lead to a character of the indexed terms, and those of
//!   characters of the indexed terms into any character (with Hangul by rule).
//!
//! Where table folding and full folding may differ (checked by the property tests below and in
//! `src/analysis/mod.rs`): only where the full fold holds a character that occurs in no indexed
//! term, so neither result is an indexed term.

use crate::error::{Error, Result};

/// What a query needs of Unicode's normalization data, for one index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldTable {
    /// The characters with a decomposition, ascending; the decomposition of `keys[i]` is
    /// `text[ends[i - 1]..ends[i]]` (from 0 for the first). Three allocations, not one a
    /// character: an open index holds this for as long as it lives.
    keys: Vec<char>,
    ends: Vec<u32>,
    text: String,
    /// (first, last, canonical combining class, is a combining mark), disjoint, ascending.
    classes: Vec<(u32, u32, u8, bool)>,
    /// ((starter, next), composite), by pair.
    compositions: Vec<((char, char), char)>,
}

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

/// The bytes of the built-in fold table (`FoldTable::builtin`).
pub const BUILTIN: &[u8] = include_bytes!("../data/fold-builtin.bin");

/// Longest decomposition kept (NFKD of one character is at most 18 characters).
const MAX_DECOMPOSITION_BYTES: usize = 255;
/// Most entries of each list a table may have (Unicode has ~0x110000 code points).
const MAX_ENTRIES: usize = 0x11_0000;

fn to_char(v: u32) -> Result<char> {
    char::from_u32(v).ok_or_else(|| corrupt("a code point is not a character"))
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt {
        what: format!("fold section: {what}"),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8> {
        let (&b, rest) = self
            .bytes
            .split_first()
            .ok_or_else(|| corrupt("truncated"))?;
        self.bytes = rest;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u32> {
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(v).map_err(|_| corrupt("a number is too large"));
            }
        }
        Err(corrupt("a number is too long"))
    }

    fn count(&mut self, each: usize) -> Result<usize> {
        let n = self.varint()? as usize;
        if n > MAX_ENTRIES || n.saturating_mul(each) > self.bytes.len() {
            return Err(corrupt("a count is larger than the section"));
        }
        Ok(n)
    }
}

impl FoldTable {
    /// No data: every character is its own decomposition, of class 0, no mark, composing with
    /// nothing (but Hangul, by rule).
    pub const EMPTY: FoldTable = FoldTable {
        keys: Vec::new(),
        ends: Vec::new(),
        text: String::new(),
        classes: Vec::new(),
        compositions: Vec::new(),
    };

    /// The table's bytes: three lists, each a count then its entries, numbers as LEB128
    /// varints: decompositions (code point minus the previous one, UTF-8 length, UTF-8),
    /// classes (first minus the previous range's last, last minus first, class byte, flags
    /// byte with bit 0 = combining mark), compositions (starter minus the previous starter,
    /// next, composite).
    pub fn encode(&self) -> Vec<u8> {
        fn varint(out: &mut Vec<u8>, mut v: u32) {
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut out = Vec::new();
        varint(&mut out, self.keys.len() as u32);
        let mut prev = 0;
        for (c, d) in self.entries() {
            varint(&mut out, c as u32 - prev);
            prev = c as u32;
            varint(&mut out, d.len() as u32);
            out.extend(d.as_bytes());
        }
        varint(&mut out, self.classes.len() as u32);
        let mut prev = 0;
        for &(first, last, class, mark) in &self.classes {
            varint(&mut out, first - prev);
            varint(&mut out, last - first);
            prev = last;
            out.push(class);
            out.push(mark as u8);
        }
        varint(&mut out, self.compositions.len() as u32);
        let mut prev = 0;
        for &((a, b), c) in &self.compositions {
            varint(&mut out, a as u32 - prev);
            prev = a as u32;
            varint(&mut out, b as u32);
            varint(&mut out, c as u32);
        }
        out
    }

    /// Reads what [`FoldTable::encode`] wrote; every list must be sorted and free of
    /// duplicates, or the section is reported corrupt.
    pub fn decode(bytes: &[u8]) -> Result<FoldTable> {
        let mut r = Reader { bytes };
        let n = r.count(2)?;
        let mut table = FoldTable::EMPTY;
        table.keys.reserve_exact(n);
        table.ends.reserve_exact(n);
        let mut prev: u32 = 0;
        for _ in 0..n {
            prev = prev.saturating_add(r.varint()?);
            let c = to_char(prev)?;
            let len = r.varint()? as usize;
            if len > r.bytes.len() {
                return Err(corrupt("truncated"));
            }
            let (text, rest) = r.bytes.split_at(len);
            r.bytes = rest;
            let text = std::str::from_utf8(text).map_err(|_| corrupt("not UTF-8"))?;
            table.push(c, text)?;
        }
        let n = r.count(4)?;
        let mut classes = Vec::with_capacity(n);
        let mut prev: u32 = 0;
        for _ in 0..n {
            let first = prev.saturating_add(r.varint()?);
            let last = first.saturating_add(r.varint()?);
            prev = last;
            let (class, flags) = (r.u8()?, r.u8()?);
            if last > char::MAX as u32 || flags > 1 {
                return Err(corrupt("a bad class range"));
            }
            classes.push((first, last, class, flags == 1));
        }
        let n = r.count(3)?;
        let mut compositions = Vec::with_capacity(n);
        let mut prev: u32 = 0;
        for _ in 0..n {
            prev = prev.saturating_add(r.varint()?);
            let (a, b, c) = (to_char(prev)?, to_char(r.varint()?)?, to_char(r.varint()?)?);
            compositions.push(((a, b), c));
        }
        if !r.bytes.is_empty() {
            return Err(corrupt("bytes after the tables"));
        }
        let sorted = table.keys.windows(2).all(|w| w[0] < w[1])
            && classes.windows(2).all(|w| w[0].1 < w[1].0)
            && compositions.windows(2).all(|w| w[0].0 < w[1].0);
        if !sorted {
            return Err(corrupt("a list is not sorted"));
        }
        table.classes = classes;
        table.compositions = compositions;
        Ok(table)
    }

    fn push(&mut self, c: char, decomposition: &str) -> Result<()> {
        self.keys.push(c);
        self.text.push_str(decomposition);
        let end = u32::try_from(self.text.len()).map_err(|_| corrupt("too long"))?;
        self.ends.push(end);
        Ok(())
    }

    /// (character, its NFKD decomposition), ascending.
    fn entries(&self) -> impl Iterator<Item = (char, &str)> {
        (0..self.keys.len()).map(|i| (self.keys[i], self.decomposition(i)))
    }

    fn decomposition(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }

    /// The table used when an index has no FOLD section (decoded from [`BUILTIN`] through
    /// [`shared`]) (formats 1 to 4, or version 5 files
    /// written before it): the decompositions of Latin, Greek, Cyrillic, full-width and
    /// ligature characters that fold to a letter or digit of those scripts, and every mark's
    /// class. Generated from `unicode-normalization` by a test in `src/analysis/mod.rs`
    /// (`EDGEKB_BLESS=1` rewrites it), which also checks that it folds like the full data.
    #[cfg(test)]
    pub fn builtin() -> FoldTable {
        // The committed bytes are checked by that test; an error here would be a bug.
        FoldTable::decode(BUILTIN).unwrap_or_default()
    }

    /// Keeps the decompositions of the characters `keep` accepts.
    #[cfg(test)]
    pub fn retain_decompositions(&mut self, keep: impl Fn(char) -> bool) {
        let entries: Vec<(char, String)> = self
            .entries()
            .filter(|e| keep(e.0))
            .map(|(c, d)| (c, d.to_string()))
            .collect();
        (self.keys, self.ends, self.text) = Default::default();
        for (c, d) in entries {
            let _ = self.push(c, &d);
        }
    }

    /// Its parts, from the builder (see `build`); sorted here.
    fn from_parts(
        mut decompositions: Vec<(char, Box<str>)>,
        classes: Vec<(u32, u32, u8, bool)>,
        mut compositions: Vec<((char, char), char)>,
    ) -> FoldTable {
        decompositions.sort_unstable_by_key(|e| e.0);
        decompositions.dedup_by_key(|e| e.0);
        compositions.sort_unstable_by_key(|e| e.0);
        compositions.dedup_by_key(|e| e.0);
        let mut table = FoldTable::EMPTY;
        for (c, d) in &decompositions {
            let _ = table.push(*c, d); // a few hundred KB at most: never past u32
        }
        table.classes = classes;
        table.compositions = compositions;
        table
    }

    fn class_entry(&self, c: char) -> Option<&(u32, u32, u8, bool)> {
        let v = c as u32;
        let i = self.classes.partition_point(|e| e.1 < v);
        self.classes.get(i).filter(|e| e.0 <= v)
    }

    /// The canonical combining class of `c` (0 when the table does not list it).
    pub fn class(&self, c: char) -> u8 {
        self.class_entry(c).map_or(0, |e| e.2)
    }

    /// Whether `c` is a combining mark (general category M).
    pub fn is_mark(&self, c: char) -> bool {
        self.class_entry(c).is_some_and(|e| e.3)
    }

    /// Appends the NFKD decomposition of `word` to `out` (canonically ordered).
    pub fn decompose(&self, word: &str, out: &mut Vec<char>) {
        let start = out.len();
        for c in word.chars() {
            let v = c as u32;
            if (S_BASE..S_BASE + S_COUNT).contains(&v) {
                let s = v - S_BASE;
                let (l, vv, t) = (s / N_COUNT, (s % N_COUNT) / T_COUNT, s % T_COUNT);
                out.extend(char::from_u32(L_BASE + l));
                out.extend(char::from_u32(V_BASE + vv));
                if t != 0 {
                    out.extend(char::from_u32(T_BASE + t));
                }
                continue;
            }
            match self.keys.binary_search(&c) {
                Ok(i) => out.extend(self.decomposition(i).chars()),
                Err(_) => out.push(c),
            }
        }
        self.reorder(&mut out[start..]);
    }

    /// Canonical ordering: each run of characters of non-zero class, stably sorted by class.
    fn reorder(&self, chars: &mut [char]) {
        let mut i = 0;
        while i < chars.len() {
            if self.class(chars[i]) == 0 {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < chars.len() && self.class(chars[j]) != 0 {
                j += 1;
            }
            // Insertion sort, stable: runs are a few marks long (and no sort code is linked).
            for k in i + 1..j {
                let mut m = k;
                while m > i && self.class(chars[m - 1]) > self.class(chars[m]) {
                    chars.swap(m - 1, m);
                    m -= 1;
                }
            }
            i = j;
        }
    }

    fn compose_pair(&self, a: char, b: char) -> Option<char> {
        let (av, bv) = (a as u32, b as u32);
        if (L_BASE..L_BASE + L_COUNT).contains(&av) && (V_BASE..V_BASE + V_COUNT).contains(&bv) {
            let s = S_BASE + ((av - L_BASE) * V_COUNT + (bv - V_BASE)) * T_COUNT;
            return char::from_u32(s);
        }
        let lv = (S_BASE..S_BASE + S_COUNT).contains(&av) && (av - S_BASE) % T_COUNT == 0;
        if lv && (T_BASE + 1..T_BASE + T_COUNT).contains(&bv) {
            return char::from_u32(av + (bv - T_BASE));
        }
        self.compositions
            .binary_search_by_key(&(a, b), |e| e.0)
            .ok()
            .map(|i| self.compositions[i].1)
    }

    /// NFC of `text`, which is already decomposed (as the analyzer's output is): canonical
    /// ordering, then canonical composition.
    pub fn compose(&self, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        self.reorder(&mut chars);
        let mut out: Vec<char> = Vec::with_capacity(chars.len());
        let mut starter: Option<usize> = None;
        // Class of the last character kept after the starter (None: none since it).
        let mut last: Option<u8> = None;
        for c in chars {
            let class = self.class(c);
            if let Some(s) = starter {
                let blocked = last.is_some_and(|l| l == 0 || l >= class);
                if !blocked {
                    if let Some(x) = self.compose_pair(out[s], c) {
                        out[s] = x;
                        continue;
                    }
                }
            }
            if class == 0 {
                starter = Some(out.len());
                last = None;
            } else {
                last = Some(class);
            }
            out.push(c);
        }
        out.into_iter().collect()
    }

    /// Number of (decompositions, class ranges, compositions).
    #[cfg(test)]
    pub fn lens(&self) -> (usize, usize, usize) {
        (self.keys.len(), self.classes.len(), self.compositions.len())
    }
}

/// The table for an index whose terms use the characters `term_chars` (sorted or not), from
/// the full Unicode data: `fold_char` is the analyzer's full fold of a one-character word.
pub(crate) fn build(term_chars: &[char], fold_char: impl Fn(char) -> String) -> FoldTable {
    use unicode_normalization::char::{
        canonical_combining_class, compose, decompose_canonical, decompose_compatible,
        is_combining_mark,
    };
    let mut known: Vec<char> = term_chars.to_vec();
    known.sort_unstable();
    known.dedup();
    let has = |c: char| known.binary_search(&c).is_ok();
    let mut decompositions = Vec::new();
    let mut classes: Vec<(u32, u32, u8, bool)> = Vec::new();
    let mut compositions = Vec::new();
    let mut parts = Vec::new();
    for v in 0..=char::MAX as u32 {
        let Some(c) = char::from_u32(v) else { continue };
        let (class, mark) = (canonical_combining_class(c), is_combining_mark(c));
        if class != 0 || mark {
            match classes.last_mut() {
                Some(e) if e.1 + 1 == v && e.2 == class && e.3 == mark => e.1 = v,
                _ => classes.push((v, v, class, mark)),
            }
        }
        if (S_BASE..S_BASE + S_COUNT).contains(&v) || c.is_ascii() {
            continue;
        }
        // The steps of NFC that compose a character of the terms, and those that compose two
        // characters of the terms into any character (as NFC would compose them in a query
        // typed decomposed: `न` and the nukta, both in terms, make `ऩ`, which may be in none).
        parts.clear();
        decompose_canonical(c, |x| parts.push(x));
        if let Some((&first, rest)) = parts.split_first() {
            let wanted = has(c);
            let mut acc = first;
            // `acc` is made of characters of the terms only.
            let mut of_terms = has(first);
            for &next in rest {
                if let Some(x) = compose(acc, next) {
                    of_terms &= has(next);
                    if (wanted || of_terms) && !(S_BASE..S_BASE + S_COUNT).contains(&(x as u32)) {
                        compositions.push(((acc, next), x));
                    }
                    acc = x;
                }
            }
        }
        let mut d = String::new();
        decompose_compatible(c, |x| d.push(x));
        if d.chars().eq([c]) || d.len() > MAX_DECOMPOSITION_BYTES {
            continue;
        }
        if fold_char(c).chars().all(has) {
            decompositions.push((c, d.into_boxed_str()));
        }
    }
    FoldTable::from_parts(decompositions, classes, compositions)
}

/// The decoded tables of the indexes open in this process, with their bytes: opening the same
/// index (or indexes of one build) many times holds one table. An entry goes when its table's
/// last user does (checked at each open, so the list stays as long as the live tables).
#[allow(clippy::type_complexity)]
static SHARED: std::sync::Mutex<Vec<(Box<[u8]>, std::sync::Weak<FoldTable>)>> =
    std::sync::Mutex::new(Vec::new());

/// The table of a FOLD section's `bytes`, decoded once while any index using it is open.
pub(crate) fn shared(bytes: &[u8]) -> Result<std::sync::Arc<FoldTable>> {
    // A panic while the lock was held cannot leave a half-written entry: take the list as is.
    let mut cache = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(_, w)| w.strong_count() > 0);
    if let Some(t) = cache
        .iter()
        .find(|(b, _)| **b == *bytes)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(t);
    }
    let table = std::sync::Arc::new(FoldTable::decode(bytes)?);
    cache.push((bytes.into(), std::sync::Arc::downgrade(&table)));
    Ok(table)
}
