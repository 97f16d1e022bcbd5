//! Where do documents come from?
//!
//! Besides JSON Lines ([`crate::builder::add_jsonl`]), a build reads folders of Markdown and
//! HTML files. [`markdown`] and [`html`] turn one file's text into a [`Document`]; [`add_path`]
//! walks a file or a folder (sorted, so builds stay deterministic) and adds every `.md`,
//! `.markdown`, `.html`, `.htm` and `.jsonl` file it finds. Errors name the file and, where a
//! line is to blame, its line (`docs/guide.md:3`).
//!
//! Markdown: a YAML-style front matter block (`---` … `---`, one `key: value` per line, lists
//! as `[a, b]` or `- item` lines) fills any schema field of the same name (`title`, `url`,
//! `tags`, `id`, …); the rest is turned into plain text for `body` (markup removed, code kept).
//! The title defaults to the first level-1 heading, then the first heading, then the file name; headings go to a
//! `headings` field when the schema has one, and stay in the body either way.
//!
//! HTML: the `<title>` (or first `<h1>`), the headings, and the text of `<main>` (or the first
//! `<article>`, or `<body>`) without `nav`, `header`, `footer`, `aside`, `script`, `style`,
//! `noscript`, `template`, `svg` and elements marked `hidden` or `data-edgekb-ignore`;
//! `<meta name="keywords">` fills `tags`. Markup is forgiving: nothing in HTML is an error.
//!
//! Without front matter saying otherwise, a file's id is its path below the folder given
//! (`guide/install.md`) and its URL is that path as a page address (`/guide/install/`,
//! `/guide/` for `guide/index.md`; HTML keeps its file name: `/guide/install.html`).

use std::path::Path;

use crate::builder::{add_jsonl, Document, IndexBuilder};
use crate::error::{Error, Result};
use crate::schema::Schema;

/// Most bytes of one Markdown or HTML file (a larger file is refused with its name).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Most files one folder walk reads, and how deep it goes.
pub const MAX_FILES: usize = 1_000_000;
const MAX_DEPTH: usize = 64;

/// The kinds of input file a build reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// JSON Lines, one document per line.
    Jsonl,
    /// One Markdown document.
    Markdown,
    /// One HTML document.
    Html,
}

impl Kind {
    /// The kind of a file, by its extension (case-insensitive); `None` for other files.
    pub fn of(path: &Path) -> Option<Kind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" => Some(Kind::Jsonl),
            "md" | "markdown" => Some(Kind::Markdown),
            "html" | "htm" => Some(Kind::Html),
            _ => None,
        }
    }
}

fn invalid(location: String, message: impl Into<String>) -> Error {
    Error::InvalidDocument {
        location,
        message: message.into(),
    }
}

/// Adds `path` to `builder`: a file of a known kind, or a folder walked recursively in
/// sorted order (files of other kinds and hidden entries are skipped). Returns the documents
/// added.
pub fn add_path(builder: &mut IndexBuilder, path: &Path) -> Result<u32> {
    let mut added = 0;
    for (file, rel, kind) in files(path)? {
        added += add_file(builder, &file, &rel, kind)?;
    }
    Ok(added)
}

/// The input files `path` stands for, each with its path below `path` (or its file name) and
/// kind: `path` itself when it is a file (of an unknown extension: JSON Lines), or the files of
/// known kinds in the folder, recursively, in sorted order (hidden entries skipped).
pub fn files(path: &Path) -> Result<Found> {
    let io = |e: std::io::Error, p: &Path| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", p.display()),
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| io(e, path))?;
    if !meta.is_dir() {
        let kind = Kind::of(path).unwrap_or(Kind::Jsonl);
        let rel = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(path.to_path_buf(), rel, kind)]);
    }
    let mut found = Vec::new();
    walk(path, path, 0, &mut found).map_err(|(e, p)| io(e, &p))?;
    Ok(found)
}

/// Files found: path, path below the folder given (`/`-separated), kind.
pub type Found = Vec<(std::path::PathBuf, String, Kind)>;

fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Found,
) -> std::result::Result<(), (std::io::Error, std::path::PathBuf)> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| (e, dir.to_path_buf()))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| (e, dir.to_path_buf()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| (e, path.clone()))?;
        if kind.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                let e = std::io::Error::other(format!("folders nested deeper than {MAX_DEPTH}"));
                return Err((e, path));
            }
            walk(root, &path, depth + 1, out)?;
        } else if let Some(k) = Kind::of(&path) {
            if out.len() >= MAX_FILES {
                let e = std::io::Error::other(format!("more than {MAX_FILES} files"));
                return Err((e, root.to_path_buf()));
            }
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((path, rel.join("/"), k));
        }
    }
    Ok(())
}

fn add_file(builder: &mut IndexBuilder, path: &Path, rel: &str, kind: Kind) -> Result<u32> {
    let name = path.display().to_string();
    if kind == Kind::Jsonl {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}"))))?;
        return add_jsonl(builder, std::io::BufReader::new(file), &name);
    }
    let doc = document(path, rel, kind, builder.schema())?;
    builder.add(&doc, &format!("{name}:1"))?;
    Ok(1)
}

/// Reads one Markdown or HTML file (`kind`) as a document; `rel` is its path below the folder
/// given. JSON Lines files hold many documents: read them with [`add_path`].
pub fn document(path: &Path, rel: &str, kind: Kind, schema: &Schema) -> Result<Document> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}"))))?;
    let mut bytes = Vec::new();
    use std::io::Read;
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}"))))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(invalid(
            format!("{name}:1"),
            format!("larger than {MAX_FILE_BYTES} bytes; split it"),
        ));
    }
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(invalid(
                format!("{name}:{line}"),
                "not valid UTF-8; save the file as UTF-8",
            ));
        }
    };
    match kind {
        Kind::Markdown => markdown(text, rel, schema, &name),
        Kind::Html => Ok(html(text, rel, schema)),
        Kind::Jsonl => Err(invalid(
            format!("{name}:1"),
            "a JSON Lines file holds many documents; read it with add_path",
        )),
    }
}

/// Collects field values by name and maps them onto a schema.
struct Fields<'a> {
    schema: &'a Schema,
    values: Vec<Vec<String>>,
}

impl<'a> Fields<'a> {
    fn new(schema: &'a Schema) -> Self {
        Fields {
            schema,
            values: vec![Vec::new(); schema.fields().len()],
        }
    }

    fn has(&self, name: &str) -> bool {
        self.schema
            .field(name)
            .is_some_and(|f| !self.values[f].is_empty())
    }

    fn push(&mut self, name: &str, value: String) {
        let field = match self.schema.field(name) {
            Some(f) => f,
            None if name == "text" => match self.schema.field("body") {
                Some(f) => f,
                None => return,
            },
            None => return,
        };
        if !value.is_empty() {
            self.values[field].push(value);
        }
    }

    /// Fills `name` with `value` unless it has a value already.
    fn default(&mut self, name: &str, value: String) {
        if !self.has(name) {
            self.push(name, value);
        }
    }

    fn finish(self) -> Document {
        Document {
            values: self.values,
        }
    }
}

