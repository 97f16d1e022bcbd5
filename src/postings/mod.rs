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

use crate::codec::{bits_needed, pack, packed_len, put_varint, unpack, unpack_into, Reader};
use std::ops::Range;

use crate::error::{Error, Result};

mod positions;
pub use positions::{decode_positions, encode_positions, PositionList};

/// Documents per postings block.
pub const BLOCK: usize = 128;

/// Whether a term of `doc_freq` documents, `names` of them holding it in a name field, has
/// name-field postings of its own (format 7): when its postings take more than one block and
/// it names a few documents (1 to a block of them) but not all of its documents. A word in many
/// titles (`library` in Debian's) is not what a typed prefix names, and its name-field list
/// would cost nearly its postings again. The builder writes them, and the searcher reads a
/// completion through them, by this one rule.
pub fn has_name_postings(doc_freq: u32, names: u32) -> bool {
    doc_freq as usize > BLOCK && names > 0 && names as usize <= BLOCK && names < doc_freq
}

/// Bytes of one skip-table entry: the block's last document (u32 LE) and the end of the block
/// (u32 LE, from the end of the skip table).
pub const SKIP_ENTRY: usize = 8;

#[cfg(test)]
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

/// Accumulates one term's postings and positions document by document, in id order. It holds
/// them as varints (document gap, mask, frequencies), a third of their size as columns: a build
/// holds every term's at once, so this is most of its memory. [`Self::decode`] decodes them.
#[derive(Clone, Debug, Default)]
pub struct PostingsWriter {
    /// Per document: `doc − previous − 1`, the mask, then one frequency per set mask bit.
    stream: Vec<u8>,
    doc_freq: u32,
    /// The last document added (meaningless while `doc_freq` is 0).
    last: u32,
    positions: Vec<u8>,
    /// Every occurrence so far was a word's written form beside its stem (format 7): the
    /// term's positions are left out, as phrases match stems.
    written_form_only: bool,
}

impl PostingsWriter {
    /// The term was only ever met as a word's written form beside its stem: the builder
    /// leaves its positions out.
    pub fn set_written_form_only(&mut self) {
        self.written_form_only = true;
    }

    /// Whether the term's positions are written: not for a term only ever met as a word's
    /// written form.
    pub fn writes_positions(&self) -> bool {
        !self.written_form_only
    }

    /// Adds a document (ids must ascend): its field mask and, per set bit, the positions.
    pub fn add(&mut self, doc: u32, mask: u16, positions_per_field: &[&[u32]]) {
        debug_assert!(self.doc_freq == 0 || self.last < doc);
        debug_assert!(mask != 0 && mask.count_ones() as usize == positions_per_field.len());
        let gap = match self.doc_freq {
            0 => doc,
            _ => doc - self.last - 1,
        };
        put_varint(&mut self.stream, gap as u64);
        put_varint(&mut self.stream, mask as u64);
        for p in positions_per_field {
            put_varint(&mut self.stream, p.len() as u64);
            encode_positions(p, &mut self.positions);
        }
        self.doc_freq += 1;
        self.last = doc;
    }

    /// Bytes held (postings and positions), a measure of the work of writing the term (for
    /// the native build's two writing threads).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn encoded_len(&self) -> usize {
        self.stream.len() + self.positions.len()
    }

    /// Number of documents so far.
    pub fn doc_freq(&self) -> u32 {
        self.doc_freq
    }

    /// The postings decoded, to write.
    pub fn decode(&self) -> Decoded {
        let mut out = Decoded::default();
        let mut stream = Reader::new(&self.stream, "a term's postings being built");
        let mut next = || {
            (stream.varint_u32())
                .expect("the writer reads back the varints it wrote, of values under 2^32")
        };
        let mut prev: i64 = -1;
        for _ in 0..self.doc_freq {
            let doc = (prev + 1 + next() as i64) as u32;
            prev = doc as i64;
            let mask = next() as u16;
            let tfs: Vec<u32> = (0..mask.count_ones()).map(|_| next()).collect();
            out.push(doc, mask, &tfs);
        }
        out
    }

    /// The encoded positions (written whatever [`Self::writes_positions`] says).
    pub fn positions(&self) -> &[u8] {
        &self.positions
    }

    /// Appends the encoded postings to `postings` (in the current layout, [`Layout::Impacts`],
    /// with `impact` giving each posting's impact byte) and the positions to `positions`
    /// (none for a term only ever met as a written form).
    #[cfg(test)]
    pub fn finish(
        &self,
        postings: &mut Vec<u8>,
        positions: &mut Vec<u8>,
        impact: impl Fn(u32, u16, &[u32]) -> u8,
    ) {
        self.decode().write(postings, impact);
        if self.writes_positions() {
            positions.extend_from_slice(&self.positions);
        }
    }
}

