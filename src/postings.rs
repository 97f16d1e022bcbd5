//! How are a term's documents, frequencies and positions encoded?
//!
//! Postings come in blocks of [`BLOCK`] documents. A block holds three bit-packed columns, each
//! behind a one-byte bit width: the document-id gaps, the field masks minus one (bit `i` = the
//! `i`-th indexed field), and the term frequencies minus one, one per set mask bit in document
//! order. Positions live in a
//! separate stream, so a query without phrases never reads them: for each document in postings
//! order, for each field in its mask, `tf` position gaps as varints.
//!
//! Both decoders take only bytes and the document frequency, so they work on a slice of a whole
//! index file or on a range fetched on its own.

use crate::codec::{bits_needed, pack, packed_len, put_varint, unpack, Reader};
use crate::error::{Error, Result};

/// Documents per postings block.
pub const BLOCK: usize = 128;

/// One document of a term's postings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    /// Document id.
    pub doc: u32,
    /// Field bit mask.
    pub mask: u16,
    /// Term frequency per set bit of `mask`, lowest bit first.
    pub tfs: Vec<u32>,
}

/// Decoded postings of one term, laid out flat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostingList {
    /// Document ids, ascending.
    pub docs: Vec<u32>,
    /// Field mask per document.
    pub masks: Vec<u16>,
    /// Start of each document's frequencies in `tfs` (one more entry than `docs`).
    pub tf_start: Vec<u32>,
    /// Term frequencies, per document per set mask bit.
    pub tfs: Vec<u32>,
}

impl PostingList {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The frequencies of document `i`, one per set bit of its mask.
    pub fn tfs_of(&self, i: usize) -> &[u32] {
        &self.tfs[self.tf_start[i] as usize..self.tf_start[i + 1] as usize]
    }
}

/// Accumulates one term's postings and positions document by document, in id order.
#[derive(Clone, Debug, Default)]
pub struct PostingsWriter {
    docs: Vec<u32>,
    masks: Vec<u16>,
    tfs: Vec<u32>,
    /// Number of frequencies before each block.
    block_tf_starts: Vec<u32>,
    positions: Vec<u8>,
}

impl PostingsWriter {
    /// Adds a document (ids must ascend): its field mask and, per set bit, the positions.
    pub fn add(&mut self, doc: u32, mask: u16, positions_per_field: &[&[u32]]) {
        debug_assert!(self.docs.last().is_none_or(|&d| d < doc));
        debug_assert!(mask != 0 && mask.count_ones() as usize == positions_per_field.len());
        if self.docs.len() % BLOCK == 0 {
            self.block_tf_starts.push(self.tfs.len() as u32);
        }
        self.docs.push(doc);
        self.masks.push(mask);
        for p in positions_per_field {
            self.tfs.push(p.len() as u32);
            encode_positions(p, &mut self.positions);
        }
    }

    /// Number of documents so far.
    pub fn doc_freq(&self) -> u32 {
        self.docs.len() as u32
    }

    /// Appends the encoded postings to `postings` and the positions to `positions`.
    pub fn finish(&self, postings: &mut Vec<u8>, positions: &mut Vec<u8>) {
        let mut prev: i64 = -1;
        let mut col = Vec::with_capacity(BLOCK);
        let put_column = |out: &mut Vec<u8>, values: &[u32]| {
            let width = values.iter().map(|&g| bits_needed(g)).max().unwrap_or(0);
            out.push(width);
            pack(out, values, width);
        };
        for (k, block) in self.docs.chunks(BLOCK).enumerate() {
            col.clear();
            for &d in block {
                col.push((d as i64 - prev - 1) as u32);
                prev = d as i64;
            }
            put_column(postings, &col);
            col.clear();
            col.extend(
                self.masks[k * BLOCK..k * BLOCK + block.len()]
                    .iter()
                    .map(|&m| m as u32 - 1),
            );
            put_column(postings, &col);
            let start = self.block_tf_starts[k] as usize;
            let end = self
                .block_tf_starts
                .get(k + 1)
                .map(|&e| e as usize)
                .unwrap_or(self.tfs.len());
            col.clear();
            col.extend(self.tfs[start..end].iter().map(|&t| t - 1));
            put_column(postings, &col);
        }
        positions.extend_from_slice(&self.positions);
    }
}

