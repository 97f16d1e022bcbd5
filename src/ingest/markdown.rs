//! Markdown files as documents (see the module above for what is read).

use super::{entity, invalid, stem, Fields};
use crate::builder::Document;
use crate::error::Result;
use crate::schema::Schema;

/// The page address of a Markdown file: `a/b.md` → `/a/b/`, `a/index.md` → `/a/`.
pub(super) fn markdown_url(rel: &str) -> String {
    let without = match rel.rfind('.') {
        Some(i) if i > rel.rfind('/').map_or(0, |s| s + 1) => &rel[..i],
        _ => rel,
    };
    let without = without
        .strip_suffix("/index")
        .or_else(|| (without == "index").then_some(""))
        .unwrap_or(without);
    if without.is_empty() {
        "/".into()
    } else {
        format!("/{without}/")
    }
}

/// One Markdown file as a document; `rel` is its path below the folder given (ids and URLs
/// come from it when the front matter has none), `name` names it in errors.
pub fn markdown(text: &str, rel: &str, schema: &Schema, name: &str) -> Result<Document> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut fields = Fields::new(schema);
    let mut start = 0;
    if lines.first().map(|l| l.trim_end()) == Some("---") {
        let end = lines[1..]
            .iter()
            .position(|l| matches!(l.trim_end(), "---" | "..."))
            .map(|i| i + 1)
            .ok_or_else(|| {
                invalid(
                    format!("{name}:1"),
                    "front matter opened by --- is never closed; end it with a --- line",
                )
            })?;
        front_matter(&lines[1..end], 2, name, &mut fields)?;
        start = end + 1;
    }
    let mut body: Vec<String> = Vec::new();
    let mut headings: Vec<String> = Vec::new();
    let mut first_h1: Option<String> = None;
    let mut fence: Option<String> = None;
    let mut i = start;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let trimmed = line.trim_start();
        if let Some(f) = &fence {
            if trimmed.trim_end().starts_with(f.as_str())
                && trimmed
                    .trim_end()
                    .chars()
                    .all(|c| c == f.as_bytes()[0] as char)
            {
                fence = None;
            } else {
                body.push(line.to_string());
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            let c = trimmed.as_bytes()[0] as char;
            let n = trimmed.chars().take_while(|&x| x == c).count();
            fence = Some(std::iter::repeat_n(c, n).collect());
            continue;
        }
        // ATX heading.
        if let Some(level) = atx_level(trimmed) {
            let content = trimmed[level..].trim();
            let content = content.trim_end_matches('#').trim_end();
            let content = inline(content);
            if level == 1 && first_h1.is_none() && !fields.has("title") {
                first_h1 = Some(content);
                continue;
            }
            headings.push(content.clone());
            body.push(content);
            continue;
        }
        // Setext heading: a text line underlined by === or ---.
        if let Some(next) = lines.get(i) {
            let n = next.trim();
            let underline = !n.is_empty()
                && (n.chars().all(|c| c == '=') || (n.chars().all(|c| c == '-') && n.len() >= 2));
            if underline && !trimmed.is_empty() && !is_block_marker(trimmed) {
                let content = inline(trimmed.trim());
                i += 1;
                if n.starts_with('=') && first_h1.is_none() && !fields.has("title") {
                    first_h1 = Some(content);
                    continue;
                }
                headings.push(content.clone());
                body.push(content);
                continue;
            }
        }
        if trimmed.is_empty() {
            if body.last().is_some_and(|l| !l.is_empty()) {
                body.push(String::new());
            }
            continue;
        }
        // Link reference definitions and thematic breaks carry no text.
        if is_reference_definition(trimmed) || is_thematic_break(trimmed) {
            continue;
        }
        // Table delimiter rows.
        if trimmed.starts_with('|')
            && trimmed
                .chars()
                .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
        {
            continue;
        }
        let mut rest = trimmed;
        loop {
            let r = rest.trim_start();
            if let Some(x) = r.strip_prefix('>') {
                rest = x;
            } else if let Some(x) = list_marker(r) {
                rest = x;
            } else {
                rest = r;
                break;
            }
        }
        let text = inline(&rest.replace('|', " "));
        let text = text.trim();
        if !text.is_empty() {
            body.push(text.to_string());
        }
    }
    while body.last().is_some_and(|l| l.is_empty()) {
        body.pop();
    }
    if let Some(h1) = first_h1 {
        fields.default("title", h1);
    }
    if let Some(h) = headings.first() {
        fields.default("title", h.clone());
    }
    fields.default("title", stem(rel));
    fields.default("id", rel.to_string());
    fields.default("url", markdown_url(rel));
    for h in headings {
        fields.push("headings", h);
    }
    fields.push("body", body.join("\n"));
    Ok(fields.finish())
}

fn atx_level(line: &str) -> Option<usize> {
    let n = line.bytes().take_while(|&b| b == b'#').count();
    let after = line.as_bytes().get(n);
    ((1..=6).contains(&n) && matches!(after, None | Some(b' ') | Some(b'\t'))).then_some(n)
}

fn is_block_marker(line: &str) -> bool {
    line.starts_with('>') || list_marker(line).is_some() || line.starts_with('|')
}

fn is_thematic_break(line: &str) -> bool {
    let l: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    l.len() >= 3
        && (l.chars().all(|c| c == '-')
            || l.chars().all(|c| c == '*')
            || l.chars().all(|c| c == '_'))
}

