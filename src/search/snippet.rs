//! Which passage of a hit shows why it matched?
//!
//! A hit's snippet is the best window of its `body` (by default [`DEFAULT_SNIPPET_CHARS`]
//! characters), with highlight ranges for every word the query matched there. Nothing is
//! guessed: the query's own expansions (exact stems, prefix completions, typo corrections, the
//! stems of one-edit variants) are turned back into their dictionary terms (an fst walk from
//! ordinal to key, in the dictionary or the dictionary parts the query already read), and the
//! stored text is analyzed again with the index's analyzer: a word is marked when its term is
//! one of them, a phrase when its terms stand at the phrase's relative positions. Words
//! restricted to another field (`title:x`) and excluded words are not marked.
//!
//! The window: among windows starting a little before each marked word (at a sentence or word
//! start), the one holding the most distinct query items, then the most marks, then the
//! earliest; cut at word boundaries, whitespace runs collapsed to one space, `…` where text
//! was cut. Offsets are UTF-16 code units of the snippet text (what JavaScript strings index),
//! half-open `[start, end)`; a mark the window cuts (a phrase crossing its edge) is clipped to
//! it. [`highlight_html`] makes the HTML form, with the text escaped.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{Planned, Prepared, Searcher};
use crate::dict::PartView;
use crate::error::Result;
use crate::header::SectionKind;
use crate::source::DataFile;

/// Snippet length (characters) when none is given.
pub const DEFAULT_SNIPPET_CHARS: usize = 160;
/// The longest snippet (characters) a search makes, whatever it asks for.
pub const MAX_SNIPPET_CHARS: usize = 2000;
/// Bytes of one hit's body analyzed to find its snippet (marks past it are not found).
pub const MAX_SNIPPET_SCAN_BYTES: usize = 64 << 10;
/// Hits of one search that get a snippet (the rest get none): what bounds a search's store
/// reads and analysis whatever its limit.
pub const MAX_SNIPPET_HITS: usize = 100;
/// Marks kept per hit.
const MAX_MARKS: usize = 1024;

/// The best passage of a hit, with its highlights.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snippet {
    /// The passage.
    pub text: String,
    /// Matched words and phrases: `[start, end)` in UTF-16 code units of `text`, ascending,
    /// never overlapping.
    pub highlights: Vec<[u32; 2]>,
}

impl Snippet {
    /// The HTML form: `text` escaped, highlights in `<mark>`.
    pub fn html(&self) -> String {
        highlight_html(&self.text, &self.highlights)
    }
}

/// `text` as HTML (`&`, `<`, `>`, `"` and `'` escaped) with the ranges of `highlights`
/// (UTF-16 code units, as in [`Snippet::highlights`]) in `<mark>…</mark>`. Ranges out of order,
/// overlapping, past the text or inside a character are clipped or skipped, never trusted.
pub fn highlight_html(text: &str, highlights: &[[u32; 2]]) -> String {
    mark(text, highlights, "<mark>", "</mark>", true)
}

/// `text` with the ranges of `highlights` between `open` and `close` (terminal colors, or any
/// markup the caller escapes itself); ranges are clipped like [`highlight_html`]'s.
pub fn highlight_text(text: &str, highlights: &[[u32; 2]], open: &str, close: &str) -> String {
    mark(text, highlights, open, close, false)
}

fn mark(text: &str, highlights: &[[u32; 2]], open: &str, close: &str, escape: bool) -> String {
    let mut out = String::with_capacity(text.len() + highlights.len() * (open.len() + close.len()));
    let mut marks = highlights.iter().filter(|h| h[0] < h[1]).peekable();
    let mut open_until: Option<u32> = None;
    let mut at: u32 = 0;
    for c in text.chars() {
        if open_until.is_some_and(|e| at >= e) {
            out.push_str(close);
            open_until = None;
        }
        if open_until.is_none() {
            while marks.peek().is_some_and(|h| h[1] <= at) {
                marks.next(); // behind us: skipped
            }
            if marks.peek().is_some_and(|h| h[0] <= at) {
                out.push_str(open);
                open_until = marks.next().map(|h| h[1]);
            }
        }
        match c {
            '&' if escape => out.push_str("&amp;"),
            '<' if escape => out.push_str("&lt;"),
            '>' if escape => out.push_str("&gt;"),
            '"' if escape => out.push_str("&quot;"),
            '\'' if escape => out.push_str("&#39;"),
            c => out.push(c),
        }
        at += c.len_utf16() as u32;
    }
    if open_until.is_some() {
        out.push_str(close);
    }
    out
}

