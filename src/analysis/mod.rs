//! How is text turned into terms?
//!
//! One [`Analyzer`] serves documents and queries alike, and its settings are recorded in the
//! index, so a query is analyzed exactly as the documents were. The pipeline:
//!
//! 1. UAX #29 word segmentation of the original text (byte offsets kept for highlights);
//! 2. per word: Unicode NFKC compatibility folding, case folding, diacritic folding (marks on
//!    Latin, Greek and Cyrillic letters are dropped; a few letters such as `ß` and `æ` are
//!    expanded);
//! 3. runs of CJK ideographs and kana are cut into overlapping bigrams (a lone character stays a
//!    unigram), identically at index and query time;
//! 4. optional stop words (dropped, but they still take a position so phrases stay exact);
//! 5. Snowball stemming for the index language.

use std::fmt;

use std::sync::Arc;

use unicode_segmentation::UnicodeSegmentation;

use crate::fold::FoldTable;

mod language;
mod words;
#[cfg(test)]
use words::MAX_IDENTIFIER_PARTS;
use words::{identifier_parts, letter_runs};

pub use language::Language;

/// The word-break segments of `text` (UAX #29) that hold a letter or a digit, with their byte
/// offsets. ASCII text takes `unicode-segmentation`'s ASCII path, which gives the same segments
/// without a table lookup per character (a tenth of a build's time went to those lookups);
/// other text is segmented in full ([`all_segments`]).
#[cfg(not(all(target_arch = "wasm32", feature = "binding")))]
fn segments(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let (ascii, general) = match text.is_ascii() {
        true => (Some(text.unicode_word_indices()), None),
        false => (None, Some(all_segments(text))),
    };
    ascii
        .into_iter()
        .flatten()
        .chain(general.into_iter().flatten())
}

/// The search `.wasm` (feature `binding`) segments every text in full: a query is a few words,
/// and the ASCII path would add 1.6 KB gzip to the engine (236,985 against 235,343 bytes).
#[cfg(all(target_arch = "wasm32", feature = "binding"))]
fn segments(text: &str) -> impl Iterator<Item = (usize, &str)> {
    all_segments(text)
}

/// Every word-break segment of `text` that holds a character `char::is_alphanumeric` accepts.
fn all_segments(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_word_bound_indices()
        .filter(|(_, word)| word.chars().any(char::is_alphanumeric))
}

/// Longest term kept, in bytes; longer words are cut at a character boundary.
pub const MAX_TERM_BYTES: usize = 64;

/// English stop words, applied only when [`AnalyzerConfig::stop_words`] is on. Our own short
/// list of function words.
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "if",
    "in", "into", "is", "it", "its", "no", "not", "of", "on", "or", "such", "that", "the", "their",
    "then", "there", "these", "they", "this", "to", "was", "were", "which", "will", "with",
];

/// A word of at most 5 bytes as one number: its bytes from the top (so numbers sort as the words
/// do), its length in the lowest byte (so no two words share one).
#[cfg(not(all(target_arch = "wasm32", feature = "binding")))]
const fn stop_key(word: &[u8]) -> u64 {
    let mut key = 0u64;
    let mut i = 0;
    while i < 7 {
        key <<= 8;
        if i < 5 && i < word.len() {
            key |= word[i] as u64;
        }
        i += 1;
    }
    (key << 8) | word.len() as u64
}

/// Whether a word of at most 5 bytes is in [`ENGLISH_STOP_WORDS`], by its [`stop_key`].
#[cfg(not(all(target_arch = "wasm32", feature = "binding")))]
fn stop_listed(term: &str) -> bool {
    ENGLISH_STOP_KEYS
        .binary_search(&stop_key(term.as_bytes()))
        .is_ok()
}

/// The search `.wasm` (feature `binding`) searches the strings: a query has a few words, and the
/// keys added 0.9 KB gzip to the engine (236,221 against 235,337 bytes).
#[cfg(all(target_arch = "wasm32", feature = "binding"))]
fn stop_listed(term: &str) -> bool {
    ENGLISH_STOP_WORDS.binary_search(&term).is_ok()
}

/// [`ENGLISH_STOP_WORDS`] as [`stop_key`]s, in the same (sorted) order: a stop-word check
/// compares numbers, not strings (it ran on every word of a build: 4% of its time).
#[cfg(not(all(target_arch = "wasm32", feature = "binding")))]
const ENGLISH_STOP_KEYS: [u64; ENGLISH_STOP_WORDS.len()] = {
    let mut keys = [0; ENGLISH_STOP_WORDS.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = stop_key(ENGLISH_STOP_WORDS[i].as_bytes());
        i += 1;
    }
    keys
};

