//! The `edgekb` command: build, search, inspect and verify indexes.
#![forbid(unsafe_code)]

#[path = "cli/io.rs"]
mod io;
#[path = "cli/publish.rs"]
mod publish;
#[path = "cli/verify.rs"]
mod verify;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use edgekb::lazy::{DirLoader, LazyIndex, LoadStats, DEFAULT_CACHE_BYTES};
use edgekb::AnalyzerConfig;
use edgekb::Bm25;
use edgekb::{Document, IndexBuilder};
use edgekb::{Error, Index, Refine, Schema, SearchOptions, SearchResults, Searcher, Sort};
use io::{
    check_out_kind, for_each_line, printable, read_queries, refuse_input_as_output, wire_json,
    wire_summary,
};
use publish::io_error;

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
        /// Split index: keep field norms (one byte per document per indexed field) up to this
        /// many bytes in the resident dictionary; larger ones go to the norms pack, read page by
        /// page for the documents a query scores (default 16384).
        #[arg(long)]
        resident_norms_bytes: Option<usize>,
        /// Split index: write a pack larger than this many bytes as pieces of at most this
        /// size, cut at page boundaries (default 25165824, 24 MiB: static hosts such as
        /// Cloudflare's assets and Pages refuse files over 25 MiB).
        #[arg(long)]
        max_file_bytes: Option<u64>,
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
        /// Only documents this filter accepts: `field:value`, `field:prefix*`, `OR`, `-item`
        /// (repeat to AND several).
        #[arg(long, value_name = "FILTER", allow_hyphen_values = true)]
        filter: Vec<String>,
        /// Count these facet fields over every match (comma-separated, e.g. `tags`); with
        /// --json, results gain `facets` and hits their values.
        #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
        facets: Vec<String>,
        /// Order by `score` (default) or a sortable field: `field`, `field:asc`, `field:desc`.
        #[arg(long, value_name = "FIELD[:asc|:desc]")]
        sort: Option<String>,
        /// Skip this many hits (pages: --offset 20 --limit 10 is the third page).
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Report what each query cost on the wire: requests, bytes and round trips (fetch
        /// rounds) of a split index read through the counting loader (with --json and
        /// --queries jsonl, a `wire` object per answer; with --queries, totals on stderr).
        #[arg(long)]
        stats: bool,
        /// Cache budget of a split index, in bytes (default 32 MiB).
        #[arg(long, default_value_t = DEFAULT_CACHE_BYTES)]
        cache_bytes: usize,
    },
    /// Show an index's header, sections and counts.
    Inspect {
        /// The index file.
        kb: PathBuf,
    },
    /// Check everything a search checks (every checksum, page CRCs, every term and document,
    /// decompression within budget); exits non-zero on damage.
    Verify {
        /// The index file.
        kb: PathBuf,
    },
    /// Remove the files of a split index directory that neither manifest.json nor
    /// manifest.previous.json names (and temporary files left by killed builds).
    Gc {
        /// The split index directory.
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Trec,
    Jsonl,
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

fn load_config(path: Option<&Path>) -> Result<(Schema, AnalyzerConfig, Bm25), Error> {
    let Some(path) = path else {
        return Ok((
            Schema::default(),
            AnalyzerConfig::default(),
            Bm25::default(),
        ));
    };
    let label = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| Error::InvalidConfig {
        message: format!("{label}: {e}"),
    })?;
    edgekb::config::parse(&label, &text)
}

/// Above this many bytes, `edgekb build` writes a split index unless told `--single`.
const SPLIT_THRESHOLD: u64 = 16 << 20;

fn open_index(path: &Path) -> Result<Index<Vec<u8>>, Error> {
    Index::open(std::fs::read(path).map_err(|e| io_error(path, e))?)
}

