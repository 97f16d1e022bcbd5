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
use crate::postings::PostingsWriter;
use crate::schema::Schema;
use crate::store::StoreWriter;
use crate::terminfo::encode_term_infos;

mod stream;
mod terms;
pub use stream::{add_jsonl, add_stream};
use terms::{write_postings, Written};

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
    /// Parses one line of JSON Lines and maps it onto `schema` ([`Document::from_json`]);
    /// `location` names the line in errors.
    pub fn from_json_line(line: &str, schema: &Schema, location: &str) -> Result<Document> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| Error::InvalidDocument {
                location: location.to_string(),
                message: format!("not valid JSON: {e}"),
            })?;
        Document::from_json(&value, schema, location)
    }

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

/// The builder's term dictionary: which term id each word becomes. It belongs to whoever
/// analyzes documents ([`Analysis`]), so that a driver can run it on another thread.
#[derive(Debug, Default)]
struct Vocabulary {
    /// Folded word → term ids of its stem and its surface form (a cache in front of stemming).
    folded_ids: HashMap<String, (u32, Option<u32>)>,
    /// Stemmed term → term id.
    term_ids: HashMap<String, u32>,
    /// Each term's text, by id.
    names: Vec<String>,
    /// Whether each term, by id, was met only as a word's written form beside its stem (it
    /// then gets no positions: phrases match stems).
    written_only: Vec<bool>,
}

impl Vocabulary {
    /// The id of the term a folded word stems to (stemming each distinct word once) and, when
    /// surface forms are on and the stem differs from the word, the id of the word as written.
    fn term_ids(&mut self, analyzer: &Analyzer, folded: &str) -> (u32, Option<u32>) {
        if let Some(&ids) = self.folded_ids.get(folded) {
            return ids;
        }
        let stem = analyzer.stem(folded).into_owned();
        let surface = (analyzer.config().surface_forms && stem != folded)
            .then(|| self.id_of(folded.to_string(), true));
        let ids = (self.id_of(stem, false), surface);
        self.folded_ids.insert(folded.to_string(), ids);
        ids
    }

    /// The id of `term`, a word's written form beside its stem or not.
    fn id_of(&mut self, term: String, written_form: bool) -> u32 {
        match self.term_ids.get(&term) {
            Some(&id) => {
                if !written_form {
                    self.written_only[id as usize] = false;
                }
                id
            }
            None => {
                let id = self.names.len() as u32;
                self.term_ids.insert(term.clone(), id);
                self.names.push(term);
                self.written_only.push(written_form);
                id
            }
        }
    }
}

/// A document's indexed fields as term ids: what [`IndexBuilder::add`] computes before it
/// adds the document to the postings, made apart so that a driver can compute it on another
/// thread ([`add_stream`]).
#[derive(Debug, Default)]
pub(crate) struct Analyzed {
    /// (term id, indexed field's bit, position) of every token, sorted.
    tokens: Vec<(u32, u8, u32)>,
    /// Each indexed field's length in positions.
    lens: Vec<u32>,
}

/// What checking and analyzing documents needs: the analyzer, the indexed fields, the
/// vocabulary and the ids so far.
#[derive(Debug)]
pub(crate) struct Analysis {
    analyzer: Analyzer,
    indexed: Vec<usize>,
    vocab: Vocabulary,
    /// The schema's field count and the `id` field.
    fields: usize,
    id_field: usize,
    /// The ids of the documents accepted so far.
    ids: HashSet<String>,
}

impl Analysis {
    /// Checks `doc` (`location` names it in errors) and analyzes its indexed fields into term
    /// ids, adding new terms to the vocabulary. A document refused leaves everything as it was.
    pub(crate) fn analyze(&mut self, doc: &Document, location: &str) -> Result<Analyzed> {
        if doc.values.len() != self.fields {
            return Err(Error::InvalidDocument {
                location: location.into(),
                message: format!(
                    "{} field values for a schema of {}",
                    doc.values.len(),
                    self.fields
                ),
            });
        }
        if self.ids.len() >= u32::MAX as usize - 1 {
            return Err(Error::LimitExceeded {
                what: "documents per index",
                limit: u32::MAX as u64 - 1,
            });
        }
        let id = doc.values[self.id_field]
            .first()
            .cloned()
            .unwrap_or_default();
        if self.ids.contains(&id) {
            return Err(Error::InvalidDocument {
                location: location.into(),
                message: format!("duplicate id {id:?}"),
            });
        }
        self.ids.insert(id);
        let mut out = Analyzed {
            lens: Vec::with_capacity(self.indexed.len()),
            ..Analyzed::default()
        };
        let Analysis {
            analyzer,
            indexed,
            vocab,
            ..
        } = self;
        for (bit, &field) in indexed.iter().enumerate() {
            let mut base: u32 = 0;
            for value in &doc.values[field] {
                let used = analyzer.index_folded(value, |t| {
                    let (id, surface) = vocab.term_ids(analyzer, t.term);
                    out.tokens.push((id, bit as u8, base + t.position));
                    if let Some(id) = surface {
                        out.tokens.push((id, bit as u8, base + t.position));
                    }
                });
                base = base.saturating_add(used).saturating_add(VALUE_GAP);
            }
            out.lens.push(base.saturating_sub(VALUE_GAP));
        }
        out.tokens.sort_unstable();
        Ok(out)
    }
}

