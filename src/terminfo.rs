//! Where is a term's data? The term-info table, writer and reader together.
//!
//! Per block of [`TERM_BLOCK`] terms (in ordinal order): a fixed header (where the block's
//! first postings and positions start, where its columns are, their bit widths), then three
//! bit-packed columns (document frequency, postings length, positions length) and, from format
//! 7, two more (name-field document frequency, name-field postings length; their widths in the
//! header's last byte, zero before). A reader finds term `ord`'s block in constant time and
//! sums the lengths before it within the block.

use std::ops::Range;

use crate::codec::{bits_needed, pack, packed_len, unpack_into, unpack_one, Reader};
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
    /// Number of documents holding the term in a name field (format 7; 0 before, unknown).
    pub names: u32,
    /// Byte range in the postings section of the term's name-field postings: the postings of
    /// its `names` documents alone, written right after its postings when it has more than one
    /// block of them and some outside the name fields (empty otherwise).
    pub names_postings: Range<u64>,
}

impl TermInfo {
    /// With `names`, the term's name-field postings as a term of their own: their documents
    /// are its documents (no positions); else the term itself.
    pub fn view(self, names: bool) -> TermInfo {
        if !names {
            return self;
        }
        let at = self.positions.start;
        TermInfo {
            doc_freq: self.names,
            postings: self.names_postings.clone(),
            positions: at..at,
            names: self.names,
            names_postings: self.names_postings,
        }
    }
}

/// One term's row of the table, as the writers give it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TermRow {
    /// Document frequency.
    pub doc_freq: u32,
    /// Bytes of postings.
    pub postings: u32,
    /// Bytes of positions.
    pub positions: u32,
    /// Documents holding the term in a name field.
    pub names: u32,
    /// Bytes of name-field postings (0: none written).
    pub names_postings: u32,
}

impl TermRow {
    /// The row of a term whose data is at `info`'s ranges; fails over 4 GiB.
    pub(crate) fn of(info: &TermInfo) -> Result<TermRow> {
        let len32 = |r: &Range<u64>| {
            u32::try_from(r.end - r.start).map_err(|_| Error::corrupt("term data over 4 GiB"))
        };
        Ok(TermRow {
            doc_freq: info.doc_freq,
            postings: len32(&info.postings)?,
            positions: len32(&info.positions)?,
            names: info.names,
            names_postings: len32(&info.names_postings)?,
        })
    }
}

/// Decodes entry `ord` from the term-info section.
pub fn term_info(section: &[u8], term_count: u32, ord: u64) -> Result<TermInfo> {
    let t = TermEntry::find(section, term_count, ord)?;
    // Where it starts: the lengths of the terms before it in its block, summed.
    let before = |column: &[u8], width: u8| -> Result<u64> {
        let mut lens = [0u32; TERM_BLOCK];
        unpack_into(column, width, &mut lens[..t.i])?;
        Ok(lens[..t.i].iter().map(|&l| l as u64).sum())
    };
    let p_off = t.postings_base + before(t.pls, t.w_pl)? + before(t.nls, t.w_nl)?;
    let q_off = t.positions_base + before(t.poss, t.w_pos)?;
    let pl = unpack_one(t.pls, t.w_pl, t.i) as u64;
    let ql = unpack_one(t.poss, t.w_pos, t.i) as u64;
    let nl = unpack_one(t.nls, t.w_nl, t.i) as u64;
    Ok(TermInfo {
        doc_freq: unpack_one(t.dfs, t.w_df, t.i),
        postings: p_off..p_off + pl,
        positions: q_off..q_off + ql,
        names: unpack_one(t.ndfs, t.w_ndf, t.i),
        names_postings: p_off + pl..p_off + pl + nl,
    })
}

/// The name-field document frequency of term `ord` alone (constant time; 0 before format 7).
pub fn term_names(section: &[u8], term_count: u32, ord: u64) -> Result<u32> {
    let t = TermEntry::find(section, term_count, ord)?;
    Ok(unpack_one(t.ndfs, t.w_ndf, t.i))
}

/// The document frequency of term `ord` alone, from a TERMINFO section: constant time, where
/// [`term_info`] sums the lengths of the terms before it in its block.
pub fn term_doc_freq(section: &[u8], term_count: u32, ord: u64) -> Result<u32> {
    let t = TermEntry::find(section, term_count, ord)?;
    Ok(unpack_one(t.dfs, t.w_df, t.i))
}

