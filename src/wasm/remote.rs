//! The async driver: steps a core state machine ([`crate::lazy::Machine`]), bringing what it
//! needs over `fetch`, all of one step's requests at once. Searches that need the same request
//! share one fetch (the core's [`Flights`]), aborted when the last of them lets go.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use super::fetch::{attempt, Current};
use super::options::Open;
use crate::lazy::flight::{join_all, transfer, Flights, Waiter};
use crate::lazy::{Checked, LoadError, LoadStats, Machine, PageStore, Step, Version, Wire};

/// A split index (or a single file) on a host: where its files are, the fetches in flight,
/// the store searches share and the version they start on.
pub(crate) struct Remote {
    manifest_url: String,
    base: String,
    options: Open,
    pub stats: Rc<RefCell<LoadStats>>,
    flights: Flights<Checked>,
    pub store: RefCell<PageStore>,
    pub version: RefCell<Option<Arc<Version>>>,
}

impl Remote {
    pub(crate) fn new(url: &str, options: Open) -> Remote {
        // The directory of the manifest: up to the last `/` of the path (not of a query string
        // or fragment).
        let path = &url[..url.find(['?', '#']).unwrap_or(url.len())];
        Remote {
            manifest_url: url.to_string(),
            base: path[..path.rfind('/').map_or(0, |i| i + 1)].to_string(),
            store: RefCell::new(PageStore::new(options.cache_bytes)),
            flights: Flights::new(options.share),
            options,
            stats: Rc::default(),
            version: RefCell::new(None),
        }
    }

    /// The version searches start on now.
    pub(crate) fn version(&self) -> Result<Arc<Version>, LoadError> {
        let v = self.version.borrow().clone();
        v.ok_or_else(|| crate::Error::corrupt("a split index not opened").into())
    }

    /// Requests in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.flights.in_flight()
    }

    /// Waits on the fetch of `url` (`range` of it), starting it unless the same request is
    /// in flight. `check` turns the body into what every waiter gets.
    fn get(
        &self,
        name: &str,
        url: String,
        range: Option<Range<u64>>,
        no_store: bool,
        check: impl Fn(Vec<u8>) -> Result<Checked, LoadError> + 'static,
    ) -> Waiter<Checked> {
        let key = match &range {
            Some(r) => format!("{url}#{}-{}", r.start, r.end),
            None => url.clone(),
        };
        let (waiter, lead) = self.flights.join(key);
        if let Some(lead) = lead {
            let (stats, options, name) =
                (self.stats.clone(), self.options.clone(), name.to_string());
            wasm_bindgen_futures::spawn_local(async move {
                let flight = lead.flight();
                let current = Current::default();
                let c = current.clone();
                flight.on_cancel(move || {
                    if let Some(c) = c.borrow().as_ref() {
                        c.abort();
                    }
                });
                let outcome = transfer(
                    options.retry,
                    &stats,
                    || flight.cancelled(),
                    || attempt(&options, &name, &url, range.clone(), no_store, &current),
                    &check,
                    |ms| async move {
                        if let Some(t) = super::abort::Event::timer(ms, || {}) {
                            flight.unless_cancelled(t).await;
                        }
                    },
                    js_sys::Math::random,
                )
                .await;
                lead.land(outcome);
            });
        }
        waiter
    }

    /// The whole file at the URL this remote was made with.
    pub(crate) async fn fetch_whole(&self) -> Result<Vec<u8>, LoadError> {
        let url = self.manifest_url.clone();
        match self
            .get(&url, url.clone(), None, false, |b| {
                Ok(Checked::File(Arc::new(b)))
            })
            .await?
        {
            Checked::File(b) => Ok(Arc::try_unwrap(b).unwrap_or_else(|s| (*s).clone())),
            Checked::Pages(_) => Err(crate::Error::corrupt("pages for a whole file").into()),
        }
    }

    /// Runs `machine` to its answer.
    pub(crate) async fn drive<M: Machine>(&self, machine: &mut M) -> Result<M::Output, LoadError> {
        let mut wire = Wire::default();
        loop {
            let needs = match self.store.borrow_mut().step(machine, &mut wire)? {
                Step::Done(out) => return Ok(out),
                Step::Fetch(needs) => needs,
            };
            let checker = machine.checker();
            let waiters = needs.iter().map(|n| {
                let (checker, need) = (checker.clone(), n.clone());
                let url = match n.fresh() {
                    true => self.manifest_url.clone(),
                    false => format!("{}{}", self.base, n.name()),
                };
                let check = move |body| Ok(checker.check(&need, body)?);
                self.get(n.name(), url, n.range(), n.fresh(), check)
            });
            let results = join_all(waiters.collect()).await;
            for (need, result) in needs.iter().zip(results) {
                self.store
                    .borrow_mut()
                    .supply(machine, need, result, &mut wire)?;
            }
        }
    }
}