/// Builds an index in memory and writes it out.
pub struct IndexBuilder {
    schema: Schema,
    /// The analyzer and the vocabulary; `None` only while [`add_stream`] has them on its
    /// analyzing thread.
    analysis: Option<Analysis>,
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
    /// Each term's postings, by term id (the vocabulary's).
    terms: Vec<PostingsWriter>,
    doc_count: u32,
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
            analysis: Some(Analysis {
                analyzer: Analyzer::full(analyzer),
                indexed: indexed.clone(),
                vocab: Vocabulary::default(),
                fields: schema.fields().len(),
                id_field: schema.field("id").expect("schema has id"),
                ids: HashSet::new(),
            }),
            indexed,
            schema,
            bm25,
            store: StoreWriter::default(),
            display: StoreWriter::new(crate::store::DISPLAY_CHUNK_TARGET, crate::store::Codec::Lz4)
                .with_preset(crate::store::DISPLAY_PRESET_BYTES),
            display_fields,
            norms: Vec::new(),
            terms: Vec::new(),
            doc_count: 0,
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

    fn analysis_mut(&mut self) -> &mut Analysis {
        self.analysis
            .as_mut()
            .expect("the analysis is back in the builder once add_stream returns")
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
        let analyzed = self.analysis_mut().analyze(doc, location)?;
        let stored = self.add_analyzed(doc, &analyzed);
        self.store.add(&stored);
        Ok(())
    }

