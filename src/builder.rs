//! How is an index built?
//!
//! [`IndexBuilder`] takes documents one by one (in memory), then writes one index file to any
//! `io::Write`. Terms are sorted at the end, so the output is byte-for-byte deterministic for
//! the same input and settings.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use crate::analysis::{Analyzer, AnalyzerConfig};
use crate::bm25::{average_lengths, Bm25F, ImpactOf};
use crate::bm25::{fieldnorm, Bm25};
use crate::error::{Error, Result};
use crate::facets::FacetsWriter;
use crate::header::{Meta, SectionKind, SECTIONS};
use crate::postings::{has_name_postings, PostingsWriter};
use crate::schema::Schema;
use crate::store::StoreWriter;
use crate::terminfo::{encode_term_infos, TermRow};

/// Positions left empty between two values of a multi-valued field, so that a phrase never
/// matches across values.
pub const VALUE_GAP: u32 = 1;

/// One input document: values per schema field (same order as [`Schema::fields`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// Values of each field.
    pub values: Vec<Vec<String>>,
}

impl Document {
    /// Maps a JSON object onto `schema`. Strings, numbers and booleans are taken as text, arrays
    /// of them as several values; `text` fills `body` when the schema has no `text` field; other
    /// keys are ignored. `location` names the input in errors ("docs.jsonl:12").
    pub fn from_json(
        value: &serde_json::Value,
        schema: &Schema,
        location: &str,
    ) -> Result<Document> {
        let bad = |message: String| Error::InvalidDocument {
            location: location.to_string(),
            message,
        };
        let obj = value
            .as_object()
            .ok_or_else(|| bad("a document must be a JSON object".into()))?;
        let mut values = vec![Vec::new(); schema.fields().len()];
        for (key, v) in obj {
            let field = match schema.field(key) {
                Some(f) => f,
                None if key == "text" => match schema.field("body") {
                    Some(f) => f,
                    None => continue,
                },
                None => continue,
            };
            let mut push = |v: &serde_json::Value| -> Result<()> {
                match v {
                    serde_json::Value::String(s) => values[field].push(s.clone()),
                    serde_json::Value::Number(n) => values[field].push(n.to_string()),
                    serde_json::Value::Bool(b) => values[field].push(b.to_string()),
                    serde_json::Value::Null => {}
                    _ => return Err(bad(format!("field {key:?} must be text or a list of text"))),
                }
                Ok(())
            };
            match v {
                serde_json::Value::Array(items) => items.iter().try_for_each(&mut push)?,
                other => push(other)?,
            }
        }
        let id = schema.field("id").expect("schema has id");
        match values[id].as_slice() {
            [one] if !one.is_empty() => {}
            [] => return Err(bad("missing \"id\"".into())),
            _ => return Err(bad("\"id\" must be one non-empty value".into())),
        }
        Ok(Document { values })
    }
}

/// What a build produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Documents indexed.
    pub docs: u32,
    /// Distinct terms.
    pub terms: u32,
    /// Bytes per section, in file order.
    pub sections: Vec<(&'static str, u64)>,
    /// Bytes of the whole file.
    pub total_bytes: u64,
}

/// The builder's term tables, borrowed apart from the rest so that analysis can feed them
/// without copying each token.
struct Vocabulary<'a> {
    analyzer: &'a Analyzer,
    folded_ids: &'a mut HashMap<String, (u32, Option<u32>)>,
    term_ids: &'a mut HashMap<String, u32>,
    terms: &'a mut Vec<(String, PostingsWriter)>,
}