/// A term's postings decoded from a [`PostingsWriter`]: documents, masks and frequencies.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    docs: Vec<u32>,
    masks: Vec<u16>,
    tfs: Vec<u32>,
    /// Number of frequencies before each block.
    block_tf_starts: Vec<u32>,
}

impl Decoded {
    fn push(&mut self, doc: u32, mask: u16, tfs: &[u32]) {
        if self.docs.len() % BLOCK == 0 {
            self.block_tf_starts.push(self.tfs.len() as u32);
        }
        self.docs.push(doc);
        self.masks.push(mask);
        self.tfs.extend_from_slice(tfs);
    }

    /// Number of documents.
    pub fn doc_freq(&self) -> u32 {
        self.docs.len() as u32
    }

    /// Appends the encoded postings to `postings` (in the current layout, [`Layout::Impacts`],
    /// with `impact` giving each posting's impact byte).
    pub fn write(&self, postings: &mut Vec<u8>, impact: impl Fn(u32, u16, &[u32]) -> u8) {
        let blocks_out = &mut Vec::new();
        let mut skips: Vec<(u32, u32)> = Vec::new();
        self.write_blocks(blocks_out, &mut skips);
        if skips.len() > 1 {
            for (last, end) in &skips {
                postings.extend_from_slice(&last.to_le_bytes());
                postings.extend_from_slice(&end.to_le_bytes());
            }
            for (k, block) in self.docs.chunks(BLOCK).enumerate() {
                let mut best = 0u8;
                let mut t = self.block_tf_starts[k] as usize;
                for (i, &doc) in block.iter().enumerate() {
                    let mask = self.masks[k * BLOCK + i];
                    let n = mask.count_ones() as usize;
                    best = best.max(impact(doc, mask, &self.tfs[t..t + n]));
                    t += n;
                }
                postings.push(best);
            }
        }
        postings.extend_from_slice(blocks_out);
    }

    /// The postings of the documents whose mask holds a bit of `names` alone (no positions),
    /// for a name-field list ([`crate::terminfo::TermInfo::names_postings`]).
    pub fn name_subset(&self, names: u16) -> Decoded {
        let mut out = Decoded::default();
        let mut t = 0usize;
        for (&doc, &mask) in self.docs.iter().zip(&self.masks) {
            let n = mask.count_ones() as usize;
            if mask & names != 0 {
                out.push(doc, mask, &self.tfs[t..t + n]);
            }
            t += n;
        }
        out
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

#[cfg(test)]
/// Encodes postings (documents strictly ascending, non-empty masks, tfs ≥ 1) into `out`,
/// without positions (a test and tooling helper over [`PostingsWriter`]).
pub fn encode_postings(postings: &[Posting], out: &mut Vec<u8>) {
    let fake: Vec<Vec<u32>> = postings
        .iter()
        .flat_map(|p| p.tfs.iter().map(|&tf| (0..tf).collect()))
        .collect();
    out.extend(write_term(postings, &fake, |_, _, _| 255).0);
}

#[cfg(test)]
/// The postings and positions bytes of one term: `positions` holds one list per (document, set
/// field bit) pair in postings order; `impact` gives each posting's impact byte.
fn write_term(
    postings: &[Posting],
    positions: &[Vec<u32>],
    impact: impl Fn(u32, u16, &[u32]) -> u8,
) -> (Vec<u8>, Vec<u8>) {
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
    w.finish(&mut buf, &mut pbuf, impact);
    (buf, pbuf)
}

/// How a format version lays out a term's postings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Format 1: the blocks only.
    Blocks,
    /// Format 2: a term of more than one block starts with a skip table.
    Skips,
    /// Format 3 (current): the skip table is followed by one impact byte per block.
    Impacts,
}

impl Layout {
    /// The layout of format `version`.
    pub fn of_version(version: u32) -> Layout {
        match version {
            0 | 1 => Layout::Blocks,
            2 => Layout::Skips,
            _ => Layout::Impacts,
        }
    }