/// What to mark: the body terms of each query item.
#[derive(Debug, Default)]
struct Marks {
    /// A word item's terms (all of its expansions).
    words: Vec<HashSet<String>>,
    /// A phrase item's terms and relative positions (`None`: a word the dictionary lacks).
    phrases: Vec<Vec<(Option<String>, u32)>>,
    /// The first characters of all those terms, when the analyzer's stemmer keeps a word's
    /// first character (`Analyzer::stem_keeps_first_char`): a word starting otherwise matches
    /// none, and is not stemmed. (A few characters: a word's completions and corrections all
    /// start like it.)
    firsts: Option<Vec<char>>,
}

impl Marks {
    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.is_empty()
    }
}

impl<'a, D: AsRef<[u8]>> Searcher<'a, D> {
    /// The ranges making snippets for `top` reads: the document-store chunks of its documents
    /// (each chunk once).
    pub fn snippet_needs(&self, top: &[(u32, f32)]) -> Result<Vec<(DataFile, Range<u64>)>> {
        let mut out: Vec<(DataFile, Range<u64>)> = Vec::new();
        if self.body_field().is_none() {
            return Ok(out);
        }
        let preset = self.index.store_preset()?;
        if !preset.is_empty() && !top.is_empty() {
            out.push((DataFile::Store, preset));
        }
        for &(doc, _) in top.iter().take(MAX_SNIPPET_HITS) {
            let c = self.index.chunk_of(doc)?;
            let r = c.offset as u64..c.offset as u64 + c.compressed_len as u64;
            if !out.iter().any(|(_, o)| *o == r) {
                out.push((DataFile::Store, r));
            }
        }
        Ok(out)
    }

    /// The snippets of `top` (documents of `prepared`'s results), `chars` characters long at
    /// most (clamped to `MAX_SNIPPET_CHARS`); `None` for a hit without body text and for hits
    /// past the first `MAX_SNIPPET_HITS`. Reads the documents' stored chunks (see
    /// [`Searcher::snippet_needs`]).
    pub fn snippets(
        &self,
        prepared: &Prepared,
        top: &[(u32, f32)],
        chars: usize,
    ) -> Result<Vec<Option<Snippet>>> {
        let chars = chars.clamp(1, MAX_SNIPPET_CHARS);
        let Some(bit) = self.body_field() else {
            return Ok(vec![None; top.len()]);
        };
        let marks = self.marks(prepared, bit)?;
        let docs: Vec<u32> = top.iter().take(MAX_SNIPPET_HITS).map(|t| t.0).collect();
        let stored = self
            .index
            .docs_from(&docs, self.limits.max_chunk_bytes, self.src)?;
        let analyzer = self.index.analyzer();
        let mut out: Vec<Option<Snippet>> = stored
            .iter()
            .map(|doc| {
                let values = self.index.stored_value(doc, "body");
                if values.iter().all(|v| v.trim().is_empty()) {
                    return None;
                }
                Some(snippet_of(analyzer, values, &marks, chars))
            })
            .collect();
        out.resize(top.len(), None);
        Ok(out)
    }

    /// The `body` field's bit in posting masks, when it is stored and indexed.
    fn body_field(&self) -> Option<u16> {
        let schema = self.index.schema();
        let f = schema.field("body")?;
        if !schema.fields()[f].stored {
            return None;
        }
        let bit = self.index.indexed_fields().iter().position(|&g| g == f)?;
        Some(1 << bit)
    }

