//! What a host that fetches by URL needs and is not its runtime's: where each request goes and
//! the key under which queries share one fetch ([`Location`]), what its operations on one index
//! share ([`Shared`]: the store, the version, the fetches in flight, the counters), and the
//! async driver loop that sends all of a round's requests at once. The wasm binding's driver
//! is this loop over `fetch`.

use std::cell::RefCell;
use std::future::Future;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use super::flight::{join_all, Flights};
use super::options::OpenOptions;
use super::{Checked, Checker, LoadError, LoadStats, Machine, Need, Open};
use super::{PageStore, Stats, Step, Version, Wire};
use crate::index::Index;
use crate::schema::FieldOptions;
use crate::split::Manifest;

/// Where an index is: the URL it was opened from and, for a split index, the directory its
/// files are in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    url: String,
    base: String,
}

impl Location {
    /// The index at `url`: a split index's `manifest.json`, or a single file.
    pub fn new(url: &str) -> Location {
        // The directory: up to the last `/` of the path (not of a query string or fragment).
        let path = &url[..url.find(['?', '#']).unwrap_or(url.len())];
        Location {
            url: url.to_string(),
            base: path[..path.rfind('/').map_or(0, |i| i + 1)].to_string(),
        }
    }

    /// The URL it was opened from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is a split index: the URL's path ends in `.json` (its manifest); anything
    /// else is a single-file index, fetched whole.
    pub fn is_manifest(&self) -> bool {
        self.path().ends_with(".json")
    }

    /// Whether the URL names a `manifest.json` (the file the build writes and replaces, beside
    /// the dictionary's alias).
    pub fn is_default_manifest(&self) -> bool {
        let path = self.path();
        path == "manifest.json" || path.ends_with("/manifest.json")
    }

    /// The URL without its query string and fragment.
    fn path(&self) -> &str {
        &self.url[..self.url.find(['?', '#']).unwrap_or(self.url.len())]
    }

    /// The URL `need` is fetched from: the manifest's own for a fresh read of it (its query
    /// string kept), else its name beside the manifest.
    pub fn url_of(&self, need: &Need) -> String {
        match need.fresh() {
            true => self.url.clone(),
            false => format!("{}{}", self.base, need.name()),
        }
    }

    /// The key of a request: queries asking for the same key share one fetch.
    pub fn key(url: &str, range: Option<&Range<u64>>) -> String {
        match range {
            Some(r) => format!("{url}#{}-{}", r.start, r.end),
            None => url.to_string(),
        }
    }
}

/// What the operations on one index share in an async host (the wasm binding's
/// `KnowledgeBase`): where it is, how it is fetched, the fetches in flight, the host's transfer
/// counters, the page store, and the version searches start on; or a single-file index, whole.
pub struct Shared {
    /// Where the index is.
    pub at: Location,
    /// How it is fetched and cached.
    pub options: OpenOptions,
    /// The fetches in flight, by request key ([`Location::key`]).
    pub flights: Flights<Checked>,
    /// The counters of the host's transfers ([`super::flight::transfer`] adds to them).
    pub transfers: Rc<RefCell<LoadStats>>,
    /// A single-file index, whole in memory (it has no version, store or requests).
    pub single: Option<Index<Vec<u8>>>,
    store: RefCell<PageStore>,
    version: RefCell<Option<Arc<Version>>>,
}

impl Shared {
    /// Nothing fetched yet of the index at `url`.
    pub fn new(url: &str, options: OpenOptions) -> Shared {
        Shared {
            at: Location::new(url),
            options,
            flights: Flights::new(options.share),
            transfers: Rc::default(),
            single: None,
            store: RefCell::new(PageStore::new(options.cache_bytes)),
            version: RefCell::new(None),
        }
    }

    /// The single-file index `bytes`, from `url` (`""` for bytes a host had): every checksum
    /// checked; a split index's dictionary is refused (its manifest is what opens it).
    pub fn whole(url: &str, options: OpenOptions, bytes: Vec<u8>) -> crate::Result<Shared> {
        let index = Index::open(bytes)?;
        index.verify()?;
        if index.is_split() {
            return Err(crate::Error::InvalidArgument {
                message: "this is the dictionary of a split index: open its manifest.json instead"
                    .into(),
            });
        }
        let single = Some(index);
        Ok(Shared {
            single,
            ..Shared::new(url, options)
        })
    }

    /// Documents of the index (of the version searches start on; 0 before it opens).
    pub fn doc_count(&self) -> u32 {
        match (&self.single, self.version()) {
            (Some(i), _) => i.doc_count(),
            (None, v) => v.map_or(0, |v| v.index.doc_count()),
        }
    }

    /// The names of its fields `keep` accepts (sortable ones, facets), in schema order.
    pub fn fields_where(&self, keep: fn(&FieldOptions) -> bool) -> Vec<String> {
        match (&self.single, self.version()) {
            (Some(i), _) => i.schema().names_where(keep),
            (None, v) => v.map_or(Vec::new(), |v| v.index.schema().names_where(keep)),
        }
    }