impl Vocabulary<'_> {
    /// The id of the term a folded word stems to (stemming each distinct word once) and, when
    /// surface forms are on and the stem differs from the word, the id of the word as written.
    fn term_ids(&mut self, folded: &str) -> (u32, Option<u32>) {
        if let Some(&ids) = self.folded_ids.get(folded) {
            return ids;
        }
        let stem = self.analyzer.stem(folded).into_owned();
        let surface = (self.analyzer.config().surface_forms && stem != folded)
            .then(|| self.id_of(folded.to_string(), true));
        let ids = (self.id_of(stem, false), surface);
        self.folded_ids.insert(folded.to_string(), ids);
        ids
    }

    /// The id of `term`, a word's written form beside its stem or not: a term only ever met as
    /// a written form gets no positions (phrases match stems).
    fn id_of(&mut self, term: String, written_form: bool) -> u32 {
        match self.term_ids.get(&term) {
            Some(&id) => {
                if !written_form {
                    self.terms[id as usize].1.mark_stem();
                }
                id
            }
            None => {
                let id = self.terms.len() as u32;
                self.term_ids.insert(term.clone(), id);
                let w = match written_form {
                    true => PostingsWriter::written_form(),
                    false => PostingsWriter::default(),
                };
                self.terms.push((term, w));
                id
            }
        }
    }
}

/// Builds an index in memory and writes it out.
pub struct IndexBuilder {
    schema: Schema,
    analyzer: Analyzer,
    bm25: Bm25,
    indexed: Vec<usize>,
    stored: Vec<usize>,
    store: StoreWriter,
    /// `[id, title, url]` of each document, for hits.
    display: StoreWriter,
    /// Schema ids of `id`, `title`, `url` when stored.
    display_fields: [Option<usize>; 3],
    norms: Vec<u8>,
    total_lengths: Vec<u64>,
    /// Folded word → term ids of its stem and its surface form (a cache in front of stemming).
    folded_ids: HashMap<String, (u32, Option<u32>)>,
    /// Stemmed term → term id.
    term_ids: HashMap<String, u32>,
    terms: Vec<(String, PostingsWriter)>,
    ids: HashSet<String>,
    doc_count: u32,
    scratch: Vec<(u32, u8, u32)>,
    facets: FacetsWriter,
    synonyms: Vec<Vec<String>>,
}

impl IndexBuilder {
    /// A builder for `schema`, analyzing with `analyzer`, ranking with `bm25`.
    pub fn new(schema: Schema, analyzer: AnalyzerConfig, bm25: Bm25) -> Self {
        let indexed = schema.indexed();
        let display_fields = schema.display_fields();
        let facets = FacetsWriter::new(&schema);
        IndexBuilder {
            // Format 2: stored `id`, `title` and `url` live in the hit-display store only.
            stored: schema.store_only_fields(),
            total_lengths: vec![0; indexed.len()],
            indexed,
            schema,
            analyzer: Analyzer::full(analyzer),
            bm25,
            store: StoreWriter::default(),
            display: StoreWriter::new(crate::store::DISPLAY_CHUNK_TARGET, crate::store::Codec::Lz4),
            display_fields,
            norms: Vec::new(),
            folded_ids: HashMap::new(),
            term_ids: HashMap::new(),
            terms: Vec::new(),
            ids: HashSet::new(),
            doc_count: 0,
            scratch: Vec::new(),
            facets,
            synonyms: Vec::new(),
        }
    }

