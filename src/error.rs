//! Errors of the core: reading an index, building one, searching.
//!
//! Every message says what went wrong and how to fix it. The variants carry the facts (what was
//! expected, what was found) so callers and the JS binding can act on them.

use std::fmt;

/// A `Result` with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the core.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not start with the index magic label.
    BadMagic {
        /// The first bytes that were found instead.
        found: Vec<u8>,
    },
    /// The index was written in a format version this reader does not read.
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The oldest version this reader accepts.
        oldest: u32,
        /// The newest version this reader accepts.
        newest: u32,
    },
    /// The data ends before a structure it declares.
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A structure has an impossible value.
    Corrupt {
        /// The structure and what is wrong with it.
        what: String,
    },
    /// A section's CRC32 does not match its bytes.
    ChecksumMismatch {
        /// The section.
        section: &'static str,
        /// The CRC32 recorded in the section table.
        expected: u32,
        /// The CRC32 of the bytes.
        found: u32,
    },
    /// An explicit budget was hit.
    LimitExceeded {
        /// What was being counted.
        what: &'static str,
        /// The budget.
        limit: u64,
    },
    /// A document of the input is not valid.
    InvalidDocument {
        /// Where it came from (file name and line, as known).
        location: String,
        /// What is wrong with it.
        message: String,
    },
    /// The schema or the analyzer settings are not valid.
    InvalidConfig {
        /// What is wrong.
        message: String,
    },
    /// A search option is not valid for this index (a filter on a field that is not a facet,
    /// a sort on a field that is not sortable).
    InvalidOption {
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// An argument or option has the wrong type or is out of its range (`limit: -1`).
    InvalidArgument {
        /// Which one, and what it must be.
        message: String,
    },
    /// The index needs something this build leaves out.
    Unsupported {
        /// What, and how to get a build that has it.
        what: String,
    },
    /// A lazy index was asked for bytes it has not loaded (a bug in the fetch plan).
    NotLoaded {
        /// The data file.
        file: &'static str,
        /// Start of the range.
        start: u64,
        /// End of the range.
        end: u64,
    },
    /// Reading or writing failed.
    Io(std::io::Error),
}

impl Clone for Error {
    /// A copy; an I/O error keeps its kind and (natively) its message (`std::io::Error` is not
    /// `Clone`), so an error shared by several waiters of one fetch reaches each of them.
    fn clone(&self) -> Self {
        match self {
            Error::BadMagic { found } => Error::BadMagic {
                found: found.clone(),
            },
            &Error::UnsupportedVersion {
                found,
                oldest,
                newest,
            } => Error::UnsupportedVersion {
                found,
                oldest,
                newest,
            },
            &Error::Truncated {
                what,
                needed,
                available,
            } => Error::Truncated {
                what,
                needed,
                available,
            },
            Error::Corrupt { what } => Error::Corrupt { what: what.clone() },
            &Error::ChecksumMismatch {
                section,
                expected,
                found,
            } => Error::ChecksumMismatch {
                section,
                expected,
                found,
            },
            &Error::LimitExceeded { what, limit } => Error::LimitExceeded { what, limit },
            Error::InvalidDocument { location, message } => Error::InvalidDocument {
                location: location.clone(),
                message: message.clone(),
            },
            Error::InvalidConfig { message } => Error::InvalidConfig {
                message: message.clone(),
            },
            Error::InvalidOption { message } => Error::InvalidOption {
                message: message.clone(),
            },
            Error::InvalidArgument { message } => Error::InvalidArgument {
                message: message.clone(),
            },
            Error::Unsupported { what } => Error::Unsupported { what: what.clone() },
            &Error::NotLoaded { file, start, end } => Error::NotLoaded { file, start, end },
            Error::Io(e) => Error::Io(copy_io(e)),
        }
    }
}

/// An I/O error's copy: its kind and message.
#[cfg(not(all(target_arch = "wasm32", feature = "binding")))]
fn copy_io(e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), e.to_string())
}

/// The search `.wasm` (feature `binding`) does no I/O of its own (its loaders' errors are
/// `LoadError`s), so an I/O error there is only ever a kind: copying the kind alone keeps
/// `Box<dyn Error>`'s string error and its `Debug` (1.8 KB and the printable-character tables)
/// out of the module.
#[cfg(all(target_arch = "wasm32", feature = "binding"))]
fn copy_io(e: &std::io::Error) -> std::io::Error {
    std::io::Error::from(e.kind())
}

impl Error {
    /// A short, stable name for the kind of error (used as `code` in the JS binding).
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadMagic { .. } => "BadMagic",
            Error::UnsupportedVersion { .. } => "UnsupportedVersion",
            Error::Truncated { .. } => "Truncated",
            Error::Corrupt { .. } => "Corrupt",
            Error::ChecksumMismatch { .. } => "ChecksumMismatch",
            Error::LimitExceeded { .. } => "LimitExceeded",
            Error::InvalidDocument { .. } => "InvalidDocument",
            Error::InvalidConfig { .. } => "InvalidConfig",
            Error::InvalidOption { .. } => "InvalidOption",
            Error::InvalidArgument { .. } => "InvalidArgument",
            Error::Unsupported { .. } => "Unsupported",
            Error::NotLoaded { .. } => "NotLoaded",
            Error::Io(_) => "Io",
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Error {
        Error::Corrupt { what: what.into() }
    }
}