    /// The version searches start on now.
    pub fn version(&self) -> Result<Arc<Version>, LoadError> {
        let v = self.version.borrow().clone();
        v.ok_or_else(|| crate::Error::corrupt("a split index not opened").into())
    }

    /// The machine of an open reading manifests with `read` ([`super::read_manifest`], or one
    /// over the host's JSON parser), or of a refresh of the version searches start on (which
    /// forgets the failures the store remembers: the files may be there now). An open starts
    /// from the dictionary's alias only when the URL is a `manifest.json`: another manifest's
    /// name may pin a version the alias is not.
    pub fn open(&self, refresh: bool, read: fn(&[u8]) -> crate::Result<Manifest>) -> Open {
        if refresh {
            self.store.borrow_mut().forget_failures();
        }
        let current = self.version().ok().filter(|_| refresh);
        Open::new(read, current, self.at.is_default_manifest())
    }

    /// Starts searches on the version an open or a refresh found, if it found one; whether it
    /// did.
    pub fn opened(&self, version: Option<Version>) -> bool {
        let found = version.is_some();
        if let Some(v) = version {
            *self.version.borrow_mut() = Some(Arc::new(v));
        }
        found
    }

    /// Runs `machine` to its answer, asking `fetch` for each request with its URL, all of a
    /// round's at once.
    pub async fn run<M: Machine, F: Future<Output = Result<Checked, LoadError>>>(
        &self,
        machine: &mut M,
        mut fetch: impl FnMut(&Need, String, Checker) -> F,
    ) -> Result<M::Output, LoadError> {
        let at = &self.at;
        run(machine, &self.store, |n, c| fetch(n, at.url_of(n), c)).await
    }

    /// Cache and request counters (the store's and the host's transfers'), requests in flight,
    /// and the last operation's wire cost.
    /// A single file's are all zero: it makes no request.
    pub fn stats(&self) -> Stats {
        if self.single.is_some() {
            return Stats::default();
        }
        let store = self.store.borrow();
        Stats {
            cache: store.cache_stats(),
            load: store.load_stats().add(&self.transfers.borrow()),
            split: true,
            in_flight: self.flights.in_flight() as u64,
            last: store.last(),
        }
    }
}

/// The async driver loop: steps `machine` over the shared `store`, asks `fetch` for all of a
/// round's requests at once (each brought and checked by `checker`, retries included), and
/// supplies the answers in order. The store is borrowed only between awaits, so queries on
/// one store run concurrently.
async fn run<M: Machine, F: Future<Output = Result<Checked, LoadError>>>(
    machine: &mut M,
    store: &RefCell<PageStore>,
    mut fetch: impl FnMut(&Need, Checker) -> F,
) -> Result<M::Output, LoadError> {
    let mut wire = Wire::default();
    loop {
        let needs = match store.borrow_mut().step(machine, &mut wire)? {
            Step::Done(out) => return Ok(out),
            Step::Fetch(needs) => needs,
        };
        let checker = machine.checker();
        let results = join_all(needs.iter().map(|n| fetch(n, checker.clone())).collect()).await;
        for (need, result) in needs.iter().zip(results) {
            store
                .borrow_mut()
                .supply(machine, need, result, &mut wire)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_files_are_beside_the_manifest() {
        let at = Location::new("https://h.example/kb/v1/manifest.json?t=1#top");
        assert!(at.is_manifest());
        let fresh = Need::File {
            name: "manifest.json".into(),
            fresh: true,
            optional: false,
        };
        assert_eq!(at.url_of(&fresh), at.url());
        let dict = Need::File {
            name: "terms-ab12.bin".into(),
            fresh: false,
            optional: false,
        };
        assert_eq!(at.url_of(&dict), "https://h.example/kb/v1/terms-ab12.bin");
        // A `/` in the query string is not the directory's.
        let q = Location::new("/kb/manifest.json?from=a/b");
        assert_eq!(q.url_of(&dict), "/kb/terms-ab12.bin");
        assert_eq!(
            Location::new("manifest.json").url_of(&dict),
            "terms-ab12.bin"
        );
        for single in ["/kb/index.ekb", "/kb/index.ekb?v=.json", "/kb.json/index"] {
            assert!(!Location::new(single).is_manifest(), "{single}");
        }
        // An open starts from the dictionary's alias only for a `manifest.json`.
        for (url, default) in [
            ("https://h.example/kb/v1/manifest.json?t=1#top", true),
            ("manifest.json", true),
            ("/kb/manifest.previous.json", false),
            ("/kb/v3.json?f=/manifest.json", false),
            ("/kb/mymanifest.json", false),
        ] {
            assert_eq!(Location::new(url).is_default_manifest(), default, "{url}");
        }
        assert_eq!(Location::key("/a", Some(&(3..9))), "/a#3-9");
        assert_eq!(Location::key("/a", None), "/a");
    }
}