fn is_reference_definition(line: &str) -> bool {
    line.starts_with('[')
        && line
            .find("]:")
            .is_some_and(|i| i > 1 && !line[1..i].contains(']'))
}

/// The rest of a list item's line after its marker (`- `, `* `, `+ `, `1. `, `1) `).
fn list_marker(line: &str) -> Option<&str> {
    for m in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(m) {
            let rest = rest
                .strip_prefix("[ ] ")
                .or_else(|| rest.strip_prefix("[x] "));
            return Some(rest.unwrap_or(line.get(2..).unwrap_or("")));
        }
    }
    let digits = line.bytes().take_while(|b| b.is_ascii_digit()).count();
    if (1..=9).contains(&digits) {
        let rest = &line[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(r);
        }
    }
    None
}

/// Markdown inline markup to plain text: links and images keep their text, code spans their
/// content, emphasis markers and inline HTML tags go, entities are decoded.
pub(super) fn inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let n = chars[i..].iter().take_while(|&&x| x == '`').count();
                // Find the closing run of the same length.
                let mut j = i + n;
                let mut close = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let m = chars[j..].iter().take_while(|&&x| x == '`').count();
                        if m == n {
                            close = Some(j);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                match close {
                    Some(j) => {
                        out.extend(&chars[i + n..j]);
                        i = j + n;
                    }
                    None => {
                        out.extend(&chars[i..i + n]);
                        i += n;
                    }
                }
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                i += 1; // an image: keep its alt text like a link's text
            }
            '[' => {
                // [text](target) or [text][ref] or [text]: keep the text.
                match matching(&chars, i, '[', ']') {
                    Some(end) => {
                        out.push_str(&inline(&chars[i + 1..end].iter().collect::<String>()));
                        i = end + 1;
                        if chars.get(i) == Some(&'(') {
                            if let Some(e) = matching(&chars, i, '(', ')') {
                                i = e + 1;
                            }
                        } else if chars.get(i) == Some(&'[') {
                            if let Some(e) = matching(&chars, i, '[', ']') {
                                i = e + 1;
                            }
                        }
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '<' => {
                // Autolinks keep their address; inline tags go.
                let end = chars[i..].iter().position(|&x| x == '>').map(|p| i + p);
                match end {
                    Some(e) if e > i + 1 && !chars[i + 1].is_whitespace() => {
                        let inner: String = chars[i + 1..e].iter().collect();
                        if inner.contains("://") || (inner.contains('@') && !inner.contains(' ')) {
                            out.push_str(&inner);
                        }
                        i = e + 1;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '*' | '~' => i += 1,
            '_' => {
                // Emphasis only at a word edge: snake_case keeps its underscores.
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + 1).copied();
                let inner = prev.is_some_and(|p| p.is_alphanumeric())
                    && next.is_some_and(|n| n.is_alphanumeric());
                if inner {
                    out.push(c);
                }
                i += 1;
            }
            '&' => {
                let (decoded, used) = entity(&chars[i..]);
                out.push_str(&decoded);
                i += used;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The index of the bracket closing the one at `start`.
fn matching(chars: &[char], start: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &c) in chars.iter().enumerate().skip(start) {
        if c == '\\' {
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

fn front_matter(lines: &[&str], first_line: usize, name: &str, fields: &mut Fields) -> Result<()> {
    let mut open_list: Option<String> = None;
    for (k, raw) in lines.iter().enumerate() {
        let at = || format!("{name}:{}", first_line + k);
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(item) = t.strip_prefix("- ").or_else(|| (t == "-").then_some("")) {
            let Some(key) = &open_list else {
                return Err(invalid(at(), "a list item without a key above it"));
            };
            fields.push(key, scalar(item.trim()));
            continue;
        }
        let Some(colon) = t.find(':') else {
            return Err(invalid(
                at(),
                "front matter lines are `key: value`; quote values that hold a colon",
            ));
        };
        let key = t[..colon].trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(at(), format!("{key:?} is not a front matter key")));
        }
        let value = t[colon + 1..].trim();
        open_list = None;
        if value.is_empty() {
            open_list = Some(key.to_string());
        } else if let Some(inner) = value.strip_prefix('[') {
            let Some(inner) = inner.strip_suffix(']') else {
                return Err(invalid(at(), "a [list] must close on its own line"));
            };
            for item in split_list(inner) {
                fields.push(key, scalar(item.trim()));
            }
        } else if value == "|" || value == ">" || value.starts_with("|-") || value.starts_with(">-")
        {
            return Err(invalid(
                at(),
                "multi-line front matter values are not supported; write the value on one line",
            ));
        } else {
            if key == "id" && fields.has("id") {
                return Err(invalid(at(), "\"id\" is given twice"));
            }
            fields.push(key, scalar(value));
        }
    }
    Ok(())
}

/// Splits `a, "b, c", d` at the commas outside quotes.
fn split_list(s: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), _) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, ',') => items.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        items.push(cur);
    }
    items
}

/// A front matter scalar: quotes removed (with `\"` and `''` unescaped), a trailing comment cut.
fn scalar(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        return inner.replace("\\\"", "\"").replace("\\\\", "\\");
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    match v.find(" #") {
        Some(i) => v[..i].trim_end().to_string(),
        None => v.to_string(),
    }
}