const REBUILD: &str = "rebuild the index with `edgekb build` or fetch it again";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadMagic { found } => {
                // The bytes as `{:02x?}` shows them (`[7b, 22]`), without `Debug`'s machinery
                // in the `.wasm`.
                f.write_str("not an edgekb index: it starts with [")?;
                for (i, b) in found.iter().enumerate() {
                    write!(f, "{}{b:02x}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str(
                    "] instead of the label \"EDGEKBIX\"; pass a file written by `edgekb build`",
                )
            }
            Error::UnsupportedVersion { found, oldest, newest } => write!(
                f,
                "index format version {found} is not supported by this edgekb, which reads versions \
                 {oldest} to {newest}; {}",
                if found > newest {
                    "upgrade edgekb"
                } else {
                    "rebuild the index with this edgekb's `edgekb build`"
                }
            ),
            Error::Truncated { what, needed, available } => write!(
                f,
                "index is truncated: {what} needs {needed} bytes but only {available} are there; {REBUILD}"
            ),
            Error::Corrupt { what } => write!(f, "index is corrupt: {what}; {REBUILD}"),
            Error::ChecksumMismatch { section, expected, found } => write!(
                f,
                "index section {section} is damaged: CRC32 {found:08x} where {expected:08x} was \
                 recorded; {REBUILD}"
            ),
            Error::LimitExceeded { what, limit } => write!(
                f,
                "{what} exceeded its budget of {limit}; raise the limit or make the input smaller"
            ),
            Error::InvalidDocument { location, message } => {
                write!(f, "{location}: {message}; fix that document and build again")
            }
            Error::InvalidConfig { message } => write!(f, "invalid configuration: {message}"),
            Error::InvalidOption { message } => write!(f, "invalid search option: {message}"),
            Error::InvalidArgument { message } => write!(f, "{message}"),
            Error::Unsupported { what } => write!(f, "unsupported: {what}"),
            Error::NotLoaded { file, start, end } => write!(
                f,
                "bytes {start}..{end} of the {file} file were needed but not loaded; this is a bug \
                 in edgekb's fetch plan, please report it"
            ),
            Error::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

/// A string in a message, quoted as `{:?}` quotes it (`"` and `\` escaped, control characters
/// as escapes), without the Unicode tables `str`'s `Debug` brings into the `.wasm`.
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// A list of strings in a message, as `{:?}` shows it (`["a", "b"]`).
pub(crate) fn quoted_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| Quoted(s).to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// A number in a message, to six decimals at most, without the float formatting code of
/// `{}` in the `.wasm` (`NaN`, `inf`, and past 10^12 its power of ten).
pub(crate) fn number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    if a.is_infinite() {
        return format!("{sign}inf");
    }
    if a >= 1e12 {
        // (At most 308 divisions.)
        let (mut e, mut v) = (0, a);
        while v >= 10.0 {
            v /= 10.0;
            e += 1;
        }
        return format!("{sign}about 1e{e}");
    }
    let n = (a * 1e6 + 0.5) as u64;
    let (whole, frac) = (n / 1_000_000, n % 1_000_000);
    match frac {
        0 => format!("{sign}{whole}"),
        _ => {
            let digits = format!("{frac:06}");
            format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_and_show_numbers_as_debug_and_display_would() {
        for text in [
            "title",
            "a \"b\" \\ c",
            "tab\there\nnew",
            "nul\u{0}",
            "café 🦀",
        ] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"));
        }
        assert_eq!(
            quoted_list(&["a".into(), "b\"".into()]),
            format!("{:?}", ["a", "b\""])
        );
        // A file that is not an index: its first bytes as `{:02x?}` shows them.
        for found in [vec![], vec![0x7b], vec![0x7b, 0x22, 0x00, 0xff]] {
            let shown = Error::BadMagic {
                found: found.clone(),
            }
            .to_string();
            assert!(
                shown.contains(&format!("starts with {found:02x?} instead")),
                "{shown}"
            );
        }
        // (number, shown)
        for (x, want) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.4, "0.4"),
            (1e-7, "0"),
            (123456.0, "123456"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
            (3e30, "about 1e30"),
        ] {
            assert_eq!(number(x), want, "{x}");
        }
    }

    #[test]
    fn version_error_keeps_found_and_range_apart() {
        let e = Error::UnsupportedVersion {
            found: 9,
            oldest: 1,
            newest: 2,
        };
        let msg = e.to_string();
        assert!(msg.contains("version 9"), "{msg}");
        assert!(msg.contains("versions 1 to 2"), "{msg}");
        assert!(msg.contains("upgrade edgekb"), "{msg}");
        let old = Error::UnsupportedVersion {
            found: 0,
            oldest: 1,
            newest: 2,
        }
        .to_string();
        assert!(old.contains("rebuild"), "{old}");
    }

    #[test]
    fn checksum_error_names_both_values() {
        let msg = Error::ChecksumMismatch {
            section: "postings",
            expected: 0xabcd,
            found: 0x1234,
        }
        .to_string();
        assert!(msg.contains("00001234 where 0000abcd"), "{msg}");
        assert_eq!(Error::corrupt("x").code(), "Corrupt");
    }
}
