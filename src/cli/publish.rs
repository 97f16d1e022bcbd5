//! How does `edgekb build` write an index so that a killed build loses nothing?
//!
//! - Every file is written to a temporary file beside its target (`.<name>.tmp-<pid>`, same
//!   directory, so the rename stays on one file system), synced, renamed over the target, and
//!   the directory synced: a reader sees the old file or the new one, never half of one.
//! - A split directory gets its data files first. A content-addressed file already there is
//!   kept only if its size and SHA-256 are those the new manifest gives it; otherwise it is
//!   rewritten (a killed build may have left it truncated). The manifest comes last, so until
//!   the build is complete `manifest.json` names the previous, complete version.
//! - Just before the manifest, a copy of the dictionary under a fixed name
//!   (`dictionary.bin`, [`edgekb::split::DICTIONARY_ALIAS`]), which from layout 6 holds the
//!   manifest too: readers open the index from it alone (every file it names is written by
//!   then), and refresh through `manifest.json`.
//! - The manifest being replaced is kept as `manifest.previous.json`: a reader that opened the
//!   previous version (a browser tab, a Worker isolate) may still fetch its files. `edgekb gc`
//!   removes the data files neither manifest names, and leftover temporary files.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use edgekb::split::{check_file, valid_file_name, FileEntry, Manifest, SplitOutput};
use edgekb::Error;

/// The manifest readers open.
pub const MANIFEST: &str = "manifest.json";
/// The manifest it replaced, kept for readers that still hold that version.
pub const PREVIOUS_MANIFEST: &str = "manifest.previous.json";

/// An I/O error that names its file.
pub fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

/// Whether `name` is a temporary file left by a build (`.<name>.tmp-<pid>`).
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// Syncs a directory, so a rename inside it is durable (a no-op where directories cannot be
/// opened for it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` atomically: temporary file beside it, synced, renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io_error(path, std::io::ErrorKind::InvalidInput.into()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(path, e));
    }
    sync_dir(&dir);
    Ok(())
}

/// Whether `path` holds exactly the file `entry` describes (a cheap size check first).
pub fn holds(path: &Path, entry: &FileEntry) -> bool {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == entry.size => {}
        _ => return false,
    }
    std::fs::read(path).is_ok_and(|bytes| check_file(entry, &bytes).is_ok())
}

/// What [`write_split`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written (new, or rewritten because what was there did not match).
    pub written: usize,
    /// Files already there with the right size and SHA-256.
    pub kept: usize,
    /// Of `written`, files that were there but damaged.
    pub repaired: usize,
}

/// Reads and checks a manifest file (`None`: there is none).
pub fn read_manifest(path: &Path) -> Result<Option<Manifest>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => {
            edgekb::lazy::parse_manifest(&bytes)
                .map(Some)
                .map_err(|e| Error::InvalidConfig {
                    message: format!("{}: {e}", path.display()),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Writes a split index into `dir`: data files, then the previous manifest, then the manifest.
pub fn write_split(dir: &Path, out: &SplitOutput) -> Result<WriteReport, Error> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    // Every file written: the dictionary, each pack or each of its pieces.
    let entries: Vec<&FileEntry> = std::iter::once(&out.manifest.dictionary)
        .chain(out.manifest.data_files().into_iter().flat_map(|f| {
            out.manifest
                .data_file(f)
                .files()
                .into_iter()
                .map(|(_, e)| e)
        }))
        .collect();
    let mut report = WriteReport::default();
    for (name, bytes) in &out.files {
        let entry = entries
            .iter()
            .find(|e| &e.name == name)
            .expect("every file has its manifest entry");
        let path = dir.join(name);
        if holds(&path, entry) {
            report.kept += 1;
            continue;
        }
        if path.exists() {
            report.repaired += 1;
        }
        write_atomic(&path, bytes)?;
        report.written += 1;
    }
    // The dictionary under its fixed name, which a reader opens the index from (the data files
    // are all there by now: a reader between this rename and the manifest's opens the new
    // version, complete).
    let alias = dir.join(edgekb::split::DICTIONARY_ALIAS);
    if !holds(&alias, &out.manifest.dictionary) {
        write_atomic(&alias, out.dictionary())?;
    }
    let current = dir.join(MANIFEST);
    // Keep the version being replaced for its readers; a damaged manifest is not worth keeping.
    if let Ok(Some(old)) = read_manifest(&current) {
        if old != out.manifest {
            let bytes = std::fs::read(&current).map_err(|e| io_error(&current, e))?;
            write_atomic(&dir.join(PREVIOUS_MANIFEST), &bytes)?;
        }
    }
    let json = serde_json::to_vec_pretty(&out.manifest).expect("a manifest serializes");
    write_atomic(&current, &json)?;
    Ok(report)
}

/// The names a manifest gives its files.
fn names(m: &Manifest) -> impl Iterator<Item = String> + '_ {
    m.file_names().into_iter().map(String::from)
}

/// What [`gc`] removed.
#[derive(Debug, Default)]
pub struct GcReport {
    /// Names removed.
    pub removed: Vec<String>,
    /// Their bytes.
    pub bytes: u64,
    /// Files kept because a manifest names them.
    pub kept: usize,
}

/// Removes from `dir` the data files (`kind.<16 hex>.bin`) that neither `manifest.json` nor
/// `manifest.previous.json` names, and temporary files left by killed builds. Other files are
/// left alone. Refuses a directory whose `manifest.json` is missing or invalid (it would keep
/// nothing). Not to be run while a build writes into the same directory.
pub fn gc(dir: &Path) -> Result<GcReport, Error> {
    let current = read_manifest(&dir.join(MANIFEST))?.ok_or_else(|| Error::InvalidConfig {
        message: format!(
            "{}: no {MANIFEST}; gc only cleans a split index directory",
            dir.display()
        ),
    })?;
    let mut keep: BTreeSet<String> = names(&current).collect();
    // A damaged previous manifest protects nothing; the current one is enough to search.
    if let Ok(Some(previous)) = read_manifest(&dir.join(PREVIOUS_MANIFEST)) {
        keep.extend(names(&previous));
    }
    let mut report = GcReport::default();
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || !(valid_file_name(&name) || is_temporary(&name)) {
            continue;
        }
        if keep.contains(&name) {
            report.kept += 1;
            continue;
        }
        let path = entry.path();
        let len = entry.metadata().map_or(0, |m| m.len());
        std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        report.removed.push(name);
        report.bytes += len;
    }
    report.removed.sort();
    sync_dir(dir);
    Ok(report)
}
