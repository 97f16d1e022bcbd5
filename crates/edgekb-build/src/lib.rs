//! `edgekb build` for Node, with no Rust toolchain: the library's [`IndexBuilder`] and split
//! writer compiled to a WebAssembly module of its own (the search module does not carry it).
//!
//! JavaScript (`npm/build.mjs`) reads the input files and writes the output; this crate does
//! everything between, exactly as the native `edgekb build` (src/main.rs) does, so the files are
//! byte for byte the same:
//!
//! ```js
//! const b = new Builder(configPath, configBytes);       // edgekb.toml, as --config
//! b.beginInput('docs.jsonl');
//! b.push(chunk); ...; b.endInput();                      // JSON Lines, in chunks of any size
//! const out = b.finish(split, single, residentDict, partBytes, residentDisplay);
//! for (let i = 0; i < out.fileCount; i++) write(out.fileName(i), out.fileBytes(i));
//! write('manifest.json', out.manifestJson());            // split: immutable files first
//! ```
//!
//! Errors are JS `Error`s named `EdgekbError` with the core's `code`, and the native CLI's
//! message (what `edgekb: …` prints).
#![forbid(unsafe_code)]

use edgekb::split::{SplitOptions, SplitOutput};
use edgekb::AnalyzerConfig;
use edgekb::Bm25;
use edgekb::{Document, IndexBuilder};
use edgekb::{Error, Schema};
use wasm_bindgen::prelude::*;

/// Above this many bytes, `edgekb build` writes a split index unless told `--single` (the
/// native CLI's threshold).
const SPLIT_THRESHOLD: u64 = 16 << 20;

fn js_error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("EdgekbError");
    let _ = js_sys::Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

fn core(e: Error) -> JsValue {
    js_error(e.code(), &e.to_string())
}

fn load_config(config: Option<(&str, &[u8])>) -> Result<(Schema, AnalyzerConfig, Bm25), Error> {
    match config {
        None => Ok((
            Schema::default(),
            AnalyzerConfig::default(),
            Bm25::default(),
        )),
        // The native command's parser, so both refuse the same files with the same messages.
        Some((path, bytes)) => edgekb::config::parse(path, bytes),
    }
}

/// An index being built from JSON Lines pushed in chunks.
#[wasm_bindgen]
pub struct Builder {
    builder: Option<IndexBuilder>,
    /// The input's name in error locations ("docs.jsonl:12"), as given on the command line.
    name: String,
    /// Lines of the current input seen so far (blank ones included, as the native CLI counts).
    line: usize,
    /// The current input's bytes after its last newline.
    pending: Vec<u8>,
}

#[wasm_bindgen]
impl Builder {
    /// A builder with the settings of `config_bytes` (the text of an `edgekb.toml` read from
    /// `config_path`), or the defaults when there is none.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config_path: Option<String>,
        config_bytes: Option<Vec<u8>>,
    ) -> Result<Builder, JsValue> {
        let config = match (&config_path, &config_bytes) {
            (Some(p), Some(b)) => Some((p.as_str(), b.as_slice())),
            _ => None,
        };
        let (schema, analyzer, bm25) = load_config(config).map_err(core)?;
        let mut builder = IndexBuilder::new(schema, analyzer, bm25);
        if let Some((path, bytes)) = config {
            let groups = edgekb::config::parse_synonyms(path, bytes).map_err(core)?;
            builder.set_synonyms(groups).map_err(core)?;
        }
        Ok(Builder {
            builder: Some(builder),
            name: String::new(),
            line: 0,
            pending: Vec::new(),
        })
    }

    /// Starts the next input file (`name` as the user wrote it; `-` for standard input).
    #[wasm_bindgen(js_name = beginInput)]
    pub fn begin_input(&mut self, name: String) {
        self.name = name;
        self.line = 0;
        self.pending.clear();
    }

    /// Adds the complete lines of `chunk` (with what the previous chunk left after its last
    /// newline); keeps the rest for the next call.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        let mut start = 0;
        while let Some(n) = chunk[start..].iter().position(|&b| b == b'\n') {
            let end = start + n;
            if self.pending.is_empty() {
                self.add_line(&chunk[start..end])?;
            } else {
                let mut line = std::mem::take(&mut self.pending);
                line.extend_from_slice(&chunk[start..end]);
                let r = self.add_line(&line);
                line.clear();
                self.pending = line;
                r?;
            }
            start = end + 1;
        }
        self.pending.extend_from_slice(&chunk[start..]);
        Ok(())
    }

    /// Ends the current input: a last line without a newline is added.
    #[wasm_bindgen(js_name = endInput)]
    pub fn end_input(&mut self) -> Result<(), JsValue> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.add_line(&line)?;
        }
        Ok(())
    }

    /// Documents added so far.
    #[wasm_bindgen(getter, js_name = docCount)]
    pub fn doc_count(&self) -> u32 {
        self.builder.as_ref().map_or(0, |b| b.doc_count())
    }

    /// Writes the index: split when `split`, or when it is above 16 MB and not `single` (the
    /// native CLI's rule). The three sizes are `--resident-dictionary-bytes`,
    /// `--dictionary-part-bytes` and `--resident-display-bytes`, then `--max-file-bytes`
    /// (undefined: the defaults).
    pub fn finish(
        &mut self,
        split: bool,
        single: bool,
        resident_dictionary_bytes: Option<f64>,
        dictionary_part_bytes: Option<f64>,
        resident_display_bytes: Option<f64>,
        max_file_bytes: Option<f64>,
    ) -> Result<Output, JsValue> {
        let builder = self
            .builder
            .take()
            .ok_or_else(|| js_error("InvalidArgument", "this build is finished already"))?;
        let mut options = SplitOptions::default();
        for (value, slot) in [
            (
                resident_dictionary_bytes,
                &mut options.resident_dictionary_bytes,
            ),
            (dictionary_part_bytes, &mut options.part_bytes),
            (resident_display_bytes, &mut options.resident_display_bytes),
        ] {
            if let Some(v) = value {
                if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= usize::MAX as f64) {
                    return Err(js_error(
                        "InvalidArgument",
                        &format!("{v} is not a byte count"),
                    ));
                }
                *slot = v as usize;
            }
        }
        if let Some(v) = max_file_bytes {
            if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64) {
                return Err(js_error(
                    "InvalidArgument",
                    &format!("{v} is not a byte count"),
                ));
            }
            options.max_file_bytes = (v as u64).max(edgekb::split::PACK_HEADER_LEN + 1);
        }
        let built = builder.finish().map_err(core)?;
        let stats = built.stats().clone();
        let split = split || (!single && stats.total_bytes > SPLIT_THRESHOLD);
        if !split {
            return Ok(Output {
                docs: stats.docs,
                terms: stats.terms,
                total_bytes: stats.total_bytes as f64,
                split: None,
                single: built.into_bytes(),
            });
        }
        // Cut from the build's sections, each freed once its pack is made.
        let out = SplitOutput::from_built(built, &options).map_err(core)?;
        Ok(Output {
            docs: stats.docs,
            terms: stats.terms,
            total_bytes: stats.total_bytes as f64,
            split: Some(out),
            single: Vec::new(),
        })
    }
}

