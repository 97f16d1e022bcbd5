//! The async driver: steps a core state machine ([`crate::lazy::Machine`]), bringing what it
//! needs over `fetch`, all of one step's requests at once.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::fetch::{FetchOptions, Http, NetStats};
use crate::lazy::flight::join_all;
use crate::lazy::{Checked, LoadError, Machine, Need, PageStore, Step, Version};

/// A split index (or a single file) on a host: where its files are, the fetches in flight,
/// the store searches share and the version they start on.
pub(crate) struct Remote {
    manifest_url: String,
    base: String,
    pub http: Http<Checked>,
    pub store: RefCell<PageStore>,
    pub version: RefCell<Option<Arc<Version>>>,
}

impl Remote {
    pub(crate) fn new(url: &str, options: FetchOptions) -> Remote {
        // The directory of the manifest: up to the last `/` of the path (not of a query string
        // or fragment).
        let path = &url[..url.find(['?', '#']).unwrap_or(url.len())];
        let base = path[..path.rfind('/').map_or(0, |i| i + 1)].to_string();
        Remote {
            manifest_url: url.to_string(),
            base,
            store: RefCell::new(PageStore::new(options.cache_bytes)),
            http: Http::new(options, Rc::new(RefCell::new(NetStats::default()))),
            version: RefCell::new(None),
        }
    }

    fn url(&self, need: &Need) -> String {
        match need.fresh() {
            true => self.manifest_url.clone(),
            false => format!("{}{}", self.base, need.name()),
        }
    }

    /// The whole file at the URL this remote was made with.
    pub(crate) async fn fetch_whole(&self) -> Result<Vec<u8>, LoadError> {
        let url = self.manifest_url.clone();
        let got = self.http.get(&url, url.clone(), None, false, |b| {
            Ok(Checked::File(Arc::new(b)))
        });
        match got.await? {
            Checked::File(b) => Ok(Arc::try_unwrap(b).unwrap_or_else(|s| (*s).clone())),
            Checked::Pages(_) => Err(crate::Error::corrupt("pages for a whole file").into()),
        }
    }

    /// Runs `machine` to its answer.
    pub(crate) async fn drive<M: Machine>(&self, machine: &mut M) -> Result<M::Output, LoadError> {
        loop {
            let needs = match self.store.borrow_mut().step(machine)? {
                Step::Done(out) => return Ok(out),
                Step::Fetch(needs) => needs,
            };
            for need in &needs {
                self.store.borrow().refuse(need)?;
            }
            let checker = machine.checker();
            let waiters = needs.iter().map(|n| {
                let (checker, need) = (checker.clone(), n.clone());
                let check = move |body| Ok(checker.check(&need, body)?);
                self.http
                    .get(n.name(), self.url(n), n.range(), n.fresh(), check)
            });
            let results = join_all(waiters.collect()).await;
            for (need, result) in needs.iter().zip(results) {
                self.store.borrow_mut().finished(need, &result);
                machine.supply(&mut self.store.borrow_mut(), need, result?)?;
            }
        }
    }
}
