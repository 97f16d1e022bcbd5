//! Where is a term's data? The term-info table, writer and reader together.
//!
//! Per block of [`TERM_BLOCK`] terms (in ordinal order): a fixed header (where the block's
//! first postings and positions start, where its columns are, their bit widths), then three
//! bit-packed columns (document frequency, postings length, positions length). A reader finds
//! term `ord`'s block in constant time and sums the lengths before it within the block.

use std::ops::Range;

use crate::codec::{bits_needed, pack, packed_len, unpack_one, Reader};
use crate::error::{Error, Result};

/// Terms per block of the term-info table.
pub const TERM_BLOCK: usize = 32;
/// Bytes of a term-info block header.
pub const TERM_BLOCK_HEADER: usize = 16;

/// Where a term's data is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermInfo {
    /// Number of documents containing the term.
    pub doc_freq: u32,
    /// Byte range in the postings section.
    pub postings: Range<u64>,
    /// Byte range in the positions section.
    pub positions: Range<u64>,
}

/// Decodes entry `ord` from the term-info section.
pub fn term_info(section: &[u8], term_count: u32, ord: u64) -> Result<TermInfo> {
    let t = TermEntry::find(section, term_count, ord)?;
    let mut p_off = t.postings_base;
    let mut q_off = t.positions_base;
    for k in 0..t.i {
        p_off += unpack_one(t.pls, t.w_pl, k) as u64;
        q_off += unpack_one(t.poss, t.w_pos, k) as u64;
    }
    let pl = unpack_one(t.pls, t.w_pl, t.i) as u64;
    let ql = unpack_one(t.poss, t.w_pos, t.i) as u64;
    Ok(TermInfo {
        doc_freq: unpack_one(t.dfs, t.w_df, t.i),
        postings: p_off..p_off + pl,
        positions: q_off..q_off + ql,
    })
}

/// The document frequency of term `ord` alone, from a TERMINFO section: constant time, where
/// [`term_info`] sums the lengths of the terms before it in its block.
pub fn term_doc_freq(section: &[u8], term_count: u32, ord: u64) -> Result<u32> {
    let t = TermEntry::find(section, term_count, ord)?;
    Ok(unpack_one(t.dfs, t.w_df, t.i))
}

/// One term's block of a TERMINFO section, its columns checked in bounds.
struct TermEntry<'s> {
    postings_base: u64,
    positions_base: u64,
    w_df: u8,
    w_pl: u8,
    w_pos: u8,
    dfs: &'s [u8],
    pls: &'s [u8],
    poss: &'s [u8],
    /// The term's index in its block.
    i: usize,
}

impl<'s> TermEntry<'s> {
    fn find(section: &'s [u8], term_count: u32, ord: u64) -> Result<TermEntry<'s>> {
        if ord >= term_count as u64 {
            return Err(Error::corrupt(format!(
                "term ordinal {ord} of {term_count}"
            )));
        }
        let blocks = (term_count as usize).div_ceil(TERM_BLOCK);
        let b = ord as usize / TERM_BLOCK;
        let i = ord as usize % TERM_BLOCK;
        let header_end = blocks * TERM_BLOCK_HEADER;
        let mut r = Reader::new(section, "term info");
        r.bytes(b * TERM_BLOCK_HEADER)?;
        let postings_base = r.u32()? as u64;
        let positions_base = r.u32()? as u64;
        let data_off = r.u32()? as usize;
        let (w_df, w_pl, w_pos) = (r.u8()?, r.u8()?, r.u8()?);
        if w_df > 32 || w_pl > 32 || w_pos > 32 {
            return Err(Error::corrupt("term info bit width above 32"));
        }
        let n = (term_count as usize - b * TERM_BLOCK).min(TERM_BLOCK);
        let start = header_end
            .checked_add(data_off)
            .ok_or_else(|| Error::corrupt("term info offset"))?;
        let need = packed_len(n, w_df) + packed_len(n, w_pl) + packed_len(n, w_pos);
        let data = section.get(start..start + need).ok_or(Error::Truncated {
            what: "term info block",
            needed: (start + need) as u64,
            available: section.len() as u64,
        })?;
        let (dfs, rest) = data.split_at(packed_len(n, w_df));
        let (pls, poss) = rest.split_at(packed_len(n, w_pl));
        Ok(TermEntry {
            postings_base,
            positions_base,
            w_df,
            w_pl,
            w_pos,
            dfs,
            pls,
            poss,
            i,
        })
    }
}

/// Encodes a term-info table for `infos` (document frequency, postings length, positions
/// length per term, in ordinal order), whose first term's postings and positions start at
/// `postings_start` and `positions_start`: fixed block headers, then each block's bit-packed
/// columns. The caller has checked that the offsets fit in 32 bits.
pub(crate) fn encode_term_infos(
    infos: &[(u32, u32, u32)],
    postings_start: u64,
    positions_start: u64,
) -> Vec<u8> {
    let blocks = infos.len().div_ceil(TERM_BLOCK);
    let mut headers = Vec::with_capacity(blocks * TERM_BLOCK_HEADER);
    let mut data = Vec::new();
    let (mut p_base, mut q_base) = (postings_start, positions_start);
    for block in infos.chunks(TERM_BLOCK) {
        let col = |f: fn(&(u32, u32, u32)) -> u32| block.iter().map(f).collect::<Vec<u32>>();
        let (dfs, pls, qls) = (col(|t| t.0), col(|t| t.1), col(|t| t.2));
        let width = |v: &[u32]| v.iter().map(|&x| bits_needed(x)).max().unwrap_or(0);
        let (wd, wp, wq) = (width(&dfs), width(&pls), width(&qls));
        headers.extend_from_slice(&(p_base as u32).to_le_bytes());
        headers.extend_from_slice(&(q_base as u32).to_le_bytes());
        headers.extend_from_slice(&(data.len() as u32).to_le_bytes());
        headers.extend_from_slice(&[wd, wp, wq, 0]);
        pack(&mut data, &dfs, wd);
        pack(&mut data, &pls, wp);
        pack(&mut data, &qls, wq);
        p_base += pls.iter().map(|&x| x as u64).sum::<u64>();
        q_base += qls.iter().map(|&x| x as u64).sum::<u64>();
    }
    headers.extend_from_slice(&data);
    headers
}
