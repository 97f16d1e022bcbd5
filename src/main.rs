//! The `edgekb` command: build, search, inspect and verify indexes.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use edgekb::analysis::AnalyzerConfig;
use edgekb::builder::{Document, IndexBuilder};
use edgekb::index::{Bm25, DataFile};
use edgekb::lazy::{DirLoader, LazyIndex, DEFAULT_CACHE_BYTES};
use edgekb::{
    Error, FieldOptions, Index, Language, Schema, SearchOptions, SearchResults, Searcher,
};
use serde::Deserialize;

#[derive(Parser)]
#[command(
    name = "edgekb",
    version,
    about = "Build and search edgekb knowledge-base indexes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an index from JSON Lines documents ({"id","title","body"|"text","url","tags"}),
    /// Markdown and HTML files, and folders of them.
    Build {
        /// Inputs: JSONL files (`-` for standard input), .md/.html files, folders of them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where to write the index.
        #[arg(long)]
        out: PathBuf,
        /// Schema, analyzer and ranking settings (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Write a split index (a directory with manifest.json) for lazy loading over HTTP.
        /// Without --split or --single, an index above 16 MB is split.
        #[arg(long, conflicts_with = "single")]
        split: bool,
        /// Always write one file.
        #[arg(long)]
        single: bool,
        /// Split index: cut a term dictionary (fst + term info) larger than this many bytes
        /// into parts behind a small resident router (default 131072).
        #[arg(long)]
        resident_dictionary_bytes: Option<usize>,
        /// Split index: target bytes of one dictionary part (default 32768).
        #[arg(long)]
        dictionary_part_bytes: Option<usize>,
        /// Split index: keep hit-display data (id, title, url of every document) up to this
        /// many bytes in the resident dictionary, so hits cost no request (default 65536).
        #[arg(long)]
        resident_display_bytes: Option<usize>,
    },
    /// Search an index.
    Search {
        /// The index file.
        kb: PathBuf,
        /// The query (omit with --queries); it may start with `-`.
        #[arg(allow_hyphen_values = true)]
        query: Option<String>,
        /// Number of hits.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Run many queries from a file: JSONL {"id","text"} or TSV id<TAB>text.
        #[arg(long)]
        queries: Option<PathBuf>,
        /// Output format for --queries.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Rank every document matching any word (OR) instead of AND with fallback.
        #[arg(long)]
        any: bool,
        /// Turn off typo tolerance.
        #[arg(long)]
        no_typos: bool,
        /// Turn off prefix matching of the last word.
        #[arg(long)]
        no_prefix: bool,
        /// Show each hit's best passage with the matched words (N characters, default 160);
        /// with --json, hits gain `snippet` and `highlights` (UTF-16 offsets).
        #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "160")]
        snippets: Option<usize>,
    },
    /// Show an index's header, sections and counts.
    Inspect {
        /// The index file.
        kb: PathBuf,
    },
    /// Check every checksum of an index; exits non-zero on damage.
    Verify {
        /// The index file.
        kb: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Trec,
    Jsonl,
}

/// `edgekb.toml`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    language: Option<String>,
    stop_words: Option<bool>,
    word_parts: Option<bool>,
    k1: Option<f32>,
    b: Option<f32>,
    fields: Option<Vec<FieldConfig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldConfig {
    name: String,
    #[serde(default = "one")]
    weight: f32,
    #[serde(default)]
    indexed: bool,
    #[serde(default)]
    stored: bool,
    #[serde(default)]
    facet: bool,
    #[serde(default)]
    sortable: bool,
}

fn one() -> f32 {
    1.0
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("edgekb: {e}");
            ExitCode::from(1)
        }
    }
}

fn config_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::InvalidConfig {
        message: format!("{}: {message}", path.display()),
    }
}

