//! What a step of a lazy query reads next, once its terms are known: the postings and
//! positions its scoring needs, and the pages of field norms kept in a pack of their own.

use std::ops::Range;

use super::{NormNeeds, Planned, Prepared, Searcher};
use crate::error::{Error, Result};
use crate::source::DataFile;

impl<D: AsRef<[u8]>> Searcher<'_, D> {
    /// The byte ranges scoring `prepared` reads: postings of every expansion, and positions of
    /// phrase terms. (Stored fields come after, from [`Searcher::stored_needs`].)
    pub fn needs(&self, prepared: &Prepared) -> Result<Vec<(DataFile, Range<u64>)>> {
        let state = self.state.borrow();
        let info = |ord: u64| {
            state
                .infos
                .get(&ord)
                .ok_or_else(|| Error::corrupt(format!("term {ord} was not prepared")))
        };
        let mut out = Vec::new();
        for p in prepared.must.iter().chain(&prepared.must_not).flatten() {
            match p {
                Planned::Word { expansions, .. } => {
                    for e in expansions {
                        out.push((DataFile::Postings, info(e.ord)?.postings.clone()));
                    }
                }
                Planned::Phrase { terms, .. } => {
                    for ord in terms.iter().filter_map(|t| t.0) {
                        let info = info(ord)?;
                        out.push((DataFile::Postings, info.postings.clone()));
                        out.push((DataFile::Positions, info.positions.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// What scoring `prepared` reads of field norms kept in a pack of their own (nothing when
    /// the index holds them): the norms pages of every document in the postings of its terms,
    /// which covers every document ranking may score whatever the scores turn out to be, as
    /// ranges of [`DataFile::Norms`] (bounded by the pack's size); and, when those documents
    /// are at most `few`, the documents themselves (every match is then among them). Read
    /// after the postings are at hand.
    pub fn norm_needs(&self, prepared: &Prepared, few: usize) -> Result<NormNeeds> {
        use crate::postings::{decode_postings_for, Block, Blocks, Columns};
        let (index, state) = (self.index, self.state.borrow());
        let Some(pages) = index.pages().filter(|_| index.norms_paged()) else {
            return Ok((Vec::new(), None));
        };
        let mut ords = Vec::new();
        for p in prepared.must.iter().chain(&prepared.must_not).flatten() {
            match p {
                Planned::Word { expansions, .. } => ords.extend(expansions.iter().map(|e| e.ord)),
                Planned::Phrase { terms, .. } => ords.extend(terms.iter().filter_map(|t| t.0)),
            }
        }
        ords.sort_unstable();
        ords.dedup();
        let (len, ps) = (pages.len_of(DataFile::Norms), pages.page_size as u64);
        let mut wanted = vec![false; len.div_ceil(ps) as usize];
        // The distinct documents, while they are at most `few` (a word and its written form,
        // or several corrections, share documents: their frequencies' sum overcounts them).
        let mut docs = Some(Vec::new());
        let (doc_count, fields) = (index.doc_count(), index.indexed_fields().len());
        let layout = index.postings_layout();
        let mut block = Block::default();
        for ord in ords {
            let info = state
                .infos
                .get(&ord)
                .ok_or_else(|| Error::corrupt(format!("term {ord} was not prepared")))?;
            let data = self.src.read(DataFile::Postings, info.postings.clone())?;
            let blocks = Blocks::open(&data, info.doc_freq, doc_count, fields, layout)?;
            let mut mark = |term_docs: &[u32]| {
                for &doc in term_docs {
                    let r = index.norms_range(doc);
                    if r.start < r.end {
                        for p in r.start / ps..=(r.end - 1) / ps {
                            if let Some(w) = wanted.get_mut(p as usize) {
                                *w = true;
                            }
                        }
                    }
                    if let Some(list) = docs.as_mut() {
                        list.push(doc);
                        if list.len() > 2 * few {
                            list.sort_unstable();
                            list.dedup();
                            if list.len() > few {
                                docs = None;
                            }
                        }
                    }
                }
            };
            if blocks.has_skips() {
                // Document ids only, block by block (a common word's list is never held).
                for k in 0..blocks.len() {
                    let (prev, _, range) = blocks.entry(k)?;
                    blocks.decode(k, range.start, prev, Columns::Docs, &mut block)?;
                    mark(&block.docs);
                }
            } else {
                let list =
                    decode_postings_for(&data, info.doc_freq, doc_count, fields, layout, None)?;
                mark(&list.docs);
            }
        }
        let mut ranges = Vec::new();
        let mut p = 0;
        while p < wanted.len() {
            if !wanted[p] {
                p += 1;
                continue;
            }
            let start = p;
            while p < wanted.len() && wanted[p] {
                p += 1;
            }
            let range = start as u64 * ps..(p as u64 * ps).min(len);
            ranges.push((DataFile::Norms, range));
        }
        let few_docs = docs
            .map(|mut docs| {
                docs.sort_unstable();
                docs.dedup();
                docs
            })
            .filter(|docs| docs.len() <= few);
        Ok((ranges, few_docs))
    }
}
