//! What narrows and orders a result set beside the query text: filters (structured, and
//! `field:value` clauses of the query on facet fields), facet counts over every match, sorting
//! by score or by a sortable field, and pages.

use std::collections::BTreeMap;

use std::ops::Range;

use super::{Prepared, Searcher};
use crate::error::{Error, Result};
use crate::facets::Filter;
use crate::source::DataFile;

/// The most hits skipped by `offset` (past it a page is empty).
pub const MAX_OFFSET: usize = 100_000;

/// Facet counts: per field, per value, how many matching documents carry it.
pub type FacetCounts = BTreeMap<String, BTreeMap<String, u32>>;

/// How results are ordered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sort {
    /// A sortable field of the schema, or `score` (the default order).
    pub field: String,
    /// Highest first (the default for `score`).
    pub descending: bool,
}

impl Sort {
    /// Reads `field`, `field:asc` or `field:desc` (`score` alone is descending, any other
    /// field alone ascending).
    pub fn parse(text: &str) -> Result<Sort> {
        let (field, dir) = match text.rsplit_once(':') {
            Some((f, d)) => (f, Some(d)),
            None => (text, None),
        };
        let descending = match dir {
            None => field == "score",
            Some("asc") => false,
            Some("desc") => true,
            Some(d) => {
                return Err(Error::InvalidOption {
                    message: format!(
                        "sort direction {}: write asc or desc",
                        crate::error::Quoted(d)
                    ),
                })
            }
        };
        if field.is_empty() {
            return Err(Error::InvalidOption {
                message: "sort needs a field name (or score)".into(),
            });
        }
        if field == "score" && !descending {
            // The order by score is highest first only; an ascending one would be ignored.
            return Err(Error::InvalidOption {
                message: "sort by score is highest first: write score or score:desc".into(),
            });
        }
        Ok(Sort {
            field: field.to_string(),
            descending,
        })
    }
}

/// Filters, facets, sort and page of one search, beside its text and [`super::SearchOptions`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refine {
    /// Only documents the filter accepts (ANDed with the query's own `field:value` filters).
    pub filter: Option<Filter>,
    /// Facet fields to count over every matching document.
    pub facets: Vec<String>,
    /// The order (`None`: by score, highest first, ties by document order).
    pub sort: Option<Sort>,
    /// Hits skipped before the first returned (pages: `offset` = page × `limit`).
    pub offset: usize,
}