/// The file name without its extension (`guide/install.md` → `install`).
fn stem(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// The page address of a Markdown file: `a/b.md` → `/a/b/`, `a/index.md` → `/a/`.
fn markdown_url(rel: &str) -> String {
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

/// The page address of an HTML file: `a/b.html` → `/a/b.html`, `a/index.html` → `/a/`.
fn html_url(rel: &str) -> String {
    let dir = rel
        .strip_suffix("index.html")
        .or_else(|| rel.strip_suffix("index.htm"))
        .filter(|d| d.is_empty() || d.ends_with('/'));
    match dir {
        Some(d) => format!("/{d}"),
        None => format!("/{rel}"),
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
fn inline(s: &str) -> String {
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

/// Decodes the character reference at the start of `chars` (which starts with `&`): its text
/// and how many chars it used (`("&", 1)` when it is none).
fn entity(chars: &[char]) -> (String, usize) {
    let end = chars.iter().take(34).position(|&c| c == ';');
    let Some(end) = end.filter(|&e| e > 1) else {
        return ("&".into(), 1);
    };
    let name: String = chars[1..end].iter().collect();
    let numeric = |digits: &str, radix: u32| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{fffd}')
    };
    let c = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        numeric(hex, 16)
    } else if let Some(dec) = name.strip_prefix('#') {
        numeric(dec, 10)
    } else {
        match name.as_str() {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            "ndash" => '–',
            "mdash" => '—',
            "hellip" => '…',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "copy" => '©',
            "reg" => '®',
            "trade" => '™',
            "laquo" => '«',
            "raquo" => '»',
            "middot" => '·',
            "times" => '×',
            "eacute" => 'é',
            "ge" => '≥',
            "le" => '≤',
            "ne" => '≠',
            "larr" => '←',
            "rarr" => '→',
            _ => return ("&".into(), 1),
        }
    };
    (c.to_string(), end + 1)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'d>(d: &'d Document, s: &Schema, name: &str) -> &'d [String] {
        &d.values[s.field(name).unwrap()]
    }

    #[test]
    fn urls_from_paths() {
        assert_eq!(markdown_url("a/b.md"), "/a/b/");
        assert_eq!(markdown_url("a/index.md"), "/a/");
        assert_eq!(markdown_url("index.md"), "/");
        assert_eq!(markdown_url("v1.2/notes.md"), "/v1.2/notes/");
        assert_eq!(html_url("a/b.html"), "/a/b.html");
        assert_eq!(html_url("a/index.html"), "/a/");
        assert_eq!(html_url("index.html"), "/");
        assert_eq!(html_url("a/myindex.html"), "/a/myindex.html");
    }

    #[test]
    fn markdown_inline_table() {
        for (input, want) in [
            (
                "**bold** and _it_ and snake_case",
                "bold and it and snake_case",
            ),
            ("[a link](http://x.y/z) here", "a link here"),
            ("![alt text](i.png)", "alt text"),
            ("`a*b` code", "a*b code"),
            ("see <https://e.x> &amp; more", "see https://e.x & more"),
            ("[ref][1] and [x]", "ref and x"),
            ("\\*not emphasis\\*", "*not emphasis*"),
            ("unclosed [bracket", "unclosed [bracket"),
            ("a <b>tag</b>", "a tag"),
            ("&#x1F600; &#65; &bogus; &", "😀 A &bogus; &"),
        ] {
            assert_eq!(inline(input), want, "{input}");
        }
    }

    #[test]
    fn front_matter_errors_name_the_line() {
        let s = Schema::default();
        for (text, at, needle) in [
            ("---\ntitle: x\n", "f.md:1", "never closed"),
            (
                "---\ntitle: x\nno colon here\n---\n",
                "f.md:3",
                "key: value",
            ),
            ("---\n- orphan\n---\n", "f.md:2", "list item"),
            ("---\ntags: [a, b\n---\n", "f.md:2", "[list]"),
            ("---\nid: a\nid: b\n---\n", "f.md:3", "twice"),
        ] {
            match markdown(text, "f.md", &s, "f.md") {
                Err(Error::InvalidDocument { location, message }) => {
                    assert_eq!(location, at, "{text:?}");
                    assert!(message.contains(needle), "{message} lacks {needle}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn markdown_title_fallbacks() {
        let s = Schema::default();
        let d = markdown("Intro\n=====\n\ntext", "a/b.md", &s, "b.md").unwrap();
        assert_eq!(field(&d, &s, "title"), ["Intro"]);
        let d = markdown("just text", "a/b.md", &s, "b.md").unwrap();
        assert_eq!(field(&d, &s, "title"), ["b"]);
        assert_eq!(field(&d, &s, "id"), ["a/b.md"]);
    }

    #[test]
    fn html_degrades_without_panicking() {
        let s = Schema::default();
        for text in [
            "",
            "<",
            "<<>>",
            "</",
            "<a",
            "<a href=\"x",
            "<!--",
            "<script>",
            "&",
            "&#xFFFFFFFF;",
            "<p>a</q></p></div>",
            "<div hidden><p>x",
            "<main>",
            "<title>t",
        ] {
            let d = html(text, "x.html", &s);
            assert_eq!(field(&d, &s, "id"), ["x.html"]);
        }
        let d = html(
            "<p>a &lt; b</p><div hidden>secret</div><p>c</p>",
            "x.html",
            &s,
        );
        assert_eq!(field(&d, &s, "body"), ["a < b\nc"]);
    }
}
