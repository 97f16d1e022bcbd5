//! How are a term's positions encoded? For each document in postings order, for each field in
//! its mask, `tf` position gaps as varints (the first position itself), read only by phrases.

use super::PostingList;
use crate::codec::{put_varint, Reader};
use crate::error::{Error, Result};

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