    /// The terms of `prepared`'s items that may match the field of mask bit `bit`.
    fn marks(&self, prepared: &Prepared, bit: u16) -> Result<Marks> {
        let mut marks = Marks::default();
        let mut terms = TermNames::new(self)?;
        for planned in prepared.must.iter().flatten() {
            match planned {
                Planned::Word { expansions, mask } if mask & bit != 0 => {
                    let mut set = HashSet::new();
                    for e in expansions {
                        if let Some(t) = terms.name(e.ord)? {
                            set.insert(t);
                        }
                    }
                    if !set.is_empty() {
                        marks.words.push(set);
                    }
                }
                Planned::Phrase { terms: ts, mask } if mask & bit != 0 => {
                    let mut phrase = Vec::with_capacity(ts.len());
                    for &(ord, rel) in ts {
                        let name = match ord {
                            Some(o) => terms.name(o)?,
                            None => None,
                        };
                        phrase.push((name, rel));
                    }
                    if phrase.iter().all(|p| p.0.is_some()) {
                        marks.phrases.push(phrase);
                    }
                }
                _ => {}
            }
        }
        if self.index.analyzer().stem_keeps_first_char() {
            let phrases = marks
                .phrases
                .iter()
                .flatten()
                .filter_map(|(t, _)| t.as_ref());
            let mut firsts = Vec::new();
            for c in marks
                .words
                .iter()
                .flatten()
                .chain(phrases)
                .filter_map(|t| t.chars().next())
            {
                if !firsts.contains(&c) {
                    firsts.push(c);
                }
            }
            marks.firsts = Some(firsts);
        }
        Ok(marks)
    }
}

/// Turns ordinals back into terms through the dictionary, or the dictionary parts the query
/// already holds (a term in a part it never read was never one of its expansions).
struct TermNames<'s, 'a, D> {
    searcher: &'s Searcher<'a, D>,
    whole: Option<PartView<'s>>,
}

impl<'s, 'a, D: AsRef<[u8]>> TermNames<'s, 'a, D> {
    fn new(searcher: &'s Searcher<'a, D>) -> Result<Self> {
        let whole = match searcher.index.router() {
            Some(_) => None,
            None => Some(PartView::over(
                searcher.index.section_bytes(SectionKind::Terms),
                searcher.index.section_bytes(SectionKind::TermInfo),
                false,
            )?),
        };
        Ok(TermNames { searcher, whole })
    }

    fn name(&mut self, ord: u64) -> Result<Option<String>> {
        let ord = ord & !super::NAMES_VIEW;
        if let Some(view) = &self.whole {
            return Ok(key_of(view, ord));
        }
        let Some(router) = self.searcher.index.router() else {
            return Ok(None);
        };
        let Some(i) = router.part_of_ord(ord) else {
            return Ok(None);
        };
        let bytes = match self.searcher.src.checked_part(i) {
            Some(b) => b,
            None => match self.searcher.state.borrow().parts.get(&i) {
                Some(b) => b.clone(),
                None => return Ok(None),
            },
        };
        let view = PartView::open(&bytes, router.part_terms(i), false)?;
        Ok(key_of(&view, ord - router.parts()[i].ord_base))
    }
}

/// The key of ordinal `local` in a part (checked against the map, so a damaged dictionary
/// yields no term rather than a wrong one).
fn key_of(view: &PartView<'_>, local: u64) -> Option<String> {
    if local >= view.map.len() as u64 {
        return None;
    }
    let key = view.map.as_fst().get_key(local)?;
    if view.map.get(&key) != Some(local) {
        return None;
    }
    String::from_utf8(key).ok()
}

/// One mark in the joined body text: byte range and the query item it belongs to.
#[derive(Clone, Copy, Debug)]
struct Mark {
    start: usize,
    end: usize,
    item: usize,
}

fn snippet_of(
    analyzer: &crate::analysis::Analyzer,
    values: &[String],
    marks: &Marks,
    chars: usize,
) -> Snippet {
    // The body's values, joined by line breaks, analyzed value by value (a phrase never
    // spans two values), within the scan budget.
    let mut text = String::new();
    let mut found: Vec<Mark> = Vec::new();
    for v in values {
        if !text.is_empty() {
            text.push('\n');
        }
        let base = text.len();
        let mut cut = v.len().min(MAX_SNIPPET_SCAN_BYTES.saturating_sub(base));
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        text.push_str(&v[..cut]);
        if !marks.is_empty() {
            mark_value(analyzer, &v[..cut], base, marks, &mut found);
        }
        if text.len() >= MAX_SNIPPET_SCAN_BYTES {
            break;
        }
    }
    found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    // Merge overlapping marks (a phrase and its own words).
    let mut merged: Vec<Mark> = Vec::new();
    for m in found {
        if let Some(last) = merged.last_mut().filter(|l| m.start < l.end) {
            last.end = last.end.max(m.end);
        } else if merged.len() < MAX_MARKS {
            merged.push(m);
        } else {
            break;
        }
    }
    let window = best_window(&text, &merged, chars);
    render(&text, window, &merged)
}