    /// What [`IndexBuilder::add`] does once [`Analysis::analyze`] of this builder's analysis
    /// has accepted `doc` as `analyzed`, but for the document store: returns the stored values,
    /// which the caller must add to it next.
    fn add_analyzed(&mut self, doc: &Document, analyzed: &Analyzed) -> Vec<Vec<String>> {
        let doc_id = self.doc_count;
        for (bit, &len) in analyzed.lens.iter().enumerate() {
            self.total_lengths[bit] += len as u64;
            self.norms.push(fieldnorm::encode(len));
        }
        let tokens = &analyzed.tokens;
        let mut per_field: Vec<Vec<u32>> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let term = tokens[i].0 as usize;
            let mut j = i;
            while j < tokens.len() && tokens[j].0 as usize == term {
                j += 1;
            }
            let mut mask: u16 = 0;
            let mut fields = 0;
            for &(_, bit, pos) in &tokens[i..j] {
                if mask & (1 << bit) == 0 {
                    mask |= 1 << bit;
                    if per_field.len() == fields {
                        per_field.push(Vec::new());
                    }
                    per_field[fields].clear();
                    fields += 1;
                }
                let last = &mut per_field[fields - 1];
                if last.last() != Some(&pos) {
                    last.push(pos);
                }
            }
            let refs: Vec<&[u32]> = per_field[..fields].iter().map(|v| v.as_slice()).collect();
            // Ids come from the vocabulary in order of first use: a new one is the next.
            if term >= self.terms.len() {
                self.terms.resize_with(term + 1, PostingsWriter::default);
            }
            self.terms[term].add(doc_id, mask, &refs);
            i = j;
        }
        let stored: Vec<Vec<String>> = self.stored.iter().map(|&f| doc.values[f].clone()).collect();
        let display = self.display_fields.map(|f| {
            f.and_then(|f| doc.values[f].first().cloned())
                .into_iter()
                .collect::<Vec<String>>()
        });
        self.display.add(&display);
        self.facets.add(&doc.values);
        self.doc_count += 1;
        stored
    }

    /// Ends the build: the index's sections, in memory, ready to be written as one file
    /// ([`BuiltIndex::write`]) or cut into a split index (`SplitOutput::from_built`).
    pub fn finish(self) -> Result<BuiltIndex> {
        BuiltIndex::new(self.into_sections()?)
    }

    /// Writes the index to `out`.
    pub fn write<W: Write>(self, out: W) -> Result<BuildStats> {
        self.finish()?.write(out)
    }

    /// Builds the index into a `Vec<u8>`.
    pub fn to_bytes(self) -> Result<Vec<u8>> {
        Ok(self.finish()?.into_bytes())
    }

    fn into_sections(self) -> Result<Vec<(SectionKind, Vec<u8>)>> {
        let IndexBuilder {
            schema,
            analysis,
            bm25,
            store,
            display,
            norms,
            total_lengths,
            terms: writers,
            doc_count,
            indexed,
            facets,
            synonyms,
            ..
        } = self;
        let Analysis {
            analyzer, vocab, ..
        } = analysis.expect("the analysis is back in the builder once add_stream returns");
        let mut terms: Vec<(String, PostingsWriter)> = vocab
            .names
            .into_iter()
            .zip(vocab.written_only)
            .zip(writers)
            .map(|((name, written_only), mut w)| {
                if written_only {
                    w.set_written_form_only();
                }
                (name, w)
            })
            .collect();
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
        // Every character a query word must fold to in order to find something: those of the
        // terms, and those of the synonym words (looked up as folded).
        let mut chars = std::collections::BTreeSet::new();
        for (ord, (term, _)) in terms.iter().enumerate() {
            chars.extend(term.chars());
            fst_builder
                .insert(term.as_bytes(), ord as u64)
                .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;
        }
        let writers: Vec<PostingsWriter> = terms.into_iter().map(|(_, w)| w).collect();
        let Written {
            postings,
            positions,
            infos,
        } = write_postings(writers, &impact, scorer.name_fields())?;
        let fst_bytes = fst_builder
            .into_inner()
            .map_err(|e| Error::corrupt(format!("term dictionary: {e}")))?;

        let headers = encode_term_infos(&infos, 0, 0);
        let (display_section, display_preset) = display.finish()?;

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
            (SectionKind::Store, store.finish()?.0),
            (SectionKind::Display, display_section),
        ];
        debug_assert!(sections.iter().map(|s| s.0).eq(SECTIONS));
        let mut sections = sections;
        if !display_preset.is_empty() {
            sections.push((SectionKind::DisplayPreset, display_preset));
        }
        if !facets.is_empty() {
            sections.push((SectionKind::Facets, facets.finish(doc_count)?));
        }
        let mut folded = String::new();
        for word in synonyms.iter().flatten() {
            crate::analysis::full_fold(word, &mut folded);
            chars.extend(folded.chars());
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

/// A finished build: the sections of its index, each freed once it is written, so that writing
/// or splitting holds the index about once, not twice.
#[derive(Debug)]
pub struct BuiltIndex {
    sections: Vec<(SectionKind, Vec<u8>)>,
    stats: BuildStats,
}

impl BuiltIndex {
    /// An index file of these sections, in file order (the first is META).
    pub(crate) fn new(sections: Vec<(SectionKind, Vec<u8>)>) -> Result<BuiltIndex> {
        let stats = stats_of(&sections)?;
        Ok(BuiltIndex { sections, stats })
    }

    /// What the build produced; `total_bytes` is the size of the single file.
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// Writes the single-file index to `out`.
    pub fn write<W: Write>(self, mut out: W) -> Result<BuildStats> {
        let (header, table, _) = crate::header::header_and_table(&self.sections);
        out.write_all(&header)?;
        out.write_all(&table)?;
        for (_, bytes) in self.sections {
            out.write_all(&bytes)?;
        }
        out.flush()?;
        Ok(self.stats)
    }

    /// The single-file index's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.stats.total_bytes as usize);
        self.write(&mut out)
            .expect("writing to a Vec<u8> does not fail");
        out
    }

    /// The sections, in file order (for the split cut).
    pub(crate) fn into_sections(self) -> Vec<(SectionKind, Vec<u8>)> {
        self.sections
    }
}

/// The statistics of a file of these sections (the first is META).
fn stats_of(sections: &[(SectionKind, Vec<u8>)]) -> Result<BuildStats> {
    let total_bytes = crate::header::file_len(sections);
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

/// Whether a build may run work on threads of its own: natively, on more than one core (in
/// WebAssembly, or on one core, everything runs on the caller's thread).
#[cfg(not(target_arch = "wasm32"))]
fn more_threads() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

pub(crate) fn too_big(what: &'static str) -> Error {
    Error::LimitExceeded {
        what,
        limit: u32::MAX as u64,
    }
}
