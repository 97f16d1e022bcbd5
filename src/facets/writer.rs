//! The FACETS section's writer: values, sets, columns and sort keys, and the cut of a section
//! for a split index.

use std::collections::BTreeMap;

use super::{COLUMN_BLOCK, KIND_FACET, KIND_SORT, MAX_VALUE_BYTES};
use crate::codec::{put_varint, Reader};
use crate::error::{Error, Result};
use crate::schema::Schema;

/// Collects facet values and sort keys while an index is built.
pub struct FacetsWriter {
    /// Per facet field: its id, and each document's values.
    facets: Vec<(usize, Vec<Vec<String>>)>,
    /// Per sortable field: its id, and each document's key.
    sorts: Vec<(usize, Vec<f64>)>,
}

impl FacetsWriter {
    /// A writer for the facet and sortable fields of `schema`.
    pub fn new(schema: &Schema) -> Self {
        let fields = schema.fields();
        FacetsWriter {
            facets: (0..fields.len())
                .filter(|&f| fields[f].facet)
                .map(|f| (f, Vec::new()))
                .collect(),
            sorts: (0..fields.len())
                .filter(|&f| fields[f].sortable)
                .map(|f| (f, Vec::new()))
                .collect(),
        }
    }

    /// Whether the schema has any facet or sortable field (else no section is written).
    pub fn is_empty(&self) -> bool {
        self.facets.is_empty() && self.sorts.is_empty()
    }

    /// Records one document's values (per schema field).
    pub fn add(&mut self, values: &[Vec<String>]) {
        for (f, docs) in &mut self.facets {
            let mut v: Vec<String> = values[*f]
                .iter()
                .map(|s| cut(s.trim()).to_string())
                .filter(|s| !s.is_empty())
                .collect();
            v.sort_unstable();
            v.dedup();
            docs.push(v);
        }
        for (f, keys) in &mut self.sorts {
            keys.push(values[*f].first().map_or(f64::NAN, |s| sort_key(s)));
        }
    }

    /// The section's bytes.
    pub fn finish(self, doc_count: u32) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        put_varint(&mut out, (self.facets.len() + self.sorts.len()) as u64);
        for (field, docs) in &self.facets {
            let mut values: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for (doc, vs) in docs.iter().enumerate() {
                for v in vs {
                    values.entry(v.as_str()).or_default().push(doc as u32);
                }
            }
            let mut map = fst::MapBuilder::memory();
            let mut sets = Vec::new();
            let mut set_offsets = Vec::with_capacity(values.len() + 1);
            let mut ords: BTreeMap<&str, u32> = BTreeMap::new();
            for (ord, (value, ids)) in values.iter().enumerate() {
                map.insert(value.as_bytes(), ord as u64)
                    .map_err(|e| Error::corrupt(format!("facet values: {e}")))?;
                ords.insert(value, ord as u32);
                set_offsets.push(offset32(sets.len())?);
                write_set(&mut sets, ids, doc_count);
            }
            set_offsets.push(offset32(sets.len())?);
            let fst_bytes = map
                .into_inner()
                .map_err(|e| Error::corrupt(format!("facet values: {e}")))?;
            let mut column = Vec::new();
            let mut col_offsets = Vec::new();
            for (doc, vs) in docs.iter().enumerate() {
                if doc % COLUMN_BLOCK == 0 {
                    col_offsets.push(offset32(column.len())?);
                }
                put_varint(&mut column, vs.len() as u64);
                let mut prev = 0u32;
                for (i, v) in vs.iter().enumerate() {
                    // Values are sorted, so their ordinals ascend.
                    let ord = ords[v.as_str()];
                    put_varint(&mut column, (ord - if i == 0 { 0 } else { prev }) as u64);
                    prev = ord;
                }
            }
            col_offsets.push(offset32(column.len())?);
            put_varint(&mut out, *field as u64);
            put_varint(&mut out, KIND_FACET);
            put_varint(&mut out, values.len() as u64);
            for part in [&fst_bytes, &sets, &column] {
                put_varint(&mut out, part.len() as u64);
                out.extend_from_slice(part);
            }
            put_varint(&mut out, (set_offsets.len() + col_offsets.len()) as u64 * 4);
            for o in set_offsets.iter().chain(&col_offsets) {
                out.extend_from_slice(&o.to_le_bytes());
            }
        }
        for (field, keys) in &self.sorts {
            put_varint(&mut out, *field as u64);
            put_varint(&mut out, KIND_SORT);
            put_varint(&mut out, keys.len() as u64 * 8);
            for k in keys {
                out.extend_from_slice(&k.to_le_bytes());
            }
        }
        Ok(out)
    }
}