/// The settings of an analyzer, as recorded in an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnalyzerConfig {
    /// Stemming language.
    pub language: Language,
    /// Whether stop words of the language are dropped (English only for now; on by default).
    pub stop_words: bool,
    /// Whether a word of letters and digits is also indexed as its letter runs of two or more
    /// (`python3` also as `python`, `libqt6serialbus6` as `libqt` and `serialbus`), at the
    /// word's position, so a query without the digits finds it. Index time only: a query word
    /// is looked up as written. On by default; off for indexes from format 1 and 2.
    pub word_parts: bool,
    /// Whether a word that stems to another term is also indexed as it is written (folded), at
    /// the same position, beside its stem (as Lucene's keyword-repeat does): a query word then
    /// matches documents with its own form above documents that only share its stem
    /// (`levelling` above `level`, `spying` above `spi`). Index time only. On by default; off
    /// for indexes from formats 1 to 3.
    pub surface_forms: bool,
    /// Whether an identifier is also indexed as its parts, at the word's position (as word
    /// parts are): a word joined by `.`, `:` or `_` as each piece between them, and each piece
    /// cut where camel case starts a new word (`termios.tcflow` also as `termios` and
    /// `tcflow`, `ttk.Treeview.identify_region` also as `identify_region`, `identify` and
    /// `region`, `getElementById` also as `get`, `element`, `by` and `id`). Names joined by
    /// `-`, `/` or `::` are separate words already. A query word is looked up whole, so
    /// `termios.tcflow` matches only the documents that write it so, and `tcflow` finds the
    /// name inside it. Index time only; needs [`AnalyzerConfig::word_parts`]. On by default;
    /// off for indexes from formats 1 to 4.
    pub identifier_parts: bool,
    /// Whether a word's typography is folded away: a typographic apostrophe inside it (`’`
    /// U+2019, `‘` U+2018, `ʼ` U+02BC) becomes the ASCII one, so that `Sun’s` is `sun's` (and
    /// stems to `sun`, as the English stemmer drops a possessive) and `don’t` is `don't`; an
    /// invisible character inside it (soft hyphen U+00AD, zero-width non-joiner and joiner
    /// U+200C/U+200D, word joiner U+2060, U+FEFF) is dropped, so `hy&shy;phen&shy;ation` is
    /// `hyphenation`. Documentation generators write typographic quotes (Sphinx by default) and
    /// pages carry hyphenation hints; users type neither. Index and query time. On by default;
    /// off for indexes from formats 1 to 7, whose terms keep these characters.
    pub typography: bool,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            language: Language::English,
            stop_words: true,
            word_parts: true,
            surface_forms: true,
            identifier_parts: true,
            typography: true,
        }
    }
}

/// One analyzed token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The normalized, stemmed term.
    pub term: &'a str,
    /// Its position among the tokens of the text (stop words take a position too).
    pub position: u32,
    /// Byte offset of the start of the source word in the original text.
    pub start: usize,
    /// Byte offset just past the source word in the original text.
    pub end: usize,
}

/// Turns text into terms. Cheap to clone; build once per index.
pub struct Analyzer {
    config: AnalyzerConfig,
    stemmer: Option<rust_stemmers::Stemmer>,
    /// Fold with all of Unicode's data (`full_fold`: a `table-folding` build sets it only in
    /// the builder, so the data stays out of a search binary), else with `table`.
    full: Option<fn(&str, &mut String)>,
    /// An index's fold table (see `fold`); none: the empty table.
    table: Option<Arc<FoldTable>>,
}

impl Clone for Analyzer {
    fn clone(&self) -> Self {
        Analyzer {
            full: self.full,
            table: self.table.clone(),
            ..Analyzer::new(self.config)
        }
    }
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("config", &self.config)
            .finish()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(AnalyzerConfig::default())
    }
}

/// Whether `c` is written without spaces between words and so is cut into bigrams.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309F   // Hiragana
        | 0x30A0..=0x30FF // Katakana
        | 0x31F0..=0x31FF // Katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF66..=0xFF9F // half-width Katakana
        | 0x20000..=0x2FA1F) // CJK extensions B..
}

/// What [`AnalyzerConfig::typography`] makes of `c` inside a word: `Some(Some('\''))` for a
/// typographic apostrophe, `Some(None)` (dropped) for an invisible character, `None` (kept as
/// it is) for the rest. None of these has a decomposition, so they come out of either fold (with
/// Unicode's data or an index's table) as they went in.
fn typography(c: char) -> Option<Option<char>> {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => Some(Some('\'')),
        '\u{00AD}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => Some(None),
        _ => None,
    }
}

/// Case and diacritic folding of a decomposed word, into `out`: a combining mark on a Latin,
/// Greek or Cyrillic letter is dropped, a few letters are expanded, the rest lower-cased.
fn fold_decomposed(
    chars: impl Iterator<Item = char>,
    is_mark: impl Fn(char) -> bool,
    out: &mut String,
) {
    let mut base_foldable = false;
    for c in chars {
        if is_mark(c) {
            if base_foldable {
                continue; // a diacritic on a Latin, Greek or Cyrillic letter
            }
            out.push(c);
            continue;
        }
        base_foldable = (c as u32) < 0x0530;
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' => out.push('d'),
            'ł' | 'Ł' => out.push('l'),
            'þ' | 'Þ' => out.push_str("th"),
            'ı' => out.push('i'),
            _ => {
                if c.is_ascii() {
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            }
        }
    }
}

/// The fold of a non-ASCII word with all of Unicode's data: NFKD, [`fold_decomposed`], then
/// NFC to recompose what decomposition split apart and is not a diacritic (Hangul, Indic).
/// Not cut to [`MAX_TERM_BYTES`].
pub(crate) fn full_fold(word: &str, out: &mut String) {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    out.clear();
    fold_decomposed(word.nfkd(), is_combining_mark, out);
    if !out.is_ascii() {
        let composed: String = out.nfc().collect();
        *out = composed;
    }
}

/// [`full_fold`] with an index's fold table instead of Unicode's data.
pub(crate) fn fold_with_table(table: &FoldTable, word: &str, out: &mut String) {
    out.clear();
    let mut chars = Vec::with_capacity(word.len());
    table.decompose(word, &mut chars);
    fold_decomposed(chars.into_iter(), |c| table.is_mark(c), out);
    if !out.is_ascii() {
        *out = table.compose(out);
    }
}

impl Analyzer {
    /// An analyzer with the given settings.
    /// It folds with all of Unicode's data, but with `table-folding` (the search `.wasm`) with
    /// an empty table (ASCII, case, expanded letters) unless an index gives it its own.
    pub fn new(config: AnalyzerConfig) -> Self {
        let stemmer = config.language.stemmer();
        Analyzer {
            config,
            stemmer,
            full: (!cfg!(feature = "table-folding")).then_some(full_fold as fn(&str, &mut String)),
            table: None,
        }
    }

    /// An analyzer that folds with all of Unicode's data whatever the features: the builder's.
    pub(crate) fn full(config: AnalyzerConfig) -> Self {
        Analyzer {
            full: Some(full_fold),
            ..Analyzer::new(config)
        }
    }