/// The document frequency and name-field document frequency of each term of `ords`, in order,
/// to `f(ord, doc_freq, names)`: each block's header read once, where [`term_doc_freq`] and
/// [`term_names`] read it per term (a prefix's completions are a range of ordinals).
pub fn each_doc_freq(
    section: &[u8],
    term_count: u32,
    ords: std::ops::Range<u64>,
    mut f: impl FnMut(u64, u32, u32) -> Result<()>,
) -> Result<()> {
    let mut ord = ords.start;
    while ord < ords.end {
        let t = TermEntry::find(section, term_count, ord)?;
        // (A range past the terms ends this block at the last term; the next `find` refuses.)
        let block_end = (ord - t.i as u64 + TERM_BLOCK as u64)
            .min(ords.end)
            .min(term_count as u64);
        for (i, o) in (t.i..).zip(ord..block_end) {
            f(
                o,
                unpack_one(t.dfs, t.w_df, i),
                unpack_one(t.ndfs, t.w_ndf, i),
            )?;
        }
        ord = block_end;
    }
    Ok(())
}

/// One term's block of a TERMINFO section, its columns checked in bounds.
struct TermEntry<'s> {
    postings_base: u64,
    positions_base: u64,
    w_df: u8,
    w_pl: u8,
    w_pos: u8,
    w_ndf: u8,
    w_nl: u8,
    dfs: &'s [u8],
    pls: &'s [u8],
    poss: &'s [u8],
    ndfs: &'s [u8],
    nls: &'s [u8],
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
        let (w_ndf, w_nl) = name_widths(r.u8()?);
        if w_df > 32 || w_pl > 32 || w_pos > 32 {
            return Err(Error::corrupt("term info bit width above 32"));
        }
        let n = (term_count as usize - b * TERM_BLOCK).min(TERM_BLOCK);
        let start = header_end
            .checked_add(data_off)
            .ok_or_else(|| Error::corrupt("term info offset"))?;
        let widths = [w_df, w_pl, w_pos, w_ndf, w_nl];
        let need: usize = widths.iter().map(|&w| packed_len(n, w)).sum();
        // (Not `ok_or`: the error would be built, and dropped, on every lookup.)
        let Some(data) = section.get(start..start + need) else {
            return Err(Error::Truncated {
                what: "term info block",
                needed: (start + need) as u64,
                available: section.len() as u64,
            });
        };
        let mut cols = [&data[..0]; 5];
        let mut rest = data;
        for (col, &w) in cols.iter_mut().zip(&widths) {
            let (c, r) = rest.split_at(packed_len(n, w));
            (*col, rest) = (c, r);
        }
        let [dfs, pls, poss, ndfs, nls] = cols;
        Ok(TermEntry {
            postings_base,
            positions_base,
            w_df,
            w_pl,
            w_pos,
            w_ndf,
            w_nl,
            dfs,
            pls,
            poss,
            ndfs,
            nls,
            i,
        })
    }
}

/// The widths of the name-field columns from a block header's last byte: twice its low and
/// its high four bits (so 0 to 30; 0 before format 7, whose writers wrote the byte as 0).
fn name_widths(byte: u8) -> (u8, u8) {
    (2 * (byte & 0x0f), 2 * (byte >> 4))
}