fn offset32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::LimitExceeded {
        what: "bytes of one facet field",
        limit: u32::MAX as u64,
    })
}

fn cut(s: &str) -> &str {
    let mut end = s.len().min(MAX_VALUE_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A document's set: `0` then delta varints, or `1` then a bitmap of every document, whichever
/// is smaller.
fn write_set(out: &mut Vec<u8>, ids: &[u32], doc_count: u32) {
    let mut deltas = Vec::new();
    put_varint(&mut deltas, ids.len() as u64);
    let mut prev = 0;
    for (i, &d) in ids.iter().enumerate() {
        put_varint(&mut deltas, (d - if i == 0 { 0 } else { prev }) as u64);
        prev = d;
    }
    let bitmap_len = (doc_count as usize).div_ceil(8);
    if bitmap_len < deltas.len() {
        out.push(1);
        let start = out.len();
        out.resize(start + bitmap_len, 0);
        for &d in ids {
            out[start + d as usize / 8] |= 1 << (d % 8);
        }
    } else {
        out.push(0);
        out.extend_from_slice(&deltas);
    }
}

/// The sort key of a value: a number, or a date (`YYYY-MM-DD`, optionally followed by
/// `THH:MM[:SS]`) as seconds since 1970; `NaN` for anything else.
pub fn sort_key(s: &str) -> f64 {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        if n.is_finite() {
            return n;
        }
    }
    date_seconds(s).unwrap_or(f64::NAN)
}

fn date_seconds(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut hh, mut mm, mut ss) = (0, 0, 0);
    if b.len() > 10 {
        if !matches!(b[10], b'T' | b' ') || b.len() < 16 || b[13] != b':' {
            return None;
        }
        hh = num(11..13)?;
        mm = num(14..16)?;
        if b.len() >= 19 && b[16] == b':' {
            ss = num(17..19)?;
        }
    }
    // Days from civil (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

/// A single-file FACETS section cut for a split index: the section with each field's sets and
/// column replaced by their ranges (Offset, Len as VInts) in `data`, whose first byte will be at
/// `base` in the data file that holds it, and `data` itself.
pub fn externalize(section: &[u8], base: u64) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut r = Reader::new(section, "facets");
    let mut out = Vec::new();
    let mut data = Vec::new();
    let n = r.varint()?;
    put_varint(&mut out, n);
    for _ in 0..n {
        let field = r.varint()?;
        let kind = r.varint()?;
        put_varint(&mut out, field);
        put_varint(&mut out, kind);
        match kind {
            KIND_FACET => {
                let count = r.varint()?;
                put_varint(&mut out, count);
                let fst_bytes = r.len_prefix().and_then(|l| r.bytes(l))?;
                put_varint(&mut out, fst_bytes.len() as u64);
                out.extend_from_slice(fst_bytes);
                for _ in 0..2 {
                    let blob = r.len_prefix().and_then(|l| r.bytes(l))?;
                    put_varint(&mut out, base + data.len() as u64);
                    put_varint(&mut out, blob.len() as u64);
                    data.extend_from_slice(blob);
                }
                // The two offset tables: what is left of this record up to the next one is
                // not known without the document count, so they are copied by their lengths.
                let tables = r.len_prefix().and_then(|l| r.bytes(l))?;
                put_varint(&mut out, tables.len() as u64);
                out.extend_from_slice(tables);
            }
            KIND_SORT => {
                let keys = r.len_prefix().and_then(|l| r.bytes(l))?;
                put_varint(&mut out, keys.len() as u64);
                out.extend_from_slice(keys);
            }
            k => return Err(Error::corrupt(format!("facets: unknown field kind {k}"))),
        }
    }
    Ok((out, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys() {
        assert_eq!(sort_key("42"), 42.0);
        assert_eq!(sort_key(" -1.5 "), -1.5);
        assert_eq!(sort_key("1970-01-02"), 86_400.0);
        assert_eq!(sort_key("2000-03-01T01:02:03"), 951_872_523.0);
        assert!(sort_key("2000-13-01").is_nan());
        assert!(sort_key("abc").is_nan());
        assert!(sort_key("inf").is_nan());
        assert!(sort_key("2024-01-01") < sort_key("2024-01-02"));
    }
}