/// Finds the marks of one body value (at byte `base` of the joined text).
fn mark_value(
    analyzer: &crate::analysis::Analyzer,
    value: &str,
    base: usize,
    marks: &Marks,
    out: &mut Vec<Mark>,
) {
    // Tokens whose term is one of the phrases' terms, by position, for phrase matching.
    let phrase_terms: HashSet<&str> = marks
        .phrases
        .iter()
        .flatten()
        .filter_map(|(t, _)| t.as_deref())
        .collect();
    let mut at: HashMap<u32, Vec<(String, usize, usize)>> = HashMap::new();
    let mut stems: HashMap<String, String> = HashMap::new();
    analyzer.index_folded(value, |t| {
        if out.len() >= MAX_MARKS * 4 {
            return;
        }
        if let (Some(firsts), Some(c)) = (&marks.firsts, t.term.chars().next()) {
            if !firsts.contains(&c) {
                return;
            }
        }
        let term = match stems.get(t.term) {
            Some(s) => s.clone(),
            None => {
                let s = analyzer.stem(t.term).into_owned();
                if stems.len() < 4096 {
                    stems.insert(t.term.to_string(), s.clone());
                }
                s
            }
        };
        for (item, set) in marks.words.iter().enumerate() {
            if set.contains(&term) {
                out.push(Mark {
                    start: base + t.start,
                    end: base + t.end,
                    item,
                });
            }
        }
        if phrase_terms.contains(term.as_str()) {
            at.entry(t.position)
                .or_default()
                .push((term, base + t.start, base + t.end));
        }
    });
    let first = marks.words.len();
    for (k, phrase) in marks.phrases.iter().enumerate() {
        let Some((Some(head), _)) = phrase.first() else {
            continue;
        };
        let mut starts: Vec<(u32, usize)> = at
            .iter()
            .flat_map(|(&p, toks)| {
                toks.iter()
                    .filter(|(t, _, _)| t == head)
                    .map(move |&(_, s, _)| (p, s))
            })
            .collect();
        starts.sort_unstable();
        for (p, start) in starts {
            let mut end = start;
            let all = phrase.iter().all(|(term, rel)| {
                let Some(term) = term else { return false };
                match at
                    .get(&(p + rel))
                    .and_then(|toks| toks.iter().find(|x| &x.0 == term))
                {
                    Some(&(_, _, e)) => {
                        end = end.max(e);
                        true
                    }
                    None => false,
                }
            });
            if all && out.len() < MAX_MARKS * 4 {
                out.push(Mark {
                    start,
                    end,
                    item: first + k,
                });
            }
        }
    }
}

/// Byte offsets of the start of each character of `text`, and its length at the end.
fn char_starts(text: &str) -> Vec<usize> {
    let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    v.push(text.len());
    v
}

/// The byte range of the best window of `chars` characters.
fn best_window(text: &str, marks: &[Mark], chars: usize) -> Range<usize> {
    let starts = char_starts(text);
    let n = starts.len() - 1;
    if n <= chars {
        return 0..text.len();
    }
    // The window of `chars` characters starting at character `c`, cut back to a word end.
    let window = |c: usize| -> Range<usize> {
        let c = c.min(n - chars);
        let (mut s, e) = (starts[c], starts[c + chars]);
        // Moved back from the text's end into a word: start at the next word instead.
        if s > 0 && !text[..s].ends_with(char::is_whitespace) {
            if let Some(w) = text[s..e].find(char::is_whitespace) {
                if w < (e - s) / 4 {
                    s += w;
                }
            }
        }
        let e = if e < text.len() {
            // Cut at the last whitespace inside the window, unless that loses over a quarter.
            match text[s..e].rfind(char::is_whitespace) {
                Some(w) if s + w > s + (e - s) * 3 / 4 => s + w,
                _ => e,
            }
        } else {
            e
        };
        s..e
    };
    let char_of = |byte: usize| starts.partition_point(|&b| b < byte);
    let lead = chars / 5;
    let mut best: Option<((usize, usize), Range<usize>)> = None;
    for m in marks.iter().take(256) {
        let mc = char_of(m.start);
        // Start a little before the mark: at a sentence start within the lead if there is one,
        // else at a word start.
        let from = starts[mc.saturating_sub(lead)];
        let before = &text[from..m.start];
        let start_byte = match before.rfind(['.', '!', '?', '\n']) {
            // Near the text's start: start there.
            _ if mc <= chars / 3 => 0,
            Some(i) => {
                let after = from + i + 1;
                after + text[after..m.start].len() - text[after..m.start].trim_start().len()
            }
            None if from == 0 => 0,
            None => match before.find(char::is_whitespace) {
                Some(i) => {
                    let after = from + i;
                    after + text[after..m.start].len() - text[after..m.start].trim_start().len()
                }
                None => m.start,
            },
        };
        let w = window(char_of(start_byte));
        let inside: Vec<&Mark> = marks
            .iter()
            .filter(|x| x.start >= w.start && x.end <= w.end)
            .collect();
        let items: HashSet<usize> = inside.iter().map(|x| x.item).collect();
        let score = (items.len(), inside.len());
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, w));
        }
    }
    best.map_or_else(|| window(0), |(_, w)| w)
}

