//! Native loaders: the bytes of a split index's files from a directory or from memory.

use std::collections::HashMap;
use std::ops::Range;

use super::LoadError;
use crate::error::Error;

/// The native, synchronous side of loading: brings a file or a byte range of it.
pub trait Loader {
    /// The bytes of `name` (relative to the manifest), the whole file or `range` of it.
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError>;
}

/// Files from a directory.
pub struct DirLoader(pub std::path::PathBuf);

impl Loader for DirLoader {
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        if name != "manifest.json"
            && name != crate::split::DICTIONARY_ALIAS
            && !crate::split::valid_file_name(name)
        {
            return Err(LoadError::Index(Error::corrupt(format!(
                "refusing file name {}",
                crate::error::Quoted(name)
            ))));
        }
        let path = self.0.join(name);
        let io = |e: std::io::Error| match e.kind() {
            // Reported as a missing file ("… was not found"), like a 404 over HTTP.
            std::io::ErrorKind::NotFound => LoadError::Http {
                name: name.into(),
                status: 404,
            },
            _ => LoadError::Network {
                name: name.into(),
                message: e.to_string(),
            },
        };
        match range {
            None => std::fs::read(&path).map_err(io),
            Some(r) => {
                use std::io::{Read, Seek, SeekFrom};
                let mut f = std::fs::File::open(&path).map_err(io)?;
                f.seek(SeekFrom::Start(r.start)).map_err(io)?;
                let mut buf = Vec::new();
                f.take(r.end - r.start).read_to_end(&mut buf).map_err(io)?;
                Ok(buf)
            }
        }
    }
}

/// Files held in memory; counts requests and bytes (for tests and benchmarks).
#[derive(Default)]
pub struct MemoryLoader {
    /// The files.
    pub files: HashMap<String, Vec<u8>>,
    /// Requests served.
    pub requests: u64,
    /// Bytes served.
    pub bytes: u64,
    /// Every request, in order: (name, range).
    pub log: Vec<(String, Option<Range<u64>>)>,
}

impl MemoryLoader {
    /// A loader serving a split index: its manifest, every file, and the dictionary's alias.
    pub fn from_split(split: &crate::split::SplitOutput) -> Self {
        let mut l = MemoryLoader::default();
        l.files.insert(
            "manifest.json".into(),
            serde_json::to_vec(&split.manifest).expect("a manifest serializes"),
        );
        for (name, bytes) in &split.files {
            l.files.insert(name.clone(), bytes.clone());
        }
        l.files.insert(
            crate::split::DICTIONARY_ALIAS.into(),
            split.dictionary().to_vec(),
        );
        l
    }
}

impl Loader for MemoryLoader {
    fn fetch(&mut self, name: &str, range: Option<Range<u64>>) -> Result<Vec<u8>, LoadError> {
        self.requests += 1;
        self.log.push((name.to_string(), range.clone()));
        let f = self.files.get(name).ok_or_else(|| LoadError::Http {
            name: name.into(),
            status: 404,
        })?;
        let out = match range {
            None => f.clone(),
            Some(r) => f
                .get(r.start as usize..(r.end as usize).min(f.len()))
                .unwrap_or(&[])
                .to_vec(),
        };
        self.bytes += out.len() as u64;
        Ok(out)
    }
}
