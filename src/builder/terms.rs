//! How are the terms' postings written at the end of a build? In term order, each writer freed
//! once written; natively on two threads, one per half of the terms.

use super::too_big;
use crate::bm25::ImpactOf;
use crate::error::Result;
use crate::postings::{has_name_postings, PostingsWriter};
use crate::terminfo::TermRow;

/// The postings, positions and term-info rows of terms written in order.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Written {
    pub(super) postings: Vec<u8>,
    pub(super) positions: Vec<u8>,
    pub(super) infos: Vec<TermRow>,
}

/// Writes every term's postings (and name-field postings) and positions, in term order, each
/// writer freed once written: the build's peak memory is here. Natively, with two cores or
/// more, the terms are cut in two halves of about equal encoded size, written on two threads
/// and joined (rows hold lengths, not offsets, so the halves join as they are).
pub(super) fn write_postings(
    writers: Vec<PostingsWriter>,
    impact: &ImpactOf<'_>,
    names: u16,
) -> Result<Written> {
    #[cfg(not(target_arch = "wasm32"))]
    if writers.len() > 1 && super::more_threads() {
        let total: usize = writers.iter().map(PostingsWriter::encoded_len).sum();
        let mut sum = 0;
        let mid = writers
            .iter()
            .position(|w| {
                sum += w.encoded_len();
                sum * 2 >= total
            })
            .map_or(writers.len(), |i| i + 1);
        let mut first = writers;
        let second = first.split_off(mid);
        let (first, second) = std::thread::scope(|scope| {
            let other = scope.spawn(|| write_terms(second, impact, names));
            let first = write_terms(first, impact, names);
            (
                first,
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        });
        let (mut first, second) = (first?, second?);
        first.postings.extend_from_slice(&second.postings);
        first.positions.extend_from_slice(&second.positions);
        first.infos.extend_from_slice(&second.infos);
        return check_written(first);
    }
    check_written(write_terms(writers, impact, names)?)
}

/// Refuses postings or positions past what 32-bit offsets reach.
fn check_written(w: Written) -> Result<Written> {
    if w.postings.len() > u32::MAX as usize {
        return Err(too_big("postings bytes"));
    }
    if w.positions.len() > u32::MAX as usize {
        return Err(too_big("positions bytes"));
    }
    Ok(w)
}

/// [`write_postings`] on one thread.
fn write_terms(writers: Vec<PostingsWriter>, impact: &ImpactOf<'_>, names: u16) -> Result<Written> {
    let mut out = Written {
        infos: Vec::with_capacity(writers.len()),
        ..Written::default()
    };
    let Written {
        postings,
        positions,
        infos,
    } = &mut out;
    for w in writers {
        let (p0, q0) = (postings.len(), positions.len());
        let columns = w.decode();
        columns.write(postings, |doc, mask, tfs| impact.of(doc, mask, tfs));
        if w.writes_positions() {
            positions.extend_from_slice(w.positions());
        }
        let plen = u32::try_from(postings.len() - p0)
            .map_err(|_| too_big("postings bytes of one term"))?;
        let qlen = u32::try_from(positions.len() - q0)
            .map_err(|_| too_big("positions bytes of one term"))?;
        // The documents holding the term in a name field, and their postings on their own by
        // the rule of `has_name_postings`.
        let named = columns.name_subset(names);
        let n0 = postings.len();
        if has_name_postings(w.doc_freq(), named.doc_freq()) {
            named.write(postings, |doc, mask, tfs| impact.of(doc, mask, tfs));
        }
        let nlen = postings.len() - n0;
        if nlen >= 1 << 30 || named.doc_freq() >= 1 << 30 {
            return Err(too_big("name-field postings of one term"));
        }
        infos.push(TermRow {
            doc_freq: w.doc_freq(),
            postings: plen,
            positions: qlen,
            names: named.doc_freq(),
            names_postings: nlen as u32,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bm25::{Bm25, Bm25F};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Terms written in two halves on two threads and joined give the bytes and rows of
        /// terms written in turn on one (what WebAssembly and one core do).
        #[test]
        fn postings_written_in_halves_equal_postings_written_in_turn(
            terms in proptest::collection::vec(
                proptest::collection::btree_map(0u32..200, (1u16..8, 1usize..4), 1..30),
                0..25,
            ),
        ) {
            let writers: Vec<PostingsWriter> = terms
                .iter()
                .map(|docs| {
                    let mut w = PostingsWriter::default();
                    for (&doc, &(mask, tf)) in docs {
                        let positions: Vec<u32> = (0..tf as u32).map(|p| p * 3 + doc % 5).collect();
                        let per_field: Vec<&[u32]> =
                            (0..mask.count_ones()).map(|_| positions.as_slice()).collect();
                        w.add(doc, mask, &per_field);
                    }
                    if docs.len() % 7 == 3 {
                        w.set_written_form_only();
                    }
                    w
                })
                .collect();
            let scorer = Bm25F::new(Bm25::default(), vec![4.0, 1.0, 2.0], vec![3.0, 40.0, 5.0]);
            let norms: Vec<u8> = (0..200 * 3).map(|i| (i * 37 % 200) as u8).collect();
            let impact = ImpactOf { scorer: &scorer, norms: &norms, fields: 3 };
            let halves = write_postings(writers.clone(), &impact, 0b001).unwrap();
            let in_turn = write_terms(writers, &impact, 0b001).unwrap();
            prop_assert_eq!(halves, in_turn);
        }
    }
}
