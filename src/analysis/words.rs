//! Where a word is cut into more terms: the letter runs of a word with digits, and the parts
//! of an identifier (`.`, `:`, `_`, camel case).

/// The distinct runs of two or more letters of a folded word that also has digits (none for a
/// word of letters only, or of digits only).
pub(super) fn letter_runs(folded: &str) -> Vec<&str> {
    if !folded.chars().any(|c| c.is_numeric()) || !folded.chars().any(char::is_alphabetic) {
        return Vec::new();
    }
    let mut out: Vec<&str> = Vec::new();
    let mut start = None;
    for (i, c) in folded.char_indices().chain([(folded.len(), '0')]) {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let run = &folded[s..i];
                if run.chars().nth(1).is_some() && !out.contains(&run) {
                    out.push(run);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Most parts one identifier is indexed as (the first ones): a word of thousands of pieces
/// (`aa.ab.ac.…`, one token of a hostile document) is not thousands of terms, each compared
/// with the others.
pub(super) const MAX_IDENTIFIER_PARTS: usize = 32;

/// The parts of an identifier (see [`super::AnalyzerConfig::identifier_parts`]), as slices of the word
/// as written (before folding, so camel case shows): none for a word with no `.`, `:` or `_`
/// between two characters and no camel case. Parts without a letter or of one character are
/// left out; so is a part equal to the whole word.
pub(super) fn identifier_parts(word: &str) -> Vec<&str> {
    let camel = || word.chars().skip(1).any(char::is_uppercase) && camel_pieces(word).len() > 1;
    if !word.contains(['.', ':', '_']) && !camel() {
        return Vec::new();
    }
    let keep = |p: &str| p.chars().nth(1).is_some() && p.chars().any(char::is_alphabetic);
    let mut out: Vec<&str> = Vec::new();
    let components: Vec<&str> = word.split(['.', ':']).filter(|c| !c.is_empty()).collect();
    for component in &components {
        let mut parts = vec![*component];
        let pieces: Vec<&str> = component.split('_').filter(|p| !p.is_empty()).collect();
        if pieces.len() > 1 || pieces.first().is_some_and(|p| p.len() < component.len()) {
            parts.extend(&pieces);
        }
        for piece in pieces {
            let humps = camel_pieces(piece);
            if humps.len() > 1 {
                parts.extend(humps);
            }
        }
        for p in parts {
            if p.len() != word.len() && keep(p) && !out.contains(&p) {
                out.push(p);
                if out.len() == MAX_IDENTIFIER_PARTS {
                    return out;
                }
            }
        }
    }
    out
}

/// A piece of an identifier cut where camel case starts a word: before an upper-case letter
/// that follows a lower-case one (`getElement` → `get`, `Element`) or that is followed by a
/// lower-case one after upper-case ones (`HTTPServer` → `HTTP`, `Server`).
fn camel_pieces(piece: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = piece.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|&(_, n)| n.is_lowercase());
        let cut = c.is_uppercase()
            && (prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower));
        if cut {
            out.push(&piece[start..at]);
            start = at;
        }
    }
    out.push(&piece[start..]);
    out
}
