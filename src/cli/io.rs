//! What the command reads and shows: input lines (file:line errors, a byte-order mark),
//! `--out` checks, query files, text that cannot drive the terminal, and the wire report of
//! `search --stats`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use edgekb::lazy::LoadStats;
use edgekb::Error;

use crate::publish::io_error;

/// `text` with control characters (terminal escape sequences among them) shown escaped, for
/// text output; `--json` output is escaped by JSON itself.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect::<String>()
        .into()
}

/// Calls `f(location, line)` for every line of `reader` (`name:line` locations), without its
/// line ending; a UTF-8 byte-order mark at the start is skipped, and a line that is not UTF-8
/// is an error naming its line.
pub fn for_each_line(
    mut reader: impl BufRead,
    name: &str,
    mut f: impl FnMut(&str, &str) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut buf = Vec::new();
    for number in 1.. {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}"))))?;
        if read == 0 {
            break;
        }
        let mut line = buf.as_slice();
        if number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        let location = format!("{name}:{number}");
        let text = std::str::from_utf8(line).map_err(|e| Error::InvalidDocument {
            location: location.clone(),
            message: format!(
                "not valid UTF-8 (byte {} of the line); convert the file, e.g. iconv -f latin1 -t utf-8",
                e.valid_up_to() + 1
            ),
        })?;
        f(&location, text)?;
    }
    Ok(())
}

/// Refuses an `--out` that is one of the inputs (the build would overwrite its own source).
pub fn refuse_input_as_output(inputs: &[PathBuf], out: &Path) -> Result<(), Error> {
    let Ok(out_real) = std::fs::canonicalize(out) else {
        return Ok(()); // not there yet: it cannot be an input
    };
    for input in inputs {
        let same = std::fs::canonicalize(input).is_ok_and(|p| p == out_real);
        let inside =
            out.is_dir() && std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&out_real));
        if same || inside {
            return Err(Error::InvalidConfig {
                message: format!(
                    "--out {} is the input {}: the build would overwrite its own source; choose another --out",
                    out.display(),
                    input.display()
                ),
            });
        }
    }
    Ok(())
}

/// Explains an `--out` of the wrong kind (a file where a split directory goes, or the reverse)
/// instead of letting the write fail with `File exists`. `automatic`: the index's size, when
/// the kind was chosen by size.
pub fn check_out_kind(out: &Path, split: bool, automatic: Option<u64>) -> Result<(), Error> {
    let mb = |n: u64| n as f64 / (1 << 20) as f64;
    let why = |over: bool| match automatic {
        Some(n) => format!(
            " (chosen by size: the index is {:.1} MB, {} the {} MB threshold)",
            mb(n),
            if over { "over" } else { "within" },
            crate::SPLIT_THRESHOLD >> 20
        ),
        None => String::new(),
    };
    let message = if split && out.exists() && !out.is_dir() {
        format!(
            "{} is a file, but this build writes a split index, a directory{}; pass --single to \
             replace the file, or choose another --out",
            out.display(),
            why(true)
        )
    } else if !split && out.is_dir() {
        format!(
            "{} is a directory, but this build writes a single file{}; pass --split to update \
             the split index there, or choose another --out",
            out.display(),
            why(false)
        )
    } else {
        return Ok(());
    };
    Err(Error::InvalidConfig { message })
}

/// Reads JSONL `{"id","text"}` or TSV `id<TAB>text` queries.
pub fn read_queries(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let f = File::open(path).map_err(|e| io_error(path, e))?;
    let mut out = Vec::new();
    for_each_line(
        BufReader::new(f),
        &path.display().to_string(),
        |location, line| {
            if line.trim().is_empty() {
                return Ok(());
            }
            let bad = |m: &str| Error::InvalidDocument {
                location: location.to_string(),
                message: m.to_string(),
            };
            if line.trim_start().starts_with('{') {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| bad(&format!("not valid JSON: {e}")))?;
                let id = match &v["id"] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return Err(bad("a query needs an \"id\"")),
                };
                let text = v["text"]
                    .as_str()
                    .ok_or_else(|| bad("a query needs a \"text\""))?
                    .to_string();
                out.push((id, text));
            } else {
                let (id, text) = line
                    .split_once('\t')
                    .ok_or_else(|| bad("expected id<TAB>text"))?;
                out.push((id.to_string(), text.to_string()));
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// One query's wire cost as JSON (`edgekb search --stats --json`).
pub fn wire_json(w: &LoadStats) -> serde_json::Value {
    w.wire().to_tree()
}

fn wire_line(what: &str, requests: f64, bytes: f64, rounds: f64) -> String {
    let n = |x: f64| match x.fract() == 0.0 {
        true => format!("{x}"),
        false => format!("{x:.2}"),
    };
    let s = |x: f64| if x == 1.0 { "" } else { "s" };
    format!(
        "{what}: {} request{}, {} bytes, {} round trip{}",
        n(requests),
        s(requests),
        n(bytes),
        n(rounds),
        s(rounds)
    )
}

/// What opening (`opened`: `None` for a single file, read whole) and `count` queries
/// (`total`) cost on the wire, for people (`edgekb search --stats`).
pub fn wire_summary(opened: Option<LoadStats>, total: LoadStats, count: u64) -> String {
    let Some(o) = opened else {
        return "wire: a single-file index is read whole when opened; queries make no requests"
            .into();
    };
    let f = |x: u64| x as f64;
    let open = wire_line(
        "wire, opening",
        f(o.requests),
        f(o.bytes_fetched),
        f(o.round_trips),
    );
    let queries = match count {
        1 => wire_line(
            "wire, query",
            f(total.requests),
            f(total.bytes_fetched),
            f(total.round_trips),
        ),
        _ => {
            let per = |x: u64| x as f64 / count.max(1) as f64;
            format!(
                "{} over {count} queries",
                wire_line(
                    "wire, per query",
                    per(total.requests),
                    per(total.bytes_fetched),
                    per(total.round_trips)
                )
            )
        }
    };
    format!("{open}\n{queries}")
}