impl Refine {
    /// The same, with each facet field named once (a list repeating a name would count, fetch
    /// and show that field once per repetition: work multiplied by an untrusted option).
    pub(crate) fn normalized(mut self) -> Refine {
        self.facets.sort_unstable();
        self.facets.dedup();
        self
    }
}

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// Sets the filters, facets, sort and page of the next searches.
    pub fn with_refine(self, refine: Refine) -> Self {
        self.state.borrow_mut().set_refine(refine);
        self
    }

    /// The facet counts of the last search (empty unless facets were asked for).
    pub fn facet_counts(&self) -> FacetCounts {
        self.state.borrow().facet_counts.clone()
    }

    /// The documents the query's and the options' filters accept (`None`: no filter). Each is
    /// evaluated within its own node budget, and the two intersected.
    pub(super) fn filter_docs(&self, prepared: &Prepared) -> Result<Option<Vec<u32>>> {
        let filters = self.filters_of(prepared);
        if filters.is_empty() {
            return Ok(None);
        }
        let facets = self.index.facets()?.ok_or_else(no_facets)?;
        let mut acc: Option<Vec<u32>> = None;
        for f in &filters {
            let docs = facets.eval(f, self.index.schema(), &|r| self.facet_bytes(r))?;
            acc = Some(match acc {
                None => docs,
                Some(a) => crate::facets::intersect(&a, &docs),
            });
        }
        Ok(acc)
    }

    /// Bytes of a split index's facet data (in the store pack, after the stored chunks).
    fn facet_bytes(&self, range: std::ops::Range<u64>) -> Result<Vec<u8>> {
        Ok(self.src.read(DataFile::Store, range)?.into_owned())
    }

    /// The filters of `prepared` and of the options (none, one or both).
    fn filters_of(&self, prepared: &Prepared) -> Vec<Filter> {
        let refine = &self.state.borrow().refine;
        prepared
            .filter
            .iter()
            .chain(&refine.filter)
            .cloned()
            .collect()
    }

    /// The ranges that filtering `prepared` reads (the value sets of a split index's facet
    /// data; none for a single file).
    pub fn filter_needs(&self, prepared: &Prepared) -> Result<Vec<(DataFile, Range<u64>)>> {
        let filters = self.filters_of(prepared);
        let Some(facets) = self.index.facets()?.filter(|_| !filters.is_empty()) else {
            return Ok(Vec::new());
        };
        Ok(filters
            .iter()
            .flat_map(|f| facets.filter_needs(f, self.index.schema()))
            .map(|r| (DataFile::Store, r))
            .collect())
    }

    /// The ranges that counting facets over the last execution's matches and showing the
    /// values of `top` read (column blocks of a split index's facet data).
    pub fn facet_needs(&self, top: &[(u32, f32)]) -> Result<Vec<(DataFile, Range<u64>)>> {
        let state = self.state.borrow();
        if state.refine.facets.is_empty() {
            return Ok(Vec::new());
        }
        let Some(facets) = self.index.facets()? else {
            return Ok(Vec::new());
        };
        let mut docs: Vec<u32> = top.iter().map(|t| t.0).collect();
        docs.extend(&state.matched);
        docs.sort_unstable();
        docs.dedup();
        let mut out = Vec::new();
        for name in &state.refine.facets {
            if let Ok(f) = facets.facet_of(name, self.index.schema()) {
                out.extend(
                    f.column_needs(&docs)
                        .into_iter()
                        .map(|r| (DataFile::Store, r)),
                );
            }
        }
        Ok(out)
    }

    /// Counts the facets asked for over the last execution's matches into the query's state
    /// (once their column blocks are at hand: [`Searcher::facet_needs`]).
    pub(super) fn count_facets(&self) -> Result<()> {
        let names = self.state.borrow().refine.facets.clone();
        let matched = std::mem::take(&mut self.state.borrow_mut().matched);
        let counts = match names.is_empty() {
            true => FacetCounts::new(),
            false => {
                let facets = self.index.facets()?.ok_or_else(no_facets)?;
                let fetch = |r| self.facet_bytes(r);
                facets.count(&names, &matched, self.index.schema(), &fetch)?
            }
        };
        self.state.borrow_mut().facet_counts = counts;
        Ok(())
    }

    /// Each of `docs`' values of the facet fields asked for (`None` each when none were).
    pub(super) fn hit_facets(&self, docs: &[u32]) -> Result<Vec<Option<super::HitFacets>>> {
        let names = self.state.borrow().refine.facets.clone();
        if names.is_empty() {
            return Ok(vec![None; docs.len()]);
        }
        let facets = self.index.facets()?.ok_or_else(no_facets)?;
        let schema = self.index.schema();
        let mut out = vec![BTreeMap::new(); docs.len()];
        for name in &names {
            let Some(field) = schema.field(name).and_then(|f| facets.field(f)) else {
                continue;
            };
            let values = field.values();
            let fetch = |r| self.facet_bytes(r);
            for (o, &doc) in out.iter_mut().zip(docs) {
                let ords = field.doc_ordinals(doc, &fetch)?;
                let named = ords
                    .iter()
                    .filter_map(|&v| values.get(v as usize).cloned())
                    .collect();
                o.insert(name.clone(), named);
            }
        }
        Ok(out.into_iter().map(Some).collect())
    }

    /// The sortable field `sort` names (`None` for `score`).
    pub(super) fn sort_field(&self, sort: Option<&Sort>) -> Result<Option<(usize, bool)>> {
        let Some(sort) = sort.filter(|s| s.field != "score") else {
            return Ok(None);
        };
        let facets = self.index.facets()?;
        match self.index.schema().field(&sort.field) {
            Some(f) if facets.as_ref().is_some_and(|x| x.sortable(f)) => {
                Ok(Some((f, sort.descending)))
            }
            _ => Err(Error::InvalidOption {
                message: format!(
                    "{} is not a sortable field of this index: declare it with sortable = true \
                     in edgekb.toml, or sort by score",
                    crate::error::Quoted(&sort.field)
                ),
            }),
        }
    }

    /// Orders `top` (every match, scored) by the sortable field: its key ascending or
    /// descending, documents without a key last, ties by document order.
    pub(super) fn sort_by_field(
        &self,
        top: &mut [(u32, f32)],
        field: usize,
        desc: bool,
    ) -> Result<()> {
        let facets = self.index.facets()?.ok_or_else(no_facets)?;
        let key = |d: u32| facets.sort_key(field, d).unwrap_or(f64::NAN);
        let mut keyed: Vec<(f64, u32, f32)> = top.iter().map(|&(d, s)| (key(d), d, s)).collect();
        keyed.sort_by(|a, b| {
            let by_key = match (a.0.is_nan(), b.0.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if desc => b.0.total_cmp(&a.0),
                _ => a.0.total_cmp(&b.0),
            };
            by_key.then(a.1.cmp(&b.1))
        });
        for (t, k) in top.iter_mut().zip(keyed) {
            *t = (k.1, k.2);
        }
        Ok(())
    }
}

