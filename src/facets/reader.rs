//! The FACETS section's reader: value dictionaries, sets and columns (inline, or in a split
//! index's store pack), filters evaluated and facets counted.

use std::collections::BTreeMap;

use fst::{IntoStreamer, Streamer};

use super::{
    intersect, subtract_ids, union_ids, Filter, COLUMN_BLOCK, KIND_FACET, KIND_SORT,
    MAX_FILTER_NODES,
};
use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::schema::Schema;

/// Where a blob of a facet field is: in the section, or (a split index) at a byte range of the
/// data file that holds facet data, read through a [`Fetch`].
#[derive(Clone, Copy, Debug)]
enum Blob<'a> {
    Inline(&'a [u8]),
    External { start: u64, len: u64 },
}

/// Reads a byte range of the data file holding a split index's facet data (`NotLoaded` when it
/// is not at hand). Unused by a single-file index, whose facet data is inline.
pub type Fetch<'f> = &'f dyn Fn(std::ops::Range<u64>) -> Result<Vec<u8>>;

impl Blob<'_> {
    fn len(&self) -> usize {
        match self {
            Blob::Inline(b) => b.len(),
            Blob::External { len, .. } => *len as usize,
        }
    }

    /// The bytes at `range` of the blob.
    fn read(&self, range: std::ops::Range<usize>, fetch: Fetch<'_>) -> Result<Vec<u8>> {
        match self {
            Blob::Inline(b) => b
                .get(range)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| Error::corrupt("facets: range past its blob")),
            Blob::External { start, len } => {
                if range.end as u64 > *len || range.start > range.end {
                    return Err(Error::corrupt("facets: range past its blob"));
                }
                fetch(start + range.start as u64..start + range.end as u64)
            }
        }
    }

    /// The range of the data file `range` of the blob is at (`None` when inline).
    fn external(&self, range: std::ops::Range<usize>) -> Option<std::ops::Range<u64>> {
        match self {
            Blob::Inline(_) => None,
            Blob::External { start, .. } => {
                Some(start + range.start as u64..start + range.end as u64)
            }
        }
    }
}

/// One facet field of an opened FACETS section.
pub struct FacetField<'a> {
    /// Its schema field id.
    pub field: usize,
    values: fst::Map<&'a [u8]>,
    sets: Blob<'a>,
    set_offsets: &'a [u8],
    column: Blob<'a>,
    col_offsets: &'a [u8],
}

fn le32(table: &[u8], i: usize) -> usize {
    u32::from_le_bytes(table[i * 4..i * 4 + 4].try_into().expect("4 bytes")) as usize
}

impl<'a> FacetField<'a> {
    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it has no value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The ordinal of `value`.
    pub fn ordinal(&self, value: &str) -> Option<u32> {
        self.values.get(value.as_bytes()).map(|o| o as u32)
    }

    /// The ordinals of the values starting with `prefix`, ascending.
    pub fn prefix_ordinals(&self, prefix: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut s = self.values.range().ge(prefix.as_bytes()).into_stream();
        while let Some((k, o)) = s.next() {
            if !k.starts_with(prefix.as_bytes()) {
                break;
            }
            out.push(o as u32);
        }
        out
    }

    /// Byte range of value `ord`'s set (within the sets blob).
    pub fn set_range(&self, ord: u32) -> std::ops::Range<usize> {
        le32(self.set_offsets, ord as usize)..le32(self.set_offsets, ord as usize + 1)
    }

    /// The documents carrying value `ord`, ascending.
    pub fn docs(&self, ord: u32, doc_count: u32, fetch: Fetch<'_>) -> Result<Vec<u32>> {
        decode_set(&self.sets.read(self.set_range(ord), fetch)?, doc_count)
    }

    /// The ranges of the data file that the sets of `ords` (ascending) are at, coalesced (none
    /// when the sets are inline).
    pub fn set_needs(&self, ords: &[u32]) -> Vec<std::ops::Range<u64>> {
        let ranges = ords.iter().map(|&o| self.set_range(o));
        coalesce(ranges.filter_map(|r| self.sets.external(r)))
    }

