//! HTML files as documents (see the module above for what is read).

use super::{entity, stem, Fields};
use crate::builder::Document;
use crate::schema::Schema;

/// The page address of an HTML file: `a/b.html` → `/a/b.html`, `a/index.html` → `/a/`.
pub(super) fn html_url(rel: &str) -> String {
    let dir = rel
        .strip_suffix("index.html")
        .or_else(|| rel.strip_suffix("index.htm"))
        .filter(|d| d.is_empty() || d.ends_with('/'));
    match dir {
        Some(d) => format!("/{d}"),
        None => format!("/{rel}"),
    }
}

/// Elements whose content is not part of a page's text.
const SKIPPED: [&str; 11] = [
    "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "svg", "head",
    "form",
];

/// Elements that end a line of text.
const BLOCKS: [&str; 30] = [
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "table",
    "section",
    "article",
    "main",
    "pre",
    "blockquote",
    "dt",
    "dd",
    "dl",
    "hr",
    "figure",
    "figcaption",
    "details",
    "summary",
    "body",
];

/// Elements that never have content.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param",
];

/// One HTML file as a document (see the module documentation); `rel` is its path below the
/// folder given. Never fails: malformed markup degrades to less text.
pub fn html(text: &str, rel: &str, schema: &Schema) -> Document {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut fields = Fields::new(schema);
    let mut title = String::new();
    let mut keywords: Vec<String> = Vec::new();
    // Text per region: everything in <body>, the first <main>, the first <article>.
    let mut all = Text::default();
    let mut main = Text::default();
    let mut article = Text::default();
    let (mut main_state, mut article_state) = (Region::Before, Region::Before);
    let mut headings: Vec<String> = Vec::new();
    let mut heading: Option<(usize, String)> = None; // (stack depth, text)
    let mut stack: Vec<String> = Vec::new();
    let mut skip_at: Option<usize> = None; // stack depth where skipping began
    let mut first_h1: Option<String> = None;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let end = text[i..].find('<').map_or(b.len(), |p| i + p);
            if skip_at.is_none() {
                let t = decode_text(&text[i..end]);
                all.push(&t);
                if main_state == Region::In {
                    main.push(&t);
                }
                if article_state == Region::In {
                    article.push(&t);
                }
                if let Some((_, h)) = &mut heading {
                    h.push_str(&t);
                }
            }
            i = end;
            continue;
        }
        let rest = &text[i..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(b.len(), |p| i + p + 3);
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            i = rest.find("]]>").map_or(b.len(), |p| i + p + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            i = rest.find('>').map_or(b.len(), |p| i + p + 1);
            continue;
        }
        let closing = rest.starts_with("</");
        let name_start = if closing { 2 } else { 1 };
        let name_len = rest[name_start..]
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'-')
            .count();
        if name_len == 0 || !rest.as_bytes()[name_start].is_ascii_alphabetic() {
            // Not a tag: a literal '<'.
            if skip_at.is_none() {
                all.push("<");
                if main_state == Region::In {
                    main.push("<");
                }
                if article_state == Region::In {
                    article.push("<");
                }
            }
            i += 1;
            continue;
        }
        let name = rest[name_start..name_start + name_len].to_ascii_lowercase();
        let (attrs, tag_end, self_closing) = attributes(&rest[name_start + name_len..]);
        i += name_start + name_len + tag_end;
        let block = BLOCKS.contains(&name.as_str());
        if closing {
            if let Some(pos) = stack.iter().rposition(|n| *n == name) {
                stack.truncate(pos);
                if skip_at.is_some_and(|s| stack.len() < s) {
                    skip_at = None;
                }
                if heading.as_ref().is_some_and(|(d, _)| stack.len() < *d) {
                    let (_, h) = heading.take().expect("checked");
                    let h = collapse(&h);
                    if !h.is_empty() {
                        if first_h1.is_none() && name == "h1" {
                            first_h1 = Some(h.clone());
                        }
                        headings.push(h);
                    }
                }
                if name == "main" && main_state == Region::In {
                    main_state = Region::After;
                }
                if name == "article" && article_state == Region::In {
                    article_state = Region::After;
                }
            }
            if block {
                all.newline();
                main.newline();
                article.newline();
            }
            continue;
        }
        // A start tag.
        if name == "meta" {
            let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            if get("name").is_some_and(|n| n.eq_ignore_ascii_case("keywords")) {
                for k in get("content").unwrap_or("").split(',') {
                    let k = k.trim();
                    if !k.is_empty() {
                        keywords.push(k.to_string());
                    }
                }
            }
        }
        if name == "title" || name == "script" || name == "style" || name == "textarea" {
            // Raw text: read to the matching end tag.
            let close = format!("</{name}");
            let lower = text[i..].to_ascii_lowercase();
            let end = lower.find(&close).map_or(b.len(), |p| i + p);
            if name == "title" && title.is_empty() {
                title = collapse(&decode_text(&text[i..end]));
            }
            i = text[end..].find('>').map_or(b.len(), |p| end + p + 1);
            continue;
        }
        if block {
            all.newline();
            main.newline();
            article.newline();
        }
        if VOID.contains(&name.as_str()) || self_closing {
            if name == "img" && skip_at.is_none() {
                // Alt text is part of the page's text.
                if let Some((_, alt)) = attrs.iter().find(|(n, _)| n == "alt") {
                    for t in [&mut all, &mut main, &mut article] {
                        t.push(" ");
                        t.push(alt);
                        t.push(" ");
                    }
                }
            }
            continue;
        }
        if stack.len() >= 512 {
            continue; // absurd nesting: keep reading text, stop tracking elements
        }
        stack.push(name.clone());
        let hidden = attrs
            .iter()
            .any(|(n, _)| n == "hidden" || n == "data-edgekb-ignore");
        if skip_at.is_none() && (SKIPPED.contains(&name.as_str()) || hidden) {
            skip_at = Some(stack.len());
        }
        if skip_at.is_none() {
            if name == "main" && main_state == Region::Before {
                main_state = Region::In;
            }
            if name == "article" && article_state == Region::Before {
                article_state = Region::In;
            }
            if heading.is_none() && matches!(name.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            {
                heading = Some((stack.len(), String::new()));
            }
        }
    }
    let body = if main_state != Region::Before {
        main
    } else if article_state != Region::Before {
        article
    } else {
        all
    };
    if !title.is_empty() {
        fields.default("title", title);
    }
    if let Some(h1) = first_h1 {
        fields.default("title", h1);
    }
    fields.default("title", stem(rel));
    fields.default("id", rel.to_string());
    fields.default("url", html_url(rel));
    for k in keywords {
        fields.push("tags", k);
    }
    for h in headings {
        fields.push("headings", h);
    }
    fields.push("body", body.finish());
    fields.finish()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    Before,
    In,
    After,
}

