//! How are a term's documents, frequencies and positions encoded?
//!
//! Postings come in blocks of [`BLOCK`] documents. A block holds three bit-packed columns, each
//! behind a one-byte bit width: the document-id gaps, the field masks minus one (bit `i` = the
//! `i`-th indexed field), and the term frequencies minus one, one per set mask bit in document
//! order. A term of more than one block starts with a skip table (per block: its last document
//! and where it ends), so that scoring a term on a few candidate documents decodes only the
//! blocks that may hold them ([`decode_postings_for`]). Positions live in a
//! separate stream, so a query without phrases never reads them: for each document in postings
//! order, for each field in its mask, `tf` position gaps as varints.
//!
//! Both decoders take only bytes and the document frequency, so they work on a slice of a whole
//! index file or on a range fetched on its own.

use crate::codec::{bits_needed, pack, packed_len, put_varint, unpack, Reader};
use crate::error::{Error, Result};

/// Documents per postings block.
pub const BLOCK: usize = 128;

/// Bytes of one skip-table entry: the block's last document (u32 LE) and the end of the block
/// (u32 LE, from the end of the skip table).
pub const SKIP_ENTRY: usize = 8;

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
        let blocks_out = &mut Vec::new();
        let mut skips: Vec<(u32, u32)> = Vec::new();
        self.write_blocks(blocks_out, &mut skips);
        if skips.len() > 1 {
            for (last, end) in &skips {
                postings.extend_from_slice(&last.to_le_bytes());
                postings.extend_from_slice(&end.to_le_bytes());
            }
        }
        postings.extend_from_slice(blocks_out);
        positions.extend_from_slice(&self.positions);
    }

    /// Writes the blocks to `postings` and, per block, (last document, end offset) to `skips`.
    fn write_blocks(&self, postings: &mut Vec<u8>, skips: &mut Vec<(u32, u32)>) {
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
            skips.push((prev as u32, postings.len() as u32));
        }
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

/// Decodes `df` postings from `data` (the current format, with skip tables). Every value is
/// checked: ids stay below `doc_count` and ascend, masks stay within `field_count` bits,
/// frequencies are at least 1.
pub fn decode_postings(
    data: &[u8],
    df: u32,
    doc_count: u32,
    field_count: usize,
) -> Result<PostingList> {
    decode_postings_for(data, df, doc_count, field_count, true, None)
}