    /// The ranges of the data file that the column blocks of `docs` (ascending) are at,
    /// coalesced (none when the column is inline).
    pub fn column_needs(&self, docs: &[u32]) -> Vec<std::ops::Range<u64>> {
        let blocks = self.col_offsets.len() / 4;
        let mut ranges = Vec::new();
        let mut last = usize::MAX;
        for &d in docs {
            let b = d as usize / COLUMN_BLOCK;
            if b != last && b + 1 < blocks {
                ranges.push(le32(self.col_offsets, b)..le32(self.col_offsets, b + 1));
                last = b;
            }
        }
        coalesce(ranges.into_iter().filter_map(|r| self.column.external(r)))
    }

    /// Every value with its ordinal, in byte order.
    pub fn values(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.values.len());
        let mut s = self.values.stream();
        while let Some((k, _)) = s.next() {
            out.push(String::from_utf8_lossy(k).into_owned());
        }
        out
    }

    /// The ordinals of `doc`'s values, ascending.
    pub fn doc_ordinals(&self, doc: u32, fetch: Fetch<'_>) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        let counts = self.counts(&[doc], fetch)?;
        for (o, c) in counts.into_iter().enumerate() {
            if c > 0 {
                out.push(o as u32);
            }
        }
        Ok(out)
    }

    /// How many of `docs` (ascending) carry each value, by ordinal.
    pub fn counts(&self, docs: &[u32], fetch: Fetch<'_>) -> Result<Vec<u32>> {
        let mut counts = vec![0u32; self.values.len()];
        let mut i = 0;
        while i < docs.len() {
            let block = docs[i] as usize / COLUMN_BLOCK;
            if block + 1 >= self.col_offsets.len() / 4 {
                return Err(Error::corrupt("facet column: document past the last block"));
            }
            let range = le32(self.col_offsets, block)..le32(self.col_offsets, block + 1);
            let bytes = self.column.read(range, fetch)?;
            let mut r = Reader::new(&bytes, "facet column");
            let mut doc = block * COLUMN_BLOCK;
            while i < docs.len() && docs[i] as usize / COLUMN_BLOCK == block {
                let n = r.varint()? as usize;
                let want = docs[i] as usize == doc;
                let mut ord = 0u64;
                for k in 0..n {
                    let d = r.varint()?;
                    ord = if k == 0 { d } else { ord + d };
                    if want {
                        let c = counts
                            .get_mut(ord as usize)
                            .ok_or_else(|| Error::corrupt("facet column: value out of range"))?;
                        *c += 1;
                    }
                }
                if want {
                    i += 1;
                }
                doc += 1;
            }
        }
        Ok(counts)
    }
}

fn decode_set(bytes: &[u8], doc_count: u32) -> Result<Vec<u32>> {
    let mut r = Reader::new(bytes, "facet value set");
    match r.u8()? {
        0 => {
            let n = r.varint()?;
            if n > doc_count as u64 || n > r.remaining() as u64 {
                return Err(Error::corrupt("facet value set: more documents than bytes"));
            }
            let mut out = Vec::with_capacity(n as usize);
            let mut prev = 0u64;
            for k in 0..n {
                let d = r.varint()?;
                let id = if k == 0 { d } else { prev + d };
                if (k > 0 && d == 0) || id >= doc_count as u64 {
                    return Err(Error::corrupt("facet value set: document out of order"));
                }
                out.push(id as u32);
                prev = id;
            }
            Ok(out)
        }
        1 => {
            let bits = r.bytes((doc_count as usize).div_ceil(8))?;
            Ok((0..doc_count)
                .filter(|&d| bits[d as usize / 8] & (1 << (d % 8)) != 0)
                .collect())
        }
        k => Err(Error::corrupt(format!("facet value set: unknown kind {k}"))),
    }
}

