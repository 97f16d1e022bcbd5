//! What changes for a long query (a question, a claim: at least [`LONG_QUERY_CLAUSES`] required
//! words)? It is ranked as OR (a long question rarely has every word in one document), its
//! English function words are dropped (in a sentence they are grammar, and BM25 gives the
//! common ones a weight that still adds up over many words), and a word's written form, when
//! the index holds it beside the stem, is scored with its stem's IDF: the form a word takes in
//! a sentence (a plural, a tense) is grammar too, not a reason to count its own rarity as the
//! topic's. Short queries keep both: a typed name is meant as written.

use super::plan::AnalyzedItem;
use crate::analysis::{AnalyzerConfig, Language};
use crate::query::Occur;

/// Queries of at least this many words (clauses) are ranked as OR even without `any`: a long
/// question rarely has every word in one document, and the few documents that do are not the
/// best ones more often than BM25F over all of them says.
pub const LONG_QUERY_CLAUSES: usize = 4;

/// English function words beyond the index's stop words (pronouns, auxiliaries, prepositions,
/// determiners, conjunctions, degree words), dropped from long queries only. Our own list;
/// sorted for a binary search.
const FUNCTION_WORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "all", "also", "am", "any", "because", "been",
    "before", "being", "below", "between", "both", "can", "could", "did", "do", "does", "doing",
    "down", "during", "each", "either", "few", "further", "had", "he", "her", "here", "hers",
    "him", "his", "how", "i", "may", "me", "might", "more", "most", "must", "my", "neither", "nor",
    "off", "once", "only", "other", "our", "ours", "out", "over", "own", "same", "shall", "she",
    "should", "so", "some", "than", "them", "those", "through", "thus", "too", "under", "until",
    "up", "upon", "very", "via", "we", "what", "when", "where", "whether", "while", "who", "whom",
    "whose", "why", "would", "you", "your",
];

/// Whether an analyzed query is long (at least [`LONG_QUERY_CLAUSES`] required clauses with a
/// word left after stop words); if it is, drops its required single words that are function words (unless nothing
/// would be left).
pub(super) fn drop_function_words(
    config: &AnalyzerConfig,
    clauses: &mut [(Occur, Vec<AnalyzedItem>)],
) -> bool {
    let required = |c: &&(Occur, Vec<AnalyzedItem>)| {
        c.0 == Occur::Must && c.1.iter().any(|i| !i.words.is_empty())
    };
    if clauses.iter().filter(required).count() < LONG_QUERY_CLAUSES {
        return false;
    }
    let function = |i: &AnalyzedItem| {
        !i.phrase && matches!(&i.words[..], [w] if is_function_word(config, &w.folded))
    };
    let content = clauses
        .iter()
        .filter(required)
        .any(|c| !c.1.iter().all(function));
    if content {
        for (occur, items) in clauses.iter_mut() {
            if *occur == Occur::Must {
                items.retain(|i| !function(i));
            }
        }
    }
    true
}

/// Whether `folded`, a word of a long query, is dropped as a function word: only by an English
/// analyzer with stop words on (an index built without stop words keeps every word).
fn is_function_word(config: &AnalyzerConfig, folded: &str) -> bool {
    config.language == Language::English
        && config.stop_words
        && FUNCTION_WORDS.binary_search(&folded).is_ok()
}

/// The weight of a long query word's written form (found beside its stem): its score with the
/// stem's IDF, `idf(stem) / idf(form)`, within (0, 1] (1 when either IDF is not positive).
pub(super) fn form_weight(stem_idf: f32, form_idf: f32) -> f32 {
    let w = stem_idf / form_idf;
    match w.is_finite() && w > 0.0 {
        true => w.min(1.0),
        false => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_words_are_sorted_and_english_only() {
        assert!(FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]));
        let english = AnalyzerConfig::default();
        assert_eq!(english.language, Language::English);
        for w in FUNCTION_WORDS {
            assert!(is_function_word(&english, w));
        }
        assert!(!is_function_word(&english, "vitamin"));
        let none = AnalyzerConfig {
            stop_words: false,
            ..english
        };
        assert!(!is_function_word(&none, "during"));
    }

    #[test]
    fn a_form_weight_is_within_bounds() {
        assert_eq!(form_weight(2.0, 4.0), 0.5);
        assert_eq!(form_weight(4.0, 2.0), 1.0);
        assert_eq!(form_weight(1.0, 0.0), 1.0);
        assert_eq!(form_weight(f32::NAN, 1.0), 1.0);
        assert_eq!(form_weight(-1.0, 2.0), 1.0);
    }
}