/// Like [`decode_postings`], for either layout (`skip_table`: format 2 and later write one
/// before the blocks of a term of more than one block; format 1 did not), and with
/// `candidates` (ascending) decoding only the blocks whose document range may hold one of them
/// (which needs a skip table; without one every block is decoded): the list then holds every
/// posting of the candidates, and others near them.
pub fn decode_postings_for(
    data: &[u8],
    df: u32,
    doc_count: u32,
    field_count: usize,
    skip_table: bool,
    candidates: Option<&[u32]>,
) -> Result<PostingList> {
    // Each block of up to 128 documents takes at least 3 bytes, which bounds the allocation.
    let blocks = (df as u64).div_ceil(BLOCK as u64);
    let skip_len = if skip_table && blocks > 1 {
        blocks * SKIP_ENTRY as u64
    } else {
        0
    };
    if blocks * 3 + skip_len > data.len() as u64 || df > doc_count {
        return Err(Error::corrupt(format!(
            "postings claim {df} documents in {} bytes",
            data.len()
        )));
    }
    let (skips, body) = data.split_at(skip_len as usize);
    let skip = |k: usize| -> (u32, usize) {
        let e = &skips[k * SKIP_ENTRY..(k + 1) * SKIP_ENTRY];
        let last = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let end = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
        (last, end)
    };
    let n = df as usize;
    let mut list = PostingList {
        docs: Vec::with_capacity(n),
        masks: Vec::with_capacity(n),
        tf_start: Vec::with_capacity(n + 1),
        tfs: Vec::with_capacity(n),
    };
    list.tf_start.push(0);
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
    let mut candidate = 0usize;
    // (the previous block's last document, where this block starts) as the skip table says.
    let mut prev: i64 = -1;
    let mut at = 0usize;
    for k in 0..blocks as usize {
        let len = (n - k * BLOCK).min(BLOCK);
        let (last, end) = if skip_len > 0 {
            let (last, end) = skip(k);
            if end < at || end > body.len() || (last as i64) <= prev || last >= doc_count {
                return Err(Error::corrupt("postings skip table out of order"));
            }
            (last as i64, end)
        } else {
            (i64::MAX, body.len())
        };
        if let Some(c) = candidates {
            while candidate < c.len() && (c[candidate] as i64) <= prev {
                candidate += 1;
            }
            if skip_len > 0 && (candidate == c.len() || c[candidate] as i64 > last) {
                // No candidate in (prev, last]: skip the block.
                prev = last;
                at = end;
                continue;
            }
        }
        let mut r = Reader::new(&body[at..], "postings");
        let mut doc_prev = prev;
        read_column(&mut r, len, &mut col)?;
        for &g in &col {
            let doc = doc_prev + 1 + g as i64;
            if doc >= doc_count as i64 {
                return Err(Error::corrupt(format!(
                    "posting for document {doc} of {doc_count}"
                )));
            }
            doc_prev = doc;
            list.docs.push(doc as u32);
        }
        if skip_len > 0 && doc_prev != last {
            return Err(Error::corrupt(
                "postings block ends on another document than its skip entry says",
            ));
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
        let mut t = base;
        for &m in &list.masks[list.masks.len() - len..] {
            t += m.count_ones();
            list.tf_start.push(t);
        }
        let used = body.len() - at - r.remaining();
        if skip_len > 0 && at + used != end {
            return Err(Error::corrupt(
                "postings block ends elsewhere than its skip entry says",
            ));
        }
        at += used;
        prev = doc_prev;
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

    /// The postings and positions bytes of one term.
    fn write(postings: &[Posting], positions: &[Vec<u32>]) -> (Vec<u8>, Vec<u8>) {
        let mut w = PostingsWriter::default();
        let mut k = 0;
        for p in postings {
            let per_field: Vec<&[u32]> = positions[k..k + p.tfs.len()]
                .iter()
                .map(|v| v.as_slice())
                .collect();
            k += p.tfs.len();
            w.add(p.doc, p.mask, &per_field);
        }
        let (mut buf, mut pbuf) = (Vec::new(), Vec::new());
        w.finish(&mut buf, &mut pbuf);
        (buf, pbuf)
    }

    proptest! {
        #[test]
        fn postings_and_positions_round_trip((postings, positions) in arb_postings()) {
            let (buf, pbuf) = write(&postings, &positions);
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
            for skips in [false, true] {
                let _ = decode_postings_for(&data, df, 1000, 3, skips, Some(&[5, 200, 999]));
            }
        }

        /// With candidates, exactly the blocks that may hold one are decoded: every posting of
        /// a candidate is there, and the list is the union of those whole blocks. The format 1
        /// layout (no skip table) decodes to the same full list.
        #[test]
        fn candidate_blocks_and_both_layouts((postings, positions) in arb_postings(),
                                             candidates in proptest::collection::btree_set(0u32..5000, 0..40)) {
            let (buf, _) = write(&postings, &positions);
            let df = postings.len() as u32;
            let full = decode_postings(&buf, df, 5000, 3).unwrap();
            // Format 1: the same blocks without the skip table.
            let blocks = postings.len().div_ceil(BLOCK);
            let table = if blocks > 1 { blocks * SKIP_ENTRY } else { 0 };
            prop_assert_eq!(&decode_postings_for(&buf[table..], df, 5000, 3, false, None).unwrap(), &full);
            let candidates: Vec<u32> = candidates.into_iter().collect();
            let part = decode_postings_for(&buf, df, 5000, 3, true, Some(&candidates)).unwrap();
            let want: Vec<usize> = (0..blocks)
                .filter(|&b| {
                    let docs = &full.docs[b * BLOCK..((b + 1) * BLOCK).min(full.len())];
                    let lo = if b == 0 { 0 } else { full.docs[b * BLOCK - 1] + 1 };
                    let hi = *docs.last().unwrap();
                    blocks == 1 || candidates.iter().any(|&c| c >= lo && c <= hi)
                })
                .collect();
            let mut expect = PostingList { tf_start: vec![0], ..Default::default() };
            for b in want {
                for i in b * BLOCK..((b + 1) * BLOCK).min(full.len()) {
                    expect.docs.push(full.docs[i]);
                    expect.masks.push(full.masks[i]);
                    expect.tfs.extend_from_slice(full.tfs_of(i));
                    expect.tf_start.push(expect.tfs.len() as u32);
                }
            }
            prop_assert_eq!(&part, &expect);
            for &c in &candidates {
                if let Ok(i) = full.docs.binary_search(&c) {
                    let j = part.docs.binary_search(&c);
                    prop_assert!(j.is_ok(), "candidate {} lost", c);
                    prop_assert_eq!(part.tfs_of(j.unwrap()), full.tfs_of(i));
                }
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