/// Text gathered from an HTML page: spaces collapsed, one line per block.
#[derive(Default)]
struct Text {
    lines: Vec<String>,
    cur: String,
}

impl Text {
    fn push(&mut self, t: &str) {
        for c in t.chars() {
            if c.is_whitespace() {
                if !self.cur.is_empty() && !self.cur.ends_with(' ') {
                    self.cur.push(' ');
                }
            } else {
                self.cur.push(c);
            }
        }
    }

    fn newline(&mut self) {
        let line = self.cur.trim_end();
        if !line.is_empty() {
            self.lines.push(line.to_string());
        }
        self.cur.clear();
    }

    fn finish(mut self) -> String {
        self.newline();
        self.lines.join("\n")
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_text(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '&' {
            let (d, used) = entity(&chars[i..]);
            out.push_str(&d);
            i += used;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Parses a start tag's attributes from just after its name: the attributes (names
/// lower-cased, values decoded), the bytes used up to and including `>`, and whether it ends
/// with `/>`.
fn attributes(s: &str) -> (Vec<(String, String)>, usize, bool) {
    let b = s.as_bytes();
    let mut attrs = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (attrs, b.len(), false);
        }
        if b[i] == b'>' {
            let self_closing = i > 0 && b[i - 1] == b'/';
            return (attrs, i + 1, self_closing);
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let end = s[i + 1..]
                    .bytes()
                    .position(|c| c == q)
                    .map_or(b.len(), |p| i + 1 + p);
                value = decode_text(&s[i + 1..end]);
                i = (end + 1).min(b.len());
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = decode_text(&s[vs..i]);
            }
        }
        if !name.is_empty() && attrs.len() < 256 {
            attrs.push((name, value));
        }
        if i == start {
            i += 1; // never stall
        }
    }
}
