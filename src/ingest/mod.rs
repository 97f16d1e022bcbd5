//! Where do documents come from?
//!
//! Besides JSON Lines ([`crate::builder::add_jsonl`]), a build reads folders of Markdown and
//! HTML files. [`markdown()`] and [`html()`] turn one file's text into a [`Document`]; [`add_path`]
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

mod html;
mod markdown;

pub use html::html;
pub use markdown::markdown;

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

pub(super) fn invalid(location: String, message: impl Into<String>) -> Error {
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
pub(super) struct Fields<'a> {
    schema: &'a Schema,
    values: Vec<Vec<String>>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(schema: &'a Schema) -> Self {
        Fields {
            schema,
            values: vec![Vec::new(); schema.fields().len()],
        }
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.schema
            .field(name)
            .is_some_and(|f| !self.values[f].is_empty())
    }

    pub(super) fn push(&mut self, name: &str, value: String) {
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
    pub(super) fn default(&mut self, name: &str, value: String) {
        if !self.has(name) {
            self.push(name, value);
        }
    }

    pub(super) fn finish(self) -> Document {
        Document {
            values: self.values,
        }
    }
}

/// The file name without its extension (`guide/install.md` → `install`).
pub(super) fn stem(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// Decodes the character reference at the start of `chars` (which starts with `&`): its text
/// and how many chars it used (`("&", 1)` when it is none).
pub(super) fn entity(chars: &[char]) -> (String, usize) {
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

#[cfg(test)]
mod tests {
    use super::html::html_url;
    use super::markdown::{inline, markdown_url};
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