    /// Bytes before the blocks of a term of `blocks` blocks.
    fn table_len(self, blocks: u64) -> u64 {
        match self {
            _ if blocks <= 1 => 0,
            Layout::Blocks => 0,
            Layout::Skips => blocks * SKIP_ENTRY as u64,
            Layout::Impacts => blocks * (SKIP_ENTRY as u64 + 1),
        }
    }
}

/// Which columns of a block to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// Document ids only (enough to count and intersect).
    Docs,
    /// Document ids and field masks (enough to match a field restriction).
    Masks,
    /// Everything (enough to score).
    All,
}

/// One decoded block: a [`PostingList`] of at most `BLOCK` (128) documents, with the columns asked
/// for (`masks` and `tfs` stay empty when not decoded).
pub type Block = PostingList;

/// A term's encoded postings, opened for reading block by block. Opening checks lengths only;
/// every block is checked as it is decoded, and each skip entry as it is read.
#[derive(Clone, Copy, Debug)]
pub struct Blocks<'d> {
    /// The skip entries (empty without a table).
    table: &'d [u8],
    /// The impact bytes (empty without them).
    impacts: &'d [u8],
    body: &'d [u8],
    df: u32,
    doc_count: u32,
    field_count: usize,
}

impl<'d> Blocks<'d> {
    /// Opens the `df` postings of a term laid out as `layout` in `data`.
    pub fn open(
        data: &'d [u8],
        df: u32,
        doc_count: u32,
        field_count: usize,
        layout: Layout,
    ) -> Result<Blocks<'d>> {
        // Each block of up to 128 documents takes at least 3 bytes, which bounds allocations.
        let blocks = (df as u64).div_ceil(BLOCK as u64);
        let table_len = layout.table_len(blocks);
        if blocks * 3 + table_len > data.len() as u64 || df > doc_count {
            return Err(Error::corrupt(format!(
                "postings claim {df} documents in {} bytes",
                data.len()
            )));
        }
        let (head, body) = data.split_at(table_len as usize);
        let (table, impacts) = match layout {
            Layout::Impacts if blocks > 1 => head.split_at(blocks as usize * SKIP_ENTRY),
            _ => (head, &head[head.len()..]),
        };
        Ok(Blocks {
            table,
            impacts,
            body,
            df,
            doc_count,
            field_count,
        })
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        (self.df as usize).div_ceil(BLOCK)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.df == 0
    }

    /// Whether the blocks have a skip table (else block `k + 1` starts where block `k`'s
    /// decoding ended, and no block's last document is known before it is decoded).
    pub fn has_skips(&self) -> bool {
        !self.table.is_empty()
    }

    /// Documents in block `k`.
    pub fn block_len(&self, k: usize) -> usize {
        (self.df as usize)
            .saturating_sub(k.saturating_mul(BLOCK))
            .min(BLOCK)
    }

    /// Block `k`'s impact byte (255 when the layout has none).
    pub fn impact(&self, k: usize) -> u8 {
        self.impacts.get(k).copied().unwrap_or(255)
    }

    fn raw_entry(&self, k: usize) -> Result<(u32, usize)> {
        let e = self
            .table
            .get(k * SKIP_ENTRY..(k + 1) * SKIP_ENTRY)
            .ok_or_else(|| Error::corrupt(format!("postings have no skip entry {k}")))?;
        let last = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let end = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
        Ok((last, end))
    }

    /// Block `k`'s skip entry, checked against its predecessor: (the last document of the
    /// block before, or -1; the block's last document; its byte range in the body). An error
    /// without a skip table.
    pub fn entry(&self, k: usize) -> Result<(i64, u32, Range<usize>)> {
        let (prev, start) = match k {
            0 => (-1i64, 0usize),
            _ => {
                let (p, s) = self.raw_entry(k - 1)?;
                (p as i64, s)
            }
        };
        let (last, end) = self.raw_entry(k)?;
        if end < start || end > self.body.len() || (last as i64) <= prev || last >= self.doc_count {
            return Err(Error::corrupt("postings skip table out of order"));
        }
        Ok((prev, last, start..end))
    }

    /// Decodes block `k`, which starts at byte `start` of the body after document `prev` (from
    /// [`Blocks::entry`], or from decoding the blocks before it), into `out`; returns where it
    /// ends. With [`Columns::All`] that end is checked against the skip table.
    pub fn decode(
        &self,
        k: usize,
        start: usize,
        prev: i64,
        columns: Columns,
        out: &mut Block,
    ) -> Result<usize> {
        out.docs.clear();
        out.masks.clear();
        out.tfs.clear();
        out.tf_start.clear();
        out.tf_start.push(0);
        self.decode_into(k, start, prev, columns, out)
    }

    /// Like [`Blocks::decode`], appending to `out` (whose `tf_start` must not be empty).
    fn decode_into(
        &self,
        k: usize,
        start: usize,
        prev: i64,
        columns: Columns,
        out: &mut Block,
    ) -> Result<usize> {
        let len = self.block_len(k);
        if len == 0 {
            return Err(Error::corrupt(format!("postings have no block {k}")));
        }
        let skip = if self.has_skips() {
            let (_, last, range) = self.entry(k)?;
            if range.start != start {
                return Err(Error::corrupt(
                    "postings block starts elsewhere than its skip entry",
                ));
            }
            Some((last, range.end))
        } else {
            None
        };
        let body = self.body.get(start..).unwrap_or(&[]);
        let mut r = Reader::new(body, "postings");
        // The gaps are unpacked in place and summed into ids.
        let at = out.docs.len();
        read_column(&mut r, len, &mut out.docs)?;
        // Ids only grow (each gap adds at least one, and 128 gaps of at most 2^32 cannot
        // overflow an i64), so the block's last id is its largest: one check for the block.
        let mut doc_prev = prev;
        for d in &mut out.docs[at..] {
            doc_prev += 1 + *d as i64;
            *d = doc_prev as u32;
        }
        if doc_prev >= self.doc_count as i64 {
            return Err(Error::corrupt(format!(
                "posting for document {doc_prev} of {}",
                self.doc_count
            )));
        }
        if let Some((last, _)) = skip {
            if doc_prev != last as i64 {
                return Err(Error::corrupt(
                    "postings block ends on another document than its skip entry says",
                ));
            }
        }
        if columns == Columns::Docs {
            return Ok(start + body.len() - r.remaining());
        }
        let allowed: u32 = if self.field_count >= 16 {
            0xffff
        } else {
            (1u32 << self.field_count) - 1
        };
        // `block_len` is at most BLOCK.
        let mut masks = [0u32; BLOCK];
        let (width, bytes) = column(&mut r, len)?;
        unpack_into(bytes, width, &mut masks[..len])?;
        let mut tf_count = 0usize;
        // Each mask's field count, counted once for the two loops that need it.
        let mut fields = [0u32; BLOCK];
        for (&m, f) in masks[..len].iter().zip(&mut fields) {
            let mask = m.wrapping_add(1);
            if mask == 0 || mask & !allowed != 0 {
                return Err(Error::corrupt(format!(
                    "posting field mask {mask:#x} for {} fields",
                    self.field_count
                )));
            }
            *f = mask.count_ones();
            tf_count += *f as usize;
        }
        // (Extended from a slice, not pushed one by one: no capacity check per value.)
        (out.masks).extend(masks[..len].iter().map(|&m| m.wrapping_add(1) as u16));
        if columns == Columns::Masks {
            return Ok(start + body.len() - r.remaining());
        }
        let at = out.tfs.len();
        read_column(&mut r, tf_count, &mut out.tfs)?;
        for t in &mut out.tfs[at..] {
            *t = t.saturating_add(1);
        }
        let base = *out.tf_start.last().unwrap_or(&0);
        let mut t = base;
        out.tf_start.extend(fields[..len].iter().map(|&f| {
            t += f;
            t
        }));
        let end = start + body.len() - r.remaining();
        if let Some((_, want)) = skip {
            if end != want {
                return Err(Error::corrupt(
                    "postings block ends elsewhere than its skip entry says",
                ));
            }
        }
        Ok(end)
    }
}