fn load_config(path: Option<&Path>) -> Result<(Schema, AnalyzerConfig, Bm25), Error> {
    let Some(path) = path else {
        return Ok((
            Schema::default(),
            AnalyzerConfig::default(),
            Bm25::default(),
        ));
    };
    let text = std::fs::read_to_string(path).map_err(|e| config_error(path, e))?;
    let cfg: Config = toml::from_str(&text).map_err(|e| config_error(path, e))?;
    let mut analyzer = AnalyzerConfig::default();
    if let Some(l) = &cfg.language {
        analyzer.language = Language::from_name(l)
            .ok_or_else(|| config_error(path, format!("unknown language {l:?}")))?;
    }
    analyzer.stop_words = cfg.stop_words.unwrap_or(analyzer.stop_words);
    analyzer.word_parts = cfg.word_parts.unwrap_or(analyzer.word_parts);
    let mut bm25 = Bm25::default();
    bm25.k1 = cfg.k1.unwrap_or(bm25.k1);
    bm25.b = cfg.b.unwrap_or(bm25.b);
    if !(bm25.k1.is_finite() && bm25.k1 >= 0.0 && (0.0..=1.0).contains(&bm25.b)) {
        return Err(config_error(path, "k1 must be ≥ 0 and b within 0..1"));
    }
    let schema = match cfg.fields {
        None => Schema::default(),
        Some(fields) => Schema::new(
            fields
                .into_iter()
                .map(|f| FieldOptions {
                    name: f.name,
                    weight: f.weight,
                    indexed: f.indexed,
                    stored: f.stored,
                    facet: f.facet,
                    sortable: f.sortable,
                })
                .collect(),
        )
        .map_err(|e| config_error(path, e))?,
    };
    Ok((schema, analyzer, bm25))
}

/// Above this many bytes, `edgekb build` writes a split index unless told `--single`.
const SPLIT_THRESHOLD: u64 = 16 << 20;

/// Re-cuts a single-file index into the split layout.
fn rebuild_split(
    index: &Index<Vec<u8>>,
    options: &edgekb::split::SplitOptions,
) -> Result<edgekb::split::SplitOutput, Error> {
    edgekb::split::SplitOutput::from_index_with(index, options)
}

/// Writes the immutable files first, then the manifest (atomically, by rename), so a reader
/// never sees a manifest naming files that are not there yet.
fn write_split(dir: &Path, out: &edgekb::split::SplitOutput) -> Result<(), Error> {
    let io = |p: &Path, e: std::io::Error| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", p.display()),
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for (name, bytes) in &out.files {
        let p = dir.join(name);
        if !p.exists() {
            std::fs::write(&p, bytes).map_err(|e| io(&p, e))?;
        }
    }
    let tmp = dir.join("manifest.json.tmp");
    let json = serde_json::to_vec_pretty(&out.manifest).expect("manifest serializes");
    std::fs::write(&tmp, json).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join("manifest.json")).map_err(|e| io(dir, e))?;
    Ok(())
}

fn open_index(path: &Path) -> Result<Index<Vec<u8>>, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })?;
    Index::open(bytes)
}

/// A single-file index, or the dictionary of a split index (checked against its manifest) with
/// the manifest.
fn open_any(path: &Path) -> Result<(Index<Vec<u8>>, Option<edgekb::split::Manifest>), Error> {
    if !path.is_dir() {
        return Ok((open_index(path)?, None));
    }
    let read = |p: PathBuf| {
        std::fs::read(&p).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", p.display()),
            ))
        })
    };
    let manifest = edgekb::lazy::parse_manifest(&read(path.join("manifest.json"))?)?;
    let dictionary = read(path.join(&manifest.dictionary.name))?;
    edgekb::split::check_file(&manifest.dictionary, &dictionary)?;
    Ok((Index::open(dictionary)?, Some(manifest)))
}

/// A single-file index, or a split index read from its directory.
enum Engine {
    Single(Box<Index<Vec<u8>>>),
    Split(Box<LazyIndex>, DirLoader),
}

impl Engine {
    fn open(path: &Path) -> Result<Engine, Box<dyn std::error::Error>> {
        if path.is_dir() {
            let mut loader = DirLoader(path.to_path_buf());
            let lazy = LazyIndex::open(&mut loader, DEFAULT_CACHE_BYTES)?;
            return Ok(Engine::Split(Box::new(lazy), loader));
        }
        let index = open_index(path)?;
        index.verify()?;
        Ok(Engine::Single(Box::new(index)))
    }

    fn search(
        &mut self,
        q: &str,
        opts: &SearchOptions,
    ) -> Result<SearchResults, Box<dyn std::error::Error>> {
        Ok(match self {
            Engine::Single(index) => Searcher::new(index).search(q, opts)?,
            Engine::Split(lazy, loader) => lazy.search(loader, q, opts)?,
        })
    }
}

fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cli.command {
        Command::Build {
            inputs,
            out,
            config,
            split,
            single,
            resident_dictionary_bytes,
            dictionary_part_bytes,
            resident_display_bytes,
        } => {
            let mut split_options = edgekb::split::SplitOptions::default();
            if let Some(b) = resident_dictionary_bytes {
                split_options.resident_dictionary_bytes = b;
            }
            if let Some(b) = dictionary_part_bytes {
                split_options.part_bytes = b;
            }
            if let Some(b) = resident_display_bytes {
                split_options.resident_display_bytes = b;
            }
            let start = Instant::now();
            let (schema, analyzer, bm25) = load_config(config.as_deref())?;
            let mut builder = IndexBuilder::new(schema, analyzer, bm25);
            // A progress bar over the input bytes (hidden when stderr is not a terminal).
            let sizes: Option<u64> = inputs
                .iter()
                .map(|p| {
                    if p.as_os_str() == "-" {
                        None
                    } else {
                        std::fs::metadata(p).ok().map(|m| m.len())
                    }
                })
                .sum();
            let bar = match sizes {
                Some(total) => indicatif::ProgressBar::new(total).with_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {bytes}/{total_bytes} {msg} ({eta})",
                    )
                    .expect("a valid template"),
                ),
                None => indicatif::ProgressBar::new_spinner(),
            };
            for input in &inputs {
                let name = input.display().to_string();
                // Folders, Markdown and HTML files (src/ingest/); JSONL stays streamed here.
                let kind = edgekb::ingest::Kind::of(input);
                if input.is_dir() || matches!(kind, Some(k) if k != edgekb::ingest::Kind::Jsonl) {
                    edgekb::ingest::add_path(&mut builder, input)?;
                    continue;
                }
                let reader: Box<dyn BufRead> = if name == "-" {
                    Box::new(BufReader::new(std::io::stdin()))
                } else {
                    let f = File::open(input).map_err(|e| {
                        Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}")))
                    })?;
                    if name.ends_with(".gz") {
                        return Err(Error::InvalidConfig { message: format!("{name}: decompress it first (gzip -dc {name} | edgekb build - --out …)") }.into());
                    }
                    Box::new(BufReader::with_capacity(1 << 20, f))
                };
                for (i, line) in reader.lines().enumerate() {
                    let line = line?;
                    bar.inc(line.len() as u64 + 1);
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
                    if builder.doc_count() % 1000 == 0 {
                        bar.set_message(format!("{} documents", builder.doc_count()));
                    }
                }
            }
            bar.finish_and_clear();
            let mut bytes = Vec::new();
            let stats = builder.write(&mut bytes)?;
            let split = split || (!single && stats.total_bytes > SPLIT_THRESHOLD);
            if split {
                let index = Index::open(bytes)?;
                let rebuilt = rebuild_split(&index, &split_options)?;
                write_split(&out, &rebuilt)?;
                eprintln!(
                    "built {}/ (split): {} documents, {} terms; dictionary {} bytes ({} parts, {} bytes), data {} bytes in {:.2} s",
                    out.display(),
                    stats.docs,
                    stats.terms,
                    rebuilt.manifest.dictionary.size,
                    rebuilt.dictionary_parts,
                    rebuilt.manifest.terms.size,
                    rebuilt.manifest.postings.size
                        + rebuilt.manifest.positions.size
                        + rebuilt.manifest.store.size
                        + rebuilt.manifest.display.size,
                    start.elapsed().as_secs_f64()
                );
            } else {
                std::fs::write(&out, &bytes).map_err(|e| {
                    Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("{}: {e}", out.display()),
                    ))
                })?;
                eprintln!(
                    "built {}: {} documents, {} terms, {} bytes in {:.2} s",
                    out.display(),
                    stats.docs,
                    stats.terms,
                    stats.total_bytes,
                    start.elapsed().as_secs_f64()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            kb,
            query,
            limit,
            json,
            queries,
            format,
            any,
            no_typos,
            no_prefix,
            snippets,
        } => {
            let mut engine = Engine::open(&kb)?;
            let opts = SearchOptions {
                limit,
                prefix: !no_prefix,
                typos: !no_typos,
                any,
                snippets,
            };
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            if let Some(qpath) = queries {
                for (qid, text) in read_queries(&qpath)? {
                    let res = engine.search(&text, &opts)?;
                    match format {
                        Format::Trec => {
                            for (rank, h) in res.hits.iter().enumerate() {
                                writeln!(
                                    out,
                                    "{qid} Q0 {} {} {:.6} edgekb",
                                    h.id,
                                    rank + 1,
                                    h.score
                                )?;
                            }
                        }
                        Format::Jsonl => {
                            let line = serde_json::json!({"id": qid, "total": res.total, "hits": res.hits});
                            writeln!(out, "{line}")?;
                        }
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let Some(q) = query else {
                return Err(Error::InvalidConfig {
                    message: "give a query, or --queries <file>".into(),
                }
                .into());
            };
            let res = engine.search(&q, &opts)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&res).expect("results serialize")
                )?;
            } else {
                use std::io::IsTerminal;
                let color = std::io::stdout().is_terminal();
                writeln!(out, "{} results", res.total)?;
                for (i, h) in res.hits.iter().enumerate() {
                    writeln!(out, "{:>3}. {:<8.3} {}  {}", i + 1, h.score, h.id, h.title)?;
                    if let (Some(s), Some(hl)) = (&h.snippet, &h.highlights) {
                        let marked = edgekb::search::highlight_text(s, hl, "\x1b[1m", "\x1b[0m");
                        writeln!(out, "     {}", if color { &marked } else { s })?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { kb } => {
            let (index, manifest) = open_any(&kb)?;
            if let Some(m) = &manifest {
                println!(
                    "split index     {}/manifest.json (layout {})",
                    kb.display(),
                    m.manifest_version
                );
                println!("files");
                for f in DataFile::ALL
                    .iter()
                    .map(|&f| m.data_file(f))
                    .chain([&m.dictionary])
                {
                    println!("  {:<36} bytes={}", f.name, f.size);
                }
                if let Some(r) = index.router() {
                    println!(
                        "dictionary cut into {} parts (terms pack, {} bytes)",
                        r.parts().len(),
                        m.terms.size
                    );
                }
            }
            let m = index.meta();
            println!("file            {}", kb.display());
            println!("format version  {}", index.version());
            println!("bytes           {}", index.len());
            println!("documents       {}", m.doc_count);
            println!("terms           {}", m.term_count);
            println!(
                "analyzer        language={} stop_words={} word_parts={}",
                m.analyzer.language.name(),
                m.analyzer.stop_words,
                m.analyzer.word_parts
            );
            println!("bm25            k1={} b={}", m.bm25.k1, m.bm25.b);
            println!("fields");
            for f in m.schema.fields() {
                println!(
                    "  {:<12} weight={:<4} indexed={} stored={} facet={} sortable={}",
                    f.name, f.weight, f.indexed, f.stored, f.facet, f.sortable
                );
            }
            println!("sections");
            for s in index.sections() {
                println!(
                    "  {:<11} offset={:<10} bytes={:<10} crc32={:08x}",
                    s.kind.name(),
                    s.range.start,
                    s.range.len(),
                    s.crc
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { kb } if kb.is_dir() => {
            // A split index: the dictionary's checksums, then every file against the manifest's
            // size and SHA-256 (which covers every page and part).
            let (index, manifest) = open_any(&kb)?;
            let manifest = manifest.expect("a directory is a split index");
            index.verify()?;
            for f in DataFile::ALL {
                let entry = manifest.data_file(f);
                let path = kb.join(&entry.name);
                let bytes = std::fs::read(&path).map_err(|e| {
                    Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("{}: {e}", path.display()),
                    ))
                })?;
                edgekb::split::check_file(entry, &bytes)?;
                edgekb::split::unpack_file(f, &bytes)?;
            }
            println!(
                "{}: ok (split: dictionary and {} files, {} terms, {} documents)",
                kb.display(),
                DataFile::ALL.len(),
                index.meta().term_count,
                index.doc_count()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { kb } => {
            let index = open_index(&kb)?;
            index.verify()?;
            // Decode every term's postings and positions and every stored document.
            let mut stream = index.terms().stream();
            use fst::Streamer;
            while let Some((_, ord)) = stream.next() {
                let info = index.term_info(ord)?;
                let list = index.postings(&info)?;
                index.positions(&info, &list)?;
            }
            for doc in 0..index.doc_count() {
                index.doc(doc, usize::MAX)?;
            }
            println!(
                "{}: ok ({} sections, {} terms, {} documents)",
                kb.display(),
                index.sections().len(),
                index.meta().term_count,
                index.doc_count()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads JSONL `{"id","text"}` or TSV `id<TAB>text` queries.
fn read_queries(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let f = File::open(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("{}:{}", path.display(), i + 1);
        let bad = |m: &str| Error::InvalidDocument {
            location: location.clone(),
            message: m.to_string(),
        };
        if line.trim_start().starts_with('{') {
            let v: serde_json::Value =
                serde_json::from_str(&line).map_err(|e| bad(&format!("not valid JSON: {e}")))?;
            let id = match &v["id"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(bad("a query needs an \"id\"")),
            };
            let text = v["text"]
                .as_str()
                .ok_or_else(|| bad("a query needs a \"text\""))?
                .to_string();
            out.push((id, text));
        } else {
            let (id, text) = line
                .split_once('\t')
                .ok_or_else(|| bad("expected id<TAB>text"))?;
            out.push((id.to_string(), text.to_string()));
        }
    }
    Ok(out)
}