/// An opened FACETS section.
pub struct Facets<'a> {
    facets: Vec<FacetField<'a>>,
    sorts: Vec<(usize, &'a [u8])>,
    doc_count: u32,
}

impl<'a> Facets<'a> {
    /// Reads a FACETS section. With `check`, every value dictionary is walked first (the `fst`
    /// crate trusts its bytes) and every offset table checked: do it once, when the bytes
    /// arrive.
    ///
    /// With `external` (a split dictionary), each field's sets and column are not in the
    /// section: it gives their byte ranges in the data file holding facet data instead.
    pub fn open(
        bytes: &'a [u8],
        doc_count: u32,
        fields: usize,
        check: bool,
        external: bool,
    ) -> Result<Self> {
        let mut r = Reader::new(bytes, "facets");
        let n = r.varint()? as usize;
        if n > fields {
            return Err(Error::corrupt("facets: more fields than the schema"));
        }
        let mut facets = Vec::new();
        let mut sorts = Vec::new();
        let blocks = (doc_count as usize).div_ceil(COLUMN_BLOCK) + 1;
        for _ in 0..n {
            let field = r.varint()? as usize;
            if field >= fields {
                return Err(Error::corrupt("facets: field out of range"));
            }
            match r.varint()? {
                KIND_FACET => {
                    let count = r.varint()? as usize;
                    let fst_bytes = r.len_prefix().and_then(|l| r.bytes(l))?;
                    let mut blob = || -> Result<Blob<'a>> {
                        if external {
                            let start = r.varint()?;
                            let len = r.varint()?;
                            start
                                .checked_add(len)
                                .ok_or_else(|| Error::corrupt("facets: blob range overflows"))?;
                            Ok(Blob::External { start, len })
                        } else {
                            Ok(Blob::Inline(r.len_prefix().and_then(|l| r.bytes(l))?))
                        }
                    };
                    let sets = blob()?;
                    let column = blob()?;
                    if count > sets.len() {
                        return Err(Error::corrupt("facets: more values than bytes"));
                    }
                    let tables = r.len_prefix().and_then(|l| r.bytes(l))?;
                    let want = count.checked_add(1 + blocks).and_then(|n| n.checked_mul(4));
                    if want != Some(tables.len()) {
                        return Err(Error::corrupt("facets: offset tables of the wrong size"));
                    }
                    let (set_offsets, col_offsets) = tables.split_at((count + 1) * 4);
                    if check {
                        crate::fstcheck::check(fst_bytes)
                            .map_err(|e| Error::corrupt(format!("facet values: {e}")))?;
                        for (table, len) in [(set_offsets, sets.len()), (col_offsets, column.len())]
                        {
                            let mut prev = 0;
                            for i in 0..table.len() / 4 {
                                let o = le32(table, i);
                                if o < prev || o > len {
                                    return Err(Error::corrupt("facets: offsets out of order"));
                                }
                                prev = o;
                            }
                        }
                    }
                    let values = fst::Map::new(fst_bytes)
                        .map_err(|e| Error::corrupt(format!("facet values: {e}")))?;
                    if values.len() != count {
                        return Err(Error::corrupt("facets: value count differs"));
                    }
                    if check {
                        // Ordinals index the offset table and name values by position: each
                        // value's is its rank in byte order.
                        let mut s = values.stream();
                        let mut rank = 0u64;
                        while let Some((_, o)) = s.next() {
                            if o != rank {
                                return Err(Error::corrupt("facets: value ordinals out of order"));
                            }
                            rank += 1;
                        }
                    }
                    facets.push(FacetField {
                        field,
                        values,
                        sets,
                        set_offsets,
                        column,
                        col_offsets,
                    });
                }
                KIND_SORT => {
                    let keys = r.len_prefix().and_then(|l| r.bytes(l))?;
                    if keys.len() != doc_count as usize * 8 {
                        return Err(Error::corrupt("facets: sort keys of the wrong size"));
                    }
                    sorts.push((field, keys));
                }
                k => return Err(Error::corrupt(format!("facets: unknown field kind {k}"))),
            }
        }
        Ok(Facets {
            facets,
            sorts,
            doc_count,
        })
    }

    /// The facet field with schema id `field`.
    pub fn field(&self, field: usize) -> Option<&FacetField<'a>> {
        self.facets.iter().find(|f| f.field == field)
    }

    /// Whether schema field `field` has sort keys.
    pub fn sortable(&self, field: usize) -> bool {
        self.sorts.iter().any(|s| s.0 == field)
    }

    /// The sort key of `doc` in sortable field `field` (`NaN` when it has none).
    pub fn sort_key(&self, field: usize, doc: u32) -> Option<f64> {
        let (_, b) = self.sorts.iter().find(|s| s.0 == field)?;
        let i = doc as usize * 8;
        let bytes = b.get(i..i + 8)?;
        Some(f64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    /// The documents `filter` accepts, ascending. `schema` names the fields.
    pub fn eval(&self, filter: &Filter, schema: &Schema, fetch: Fetch<'_>) -> Result<Vec<u32>> {
        filter.check_size()?;
        self.eval_node(filter, schema, fetch)
    }

    /// The ranges of the data file holding facet data that evaluating `filter` reads (the sets
    /// of the values it names; none when they are inline). Names that are not facet fields
    /// need nothing (evaluating reports them).
    pub fn filter_needs(&self, filter: &Filter, schema: &Schema) -> Vec<std::ops::Range<u64>> {
        let mut out = Vec::new();
        let mut stack = vec![filter];
        let mut nodes = 0;
        while let Some(f) = stack.pop() {
            nodes += 1;
            if nodes > MAX_FILTER_NODES {
                break; // evaluating refuses it
            }
            match f {
                Filter::Is { field, value } => {
                    if let Ok(ff) = self.facet_of(field, schema) {
                        out.extend(
                            ff.set_needs(&ff.ordinal(value).into_iter().collect::<Vec<_>>()),
                        );
                    }
                }
                Filter::Prefix { field, prefix } => {
                    if let Ok(ff) = self.facet_of(field, schema) {
                        out.extend(ff.set_needs(&ff.prefix_ordinals(prefix)));
                    }
                }
                Filter::All(v) | Filter::Any(v) => stack.extend(v),
                Filter::Not(g) => stack.push(g),
            }
        }
        out
    }

    /// The facet field named `name` (`InvalidOption` when there is none).
    pub fn facet_of(&self, name: &str, schema: &Schema) -> Result<&FacetField<'a>> {
        schema
            .field(name)
            .and_then(|f| self.field(f))
            .ok_or_else(|| Error::InvalidOption {
                message: format!(
                    "{} is not a facet field of this index",
                    crate::error::Quoted(name)
                ),
            })
    }

    fn eval_node(&self, filter: &Filter, schema: &Schema, fetch: Fetch<'_>) -> Result<Vec<u32>> {
        Ok(match filter {
            Filter::Is { field, value } => {
                let f = self.facet_of(field, schema)?;
                match f.ordinal(value) {
                    Some(o) => f.docs(o, self.doc_count, fetch)?,
                    None => Vec::new(),
                }
            }
            Filter::Prefix { field, prefix } => {
                let f = self.facet_of(field, schema)?;
                let lists = f
                    .prefix_ordinals(prefix)
                    .into_iter()
                    .map(|o| f.docs(o, self.doc_count, fetch))
                    .collect::<Result<Vec<_>>>()?;
                union_ids(lists, self.doc_count)
            }
            Filter::All(v) => {
                let mut acc: Option<Vec<u32>> = None;
                for g in v {
                    let s = self.eval_node(g, schema, fetch)?;
                    acc = Some(match acc {
                        None => s,
                        Some(a) => intersect(&a, &s),
                    });
                }
                acc.unwrap_or_else(|| (0..self.doc_count).collect())
            }
            Filter::Any(v) => {
                let lists = v
                    .iter()
                    .map(|g| self.eval_node(g, schema, fetch))
                    .collect::<Result<Vec<_>>>()?;
                union_ids(lists, self.doc_count)
            }
            Filter::Not(g) => {
                let all: Vec<u32> = (0..self.doc_count).collect();
                subtract_ids(&all, &self.eval_node(g, schema, fetch)?)
            }
        })
    }

    /// Facet counts of `docs` (ascending) for the named fields: per field, each value some of
    /// `docs` carry, with how many do.
    pub fn count(
        &self,
        names: &[String],
        docs: &[u32],
        schema: &Schema,
        fetch: Fetch<'_>,
    ) -> Result<BTreeMap<String, BTreeMap<String, u32>>> {
        let mut out = BTreeMap::new();
        for name in names {
            let f = self.facet_of(name, schema)?;
            let counts = f.counts(docs, fetch)?;
            let mut values = BTreeMap::new();
            for (v, c) in f.values().into_iter().zip(counts) {
                if c > 0 {
                    values.insert(v, c);
                }
            }
            out.insert(name.clone(), values);
        }
        Ok(out)
    }
}