impl Builder {
    fn add_line(&mut self, raw: &[u8]) -> Result<(), JsValue> {
        self.line += 1;
        // As BufRead::lines: "\n" ends a line, and a "\r" before it goes too.
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // As the native CLI: a byte-order mark before the first line is skipped, and bytes that
        // are not UTF-8 are reported with their line.
        let raw = match self.line {
            1 => raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw),
            _ => raw,
        };
        let line = std::str::from_utf8(raw).map_err(|e| {
            core(Error::InvalidDocument {
                location: format!("{}:{}", self.name, self.line),
                message: format!(
                    "not valid UTF-8 (byte {} of the line); convert the file, e.g. iconv -f latin1 -t utf-8",
                    e.valid_up_to() + 1
                ),
            })
        })?;
        if line.trim().is_empty() {
            return Ok(());
        }
        let builder = self
            .builder
            .as_mut()
            .ok_or_else(|| js_error("InvalidArgument", "this build is finished already"))?;
        let location = format!("{}:{}", self.name, self.line);
        let doc = Document::from_json_line(line, builder.schema(), &location).map_err(core)?;
        builder.add(&doc, &location).map_err(core)
    }
}

/// What [`Builder::finish`] wrote: one index file, or the files of a split index.
#[wasm_bindgen]
pub struct Output {
    docs: u32,
    terms: u32,
    total_bytes: f64,
    split: Option<SplitOutput>,
    single: Vec<u8>,
}

#[wasm_bindgen]
impl Output {
    /// Whether this is a split index (a directory with manifest.json).
    #[wasm_bindgen(getter)]
    pub fn split(&self) -> bool {
        self.split.is_some()
    }

    /// Documents in the index.
    #[wasm_bindgen(getter)]
    pub fn docs(&self) -> u32 {
        self.docs
    }

    /// Distinct terms.
    #[wasm_bindgen(getter)]
    pub fn terms(&self) -> u32 {
        self.terms
    }

    /// Bytes of the index as one file.
    #[wasm_bindgen(getter, js_name = totalBytes)]
    pub fn total_bytes(&self) -> f64 {
        self.total_bytes
    }

    /// The single-file index (empty for a split index); moves the bytes out.
    #[wasm_bindgen(js_name = takeSingle)]
    pub fn take_single(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.single)
    }

    /// Immutable files of a split index (0 for a single file).
    #[wasm_bindgen(getter, js_name = fileCount)]
    pub fn file_count(&self) -> usize {
        self.split.as_ref().map_or(0, |s| s.files.len())
    }

    /// Name of immutable file `i`.
    #[wasm_bindgen(js_name = fileName)]
    pub fn file_name(&self, i: usize) -> Option<String> {
        Some(self.split.as_ref()?.files.get(i)?.0.clone())
    }

    /// Bytes of immutable file `i`; moves them out (a second call returns nothing).
    #[wasm_bindgen(js_name = takeFile)]
    pub fn take_file(&mut self, i: usize) -> Option<Vec<u8>> {
        Some(std::mem::take(
            &mut self.split.as_mut()?.files.get_mut(i)?.1,
        ))
    }

    /// manifest.json of a split index, as the native CLI writes it.
    #[wasm_bindgen(js_name = manifestJson)]
    pub fn manifest_json(&self) -> Option<Vec<u8>> {
        serde_json::to_vec_pretty(&self.split.as_ref()?.manifest).ok()
    }

    /// The native CLI's summary line's figures for a split index:
    /// `[dictionary bytes, dictionary parts, terms-pack bytes, data bytes]`.
    #[wasm_bindgen(js_name = splitSizes)]
    pub fn split_sizes(&self) -> Option<Vec<f64>> {
        let s = self.split.as_ref()?;
        let m = &s.manifest;
        Some(vec![
            m.dictionary.size as f64,
            s.dictionary_parts as f64,
            m.terms.size as f64,
            (m.postings.size + m.positions.size + m.store.size + m.display.size) as f64,
        ])
    }
}