/// The snippet text of `window` (whitespace collapsed, `…` where cut) and its marks in UTF-16
/// code units.
fn render(text: &str, window: Range<usize>, marks: &[Mark]) -> Snippet {
    let slice = &text[window.clone()];
    let lead_trim = slice.len() - slice.trim_start().len();
    let body = slice.trim();
    let from = window.start + lead_trim;
    let mut out = String::with_capacity(body.len() + 8);
    let mut units: u32 = 0;
    if window.start > 0 {
        out.push('…');
        units += 1;
    }
    // For each character of `body`: its byte offset in `text` and the output offsets before
    // and after it.
    let mut map: Vec<(usize, u32, u32)> = Vec::with_capacity(body.len());
    let mut space = false;
    for (i, c) in body.char_indices() {
        let before = units;
        if c.is_whitespace() {
            if !space {
                out.push(' ');
                units += 1;
            }
            space = true;
        } else {
            space = false;
            out.push(c);
            units += c.len_utf16() as u32;
        }
        map.push((from + i, before, units));
    }
    let body_end = from + body.len();
    let mut highlights: Vec<[u32; 2]> = Vec::new();
    for m in marks {
        let (s, e) = (m.start.max(from), m.end.min(body_end));
        if s >= e {
            continue;
        }
        let a = map.partition_point(|x| x.0 < s);
        let b = map.partition_point(|x| x.0 < e);
        if a >= b {
            continue;
        }
        let h = [map[a].1, map[b - 1].2];
        match highlights.last_mut() {
            Some(last) if h[0] <= last[1] => last[1] = last[1].max(h[1]),
            _ => highlights.push(h),
        }
    }
    if body_end < text.len() && !text[body_end..].trim().is_empty() {
        out.push('…');
    }
    Snippet {
        text: out,
        highlights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_marks() {
        assert_eq!(
            highlight_html("a <b> & 'c'", &[[3, 4], [6, 7]]),
            "a &lt;<mark>b</mark>&gt; <mark>&amp;</mark> &#39;c&#39;"
        );
        // UTF-16: the emoji is two units.
        assert_eq!(highlight_html("🦀 rust", &[[3, 7]]), "🦀 <mark>rust</mark>");
        // Hostile ranges: reversed, overlapping, past the end.
        assert_eq!(
            highlight_html("abc", &[[2, 1], [0, 2], [1, 3], [2, 99]]),
            "<mark>ab</mark><mark>c</mark>"
        );
    }

    #[test]
    fn render_maps_utf16_and_collapses_space() {
        let text = "x  😀 ab\n\ncd ef";
        let ab = text.find("ab").unwrap();
        let cd = text.find("cd").unwrap();
        let marks = [Mark {
            start: ab,
            end: cd + 2,
            item: 0,
        }];
        let s = render(text, 0..text.len(), &marks);
        assert_eq!(s.text, "x 😀 ab cd ef");
        let units: Vec<u16> = s.text.encode_utf16().collect();
        let [a, b] = s.highlights[0];
        assert_eq!(
            String::from_utf16(&units[a as usize..b as usize]).unwrap(),
            "ab cd"
        );
    }
}