/// The page at `offset` of `top` (the hits in order, at least the first `offset` + `limit`):
/// empty past [`MAX_OFFSET`], as the search skips no more.
pub(super) fn page(mut top: Vec<(u32, f32)>, offset: usize, limit: usize) -> Vec<(u32, f32)> {
    if offset > MAX_OFFSET {
        return Vec::new();
    }
    top.drain(..offset.min(top.len()));
    top.truncate(limit);
    top
}

fn no_facets() -> Error {
    Error::InvalidOption {
        message: "this index has no facet or sortable fields (an index of format 4 or older, or a \
                  schema without facet = true): rebuild it with a schema that declares them"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `score:asc` is refused rather than answered in the order by score, highest first.
    #[test]
    fn sort_by_score_is_descending_only() {
        assert!(Sort::parse("score").unwrap().descending);
        assert!(Sort::parse("score:desc").unwrap().descending);
        let e = Sort::parse("score:asc").unwrap_err();
        assert_eq!(e.code(), "InvalidOption", "{e}");
        assert!(!Sort::parse("year").unwrap().descending);
    }

    /// A page past [`MAX_OFFSET`] is empty (it was the page at `MAX_OFFSET`: `--offset 150000`
    /// answered hits 100,001 to 100,010 under ranks 150,001 to 150,010).
    #[test]
    fn pages_past_the_most_skipped_are_empty() {
        let top: Vec<(u32, f32)> = (0..MAX_OFFSET as u32 + 20).map(|d| (d, 1.0)).collect();
        let ids = |v: Vec<(u32, f32)>| v.into_iter().map(|t| t.0).collect::<Vec<_>>();
        assert_eq!(ids(page(top.clone(), 3, 2)), [3, 4]);
        let last = MAX_OFFSET as u32;
        assert_eq!(ids(page(top.clone(), MAX_OFFSET, 2)), [last, last + 1]);
        assert!(page(top.clone(), MAX_OFFSET + 5, 2).is_empty());
        assert!(page(top, usize::MAX, 2).is_empty());
    }

    /// A facets option repeating a name is counted, fetched and shown once: the refine a
    /// search keeps (`Searcher::with_refine` and the lazy `Query::refine` both set it here)
    /// names each field once. (tests/facets.rs checks the answers are the same.)
    #[test]
    fn repeated_facet_names_are_kept_once() {
        let mut state = crate::search::QueryState::new();
        state.set_refine(Refine {
            facets: vec!["tags".into(), "year".into(), "tags".into(), "tags".into()],
            ..Refine::default()
        });
        assert_eq!(state.refine.facets, ["tags", "year"]);
    }
}