/// Encodes a term-info table for `rows` (in ordinal order), whose first term's postings and
/// positions start at `postings_start` and `positions_start`: fixed block headers, then each
/// block's bit-packed columns. A term's name-field postings follow its postings. The caller
/// has checked that the offsets fit in 32 bits (and name-field frequencies and lengths in 30).
pub(crate) fn encode_term_infos(
    rows: &[TermRow],
    postings_start: u64,
    positions_start: u64,
) -> Vec<u8> {
    let blocks = rows.len().div_ceil(TERM_BLOCK);
    let mut headers = Vec::with_capacity(blocks * TERM_BLOCK_HEADER);
    let mut data = Vec::new();
    let (mut p_base, mut q_base) = (postings_start, positions_start);
    for block in rows.chunks(TERM_BLOCK) {
        let col = |f: fn(&TermRow) -> u32| block.iter().map(f).collect::<Vec<u32>>();
        let (dfs, pls, qls) = (
            col(|t| t.doc_freq),
            col(|t| t.postings),
            col(|t| t.positions),
        );
        let (nds, nls) = (col(|t| t.names), col(|t| t.names_postings));
        let width = |v: &[u32]| v.iter().map(|&x| bits_needed(x)).max().unwrap_or(0);
        let (wd, wp, wq) = (width(&dfs), width(&pls), width(&qls));
        // Even widths, so that both fit in one byte as halves.
        let (wnd, wnl) = (width(&nds).div_ceil(2) * 2, width(&nls).div_ceil(2) * 2);
        debug_assert!(wnd <= 30 && wnl <= 30);
        headers.extend_from_slice(&(p_base as u32).to_le_bytes());
        headers.extend_from_slice(&(q_base as u32).to_le_bytes());
        headers.extend_from_slice(&(data.len() as u32).to_le_bytes());
        headers.extend_from_slice(&[wd, wp, wq, (wnd / 2) | ((wnl / 2) << 4)]);
        pack(&mut data, &dfs, wd);
        pack(&mut data, &pls, wp);
        pack(&mut data, &qls, wq);
        pack(&mut data, &nds, wnd);
        pack(&mut data, &nls, wnl);
        p_base += pls.iter().chain(&nls).map(|&x| x as u64).sum::<u64>();
        q_base += qls.iter().map(|&x| x as u64).sum::<u64>();
    }
    headers.extend_from_slice(&data);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of every shape (no name fields, name-field counts without lists, lists) across
    /// blocks decode to the ranges the writer laid out: each term's postings, then its
    /// name-field postings, then the next term's.
    #[test]
    fn rows_round_trip_with_name_columns() {
        let rows: Vec<TermRow> = (0..70u32)
            .map(|i| TermRow {
                doc_freq: 1 + i * 37,
                postings: 3 + i * 11,
                positions: i % 5,
                names: if i % 3 == 0 { 0 } else { i * 1000 },
                names_postings: if i % 4 == 1 { 7 + i * 300 } else { 0 },
            })
            .collect();
        let table = encode_term_infos(&rows, 100, 50);
        let (mut p, mut q) = (100u64, 50u64);
        for (ord, row) in rows.iter().enumerate() {
            let info = term_info(&table, rows.len() as u32, ord as u64).unwrap();
            assert_eq!(TermRow::of(&info).unwrap(), *row, "{ord}");
            assert_eq!(info.postings.start, p, "{ord}");
            assert_eq!(info.names_postings.start, info.postings.end, "{ord}");
            assert_eq!(info.positions.start, q, "{ord}");
            assert_eq!(
                term_names(&table, rows.len() as u32, ord as u64).unwrap(),
                row.names
            );
            p = info.names_postings.end;
            q = info.positions.end;
            let view = info.clone().view(true);
            assert_eq!(view.doc_freq, row.names);
            assert_eq!(view.postings, info.names_postings);
            assert!(view.positions.is_empty());
        }
    }

    /// Every range of ordinals (empty, within a block, across blocks, to the end) reads the
    /// same frequencies in bulk as term by term; a range past the terms is refused.
    #[test]
    fn each_doc_freq_equals_one_term_at_a_time() {
        let rows: Vec<TermRow> = (0..75u32)
            .map(|i| TermRow {
                doc_freq: 1 + i * 37,
                postings: 3 + i,
                positions: 0,
                names: if i % 3 == 0 { 0 } else { i * 1000 + 1 },
                names_postings: 0,
            })
            .collect();
        let n = rows.len() as u32;
        let table = encode_term_infos(&rows, 0, 0);
        for (a, b) in [
            (0, 0),
            (0, 75),
            (3, 4),
            (5, 31),
            (30, 34),
            (31, 64),
            (63, 75),
            (74, 75),
        ] {
            let mut got = Vec::new();
            each_doc_freq(&table, n, a..b, |o, df, names| {
                got.push((o, df, names));
                Ok(())
            })
            .unwrap();
            let want: Vec<(u64, u32, u32)> = (a..b)
                .map(|o| {
                    let df = term_doc_freq(&table, n, o).unwrap();
                    (o, df, term_names(&table, n, o).unwrap())
                })
                .collect();
            assert_eq!(got, want, "{a}..{b}");
        }
        assert!(each_doc_freq(&table, n, 70..76, |_, _, _| Ok(())).is_err());
    }

    /// A table of format 6 (the header's last byte 0) reads with no name-field data.
    #[test]
    fn older_tables_have_no_name_columns() {
        let rows = [
            TermRow {
                doc_freq: 5,
                postings: 9,
                positions: 4,
                ..TermRow::default()
            },
            TermRow {
                doc_freq: 2,
                postings: 6,
                positions: 3,
                ..TermRow::default()
            },
        ];
        let table = encode_term_infos(&rows, 0, 0);
        assert_eq!(table[15], 0, "no name columns, no widths");
        let info = term_info(&table, 2, 1).unwrap();
        assert_eq!(
            (info.names, info.postings, info.names_postings),
            (0, 9..15, 15..15)
        );
    }
}
