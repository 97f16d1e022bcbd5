//! The async driver: runs a core state machine through the core's loop ([`run`]), each request
//! a core [`transfer`] (retries by the core's rule) over `fetch`, led by the first search that
//! needs it and shared with the others (the core's [`Flights`]: aborted when the last one lets
//! go).

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use js_sys::Function;
use web_sys::AbortController;

use super::io::{attempt, Wait};
use crate::lazy::flight::{transfer, Flights, Waiter};
use crate::lazy::options::OpenOptions;
use crate::lazy::{run, Checked, LoadError, LoadStats, Location, Machine, PageStore, Version};

/// An index on a host: where it is, how to fetch it, the fetches in flight, the store searches
/// share and the version they start on (a split index's, once opened).
pub(crate) struct Remote {
    pub at: Location,
    options: OpenOptions,
    fetch: Option<Function>,
    pub stats: Rc<RefCell<LoadStats>>,
    pub flights: Flights<Checked>,
    pub store: RefCell<PageStore>,
    pub version: RefCell<Option<Arc<Version>>>,
}

impl Remote {
    pub(crate) fn new(url: &str, options: OpenOptions, fetch: Option<Function>) -> Remote {
        Remote {
            at: Location::new(url),
            store: RefCell::new(PageStore::new(options.cache_bytes)),
            flights: Flights::new(options.share),
            options,
            fetch,
            stats: Rc::default(),
            version: RefCell::new(None),
        }
    }

    /// The version searches start on now.
    pub(crate) fn version(&self) -> Result<Arc<Version>, LoadError> {
        let v = self.version.borrow().clone();
        v.ok_or_else(|| crate::Error::corrupt("a split index not opened").into())
    }

    /// Waits on the fetch of `url` (`range` of it), starting it unless the same request is in
    /// flight. `check` turns the body into what every waiter gets.
    fn get(
        &self,
        name: &str,
        url: String,
        range: Option<Range<u64>>,
        no_store: bool,
        check: impl Fn(Vec<u8>) -> Result<Checked, LoadError> + 'static,
    ) -> Waiter<Checked> {
        let (waiter, lead) = self.flights.join(Location::key(&url, range.as_ref()));
        let Some(lead) = lead else { return waiter };
        let (stats, o, with, name) = (
            self.stats.clone(),
            self.options,
            self.fetch.clone(),
            name.to_string(),
        );
        wasm_bindgen_futures::spawn_local(async move {
            let flight = lead.flight();
            // The controller of the try in progress, for the flight's cancellation to abort it.
            let current: Rc<RefCell<Option<AbortController>>> = Rc::default();
            let c = current.clone();
            flight.on_cancel(move || c.borrow().iter().for_each(AbortController::abort));
            let outcome = transfer(
                o.retry,
                &stats,
                || flight.cancelled(),
                || {
                    let (current, with, name, url) = (&current, with.as_ref(), &name, &url);
                    let range = range.clone();
                    async move {
                        let abort = AbortController::new().map_err(|_| LoadError::Network {
                            name: name.clone(),
                            message: "no AbortController".into(),
                        })?;
                        *current.borrow_mut() = Some(abort.clone());
                        attempt(with, name, url, range, no_store, o.timeout_ms, &abort).await
                    }
                },
                &check,
                |ms| flight.unless_cancelled(Wait::timer(ms)),
                js_sys::Math::random,
            )
            .await;
            lead.land(outcome);
        });
        waiter
    }

    /// The whole file at the URL this remote was made with.
    pub(crate) async fn fetch_whole(&self) -> Result<Vec<u8>, LoadError> {
        let url = self.at.url().to_string();
        let whole = |b| Ok(Checked::File(Arc::new(b)));
        match self.get(&url, url.clone(), None, false, whole).await? {
            Checked::File(b) => Ok(Arc::try_unwrap(b).unwrap_or_else(|s| (*s).clone())),
            Checked::Pages(_) => Err(crate::Error::corrupt("pages for a whole file").into()),
        }
    }

    /// Runs `machine` to its answer.
    pub(crate) async fn drive<M: Machine>(&self, machine: &mut M) -> Result<M::Output, LoadError> {
        run(machine, &self.store, |need, checker| {
            let (url, n) = (self.at.url_of(need), need.clone());
            let check = move |body| Ok(checker.check(&n, body)?);
            self.get(need.name(), url, need.range(), need.fresh(), check)
        })
        .await
    }
}
