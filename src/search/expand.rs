//! How does one word expand against the dictionary? Its exact stem, prefix completions (one
//! ordinal range per part), typo corrections within an edit distance (never in the first
//! character), and the stems of its one-edit variants when nothing else is within reach; the
//! best kept, within the query's budgets.

use fst::{IntoStreamer, Streamer};

use super::best::select_first;
use super::long::form_weight;
use super::plan::Lookup;
use super::quick::Map;
use super::{Expansion, Searcher, MAX_VARIANT_CHARS, NAMES_VIEW, PREFIX_WEIGHT, TYPO_WEIGHT};
use super::{LONG_STEM_WEIGHT, PREFIX_IDF_FLOOR, RARE_EXACT_DF, SPECULATIVE_PARTS, STEM_WEIGHT};
use crate::dict::{prefix_end, PartView};
use crate::error::Result;
use crate::fuzzy::{osa_distance, Levenshtein};
use crate::postings::has_name_postings;

impl Expansion {
    /// Whether it names a few documents: it is in a name field of some, at most a postings
    /// block of them (a word in many titles, like `library` in the Debian descriptions' titles,
    /// is a common word, not a name; reading such completions first would cost their lists).
    fn names_few(&self) -> bool {
        self.names > 0 && self.names as usize <= crate::postings::BLOCK
    }

