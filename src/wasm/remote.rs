//! The async driver: runs a core state machine through the core's loop ([`Shared::run`]), each
//! request a core transfer (retries by the core's rule) over `fetch`, led by the first
//! search that needs it and shared with the others (the core's flights: aborted when the last
//! one lets go).

use std::ops::Range;
use std::sync::Arc;

use js_sys::Function;
use web_sys::AbortController;

use super::io::{attempt, sleep};
use crate::lazy::flight::Waiter;
use crate::lazy::{Checked, LoadError, Location, Machine, Retry, Shared};

/// An index on a host: what its operations share, and what to fetch with.
pub(crate) struct Remote {
    pub shared: Shared,
    pub fetch: Option<Function>,
}

impl Remote {
    pub(crate) fn new(shared: Shared, fetch: Option<Function>) -> Remote {
        Remote { shared, fetch }
    }

    /// Waits on the fetch of `url` (`range` of it), starting it unless the same request is in
    /// flight. `check` turns the body into what every waiter gets (a box: one `get` in the
    /// wasm, not one per machine).
    fn get(
        &self,
        name: &str,
        url: String,
        range: Option<Range<u64>>,
        cache: &'static str,
        retry: Retry,
        check: Box<dyn Fn(Vec<u8>) -> Result<Checked, LoadError>>,
    ) -> Waiter<Checked> {
        let key = Location::key(&url, range.as_ref());
        let (waiter, lead) = self.shared.flights.join(key);
        let Some(lead) = lead else { return waiter };
        let (o, stats) = (self.shared.options, self.shared.transfers.clone());
        let (with, name) = (self.fetch.clone(), name.to_string());
        wasm_bindgen_futures::spawn_local(async move {
            // Aborts the try or the wait in progress when the last waiter lets go.
            let Ok(cancel) = AbortController::new() else {
                let message = "no AbortController".into();
                return lead.land(Err(LoadError::Network { name, message }));
            };
            let stop = cancel.signal();
            lead.flight().on_cancel(move || cancel.abort());
            let ms = o.timeout_ms;
            let one = || attempt(with.clone(), (&name, &url), range.clone(), cache, ms, &stop);
            let sleep = |ms| sleep(ms, &stop);
            lead.fly(retry, &stats, one, &check, sleep, js_sys::Math::random)
                .await;
        });
        waiter
    }

    /// The whole file at the URL this remote was made with.
    pub(crate) async fn fetch_whole(&self) -> Result<Vec<u8>, LoadError> {
        let url = self.shared.at.url().to_string();
        let whole = Box::new(|b| Ok(Checked::File(Arc::new(b))));
        let retry = self.shared.options.retry;
        match self.get(&url, url.clone(), None, "", retry, whole).await? {
            Checked::File(b) => Ok(Arc::try_unwrap(b).unwrap_or_else(|s| (*s).clone())),
            Checked::Pages(_) => Err(crate::Error::corrupt("pages for a whole file").into()),
        }
    }

    /// Runs `machine` to its answer.
    pub(crate) async fn drive<M: Machine>(&self, machine: &mut M) -> Result<M::Output, LoadError> {
        let shared = &self.shared;
        shared
            .run(machine, |need, url, checker| {
                let n = need.clone();
                let check = Box::new(move |body| Ok(checker.check(&n, body)?));
                self.get(
                    need.name(),
                    url,
                    need.range(),
                    need.cache_mode().fetch_option(),
                    need.retry(shared.options.retry),
                    check,
                )
            })
            .await
    }
}