/// A single-file index, or the dictionary of a split index (checked against its manifest) with
/// the manifest.
fn open_any(path: &Path) -> Result<(Index<Vec<u8>>, Option<edgekb::split::Manifest>), Error> {
    if !path.is_dir() {
        return Ok((open_index(path)?, None));
    }
    let read = |p: PathBuf| std::fs::read(&p).map_err(|e| io_error(&p, e));
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
    fn open(path: &Path, cache_bytes: usize) -> Result<Engine, Box<dyn std::error::Error>> {
        if path.is_dir() {
            let mut loader = DirLoader(path.to_path_buf());
            let lazy = LazyIndex::open(&mut loader, cache_bytes)?;
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
        refine: &Refine,
    ) -> Result<SearchResults, Box<dyn std::error::Error>> {
        Ok(match self {
            Engine::Single(index) => Searcher::new(index)
                .with_refine(refine.clone())
                .search(q, opts)?,
            Engine::Split(lazy, loader) => lazy.search_refined(loader, q, opts, refine.clone())?,
        })
    }

    /// The counters of the split index's loader (`None` for a single file, read whole).
    fn wire(&self) -> Option<LoadStats> {
        match self {
            Engine::Single(_) => None,
            Engine::Split(lazy, _) => Some(lazy.load_stats()),
        }
    }

    /// [`Engine::search`] and what it cost on the wire.
    fn search_counted(
        &mut self,
        q: &str,
        opts: &SearchOptions,
        refine: &Refine,
    ) -> Result<(SearchResults, LoadStats), Box<dyn std::error::Error>> {
        let before = self.wire().unwrap_or_default();
        let res = self.search(q, opts, refine)?;
        Ok((res, self.wire().unwrap_or_default().since(&before)))
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
            resident_norms_bytes,
            max_file_bytes,
        } => {
            let mut split_options = edgekb::split::SplitOptions::default();
            if let Some(b) = max_file_bytes {
                split_options.max_file_bytes = b.max(edgekb::split::PACK_HEADER_LEN + 1);
            }
            if let Some(b) = resident_dictionary_bytes {
                split_options.resident_dictionary_bytes = b;
            }
            if let Some(b) = dictionary_part_bytes {
                split_options.part_bytes = b;
            }
            if let Some(b) = resident_display_bytes {
                split_options.resident_display_bytes = b;
            }
            if let Some(b) = resident_norms_bytes {
                split_options.resident_norms_bytes = b;
            }
            let start = Instant::now();
            refuse_input_as_output(&inputs, &out)?;
            let (schema, analyzer, bm25) = load_config(config.as_deref())?;
            let mut builder = IndexBuilder::new(schema, analyzer, bm25);
            if let Some(path) = config.as_deref() {
                let label = path.display().to_string();
                let text = std::fs::read(path).map_err(|e| io_error(path, e))?;
                builder.set_synonyms(edgekb::config::parse_synonyms(&label, &text)?)?;
            }
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
                let reader: Box<dyn BufRead + Send> = if name == "-" {
                    Box::new(BufReader::new(std::io::stdin()))
                } else {
                    let f = File::open(input).map_err(|e| io_error(input, e))?;
                    if name.ends_with(".gz") {
                        return Err(Error::InvalidConfig { message: format!("{name}: decompress it first (gzip -dc {name} | edgekb build - --out …)") }.into());
                    }
                    Box::new(BufReader::with_capacity(1 << 20, f))
                };
                // Lines are read, parsed and analyzed on a second thread (`add_stream`).
                let schema = builder.schema().clone();
                let bar = bar.clone();
                let before = builder.doc_count();
                edgekb::add_stream(&mut builder, |add| {
                    let mut read: u32 = 0;
                    for_each_line(reader, &name, |location, line| {
                        bar.inc(line.len() as u64 + 1);
                        if line.trim().is_empty() {
                            return Ok(());
                        }
                        let doc = Document::from_json_line(line, &schema, location)?;
                        add(doc, location.to_string())?;
                        read += 1;
                        if (before + read) % 1000 == 0 {
                            bar.set_message(format!("{} documents", before + read));
                        }
                        Ok(())
                    })
                })?;
            }
            bar.finish_and_clear();
            let built = builder.finish()?;
            let stats = built.stats().clone();
            let automatic = !split && !single;
            let split = split || (automatic && stats.total_bytes > SPLIT_THRESHOLD);
            check_out_kind(&out, split, automatic.then_some(stats.total_bytes))?;
            if split {
                // Cut from the build's sections, each freed once its pack is made.
                let rebuilt = edgekb::split::SplitOutput::from_built(built, &split_options)?;
                let report = publish::write_split(&out, &rebuilt)?;
                if report.repaired > 0 {
                    eprintln!(
                        "rewrote {} damaged file(s) in {} (size or SHA-256 did not match)",
                        report.repaired,
                        out.display()
                    );
                }
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
                publish::write_atomic(&out, &built.into_bytes())?;
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
            filter,
            facets,
            sort,
            offset,
            stats,
            cache_bytes,
        } => {
            let mut engine = Engine::open(&kb, cache_bytes)?;
            let opened = engine.wire();
            let filters = filter
                .iter()
                .map(|f| edgekb::Filter::parse(f))
                .collect::<Result<Vec<_>, _>>()?;
            let refine = Refine {
                filter: match filters.len() {
                    0 => None,
                    1 => filters.into_iter().next(),
                    _ => Some(edgekb::Filter::All(filters)),
                },
                facets: facets.into_iter().filter(|f| !f.is_empty()).collect(),
                sort: sort.as_deref().map(Sort::parse).transpose()?,
                offset,
            };
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
                let mut total = LoadStats::default();
                let mut count = 0u64;
                for (qid, text) in read_queries(&qpath)? {
                    let (res, wire) = engine.search_counted(&text, &opts, &refine)?;
                    total = total.add(&wire);
                    count += 1;
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
                            let hits: Vec<serde_json::Value> =
                                res.hits.iter().map(|h| h.to_tree()).collect();
                            let mut line =
                                serde_json::json!({"id": qid, "total": res.total, "hits": hits});
                            if stats {
                                line["wire"] = wire_json(&wire);
                            }
                            writeln!(out, "{line}")?;
                        }
                    }
                }
                if stats {
                    eprintln!("{}", wire_summary(opened, total, count));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let Some(q) = query else {
                return Err(Error::InvalidConfig {
                    message: "give a query, or --queries <file>".into(),
                }
                .into());
            };
            let (res, wire) = engine.search_counted(&q, &opts, &refine)?;
            if json {
                let mut v: serde_json::Value = res.to_tree();
                if stats {
                    v["wire"] = wire_json(&wire);
                }
                writeln!(out, "{v}")?;
            } else {
                use std::io::IsTerminal;
                let color = std::io::stdout().is_terminal();
                writeln!(out, "{} results", res.total)?;
                for (field, values) in &res.facets {
                    let mut top: Vec<(&String, &u32)> = values.iter().collect();
                    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                    let shown: Vec<String> = top
                        .iter()
                        .take(10)
                        .map(|(v, c)| format!("{} ({c})", printable(v)))
                        .collect();
                    writeln!(out, "  {field}: {}", shown.join(", "))?;
                }
                for (i, h) in res.hits.iter().enumerate() {
                    writeln!(
                        out,
                        "{:>3}. {:<8.3} {}  {}",
                        offset + i + 1,
                        h.score,
                        printable(&h.id),
                        printable(&h.title)
                    )?;
                    if let (Some(s), Some(hl)) = (&h.snippet, &h.highlights) {
                        // Control characters become U+FFFD (one UTF-16 unit, like them), so the
                        // highlight offsets still hold and the text cannot drive the terminal.
                        let s: String = s
                            .chars()
                            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                            .collect();
                        let marked = edgekb::highlight_text(&s, hl, "\x1b[1m", "\x1b[0m");
                        writeln!(out, "     {}", if color { &marked } else { &s })?;
                    }
                }
                if stats {
                    writeln!(out, "{}", wire_summary(opened, wire, 1))?;
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
                for f in m
                    .data_files()
                    .into_iter()
                    .map(|f| m.data_file(f))
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
                "analyzer        language={} stop_words={} word_parts={} surface_forms={} \
                 identifier_parts={} typography={}",
                m.analyzer.language.name(),
                m.analyzer.stop_words,
                m.analyzer.word_parts,
                m.analyzer.surface_forms,
                m.analyzer.identifier_parts,
                m.analyzer.typography
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
            let (manifest, summary) = verify::verify_split(&kb)
                .map_err(|e| format!("{}: verify failed: {e}", kb.display()))?;
            println!(
                "{}: ok (split: dictionary and {} packs, {} pages, {} terms, {} documents)",
                kb.display(),
                manifest.data_files().len(),
                summary.pages,
                summary.terms,
                manifest.doc_count
            );
            // A missing or stale dictionary.bin is no damage, but costs readers a round trip.
            let warning = summary
                .alias
                .and_then(|a| a.warning(&manifest.dictionary.name));
            if let Some(warning) = warning {
                eprintln!("{}: warning: {warning}", kb.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { kb } => {
            let summary = verify::verify_file(&kb)
                .map_err(|e| format!("{}: verify failed: {e}", kb.display()))?;
            println!(
                "{}: ok ({} terms, {} documents)",
                kb.display(),
                summary.terms,
                summary.docs
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Gc { dir } => {
            let report = publish::gc(&dir)?;
            for name in &report.removed {
                println!("removed {name}");
            }
            println!(
                "{}: removed {} file(s), {} bytes; kept {} file(s) named by {} or {}",
                dir.display(),
                report.removed.len(),
                report.bytes,
                report.kept,
                publish::MANIFEST,
                publish::PREVIOUS_MANIFEST
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
