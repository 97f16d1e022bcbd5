//! What does `edgekb.toml` say? The build settings (language, stop words, word parts, surface
//! forms, identifier parts, BM25 parameters, fields), parsed and checked once for the native
//! command and for the builder compiled to wasm, so both accept and refuse the same files with
//! the same messages.

use serde::Deserialize;

use crate::analysis::{AnalyzerConfig, Language};
use crate::bm25::Bm25;
use crate::error::{Error, Result};
use crate::schema::{FieldOptions, Schema};

/// `edgekb.toml` (unknown keys refused).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    language: Option<String>,
    stop_words: Option<bool>,
    word_parts: Option<bool>,
    surface_forms: Option<bool>,
    identifier_parts: Option<bool>,
    k1: Option<f32>,
    b: Option<f32>,
    fields: Option<Vec<FieldConfig>>,
    /// Groups of equivalent words or phrases: `synonyms = [["k8s", "kubernetes"]]`.
    synonyms: Option<Vec<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldConfig {
    name: String,
    #[serde(default = "one")]
    weight: f32,
    /// BM25 length normalization of this field (else the file's `b`).
    b: Option<f32>,
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

/// The synonym groups of `edgekb.toml` (`synonyms = [["k8s", "kubernetes"], …]`), checked
/// (`synonyms::check`); none when the file has no `synonyms` key.
pub fn parse_synonyms(path: &str, bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| config_error(path, format!("not valid UTF-8: {e}")))?;
    let cfg: Config = toml::from_str(text).map_err(|e| config_error(path, e))?;
    let groups = cfg.synonyms.unwrap_or_default();
    crate::synonyms::check(&groups).map_err(|m| config_error(path, m))?;
    Ok(groups)
}

/// Largest BM25 `k1` accepted: common values are 0.5–3; far above, a score overflows `f32`.
pub const MAX_K1: f32 = 100.0;
/// Largest field weight accepted (the same reason).
pub const MAX_WEIGHT: f32 = 1000.0;

fn config_error(path: &str, message: impl std::fmt::Display) -> Error {
    Error::InvalidConfig {
        message: format!("{path}: {message}"),
    }
}

/// Checks BM25 parameters: finite, `0 ≤ k1 ≤ MAX_K1`, `0 ≤ b ≤ 1`.
pub fn check_bm25(bm25: &Bm25) -> std::result::Result<(), String> {
    if !(bm25.k1.is_finite() && (0.0..=MAX_K1).contains(&bm25.k1)) {
        return Err(format!(
            "k1 = {:?} is out of range; use a number within 0..={MAX_K1} (typical: 1.2)",
            bm25.k1
        ));
    }
    if !(bm25.b.is_finite() && (0.0..=1.0).contains(&bm25.b)) {
        return Err(format!(
            "b = {:?} is out of range; use a number within 0..=1 (typical: 0.75)",
            bm25.b
        ));
    }
    Ok(())
}

/// Parses the bytes of an `edgekb.toml` (`path` names it in messages) into the build settings.
pub fn parse(path: &str, bytes: &[u8]) -> Result<(Schema, AnalyzerConfig, Bm25)> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| config_error(path, format!("not valid UTF-8: {e}")))?;
    let cfg: Config = toml::from_str(text).map_err(|e| config_error(path, e))?;
    let mut analyzer = AnalyzerConfig::default();
    if let Some(l) = &cfg.language {
        analyzer.language = Language::from_name(l)
            .ok_or_else(|| config_error(path, format!("unknown language {l:?}")))?;
    }
    analyzer.stop_words = cfg.stop_words.unwrap_or(analyzer.stop_words);
    analyzer.word_parts = cfg.word_parts.unwrap_or(analyzer.word_parts);
    analyzer.surface_forms = cfg.surface_forms.unwrap_or(analyzer.surface_forms);
    analyzer.identifier_parts = cfg.identifier_parts.unwrap_or(analyzer.identifier_parts);
    let mut bm25 = Bm25::default();
    bm25.k1 = cfg.k1.unwrap_or(bm25.k1);
    bm25.b = cfg.b.unwrap_or(bm25.b);
    check_bm25(&bm25).map_err(|m| config_error(path, m))?;
    for f in cfg.fields.iter().flatten() {
        if !(f.weight.is_finite() && (0.0..=MAX_WEIGHT).contains(&f.weight)) {
            return Err(config_error(
                path,
                format!(
                    "field {:?} has weight {:?}; use a number within 0..={MAX_WEIGHT}",
                    f.name, f.weight
                ),
            ));
        }
    }
    let schema = match cfg.fields {
        None => Schema::default(),
        Some(fields) => Schema::new(
            fields
                .into_iter()
                .map(|f| FieldOptions {
                    name: f.name,
                    weight: f.weight,
                    b: f.b,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzer_switches_are_read() {
        let (_, a, _) = parse("edgekb.toml", b"").unwrap();
        assert_eq!(a, AnalyzerConfig::default());
        assert!(a.identifier_parts && a.surface_forms && a.word_parts);
        let text = b"identifier_parts = false\nsurface_forms = false\n";
        let (_, a, _) = parse("edgekb.toml", text).unwrap();
        assert!(!a.identifier_parts && !a.surface_forms && a.word_parts);
        assert!(parse("edgekb.toml", b"identifier_parts = 3").is_err());
    }

    #[test]
    fn a_field_may_have_its_own_b() {
        let (s, _, bm25) = parse("edgekb.toml", b"").unwrap();
        let body = s.field("body").unwrap();
        assert_eq!(s.fields()[body].b, Some(crate::schema::BODY_B));
        assert_eq!(s.fields()[s.field("title").unwrap()].b, None);
        assert_eq!(bm25.b, 0.75);
        let fields = |b: &str| {
            format!(
                "b = 0.6\n[[fields]]\nname = \"id\"\nstored = true\n\
                 [[fields]]\nname = \"text\"\nindexed = true\n{b}\n"
            )
        };
        let (s, _, bm25) = parse("edgekb.toml", fields("b = 0.2").as_bytes()).unwrap();
        assert_eq!((s.fields()[1].b, bm25.b), (Some(0.2), 0.6));
        let (s, _, _) = parse("edgekb.toml", fields("").as_bytes()).unwrap();
        assert_eq!(s.fields()[1].b, None);
        let e = parse("edgekb.toml", fields("b = 1.5").as_bytes()).unwrap_err();
        assert!(e.to_string().contains("has b"), "{e}");
    }
}