/// Encodes postings (documents strictly ascending, non-empty masks, tfs ≥ 1) into `out`,
/// without positions (a test and tooling helper over [`PostingsWriter`]).
pub fn encode_postings(postings: &[Posting], out: &mut Vec<u8>) {
    let mut w = PostingsWriter::default();
    let fake: Vec<Vec<u32>> = postings
        .iter()
        .flat_map(|p| p.tfs.iter().map(|&tf| (0..tf).collect()))
        .collect();
    let mut k = 0;
    for p in postings {
        let per_field: Vec<&[u32]> = fake[k..k + p.tfs.len()]
            .iter()
            .map(|v| v.as_slice())
            .collect();
        k += p.tfs.len();
        w.add(p.doc, p.mask, &per_field);
    }
    w.finish(out, &mut Vec::new());
}

/// Decodes `df` postings from `data`. Every value is checked: ids stay below `doc_count` and
/// ascend, masks stay within `field_count` bits, frequencies are at least 1.
pub fn decode_postings(
    data: &[u8],
    df: u32,
    doc_count: u32,
    field_count: usize,
) -> Result<PostingList> {
    let mut r = Reader::new(data, "postings");
    // Each block of up to 128 documents takes at least 3 bytes, which bounds the allocation.
    if (df as u64).div_ceil(BLOCK as u64) * 3 > data.len() as u64 || df > doc_count {
        return Err(Error::corrupt(format!(
            "postings claim {df} documents in {} bytes",
            data.len()
        )));
    }
    let n = df as usize;
    let mut list = PostingList {
        docs: Vec::with_capacity(n),
        masks: Vec::with_capacity(n),
        tf_start: Vec::with_capacity(n + 1),
        tfs: Vec::with_capacity(n),
    };
    list.tf_start.push(0);
    let mut prev: i64 = -1;
    let mut col = Vec::with_capacity(BLOCK);
    let allowed: u32 = if field_count >= 16 {
        0xffff
    } else {
        (1u32 << field_count) - 1
    };
    let read_column = |r: &mut Reader<'_>, len: usize, col: &mut Vec<u32>| -> Result<()> {
        let width = r.u8()?;
        if width > 32 {
            return Err(Error::corrupt(format!("postings bit width {width}")));
        }
        col.clear();
        unpack(r.bytes(packed_len(len, width))?, width, len, col)
    };
    let mut left = n;
    while left > 0 {
        let len = left.min(BLOCK);
        read_column(&mut r, len, &mut col)?;
        for &g in &col {
            let doc = prev + 1 + g as i64;
            if doc >= doc_count as i64 {
                return Err(Error::corrupt(format!(
                    "posting for document {doc} of {doc_count}"
                )));
            }
            prev = doc;
            list.docs.push(doc as u32);
        }
        read_column(&mut r, len, &mut col)?;
        let mut tf_count = 0usize;
        for &m in &col {
            let mask = m.wrapping_add(1);
            if mask == 0 || mask & !allowed != 0 {
                return Err(Error::corrupt(format!(
                    "posting field mask {mask:#x} for {field_count} fields"
                )));
            }
            list.masks.push(mask as u16);
            tf_count += mask.count_ones() as usize;
        }
        read_column(&mut r, tf_count, &mut col)?;
        let base = list.tfs.len() as u32;
        list.tfs.extend(col.iter().map(|&t| t.saturating_add(1)));
        let mut k = base;
        for &m in &list.masks[list.masks.len() - len..] {
            k += m.count_ones();
            list.tf_start.push(k);
        }
        left -= len;
    }
    Ok(list)
}

/// Encodes the positions of one document-field (ascending) as gaps.
pub fn encode_positions(positions: &[u32], out: &mut Vec<u8>) {
    let mut prev = 0u32;
    for (i, &p) in positions.iter().enumerate() {
        put_varint(out, if i == 0 { p } else { p - prev } as u64);
        prev = p;
    }
}

/// Positions of one term, per posting and field: `positions[start[k]..start[k+1]]` for the
/// `k`-th (document, set field) pair in postings order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PositionList {
    /// Offsets into `positions`.
    pub start: Vec<u32>,
    /// All positions.
    pub positions: Vec<u32>,
}