    /// How many documents reading it decodes: a completion with name-field postings
    /// ([`has_name_postings`]) is read through them ([`NAMES_VIEW`]).
    fn cost(&self) -> u32 {
        if has_name_postings(self.doc_freq, self.names) {
            self.names
        } else {
            self.doc_freq
        }
    }
}

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// Asks for the dictionary parts that may hold keys in `lo..hi` (`hi` `None`: unbounded)
    /// without walking them: those not loaded are recorded as missing, unless there are more
    /// than `most` (then none is: the round would cost more than it may save).
    pub(super) fn want_parts(&self, lo: &[u8], hi: Option<&[u8]>, most: usize) -> Result<()> {
        let Some(router) = self.index.router() else {
            return Ok(());
        };
        let before = self.state.borrow().missing.len();
        let mut wanted = 0;
        for i in router.parts_in(lo, hi) {
            if self.part(i)?.is_none() {
                wanted += 1;
            }
        }
        if wanted > most {
            self.state.borrow_mut().missing.truncate(before);
        }
        Ok(())
    }

    /// Dictionary terms for one folded word (and its stem), best weight per term, at most
    /// `max_expansions`, and whether every dictionary part they needed was there.
    pub(super) fn expand(
        &self,
        folded: &str,
        stem: &str,
        prefix: bool,
        typos: bool,
    ) -> Result<(Vec<Expansion>, bool)> {
        let analyzer = self.index.analyzer();
        let mut found: Map<u64, f32> = Map::default();
        let mut add = |ord: u64, w: f32| {
            let e = found.entry(ord).or_insert(0.0);
            *e = e.max(w);
        };
        let mut exact = false;
        // The document frequency of the rarest exact term (a rare exact word may be a slip).
        let mut exact_df = u32::MAX;
        // Some part a lookup needed is not loaded: typos wait for the next round.
        let mut unsure = false;
        let mut keys = vec![stem];
        if stem != folded {
            keys.push(folded);
        }
        // The stem's own term: an exact match, never a prefix completion.
        let mut stem_ord = None;
        // With surface forms indexed, the word as written is matched in full and a stem it
        // only shares with other words weighs less.
        let surface_forms = analyzer.config().surface_forms;
        // In a long query, the written form is scored with its stem's IDF (`super::long`).
        let long = self.state.borrow().long;
        let stem_weight = if long { LONG_STEM_WEIGHT } else { STEM_WEIGHT };
        let mut stem_idf = None;
        // The exact terms (the stem, the written form), for a lone word being typed.
        let mut exact_ords: Vec<u64> = Vec::new();
        // Some exact term is the word as written (or, without surface forms, its stem: the
        // index cannot tell the two apart).
        let mut as_written = !surface_forms;
        // The exact terms that are the word as written (`Expansion::form`).
        let mut forms: Vec<u64> = Vec::new();
        for key in keys {
            match self.lookup(key.as_bytes())? {
                Lookup::Found(ord) => {
                    let df = self.read_doc_freq(ord)?;
                    let stem_only = surface_forms && key == stem && stem != folded;
                    let weight = match stem_idf {
                        Some(s) if long && surface_forms && key != stem => {
                            form_weight(s, self.idf(df))
                        }
                        _ if stem_only => stem_weight,
                        _ => 1.0,
                    };
                    add(ord, weight);
                    exact_ords.push(ord);
                    exact = true;
                    as_written |= !stem_only;
                    if !stem_only {
                        forms.push(ord);
                    }
                    exact_df = exact_df.min(df);
                    if key == stem {
                        stem_ord = Some(ord);
                        stem_idf = Some(self.idf(df));
                    }
                }
                Lookup::NotLoaded => unsure = true,
                Lookup::Absent => {}
            }
        }
        // Keep the best: by weight, then (format 7) the completions that name a few documents
        // (in a name field: the word being typed most likely names what is looked for), then
        // the cheapest to read first (the rarest: rare completions are the distinctive ones and
        // score highest under BM25; a much-used one that names documents costs what it names),
        // then by ordinal (deterministic, and a total order, so selecting then sorting equals
        // sorting everything, and selecting in batches equals selecting once).
        let better = |a: &Expansion, b: &Expansion| {
            b.weight
                .total_cmp(&a.weight)
                .then(b.names_few().cmp(&a.names_few()))
                .then(a.cost().cmp(&b.cost()))
                .then(a.ord.cmp(&b.ord))
        };
        let keep = self.limits.max_expansions;
        let keep_best = |v: &mut Vec<Expansion>| {
            select_first(v, keep, better);
            v.truncate(keep);
        };
        let mut completions = false;
        // Prefix completions other than the exact terms, the best `keep` of them at most
        // (a short prefix has thousands, of which a query keeps `keep`: the others are not held).
        // Their ordinals are a contiguous range per part, read without walking their keys.
        let mut prefixed: Vec<Expansion> = Vec::new();
        // Exact terms that are completions too (they weigh at least as completions).
        let mut exact_completions: Vec<u64> = Vec::new();
        let names = self.names != 0;
        if prefix {
            // Terms the typed word is a prefix of.
            let lo = folded.as_bytes();
            let hi = prefix_end(lo);
            let limit = self.limits.max_prefix_candidates;
            let first_at_or_after = |part: &PartView<'_>, key: &[u8]| {
                part.map
                    .range()
                    .ge(key)
                    .into_stream()
                    .next()
                    .map(|(_, o)| o)
            };
            // Past the budget the prefix is not completed (type more letters): the word keeps
            // its exact match, and the query says it was truncated.
            let mut too_many = false;
            let mut seen = 0usize;
            let complete = self.each_part(lo, hi.as_deref(), |base, part| {
                let Some(start) = first_at_or_after(part, lo) else {
                    return Ok(());
                };
                let end = hi
                    .as_deref()
                    .and_then(|h| first_at_or_after(part, h))
                    .unwrap_or(part.map.len() as u64);
                if too_many || end.saturating_sub(start) as usize + seen > limit {
                    too_many = true;
                    return Ok(());
                }
                part.each_doc_freq(start..end, |local, doc_freq, names_df| {
                    let ord = base + local;
                    seen += 1;
                    if Some(ord) == stem_ord {
                        return Ok(());
                    }
                    completions = true;
                    if exact_ords.contains(&ord) {
                        exact_completions.push(ord);
                        return Ok(());
                    }
                    prefixed.push(Expansion {
                        ord,
                        weight: PREFIX_WEIGHT,
                        doc_freq,
                        names: if names { names_df } else { 0 },
                        completion: true,
                        form: false,
                    });
                    if prefixed.len() >= 4 * keep.max(64) {
                        keep_best(&mut prefixed);
                    }
                    Ok(())
                })
            })?;
            if too_many {
                prefixed.clear();
                exact_completions.clear();
                completions = false;
                self.truncate();
            }
            for &ord in &exact_completions {
                add(ord, PREFIX_WEIGHT);
            }
            unsure |= !complete;
        }
        // Typos are corrected for words the dictionary does not know as a whole word (nor,
        // for the word being typed, as the start of one), knows only as a very rare term (a
        // slip that happens to be some document's word), or, with surface forms, knows only
        // through its stem: no document writes the word so, and a slip may stem like a real
        // word (`multipleing` → `multipl`, the stem of *multiple*, one edit from
        // *multiplexing*). Never in the first character.
        // (Corrections beside the completions of a word being typed were measured: +0.3 point
        // on typo queries, a loss on prefix queries, and noise on short prefixes.)
        let chars = folded.chars().count();
        let mut typo_count = 0usize;
        let rare_exact = exact && exact_df <= RARE_EXACT_DF;
        // Known, and not rare, but only through its stem.
        let by_stem_only = exact && !rare_exact && !as_written;
        let first = &folded[..folded.chars().next().map_or(0, char::len_utf8)];
        if typos && chars >= 5 && unsure {
            // A part the word's lookups need is not loaded, so whether the word is a slip is not
            // known yet: the parts its corrections would walk (those of its first letter) come
            // in the same round when they are few, and a typo costs one dictionary round, not
            // two.
            self.want_parts(
                first.as_bytes(),
                prefix_end(first.as_bytes()).as_deref(),
                SPECULATIVE_PARTS,
            )?;
        }
        if typos && chars >= 5 && (!exact || rare_exact || by_stem_only) && !completions && !unsure
        {
            let max = if chars >= 9 { 2 } else { 1 };
            let hi = prefix_end(first.as_bytes());
            // Matched on the stem (the finished word) and on the word as typed (for the word
            // being typed, as a prefix); a word known only through its stem, on the word as
            // typed alone (the stem matched already, and what is near it is not the slip).
            let mut targets = vec![(stem, false)];
            // (Corrections of such a word weighed as stem-only matches of it, × 0.5, were
            // measured: they win back half the typo queries and lose MRR on unseen forms.)
            if by_stem_only {
                targets = vec![(folded, prefix)];
            } else if prefix {
                targets.push((folded, true));
            } else if stem != folded {
                // The stemmer may cut a misspelled word differently ("zephy" → "zephi"): the
                // word as typed is matched too ("zephy" is one edit from "zephyr").
                targets.push((folded, false));
            }
            let mut corrected: Vec<(Vec<u8>, f32)> = Vec::new();
            for (target, as_prefix) in targets {
                let left = self
                    .limits
                    .max_query_automaton_steps
                    .saturating_sub(self.state.borrow().steps);
                let budget = self.limits.max_automaton_steps.min(left);
                let Some(aut) = Levenshtein::new(target, max, as_prefix, budget) else {
                    continue;
                };
                let aut = aut.first_char_fixed();
                let walked = self.each_part(first.as_bytes(), hi.as_deref(), |base, part| {
                    aut.walk(part.map.as_fst(), |key, ord, d| {
                        if d > 0 {
                            // A term only whose start is within reach (the word being typed)
                            // is a weaker guess than a whole word within reach.
                            let mut w = TYPO_WEIGHT.powi(d as i32);
                            if as_prefix {
                                // Unless the whole term is within reach too (`strrongs` →
                                // `strongs`, not only `strongswan`).
                                // (Lengths further apart than the distance are not.)
                                let target_chars = target.chars().count();
                                let whole = match std::str::from_utf8(key) {
                                    Ok(k)
                                        if k.chars().count().abs_diff(target_chars)
                                            <= max as usize =>
                                    {
                                        osa_distance(target, k)
                                    }
                                    _ => usize::MAX,
                                };
                                w = if whole <= max as usize {
                                    TYPO_WEIGHT.powi(whole as i32)
                                } else {
                                    w * PREFIX_WEIGHT
                                };
                            }
                            add(base + ord, w);
                            typo_count += 1;
                            if surface_forms && !as_prefix {
                                corrected.push((key.to_vec(), w));
                            }
                        }
                    });
                    Ok(())
                })?;
                unsure |= !walked;
                self.state.borrow_mut().steps += aut.steps();
                if aut.exhausted() {
                    // Over the step budget: the corrections found so far are kept.
                    self.truncate();
                }
            }
            // A correction that is a word as written also brings its stem (the documents
            // with the word's other forms), weighted as a stem-only match of it.
            for (key, w) in corrected {
                let Ok(word) = std::str::from_utf8(&key) else {
                    continue;
                };
                let stem = analyzer.stem(word);
                if stem != word {
                    match self.lookup(stem.as_bytes())? {
                        Lookup::Found(ord) => add(ord, w * stem_weight),
                        Lookup::NotLoaded => unsure = true,
                        Lookup::Absent => {}
                    }
                }
            }
            // The dictionary holds stems, and a typo can change how a word stems ("pmbble"
            // keeps its "e", "pebble" → "pebbl"): when nothing is within reach of the word or
            // its stem, the stems of the words one edit from the typed word are looked up.
            if typo_count == 0 && chars <= MAX_VARIANT_CHARS {
                let mut tried = super::quick::Set::default();
                for variant in one_edit_variants(folded) {
                    let stem = analyzer.stem(&variant).into_owned();
                    if tried.insert(stem.clone()) {
                        let mut state = self.state.borrow_mut();
                        if state.variant_lookups >= self.limits.max_variant_lookups {
                            state.truncated = true;
                            break;
                        }
                        state.variant_lookups += 1;
                        drop(state);
                        match self.lookup(stem.as_bytes())? {
                            Lookup::Found(ord) => add(ord, TYPO_WEIGHT),
                            Lookup::NotLoaded => unsure = true,
                            Lookup::Absent => {}
                        }
                    }
                }
            }
        }
        // Stems are cut-down words: when nothing starts with the word being typed and no
        // correction is within reach, a stem that it extends by at most three characters is
        // what the finished word will most likely stem to ("runnin" → "run").
        if prefix && !completions && !exact && !unsure && typo_count == 0 {
            let min_len = folded.len().saturating_sub(3).max(3);
            for end in (min_len..folded.len()).rev() {
                if !folded.is_char_boundary(end) {
                    continue;
                }
                match self.lookup(&folded.as_bytes()[..end])? {
                    Lookup::Found(ord) => add(ord, PREFIX_WEIGHT),
                    Lookup::NotLoaded => unsure = true,
                    Lookup::Absent => {}
                }
            }
        }
        let mut out = prefixed;
        out.reserve(found.len());
        for (ord, weight) in found {
            out.push(Expansion {
                ord,
                weight,
                doc_freq: self.read_doc_freq(ord)?,
                names: 0,
                completion: false,
                form: forms.contains(&ord) && weight == 1.0,
            });
        }
        keep_best(&mut out);
        if names {
            // A kept completion scores with at least the IDF floor (its weight carries the
            // ratio), and one with name-field postings of its own is read through them alone.
            let floor = PREFIX_IDF_FLOOR * self.idf(1);
            for e in out.iter_mut().filter(|e| e.completion) {
                let own = self.idf(e.doc_freq);
                let idf = own.max(floor);
                if e.names > 0 && !self.term_info(e.ord)?.names_postings.is_empty() {
                    e.weight *= idf / self.idf(e.names);
                    e.ord |= NAMES_VIEW;
                } else if own > 0.0 {
                    e.weight *= idf / own;
                }
            }
            // A lone word being typed whose completions name documents is most likely the
            // start of one of those names: where its letters are a whole term of their own
            // outside the name fields (`rand` in `ssl.RAND_add`, `dist` in `NormalDist`), they
            // say no more than a completion there does, and count as little
            // ([`PREFIX_ELSEWHERE`]; in a name field, fully). With other words beside it, the
            // query describes a document, and its last word may be any word of the text.
            let lone = self.state.borrow().words == 1;
            if prefix && lone && out.iter().any(|e| e.completion && e.names > 0) {
                for e in out.iter_mut().filter(|e| exact_ords.contains(&e.ord)) {
                    e.completion = true;
                }
            }
        }
        out.sort_unstable_by_key(|e| e.ord);
        // Remember where the kept ones' data is.
        for e in &out {
            self.term_info(e.ord)?;
        }
        Ok((out, !unsure))
    }
}

/// The words one edit (a deletion, insertion, substitution or transposition of adjacent
/// characters) from `word`, never in its first character. Inserted and substituted characters
/// are `a`–`z` and the word's own.
fn one_edit_variants(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut alphabet: Vec<char> = ('a'..='z').chain(chars.iter().copied()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let mut out = Vec::new();
    let make = |v: &[char]| v.iter().collect::<String>();
    for i in 1..=chars.len() {
        if i < chars.len() {
            let mut v = chars.clone();
            v.remove(i);
            out.push(make(&v));
            if i + 1 < chars.len() && chars[i] != chars[i + 1] {
                let mut v = chars.clone();
                v.swap(i, i + 1);
                out.push(make(&v));
            }
        }
        for &c in &alphabet {
            let mut v = chars.clone();
            v.insert(i, c);
            out.push(make(&v));
            if i < chars.len() && chars[i] != c {
                let mut v = chars.clone();
                v[i] = c;
                out.push(make(&v));
            }
        }
    }
    out
}