    /// Sets groups of equivalent words (`[["k8s", "kubernetes"]]`), stored in the index and
    /// applied to queries (a query word also finds what the other words of its group find).
    pub fn set_synonyms(&mut self, groups: Vec<Vec<String>>) -> Result<()> {
        crate::synonyms::check(&groups).map_err(|message| Error::InvalidConfig { message })?;
        self.synonyms = groups;
        Ok(())
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Documents added so far.
    pub fn doc_count(&self) -> u32 {
        self.doc_count
    }

    /// Adds a document; `location` names it in errors.
    pub fn add(&mut self, doc: &Document, location: &str) -> Result<()> {
        if doc.values.len() != self.schema.fields().len() {
            return Err(Error::InvalidDocument {
                location: location.into(),
                message: format!(
                    "{} field values for a schema of {}",
                    doc.values.len(),
                    self.schema.fields().len()
                ),
            });
        }
        let id_field = self.schema.field("id").expect("schema has id");
        let id = doc.values[id_field].first().cloned().unwrap_or_default();
        if !self.ids.insert(id.clone()) {
            return Err(Error::InvalidDocument {
                location: location.into(),
                message: format!("duplicate id {id:?}"),
            });
        }
        if self.doc_count == u32::MAX - 1 {
            return Err(Error::LimitExceeded {
                what: "documents per index",
                limit: u32::MAX as u64 - 1,
            });
        }
        let doc_id = self.doc_count;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for bit in 0..self.indexed.len() {
            let field = self.indexed[bit];
            let mut base: u32 = 0;
            let mut vocab = Vocabulary {
                analyzer: &self.analyzer,
                folded_ids: &mut self.folded_ids,
                term_ids: &mut self.term_ids,
                terms: &mut self.terms,
            };
            for value in &doc.values[field] {
                let used = vocab.analyzer.index_folded(value, |t| {
                    let (id, surface) = vocab.term_ids(t.term);
                    scratch.push((id, bit as u8, base + t.position));
                    if let Some(id) = surface {
                        scratch.push((id, bit as u8, base + t.position));
                    }
                });
                base = base.saturating_add(used).saturating_add(VALUE_GAP);
            }
            let len = base.saturating_sub(VALUE_GAP);
            self.total_lengths[bit] += len as u64;
            self.norms.push(fieldnorm::encode(len));
        }
        scratch.sort_unstable();
        let mut i = 0;
        while i < scratch.len() {
            let term = scratch[i].0;
            let mut j = i;
            while j < scratch.len() && scratch[j].0 == term {
                j += 1;
            }
            let group = &scratch[i..j];
            let mut mask: u16 = 0;
            let mut per_field: Vec<Vec<u32>> = Vec::new();
            for &(_, bit, pos) in group {
                if mask & (1 << bit) == 0 {
                    mask |= 1 << bit;
                    per_field.push(Vec::new());
                }
                let last = per_field.last_mut().expect("pushed above");
                if last.last() != Some(&pos) {
                    last.push(pos);
                }
            }
            let refs: Vec<&[u32]> = per_field.iter().map(|v| v.as_slice()).collect();
            self.terms[term as usize].1.add(doc_id, mask, &refs);
            i = j;
        }
        self.scratch = scratch;
        let stored: Vec<Vec<String>> = self.stored.iter().map(|&f| doc.values[f].clone()).collect();
        self.store.add(&stored);
        let display = self.display_fields.map(|f| {
            f.and_then(|f| doc.values[f].first().cloned())
                .into_iter()
                .collect::<Vec<String>>()
        });
        self.display.add(&display);
        self.facets.add(&doc.values);
        self.doc_count += 1;
        Ok(())
    }

    /// Writes the index to `out`.
    pub fn write<W: Write>(self, out: W) -> Result<BuildStats> {
        let sections = self.into_sections()?;
        write_sections(&sections, out)
    }

    /// Builds the index into a `Vec<u8>`.
    pub fn to_bytes(self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.write(&mut v)?;
        Ok(v)
    }

    fn into_sections(self) -> Result<Vec<(SectionKind, Vec<u8>)>> {
        let IndexBuilder {
            schema,
            analyzer,
            bm25,
            store,
            display,
            norms,
            total_lengths,
            mut terms,
            doc_count,
            indexed,
            facets,
            synonyms,
            ..
        } = self;
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let term_count = u32::try_from(terms.len()).map_err(|_| Error::LimitExceeded {
            what: "terms per index",
            limit: u32::MAX as u64,
        })?;

        let scorer = Bm25F::new(
            bm25,
            self_indexed_weights(&schema, &indexed),
            average_lengths(&total_lengths, doc_count),
        )
        .with_field_b(indexed.iter().map(|&f| schema.fields()[f].b));
        let impact = ImpactOf {
            scorer: &scorer,
            norms: &norms,
            fields: indexed.len(),
        };
        let mut fst_builder = fst::MapBuilder::memory();
        let mut postings = Vec::new();
        let mut positions = Vec::new();
        let mut infos: Vec<TermRow> = Vec::with_capacity(terms.len());
        let names = scorer.name_fields();
        for (ord, (term, w)) in terms.iter().enumerate() {
            fst_builder
                .insert(term.as_bytes(), ord as u64)
                .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
            let (p0, q0) = (postings.len(), positions.len());
            w.finish(&mut postings, &mut positions, |doc, mask, tfs| {
                impact.of(doc, mask, tfs)
            });
            let plen = u32::try_from(postings.len() - p0)
                .map_err(|_| too_big("postings bytes of one term"))?;
            let qlen = u32::try_from(positions.len() - q0)
                .map_err(|_| too_big("positions bytes of one term"))?;
            // The documents holding the term in a name field, and their postings on their own
            // by the rule of `has_name_postings`.
            let named = w.name_subset(names);
            let n0 = postings.len();
            if has_name_postings(w.doc_freq(), named.doc_freq()) {
                named.finish(&mut postings, &mut Vec::new(), |doc, mask, tfs| {
                    impact.of(doc, mask, tfs)
                });
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
        if postings.len() > u32::MAX as usize {
            return Err(too_big("postings bytes"));
        }
        if positions.len() > u32::MAX as usize {
            return Err(too_big("positions bytes"));
        }
        let fst_bytes = fst_builder
            .into_inner()
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;

        let headers = encode_term_infos(&infos, 0, 0);

        let meta = Meta {
            doc_count,
            term_count,
            analyzer: analyzer.config(),
            bm25,
            schema,
            total_lengths,
        };
        let sections = vec![
            (SectionKind::Meta, meta.encode()),
            (SectionKind::Terms, fst_bytes),
            (SectionKind::TermInfo, headers),
            (SectionKind::Postings, postings),
            (SectionKind::Positions, positions),
            (SectionKind::FieldNorms, norms),
            (SectionKind::Store, store.finish()?),
            (SectionKind::Display, display.finish()?),
        ];
        debug_assert!(sections.iter().map(|s| s.0).eq(SECTIONS));
        let mut sections = sections;
        if !facets.is_empty() {
            sections.push((SectionKind::Facets, facets.finish(doc_count)?));
        }
        // Every character a query word must fold to in order to find something: those of the
        // terms, and those of the synonym words (looked up as folded).
        let mut chars = std::collections::BTreeSet::new();
        let mut folded = String::new();
        for word in synonyms.iter().flatten() {
            crate::analysis::full_fold(word, &mut folded);
            chars.extend(folded.chars());
        }
        for (term, _) in &terms {
            chars.extend(term.chars());
        }
        let chars: Vec<char> = chars.into_iter().collect();
        if !synonyms.is_empty() {
            sections.push((SectionKind::Synonyms, crate::synonyms::encode(&synonyms)));
        }
        let table = crate::fold::build(&chars, |c| {
            let mut out = String::new();
            crate::analysis::full_fold(c.encode_utf8(&mut [0; 4]), &mut out);
            out
        });
        sections.push((SectionKind::Fold, table.encode()));
        Ok(sections)
    }
}

/// The weight of each indexed field, by bit.
fn self_indexed_weights(schema: &Schema, indexed: &[usize]) -> Vec<f32> {
    indexed.iter().map(|&f| schema.fields()[f].weight).collect()
}

/// Writes a header, a section table and the sections.
pub(crate) fn write_sections<W: Write>(
    sections: &[(SectionKind, Vec<u8>)],
    mut out: W,
) -> Result<BuildStats> {
    let (header, table, total_bytes) = crate::header::header_and_table(sections);
    out.write_all(&header)?;
    out.write_all(&table)?;
    for (_, bytes) in sections {
        out.write_all(bytes)?;
    }
    out.flush()?;
    let meta = Meta::decode(&sections[0].1)?;
    Ok(BuildStats {
        docs: meta.doc_count,
        terms: meta.term_count,
        sections: sections
            .iter()
            .map(|(k, b)| (k.name(), b.len() as u64))
            .collect(),
        total_bytes,
    })
}

fn too_big(what: &'static str) -> Error {
    Error::LimitExceeded {
        what,
        limit: u32::MAX as u64,
    }
}

/// Reads JSON Lines into `builder`; `name` names the input in errors. Blank lines are skipped.
pub fn add_jsonl<R: std::io::BufRead>(
    builder: &mut IndexBuilder,
    reader: R,
    name: &str,
) -> Result<u32> {
    let mut added = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("{name}:{}", i + 1);
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| Error::InvalidDocument {
                location: location.clone(),
                message: format!("not valid JSON: {e}"),
            })?;
        let doc = Document::from_json(&value, builder.schema(), &location)?;
        builder.add(&doc, &location)?;
        added += 1;
    }
    Ok(added)
}