/// Decodes the positions stream of a term whose postings are `list`.
pub fn decode_positions(data: &[u8], list: &PostingList) -> Result<PositionList> {
    let total: u64 = list.tfs.iter().map(|&t| t as u64).sum();
    if total > data.len() as u64 {
        return Err(Error::corrupt(format!(
            "{total} positions in {} bytes",
            data.len()
        )));
    }
    let mut r = Reader::new(data, "positions");
    let mut out = PositionList {
        start: Vec::with_capacity(list.tfs.len() + 1),
        positions: Vec::with_capacity(total as usize),
    };
    out.start.push(0);
    for &tf in &list.tfs {
        let mut p: u32 = 0;
        for i in 0..tf {
            let gap = r.varint_u32()?;
            p = if i == 0 {
                gap
            } else {
                p.checked_add(gap)
                    .ok_or_else(|| Error::corrupt("position overflows 32 bits"))?
            };
            out.positions.push(p);
        }
        out.start.push(out.positions.len() as u32);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_postings() -> impl Strategy<Value = (Vec<Posting>, Vec<Vec<u32>>)> {
        proptest::collection::btree_set(0u32..5000, 0..400).prop_flat_map(|docs| {
            let docs: Vec<u32> = docs.into_iter().collect();
            let n = docs.len();
            (
                Just(docs),
                proptest::collection::vec(1u16..8, n),
                proptest::collection::vec(proptest::collection::btree_set(0u32..300, 1..4), n * 3),
            )
                .prop_map(|(docs, masks, pos)| {
                    let mut postings = Vec::new();
                    let mut positions = Vec::new();
                    let mut k = 0;
                    for (d, m) in docs.into_iter().zip(masks) {
                        let mut tfs = Vec::new();
                        for _ in 0..m.count_ones() {
                            let p: Vec<u32> = pos[k].iter().copied().collect();
                            k += 1;
                            tfs.push(p.len() as u32);
                            positions.push(p);
                        }
                        postings.push(Posting {
                            doc: d,
                            mask: m,
                            tfs,
                        });
                    }
                    (postings, positions)
                })
        })
    }

    proptest! {
        #[test]
        fn postings_and_positions_round_trip((postings, positions) in arb_postings()) {
            let mut w = PostingsWriter::default();
            let mut k = 0;
            for p in &postings {
                let per_field: Vec<&[u32]> = positions[k..k + p.tfs.len()].iter().map(|v| v.as_slice()).collect();
                k += p.tfs.len();
                w.add(p.doc, p.mask, &per_field);
            }
            let (mut buf, mut pbuf) = (Vec::new(), Vec::new());
            w.finish(&mut buf, &mut pbuf);
            let list = decode_postings(&buf, postings.len() as u32, 5000, 3).unwrap();
            prop_assert_eq!(list.len(), postings.len());
            for (i, p) in postings.iter().enumerate() {
                prop_assert_eq!(list.docs[i], p.doc);
                prop_assert_eq!(list.masks[i], p.mask);
                prop_assert_eq!(list.tfs_of(i), &p.tfs[..]);
            }
            let pl = decode_positions(&pbuf, &list).unwrap();
            for (k, p) in positions.iter().enumerate() {
                prop_assert_eq!(&pl.positions[pl.start[k] as usize..pl.start[k + 1] as usize], &p[..]);
            }
        }

        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), df in 0u32..300) {
            if let Ok(list) = decode_postings(&data, df, 1000, 3) {
                let _ = decode_positions(&data, &list);
            }
        }
    }

    #[test]
    fn rejects_out_of_range_values() {
        let p = vec![Posting {
            doc: 7,
            mask: 1,
            tfs: vec![2],
        }];
        let mut buf = Vec::new();
        encode_postings(&p, &mut buf);
        assert!(decode_postings(&buf, 1, 8, 1).is_ok());
        assert!(
            decode_postings(&buf, 1, 7, 1).is_err(),
            "doc id beyond doc count"
        );
        let p = vec![Posting {
            doc: 0,
            mask: 0b100,
            tfs: vec![1],
        }];
        let mut buf = Vec::new();
        encode_postings(&p, &mut buf);
        assert!(
            decode_postings(&buf, 1, 8, 2).is_err(),
            "mask beyond field count"
        );
        assert!(
            decode_postings(&buf, 1_000_000, 8, 3).is_err(),
            "df beyond data"
        );
    }
}