/// The next column of `len` values: its bit width and its bytes.
fn column<'b>(r: &mut Reader<'b>, len: usize) -> Result<(u8, &'b [u8])> {
    let width = r.u8()?;
    if width > 32 {
        return Err(Error::corrupt(format!("postings bit width {width}")));
    }
    Ok((width, r.bytes(packed_len(len, width))?))
}

/// Appends the next column of `len` values to `col`.
fn read_column(r: &mut Reader<'_>, len: usize, col: &mut Vec<u32>) -> Result<()> {
    let (width, bytes) = column(r, len)?;
    unpack(bytes, width, len, col)
}

/// Decodes `df` postings from `data` (the current layout). Every value is checked: ids stay
/// below `doc_count` and ascend, masks stay within `field_count` bits, frequencies are at
/// least 1.
pub fn decode_postings(
    data: &[u8],
    df: u32,
    doc_count: u32,
    field_count: usize,
) -> Result<PostingList> {
    decode_postings_for(data, df, doc_count, field_count, Layout::Impacts, None)
}

/// Like [`decode_postings`], for any layout, and with `candidates` (ascending) decoding only
/// the blocks whose document range may hold one of them (which needs a skip table; without
/// one every block is decoded): the list then holds every posting of the candidates, and
/// others near them.
pub fn decode_postings_for(
    data: &[u8],
    df: u32,
    doc_count: u32,
    field_count: usize,
    layout: Layout,
    candidates: Option<&[u32]>,
) -> Result<PostingList> {
    let blocks = Blocks::open(data, df, doc_count, field_count, layout)?;
    let n = df as usize;
    let mut list = PostingList {
        docs: Vec::with_capacity(n),
        masks: Vec::with_capacity(n),
        tf_start: Vec::with_capacity(n + 1),
        tfs: Vec::with_capacity(n),
    };
    list.tf_start.push(0);
    let mut candidate = 0usize;
    // (the previous block's last document, where this block starts)
    let mut prev: i64 = -1;
    let mut at = 0usize;
    for k in 0..blocks.len() {
        if blocks.has_skips() {
            let (_, last, range) = blocks.entry(k)?;
            if let Some(c) = candidates {
                while candidate < c.len() && (c[candidate] as i64) <= prev {
                    candidate += 1;
                }
                if candidate == c.len() || c[candidate] > last {
                    // No candidate in (prev, last]: skip the block.
                    prev = last as i64;
                    at = range.end;
                    continue;
                }
            }
        }
        at = blocks.decode_into(k, at, prev, Columns::All, &mut list)?;
        prev = *list.docs.last().unwrap_or(&0) as i64;
    }
    Ok(list)
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

    /// The postings and positions bytes of one term, with made-up impacts.
    fn write(postings: &[Posting], positions: &[Vec<u32>]) -> (Vec<u8>, Vec<u8>) {
        write_term(postings, positions, |doc, _, tfs| {
            (doc % 7) as u8 + tfs[0] as u8
        })
    }

    proptest! {
        /// The writer's varint stream gives back what it was given, at any id, any mask of 16
        /// fields and frequencies of several varint bytes.
        #[test]
        fn the_writer_decodes_what_it_was_given(
            docs in proptest::collection::btree_set(0u32..u32::MAX, 1..20),
            masks in proptest::collection::vec(1u16..=u16::MAX, 40),
            tfs in proptest::collection::vec(prop_oneof![1usize..4, 128usize..400], 40 * 16),
        ) {
            let mut w = PostingsWriter::default();
            let mut want = Vec::new();
            let mut t = tfs.iter();
            for (&doc, &mask) in docs.iter().zip(&masks) {
                let per_field: Vec<Vec<u32>> = (0..mask.count_ones())
                    .map(|_| (0..*t.next().unwrap() as u32).collect())
                    .collect();
                let refs: Vec<&[u32]> = per_field.iter().map(|v| v.as_slice()).collect();
                w.add(doc, mask, &refs);
                want.push((doc, mask, per_field.iter().map(|v| v.len() as u32).collect::<Vec<_>>()));
            }
            prop_assert_eq!(w.doc_freq() as usize, docs.len());
            let got = w.decode();
            prop_assert_eq!(got.doc_freq() as usize, docs.len());
            let mut t = 0;
            for (i, (doc, mask, tfs)) in want.iter().enumerate() {
                prop_assert_eq!(got.docs[i], *doc);
                prop_assert_eq!(got.masks[i], *mask);
                prop_assert_eq!(&got.tfs[t..t + tfs.len()], &tfs[..]);
                t += tfs.len();
            }
            prop_assert_eq!(t, got.tfs.len());
        }

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

        /// Block by block, in any order and with any columns, decoding gives the slices of
        /// the whole list; entries give each block's last document and range.
        #[test]
        fn blocks_decode_alone((postings, positions) in arb_postings()) {
            let (buf, _) = write(&postings, &positions);
            let df = postings.len() as u32;
            let full = decode_postings(&buf, df, 5000, 3).unwrap();
            let blocks = Blocks::open(&buf, df, 5000, 3, Layout::Impacts).unwrap();
            prop_assert_eq!(blocks.has_skips(), blocks.len() > 1);
            if !blocks.has_skips() {
                prop_assert!(blocks.entry(0).is_err());
                return Ok(());
            }
            let mut out = Block::default();
            for k in (0..blocks.len()).rev() {
                let (prev, last, range) = blocks.entry(k).unwrap();
                let span = k * BLOCK..((k + 1) * BLOCK).min(full.len());
                prop_assert_eq!(last, full.docs[span.end - 1]);
                prop_assert_eq!(prev, if k == 0 { -1 } else { full.docs[span.start - 1] as i64 });
                for columns in [Columns::Docs, Columns::Masks, Columns::All] {
                    let end = blocks.decode(k, range.start, prev, columns, &mut out).unwrap();
                    prop_assert_eq!(&out.docs[..], &full.docs[span.clone()]);
                    if columns != Columns::Docs {
                        prop_assert_eq!(&out.masks[..], &full.masks[span.clone()]);
                    }
                    if columns == Columns::All {
                        prop_assert_eq!(end, range.end);
                        for (i, j) in span.clone().enumerate() {
                            prop_assert_eq!(out.tfs_of(i), full.tfs_of(j));
                        }
                    }
                }
            }
            prop_assert!(blocks.decode(blocks.len(), 0, -1, Columns::All, &mut out).is_err());
        }

        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), df in 0u32..300) {
            if let Ok(list) = decode_postings(&data, df, 1000, 3) {
                let _ = decode_positions(&data, &list);
            }
            for layout in [Layout::Blocks, Layout::Skips, Layout::Impacts] {
                let _ = decode_postings_for(&data, df, 1000, 3, layout, Some(&[5, 200, 999]));
                if let Ok(blocks) = Blocks::open(&data, df, 1000, 3, layout) {
                    let mut out = Block::default();
                    for k in 0..blocks.len() {
                        let _ = blocks.impact(k);
                        if blocks.has_skips() {
                            if let Ok((prev, _, range)) = blocks.entry(k) {
                                for columns in [Columns::Docs, Columns::Masks, Columns::All] {
                                    let _ = blocks.decode(k, range.start, prev, columns, &mut out);
                                }
                            }
                        }
                    }
                }
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
            // Format 1: the same blocks without the skip table; format 2: without impacts.
            let blocks = postings.len().div_ceil(BLOCK);
            let (skips, impacts) = if blocks > 1 { (blocks * SKIP_ENTRY, blocks) } else { (0, 0) };
            prop_assert_eq!(&decode_postings_for(&buf[skips + impacts..], df, 5000, 3, Layout::Blocks, None).unwrap(), &full);
            let v2 = [&buf[..skips], &buf[skips + impacts..]].concat();
            prop_assert_eq!(&decode_postings_for(&v2, df, 5000, 3, Layout::Skips, None).unwrap(), &full);
            // Each block's impact is the best of its postings'.
            let opened = Blocks::open(&buf, df, 5000, 3, Layout::Impacts).unwrap();
            for b in 0..blocks {
                let want = (b * BLOCK..((b + 1) * BLOCK).min(full.len()))
                    .map(|i| (full.docs[i] % 7) as u8 + full.tfs_of(i)[0] as u8)
                    .max()
                    .unwrap();
                prop_assert_eq!(opened.impact(b), if blocks > 1 { want } else { 255 });
            }
            let candidates: Vec<u32> = candidates.into_iter().collect();
            let part = decode_postings_for(&buf, df, 5000, 3, Layout::Impacts, Some(&candidates)).unwrap();
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