/// Adjacent or overlapping ranges merged (input in any order).
fn coalesce(ranges: impl Iterator<Item = std::ops::Range<u64>>) -> Vec<std::ops::Range<u64>> {
    let mut v: Vec<_> = ranges.filter(|r| r.start < r.end).collect();
    v.sort_by_key(|r| r.start);
    let mut out: Vec<std::ops::Range<u64>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::put_varint;

    /// A hostile split index whose value count and external blob length are huge: the offset
    /// tables' size is computed without overflowing, and the section is refused.
    #[test]
    fn huge_value_count_is_refused_without_overflow() {
        let fst_bytes = fst::MapBuilder::memory().into_inner().unwrap();
        let count = 1u64 << 62;
        let blocks = 1 + 1; // one document: one column block, plus the end offset
        let mut b = Vec::new();
        for v in [1, 0, KIND_FACET, count, fst_bytes.len() as u64] {
            put_varint(&mut b, v);
        }
        b.extend(&fst_bytes);
        for v in [0, count + 10, 0, 0, (1 + blocks) * 4] {
            put_varint(&mut b, v); // sets start, len; column start, len; tables' length
        }
        b.extend(vec![0u8; (1 + blocks as usize) * 4]);
        for check in [false, true] {
            let e = Facets::open(&b, 1, 1, check, true).err().expect("refused");
            assert_eq!(e.code(), "Corrupt", "{e}");
        }
    }

    /// A value dictionary must map its values to their ordinals (0, 1, … in byte order): a
    /// hostile one mapping a value past the offset table is refused when the section is
    /// checked, not indexed out of bounds by a filter naming that value.
    #[test]
    fn value_ordinals_past_the_table_are_refused() {
        let field = |ordinal: u64| {
            let mut m = fst::MapBuilder::memory();
            m.insert("a", ordinal).unwrap();
            let fst_bytes = m.into_inner().unwrap();
            let mut b = Vec::new();
            for v in [1, 0, KIND_FACET, 1, fst_bytes.len() as u64] {
                put_varint(&mut b, v);
            }
            b.extend(&fst_bytes);
            // Sets: one empty delta set; column: one document without values.
            for blob in [&[0u8, 0][..], &[0u8][..]] {
                put_varint(&mut b, blob.len() as u64);
                b.extend(blob);
            }
            put_varint(&mut b, 16);
            for o in [0u32, 2, 0, 1] {
                b.extend(o.to_le_bytes());
            }
            b
        };
        let good = field(0);
        let f = Facets::open(&good, 1, 1, true, false).unwrap();
        let fetch = |_| unreachable!("inline");
        assert_eq!(
            f.field(0).unwrap().docs(0, 1, &fetch).unwrap(),
            Vec::<u32>::new()
        );
        let bad = field(5);
        let e = Facets::open(&bad, 1, 1, true, false)
            .err()
            .expect("refused");
        assert_eq!(e.code(), "Corrupt", "{e}");
    }
}