    /// An analyzer that folds non-ASCII words with `table` instead of Unicode's normalization
    /// data: the same terms for every word that can reach an indexed term of the index the
    /// table was built for (see `fold`).
    pub(crate) fn with_fold_table(config: AnalyzerConfig, table: Arc<FoldTable>) -> Self {
        Analyzer {
            full: None,
            table: Some(table),
            ..Analyzer::new(config)
        }
    }

    /// Its settings.
    pub fn config(&self) -> AnalyzerConfig {
        self.config
    }

    /// Folds one word (NFKC, case, diacritics) without stemming, into `out`.
    pub fn fold_word(&self, word: &str, out: &mut String) {
        out.clear();
        if word.is_ascii() {
            // NFKD leaves ASCII as it is: only case folds.
            out.extend(
                word.bytes()
                    .take(MAX_TERM_BYTES)
                    .map(|b| b.to_ascii_lowercase() as char),
            );
            return;
        }
        self.fold_unicode(word, out);
    }

    fn fold_unicode(&self, word: &str, out: &mut String) {
        match (self.full, &self.table) {
            (Some(full), _) => full(word, out),
            (None, Some(table)) => fold_with_table(table, word, out),
            (None, None) => fold_with_table(&FoldTable::EMPTY, word, out),
        }
        if self.config.typography && out.contains(|c| typography(c).is_some()) {
            *out = out
                .chars()
                .filter_map(|c| typography(c).unwrap_or(Some(c)))
                .collect();
        }
        if out.len() > MAX_TERM_BYTES {
            let mut cut = MAX_TERM_BYTES;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
    }

    fn is_stop_word(&self, term: &str) -> bool {
        // Every English stop word has 1 to 5 bytes: most words are ruled out by length.
        self.config.stop_words
            && self.config.language == Language::English
            && term.len() <= 5
            && stop_listed(term)
    }

    /// The term of a folded word: stemmed, or as it is.
    fn finish<'a>(&self, folded: &'a str, stem: bool) -> std::borrow::Cow<'a, str> {
        if stem {
            self.stem(folded)
        } else {
            std::borrow::Cow::Borrowed(folded)
        }
    }

    /// Stems an already folded word.
    pub fn stem<'a>(&self, folded: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.stemmer {
            Some(s) if !folded.chars().any(is_cjk) => s.stem(folded),
            _ => std::borrow::Cow::Borrowed(folded),
        }
    }

    /// Whether [`Analyzer::stem`] keeps a word's first character, so that a word can stem to a
    /// term only if both start alike (what lets snippets skip stemming most words). True
    /// without a stemmer, and for English: Snowball's English algorithm rewrites only a word's
    /// end (and a leading apostrophe, which no token has), its exceptions included (`dying` →
    /// `die`, `skies` → `sky`). Other languages' algorithms may rewrite letters anywhere (the
    /// Dutch one drops accents in its prelude), so for them it is false.
    pub fn stem_keeps_first_char(&self) -> bool {
        self.stemmer.is_none() || self.config.language == Language::English
    }

    /// Analyzes `text`, calling `sink` for every token, and returns the number of positions used
    /// (the field length for ranking).
    pub fn analyze(&self, text: &str, sink: impl FnMut(Token<'_>)) -> u32 {
        self.analyze_inner(text, true, false, false, sink)
    }

    /// Like [`Analyzer::analyze`], but the terms are folded and not stemmed (the caller stems,
    /// for instance through a cache of stems). This is how queries are analyzed.
    pub fn analyze_folded(&self, text: &str, sink: impl FnMut(Token<'_>)) -> u32 {
        self.analyze_inner(text, false, false, false, sink)
    }

    /// How synonyms are matched: the folded terms of `text`, stop words kept, joined by
    /// spaces (`K8S` → `k8s`, `Kubernetes Cluster` → `kubernetes cluster`).
    pub fn synonym_key(&self, text: &str) -> String {
        let mut key = String::new();
        self.analyze_folded_with_stop_words(text, |t| {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(t.term);
        });
        key
    }

    /// Like [`Analyzer::analyze_folded`], stop words kept: how a prefix that is a stop word
    /// (`in*`) is read, since it must still complete (`install`).
    pub fn analyze_folded_with_stop_words(&self, text: &str, sink: impl FnMut(Token<'_>)) -> u32 {
        self.analyze_inner(text, false, false, true, sink)
    }

    /// Like [`Analyzer::analyze_folded`], plus, when [`AnalyzerConfig::word_parts`] is on, the
    /// letter runs of words of letters and digits at the word's position: how documents are
    /// analyzed.
    pub fn index_folded(&self, text: &str, sink: impl FnMut(Token<'_>)) -> u32 {
        self.analyze_inner(text, false, self.config.word_parts, false, sink)
    }

    fn analyze_inner(
        &self,
        text: &str,
        stem: bool,
        parts: bool,
        keep_stop_words: bool,
        mut sink: impl FnMut(Token<'_>),
    ) -> u32 {
        let mut position: u32 = 0;
        let mut folded = String::new();
        let mut piece = String::new();
        // A pending run of CJK characters: (char, start, end).
        let mut run: Vec<(char, usize, usize)> = Vec::new();
        let mut bigram = String::new();

        let mut flush_run = |run: &mut Vec<(char, usize, usize)>,
                             position: &mut u32,
                             sink: &mut dyn FnMut(Token<'_>)| {
            // Overlapping pairs; a lone character is a term of its own.
            for w in run.windows(run.len().clamp(1, 2)) {
                bigram.clear();
                bigram.extend(w.iter().map(|c| c.0));
                sink(Token {
                    term: &bigram,
                    position: *position,
                    start: w[0].1,
                    end: w[w.len() - 1].2,
                });
                *position += 1;
            }
            run.clear();
        };

        for (start, word) in segments(text) {
            let end = start + word.len();
            if word.chars().any(is_cjk) {
                // Fold each character (full-width forms, case) and keep CJK ones in the run;
                // anything else inside the segment (rare) ends the run.
                for (off, c) in word.char_indices() {
                    let cs = start + off;
                    let ce = cs + c.len_utf8();
                    let mut buf = [0u8; 4];
                    self.fold_word(c.encode_utf8(&mut buf), &mut folded);
                    let mut chars = folded.chars();
                    match (chars.next(), chars.next()) {
                        (Some(f), None) if is_cjk(f) => run.push((f, cs, ce)),
                        _ => {
                            if !run.is_empty() {
                                flush_run(&mut run, &mut position, &mut sink);
                            }
                            if folded.chars().any(char::is_alphanumeric) {
                                let term = self.finish(&folded, stem);
                                sink(Token {
                                    term: &term,
                                    position,
                                    start: cs,
                                    end: ce,
                                });
                                position += 1;
                            }
                        }
                    }
                }
                continue;
            }
            if !run.is_empty() {
                flush_run(&mut run, &mut position, &mut sink);
            }
            self.fold_word(word, &mut folded);
            if folded.is_empty() {
                continue;
            }
            if !keep_stop_words && self.is_stop_word(&folded) {
                position += 1;
                continue;
            }
            let term = self.finish(&folded, stem);
            sink(Token {
                term: &term,
                position,
                start,
                end,
            });
            if parts {
                // Letter runs, then identifier parts, each term once and never the word itself.
                let mut runs = letter_runs(&folded);
                runs.retain(|part| !self.is_stop_word(part));
                let ids = match self.config.identifier_parts {
                    true => identifier_parts(word),
                    false => Vec::new(),
                };
                let mut more: Vec<String> = Vec::new();
                for part in ids {
                    self.fold_word(part, &mut piece);
                    if piece != folded
                        && !self.is_stop_word(&piece)
                        && !runs.contains(&piece.as_str())
                        && !more.contains(&piece)
                    {
                        more.push(piece.clone());
                    }
                }
                for part in runs.into_iter().chain(more.iter().map(String::as_str)) {
                    let term = self.finish(part, stem);
                    sink(Token {
                        term: &term,
                        position,
                        start,
                        end,
                    });
                }
            }
            position += 1;
        }
        if !run.is_empty() {
            flush_run(&mut run, &mut position, &mut sink);
        }
        position
    }

    /// Convenience: the terms of `text` as owned strings.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut v = Vec::new();
        self.analyze(text, |t| v.push(t.term.to_string()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        Analyzer::default().terms(text)
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        let mut sorted = ENGLISH_STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, ENGLISH_STOP_WORDS);
        // The keys sort as the words (no word holds a 0 byte), and are distinct.
        assert!(ENGLISH_STOP_KEYS.windows(2).all(|w| w[0] < w[1]));
        // What the length check in `is_stop_word` relies on.
        assert!(ENGLISH_STOP_WORDS
            .iter()
            .all(|w| (1..=5).contains(&w.len())));
        let a = Analyzer::default();
        for w in ENGLISH_STOP_WORDS {
            assert!(a.is_stop_word(w), "{w}");
        }
        for w in [
            "data", "files", "thes", "whic", "x", "é", "their1", "a\0", "an\0", "", "i", "wit", "b",
        ] {
            assert!(!a.is_stop_word(w), "{w}");
        }
        // Every word of up to 5 letters from an alphabet of stop words' letters (and a 0 byte):
        // a stop word exactly when the list has it.
        let mut words = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = words
                .iter()
                .filter(|w| w.len() == words.last().unwrap().len())
                .flat_map(|w| "aehtsnir\0".chars().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        assert_eq!(words.len(), (0..=5).map(|n| 9usize.pow(n)).sum::<usize>());
        for w in &words {
            assert_eq!(
                a.is_stop_word(w),
                ENGLISH_STOP_WORDS.contains(&w.as_str()),
                "{w:?}"
            );
        }
    }

    /// Typographic apostrophes inside words fold to the ASCII one and invisible characters
    /// inside them are dropped (format 8), so a possessive stems to its word, a contraction
    /// reads as typed and a hyphenation hint splits nothing; an index written before keeps them.
    #[test]
    fn typography_table() {
        let cases: &[(&str, &[&str])] = &[
            ("Sun\u{2019}s NIS", &["sun", "nis"]),
            ("Sun's NIS", &["sun", "nis"]),
            ("don\u{2019}t", &["don't"]),
            ("O\u{2018}Reilly", &["o'reilli"]),
            ("m\u{02BC}yaso", &["m'yaso"]),
            // Quotes around a word are not part of it.
            ("\u{2018}quoted\u{2019} text", &["quot", "text"]),
            ("caf\u{e9}\u{2019}s", &["cafe"]),
            ("hy\u{AD}phen\u{AD}ation rules", &["hyphen", "rule"]),
            ("word\u{2060}joiner", &["wordjoin"]),
            (
                "zero\u{200D}width non\u{200C}joiner",
                &["zerowidth", "nonjoin"],
            ),
            ("\u{FEFF}bom", &["bom"]),
            // Only invisible: no word.
            ("\u{AD}\u{200D}", &[]),
            // A zero-width space is a word boundary already.
            ("zero\u{200B}width", &["zero", "width"]),
        ];
        for (text, want) in cases {
            assert_eq!(terms(text), *want, "{text:?}");
        }
        // The written form a query word matches beside its stem is the ASCII one too.
        let mut forms = Vec::new();
        Analyzer::default().analyze_folded("Python\u{2019}s", |t| forms.push(t.term.to_string()));
        assert_eq!(forms, ["python's"]);
        let before = Analyzer::new(AnalyzerConfig {
            typography: false,
            ..AnalyzerConfig::default()
        });
        // (`sun’s` stemmed to `sun’`: no query for `sun` found it.)
        assert_eq!(before.terms("Sun\u{2019}s NIS"), ["sun\u{2019}", "nis"]);
        assert_eq!(before.terms("hy\u{AD}phen"), ["hy\u{AD}phen"]);
    }

    #[test]
    fn analysis_table() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("  ,;! ", &[]),
            ("Hello, World", &["hello", "world"]),
            ("running runners ran", &["run", "runner", "ran"]),
            ("Café crème", &["cafe", "creme"]),
            ("Straße", &["strass"]),
            ("naïve façade", &["naiv", "facad"]),
            ("ﬁle", &["file"]),
            ("ＡＢＣ", &["abc"]),
            ("東京駅", &["東京", "京駅"]),
            ("駅", &["駅"]),
            ("東京 office", &["東京", "offic"]),
            ("北京办公室", &["北京", "京办", "办公", "公室"]),
            ("x86_64 v1.2", &["x86_64", "v1.2"]),
            ("ÆSIR", &["aesir"]),
            ("한국어", &["한국어"]),
        ];
        for (text, want) in cases {
            assert_eq!(terms(text), *want, "text {text:?}");
        }
    }

    /// The terms and positions `a` indexes for `text`.
    fn indexed_terms(a: &Analyzer, text: &str) -> Vec<(String, u32)> {
        let mut v = Vec::new();
        a.index_folded(text, |t| v.push((t.term.to_string(), t.position)));
        v
    }

    /// Index-time word parts: the letter runs of words with digits, at the word's position,
    /// stemmed like words; queries do not split.
    #[test]
    fn word_parts_table() {
        let a = Analyzer::default();
        let index = |text: &str| indexed_terms(&a, text);
        let cases: &[(&str, &[(&str, u32)])] = &[
            ("python3", &[("python3", 0), ("python", 0)]),
            (
                "libqt6serialbus6 dev",
                &[
                    ("libqt6serialbus6", 0),
                    ("libqt", 0),
                    ("serialbus", 0),
                    ("dev", 1),
                ],
            ),
            ("ab1ab2", &[("ab1ab2", 0), ("ab", 0)]),
            // (identifier parts: `x86` between `_`; `64` has no letter)
            ("x86_64", &[("x86_64", 0), ("x86", 0)]),
            ("p53 h2o", &[("p53", 0), ("h2o", 1)]),
            ("42 plain", &[("42", 0), ("plain", 1)]),
            ("the1 a2b", &[("the1", 0), ("a2b", 1)]),
        ];
        for (text, want) in cases {
            let want: Vec<(String, u32)> = want.iter().map(|(t, p)| (t.to_string(), *p)).collect();
            assert_eq!(index(text), want, "text {text:?}");
        }
        let mut q = Vec::new();
        a.analyze_folded("python3", |t| q.push(t.term.to_string()));
        assert_eq!(q, ["python3"]);
        let off = Analyzer::new(AnalyzerConfig {
            word_parts: false,
            ..AnalyzerConfig::default()
        });
        let mut v = Vec::new();
        off.index_folded("python3", |t| v.push(t.term.to_string()));
        assert_eq!(v, ["python3"]);
    }

    /// Index-time identifier parts: pieces between `.`, `:` and `_` and camel-case humps, at the
    /// word's position, folded and stemmed like words, each once; queries do not split.
    #[test]
    fn identifier_parts_table() {
        let a = Analyzer::default();
        let index = |text: &str| indexed_terms(&a, text);
        let cases: &[(&str, &[(&str, u32)])] = &[
            (
                "termios.tcflow(fd)",
                &[
                    ("termios.tcflow", 0),
                    ("termios", 0),
                    ("tcflow", 0),
                    ("fd", 1),
                ],
            ),
            (
                "ttk.Treeview.identify_region",
                &[
                    ("ttk.treeview.identify_region", 0),
                    ("ttk", 0),
                    ("treeview", 0),
                    ("identify_region", 0),
                    ("identify", 0),
                    ("region", 0),
                ],
            ),
            (
                "getElementById",
                &[
                    // (`By` is a stop word)
                    ("getelementbyid", 0),
                    ("get", 0),
                    ("element", 0),
                    ("id", 0),
                ],
            ),
            (
                "HTTPServer x",
                &[("httpserver", 0), ("http", 0), ("server", 0), ("x", 1)],
            ),
            // Letter runs first, then pieces not already given; stop words and one-letter
            // pieces left out.
            (
                "utf8_decode",
                &[("utf8_decode", 0), ("utf", 0), ("decode", 0), ("utf8", 0)],
            ),
            ("get_the_x", &[("get_the_x", 0), ("get", 0)]),
            ("__init__", &[("__init__", 0), ("init", 0)]),
            // Plain words, all capitals, a capitalized word: no parts.
            (
                "POSIX Hello plain",
                &[("posix", 0), ("hello", 1), ("plain", 2)],
            ),
            // A stop word that is a whole word is still dropped.
            ("the", &[]),
        ];
        for (text, want) in cases {
            let want: Vec<(String, u32)> = want.iter().map(|(t, p)| (t.to_string(), *p)).collect();
            assert_eq!(index(text), want, "text {text:?}");
        }
        let mut q = Vec::new();
        a.analyze_folded("termios.tcflow getElementById", |t| {
            q.push(t.term.to_string())
        });
        assert_eq!(q, ["termios.tcflow", "getelementbyid"]);
        let off = Analyzer::new(AnalyzerConfig {
            identifier_parts: false,
            ..AnalyzerConfig::default()
        });
        let mut v = Vec::new();
        off.index_folded("termios.tcflow python3", |t| v.push(t.term.to_string()));
        assert_eq!(v, ["termios.tcflow", "python3", "python"]);
    }

    /// A word of many distinct pieces gives at most [`MAX_IDENTIFIER_PARTS`] parts, the first
    /// ones (the dedup among them is quadratic in their number).
    #[test]
    fn identifier_parts_are_bounded() {
        let pieces: Vec<String> = (0..5000).map(|i| format!("p{i:04}x")).collect();
        let word = pieces.join(".");
        let parts = identifier_parts(&word);
        assert_eq!(parts.len(), MAX_IDENTIFIER_PARTS);
        assert_eq!(parts[..3], ["p0000x", "p0001x", "p0002x"]);
        let mut terms = 0;
        Analyzer::default().index_folded(&word, |_| terms += 1);
        assert!(terms <= 1 + MAX_IDENTIFIER_PARTS, "{terms} terms");
    }

    #[test]
    fn positions_and_offsets() {
        let a = Analyzer::new(AnalyzerConfig {
            language: Language::English,
            stop_words: true,
            ..AnalyzerConfig::default()
        });
        let text = "The Quick fox";
        let mut toks = Vec::new();
        a.analyze(text, |t| {
            toks.push((t.term.to_string(), t.position, t.start, t.end))
        });
        assert_eq!(
            toks,
            vec![("quick".into(), 1, 4, 9), ("fox".into(), 2, 10, 13)]
        );
    }

    #[test]
    fn long_words_are_cut_on_a_char_boundary() {
        let word = "é".repeat(100);
        let a = Analyzer::new(AnalyzerConfig {
            language: Language::None,
            stop_words: false,
            ..AnalyzerConfig::default()
        });
        let t = a.terms(&word);
        assert_eq!(t.len(), 1);
        assert!(t[0].len() <= MAX_TERM_BYTES);
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_fast_path_folds_like_nfkd(word in "[ -~]{0,80}") {
            let a = Analyzer::default();
            let (mut fast, mut slow) = (String::new(), String::new());
            a.fold_word(&word, &mut fast);
            a.fold_unicode(&word, &mut slow);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    /// Every English stem of a token starts with the token's first character (what snippets
    /// rely on to skip stemming: `Analyzer::stem_keeps_first_char`): the exceptions of the
    /// Snowball algorithm, words with apostrophes, `y` and `ies` endings, and typography.
    #[test]
    fn english_stems_keep_the_first_character() {
        let a = Analyzer::default();
        assert!(a.stem_keeps_first_char());
        let text = "dying lying tying skies skis idly gently ugly early only singly news \
            howe atlas cosmos bias andes 'tis 'hello' rock'n'roll ''abc o'neill ’twas \
            yelling yy ies ties cries flies sky by generalizations ÉTÉ éclairs Ædes œuvre";
        let mut seen = 0;
        a.index_folded(text, |t| {
            let stem = a.stem(t.term);
            assert_eq!(
                stem.chars().next(),
                t.term.chars().next(),
                "{} → {stem}",
                t.term
            );
            seen += 1;
        });
        assert!(seen >= 30, "{seen} tokens");
    }

    proptest::proptest! {
        #[test]
        fn english_stems_of_any_tokens_keep_their_first_character(
            text in "([a-zA-Z'’éüßœ0-9]{1,14}[ .,;:'-]{0,2}){1,12}"
        ) {
            let a = Analyzer::default();
            let mut bad = None;
            a.index_folded(&text, |t| {
                let stem = a.stem(t.term);
                if stem.chars().next() != t.term.chars().next() {
                    bad = Some((t.term.to_string(), stem.into_owned()));
                }
            });
            proptest::prop_assert_eq!(bad, None);
        }
    }
}

#[cfg(test)]
mod fold_tests {
    use super::{fold_with_table, full_fold, Analyzer};
    use crate::fold::{build, FoldTable};
    use proptest::prelude::*;

    /// The characters of the terms of `text`, as the builder indexes it.
    fn term_chars(text: &str) -> Vec<char> {
        let a = Analyzer::full(Default::default());
        let mut chars = Vec::new();
        a.index_folded(text, |t| {
            chars.extend(t.term.chars());
            chars.extend(a.stem(t.term).chars());
        });
        chars.sort_unstable();
        chars.dedup();
        chars
    }

    fn table_for(chars: &[char]) -> FoldTable {
        build(chars, |c| {
            let mut out = String::new();
            full_fold(c.encode_utf8(&mut [0; 4]), &mut out);
            out
        })
    }

    fn fixtures() -> String {
        [
            include_str!("../../tests/fixtures/docs.jsonl"),
            include_str!("../../tests/fixtures/facets.jsonl"),
            include_str!("../../tests/fixtures/snippets.jsonl"),
        ]
        .concat()
    }

    /// Table folding against full folding: the same, or both results hold a character of no
    /// indexed term (so neither is a term, or a term's prefix).
    fn check(table: &FoldTable, chars: &[char], word: &str) -> std::result::Result<(), String> {
        let (mut full, mut by_table) = (String::new(), String::new());
        full_fold(word, &mut full);
        fold_with_table(table, word, &mut by_table);
        let outside = |s: &str| s.chars().any(|c| chars.binary_search(&c).is_err());
        if std::env::var_os("FOLD_DEBUG").is_some() && full != by_table {
            eprintln!("differs: {word:?} full {full:?} table {by_table:?}");
        }
        if full == by_table || (outside(&full) && outside(&by_table)) {
            Ok(())
        } else {
            Err(format!(
                "{word:?} ({:x?}): full {full:?} table {by_table:?}",
                word.chars().map(|c| c as u32).collect::<Vec<_>>()
            ))
        }
    }

    /// Words of `text` as the analyzer segments them, and every single character.
    fn words(text: &str) -> Vec<String> {
        use unicode_segmentation::UnicodeSegmentation;
        let mut v: Vec<String> = text.split_word_bounds().map(str::to_string).collect();
        v.extend(text.chars().map(String::from));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Typography (format 8) folds alike through an index's table (the search `.wasm`) and
    /// with all of Unicode's data (the builder): it is applied after either fold.
    #[test]
    fn typography_folds_alike_through_a_table() {
        let text =
            "Sun\u{2019}s caf\u{e9}\u{2019}s hy\u{AD}phen\u{AD}ation don\u{2019}t m\u{2BC}yaso";
        let chars = term_chars(text);
        assert!(
            chars.contains(&'\'') && !chars.contains(&'\u{2019}') && !chars.contains(&'\u{AD}')
        );
        let table = std::sync::Arc::new(table_for(&chars));
        let builder = Analyzer::full(Default::default());
        let searcher = Analyzer::with_fold_table(Default::default(), table);
        let want = ["sun", "cafe", "hyphen", "don't", "m'yaso"];
        assert_eq!(builder.terms(text), want);
        assert_eq!(searcher.terms(text), want);
        // As typed in a query, ASCII or not.
        assert_eq!(
            searcher.terms("sun's CAF\u{c9}'s hyphenation don't"),
            want[..4]
        );
    }

    #[test]
    fn the_fixture_words_fold_alike() {
        let text = fixtures();
        let chars = term_chars(&text);
        let table = table_for(&chars);
        let (d, c, p) = table.lens();
        assert!(
            d > 1000 && c > 100,
            "{d} decompositions, {c} class ranges, {p} pairs"
        );
        for w in words(&text) {
            check(&table, &chars, &w).unwrap();
            // Upper case and decomposed forms of the same words.
            check(&table, &chars, &w.to_uppercase()).unwrap();
            use unicode_normalization::UnicodeNormalization;
            check(&table, &chars, &w.nfd().collect::<String>()).unwrap();
            check(&table, &chars, &w.nfkd().collect::<String>()).unwrap();
        }
    }

    /// Words from many scripts (accents typed composed and decomposed, Hangul syllables and
    /// jamo, Tamil and Devanagari vowel signs, Greek, Cyrillic, full-width and ligatures),
    /// indexed, then folded again as queries.
    const SCRIPTS: &str = "Café cafe\u{301} Ǿ ǿ ṩ Straße ÆSIR Ελληνικά ΆΈΉ Ёлка й \
        한국어 \u{1100}\u{1161}\u{11a8} கொ கொடு \u{b95}\u{bc6}\u{bbe} हिन्दी क़ ক্ষ বো \u{9c7}\u{9be} \
        ＡＢＣ ﬁle ① ㎏ x\u{323}\u{302} a\u{5b0}\u{5b8} עִבְרִית العَرَبِيَّة ñ";

    #[test]
    fn words_of_many_scripts_fold_alike() {
        let chars = term_chars(SCRIPTS);
        let table = table_for(&chars);
        assert!(table.lens().2 > 0);
        for w in words(SCRIPTS) {
            check(&table, &chars, &w).unwrap();
        }
        // The composed Tamil vowel sign is a term character, so it is listed to recompose.
        let mut out = String::new();
        fold_with_table(&table, "\u{b95}\u{bc6}\u{bbe}", &mut out);
        assert_eq!(out, "\u{b95}\u{bca}");
    }

    #[test]
    fn the_table_round_trips_and_bad_bytes_are_errors() {
        let chars = term_chars(SCRIPTS);
        let table = table_for(&chars);
        let bytes = table.encode();
        assert_eq!(FoldTable::decode(&bytes).unwrap(), table);
        assert_eq!(
            FoldTable::decode(&FoldTable::EMPTY.encode()).unwrap(),
            FoldTable::EMPTY
        );
        for cut in [0, 3, 4, 9, bytes.len() / 2, bytes.len() - 1] {
            assert!(FoldTable::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(FoldTable::decode(&longer).is_err());
        assert!(FoldTable::decode(&[0xff, 0xff, 0xff, 0x7f]).is_err());
    }

    /// The characters the built-in table folds toward: letters and digits of Latin, Greek and
    /// Cyrillic that fold to themselves.
    fn builtin_chars() -> Vec<char> {
        (0..0x530u32)
            .filter_map(char::from_u32)
            .filter(|&c| {
                let mut out = String::new();
                full_fold(c.encode_utf8(&mut [0; 4]), &mut out);
                c.is_alphanumeric() && out.chars().eq([c])
            })
            .collect()
    }

    /// `FoldTable::builtin` is what this Unicode data gives (`EDGEKB_BLESS=1` rewrites it), and
    /// folds words of those scripts (accents composed or not, full-width, ligatures) as the
    /// full data does.
    #[test]
    fn the_builtin_table_is_current_and_folds_alike() {
        let chars = builtin_chars();
        let mut table = table_for(&chars);
        let kept = |c: char| {
            let v = c as u32;
            v < 0x2000 || (0xFB00..0xFB07).contains(&v) || (0xFF00..0xFFEF).contains(&v)
        };
        table.retain_decompositions(kept);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/fold-builtin.bin");
        if std::env::var_os("EDGEKB_BLESS").is_some() || !std::path::Path::new(path).exists() {
            std::fs::write(path, table.encode()).unwrap();
        }
        assert_eq!(
            crate::fold::BUILTIN,
            table.encode(),
            "rerun with EDGEKB_BLESS=1"
        );
        let builtin = FoldTable::builtin();
        assert_eq!(builtin, table);
        let words =
            "Café CRÈME naïve Zürich Straße ÆSIR Ελληνικά ΆΈΉ Ёлка йод ＦＵＬＬＷＩＤＴＨ ﬁle \
            Ǿ ǿ ṩ Ångström Þór Łódź Dvořák São Ağrı";
        use unicode_normalization::UnicodeNormalization;
        for w in words.split_whitespace() {
            for form in [w.to_string(), w.nfd().collect(), w.to_uppercase()] {
                check(&builtin, &chars, &form).unwrap();
                let (mut a, mut b) = (String::new(), String::new());
                full_fold(&form, &mut a);
                fold_with_table(&builtin, &form, &mut b);
                assert_eq!(a, b, "{form:?}");
            }
        }
    }

    /// Indexes opened many times hold one decoded table while any of them lives.
    #[test]
    fn open_indexes_share_one_table() {
        let bytes = table_for(&term_chars(SCRIPTS)).encode();
        let a = crate::fold::shared(&bytes).unwrap();
        let b = crate::fold::shared(&bytes).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let other = crate::fold::shared(crate::fold::BUILTIN).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&a, &other));
        assert_eq!(*other, FoldTable::builtin());
        assert!(crate::fold::shared(&bytes[..bytes.len() - 1]).is_err());
    }

    fn any_word(chars: Vec<char>) -> impl Strategy<Value = String> {
        let from_corpus = proptest::sample::select(chars);
        let marks = (0x300u32..0x370).prop_map(|v| char::from_u32(v).unwrap());
        let jamo = (0x1100u32..0x11ff).prop_map(|v| char::from_u32(v).unwrap());
        let indic = (0x900u32..0xdff).prop_filter_map("char", char::from_u32);
        let latin = (0xc0u32..0x250).prop_filter_map("char", char::from_u32);
        let unicode = any::<char>();
        let one = prop_oneof![4 => from_corpus, 2 => marks, 1 => jamo, 2 => indic, 2 => latin, 2 => unicode];
        proptest::collection::vec(one, 1..8).prop_map(|v| v.into_iter().collect())
    }

    /// Every word of a whole corpus (JSON Lines, gzip or not: `EDGEKB_FOLD_CORPUS=path`), with
    /// the table built from its own terms: `cargo test --lib fold -- --ignored` (the Debian
    /// corpus takes about a minute).
    #[test]
    #[ignore = "needs EDGEKB_FOLD_CORPUS"]
    fn a_corpus_folds_alike() {
        use std::io::Read;
        let path = std::env::var("EDGEKB_FOLD_CORPUS").expect("EDGEKB_FOLD_CORPUS=path");
        let raw = std::fs::read(&path).unwrap();
        let mut text = String::new();
        if path.ends_with(".gz") {
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = String::from_utf8(raw).unwrap();
        }
        // Unescaped JSON strings are not needed: \u escapes only hide characters, and the
        // raw text holds every other one.
        let chars = term_chars(&text);
        let table = table_for(&chars);
        let words = words(&text);
        for w in &words {
            check(&table, &chars, w).unwrap();
            check(&table, &chars, &w.to_uppercase()).unwrap();
        }
        eprintln!(
            "{} words, {} term characters, table {:?}, {} bytes",
            words.len(),
            chars.len(),
            table.lens(),
            table.encode().len()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn random_words_fold_alike(word in any_word(term_chars(&[fixtures(), SCRIPTS.to_string()].concat()))) {
            let text = [fixtures(), SCRIPTS.to_string()].concat();
            thread_local! {
                static TABLE: std::cell::OnceCell<(Vec<char>, FoldTable)> = const { std::cell::OnceCell::new() };
            }
            TABLE.with(|t| {
                let (chars, table) = t.get_or_init(|| {
                    let chars = term_chars(&text);
                    let table = table_for(&chars);
                    (chars, table)
                });
                check(table, chars, &word)
            }).map_err(TestCaseError::fail)?;
        }
    }
}

#[cfg(test)]
mod segment_tests {
    use super::segments;
    use proptest::prelude::*;
    use unicode_segmentation::UnicodeSegmentation;

    /// What `segments` must equal: every word-break segment, filtered as the analyzer did
    /// before the ASCII path.
    fn segments_in_full(text: &str) -> Vec<(usize, &str)> {
        text.split_word_bound_indices()
            .filter(|(_, w)| w.chars().any(char::is_alphanumeric))
            .collect()
    }

    #[test]
    fn ascii_segments_table() {
        for (text, want) in [
            ("a.b a:b a'b a,b", vec!["a.b", "a:b", "a'b", "a", "b"]),
            (
                "3.14 1,000 2;3 4'5 6:7",
                vec!["3.14", "1,000", "2;3", "4'5", "6", "7"],
            ),
            (
                "a.1 1.a a_1 _x_ x__y a._b",
                vec!["a", "1", "1", "a", "a_1", "_x_", "x__y", "a", "_b"],
            ),
            (
                "don't. end.\r\nnext\tword",
                vec!["don't", "end", "next", "word"],
            ),
            (
                "termios.tcflow() e-mail x\"y",
                vec!["termios.tcflow", "e", "mail", "x", "y"],
            ),
            ("...a..b.. 'q' _ 7", vec!["a", "b", "q", "_", "7"]),
        ] {
            let got: Vec<&str> = segments(text).map(|(_, w)| w).collect();
            let full: Vec<&str> = segments_in_full(text).into_iter().map(|(_, w)| w).collect();
            assert_eq!(got, full, "{text:?}");
            if text != "...a..b.. 'q' _ 7" {
                assert_eq!(got, want, "{text:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The ASCII path gives the segments and offsets of the full segmentation, on text
        /// dense in the characters UAX #29's rules turn on (and, for the general path, with
        /// some that are not ASCII).
        #[test]
        fn segments_equal_the_full_segmentation(
            chars in proptest::collection::vec(proptest::sample::select(vec![
                'a', 'Z', 'q', '0', '7', '.', ',', ';', ':', '\'', '"', '_', '-', ' ', '\t',
                '\r', '\n', '\u{b}', '\u{c}', '(', '/', '@', '#',
            ]), 0..40),
            unicode in proptest::collection::vec(proptest::sample::select(vec![
                'é', '\u{301}', '\u{200d}', 'ß', '中', '·', '\u{2019}', '٣',
            ]), 0..2),
            at in 0usize..40,
        ) {
            let ascii: String = chars.iter().collect();
            prop_assert_eq!(segments(&ascii).collect::<Vec<_>>(), segments_in_full(&ascii));
            let mut mixed = chars.clone();
            for (k, c) in unicode.into_iter().enumerate() {
                mixed.insert((at + k).min(mixed.len()), c);
            }
            let mixed: String = mixed.into_iter().collect();
            prop_assert_eq!(segments(&mixed).collect::<Vec<_>>(), segments_in_full(&mixed));
        }
    }
}
