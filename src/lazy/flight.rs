//! Single-flight sharing for async drivers: queries that need the same request wait on one
//! transfer, which is cancelled when the last of them stops waiting (a drop guard). No I/O and
//! no runtime here: the driver that leads a flight does the transfer and reports its outcome;
//! the wasm binding's `fetch` driver is one. Single-threaded (`Rc`), as drivers in a page, a
//! worker or an isolate are.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{LoadError, LoadStats, Retry};

/// One transfer and the queries waiting on it.
pub struct Flight<T> {
    waiters: Cell<usize>,
    cancelled: Cell<bool>,
    on_cancel: RefCell<Option<Box<dyn FnOnce()>>>,
    outcome: RefCell<Option<Result<T, LoadError>>>,
    wakers: RefCell<Vec<Waker>>,
}

impl<T> Flight<T> {
    /// Whether every waiter let go before the transfer ended.
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// Runs `f` when the last waiter lets go (at once if it already has).
    pub fn on_cancel(&self, f: impl FnOnce() + 'static) {
        match self.cancelled.get() {
            true => f(),
            false => *self.on_cancel.borrow_mut() = Some(Box::new(f)),
        }
    }

    /// Waits for `fut` (a backoff sleep, say), or until the flight is cancelled.
    pub async fn unless_cancelled(&self, fut: impl Future<Output = ()>) {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            if self.cancelled.get() {
                return Poll::Ready(());
            }
            self.wakers.borrow_mut().push(cx.waker().clone());
            fut.as_mut().poll(cx)
        })
        .await
    }

    fn wake(&self) {
        let wakers: Vec<Waker> = self.wakers.borrow_mut().drain(..).collect();
        wakers.into_iter().for_each(Waker::wake);
    }
}

type Map<T> = Rc<RefCell<HashMap<String, Rc<Flight<T>>>>>;

/// The flights of one index, by request.
pub struct Flights<T> {
    map: Map<T>,
    /// Whether queries share flights (off in Cloudflare Workers, where I/O belongs to the
    /// request that started it).
    share: bool,
    started: Cell<u64>,
}

/// A query's interest in a flight: a future of its outcome. Dropping it before the flight
/// lands releases the interest; the last one to go cancels the flight.
pub struct Waiter<T> {
    flight: Rc<Flight<T>>,
}

/// The handle of the driver that does a flight's transfer.
pub struct Lead<T> {
    flight: Rc<Flight<T>>,
    map: Map<T>,
    key: String,
}

impl<T: Clone> Flights<T> {
    /// No flights yet; `share` joins queries that need the same request.
    pub fn new(share: bool) -> Self {
        Flights {
            map: Rc::default(),
            share,
            started: Cell::new(0),
        }
    }

    /// Flights in the air.
    pub fn in_flight(&self) -> usize {
        self.map.borrow().len()
    }

    /// Waits on the flight of `key`: the one in the air, or a new one whose [`Lead`] is
    /// returned too, for the caller to drive.
    pub fn join(&self, key: String) -> (Waiter<T>, Option<Lead<T>>) {
        self.started.set(self.started.get() + 1);
        let key = match self.share {
            true => key,
            false => format!("{key}#{}", self.started.get()),
        };
        if let Some(f) = self.map.borrow().get(&key) {
            if !f.cancelled.get() {
                f.waiters.set(f.waiters.get() + 1);
                return (Waiter { flight: f.clone() }, None);
            }
        }
        let flight = Rc::new(Flight {
            waiters: Cell::new(1),
            cancelled: Cell::new(false),
            on_cancel: RefCell::new(None),
            outcome: RefCell::new(None),
            wakers: RefCell::new(Vec::new()),
        });
        self.map.borrow_mut().insert(key.clone(), flight.clone());
        let lead = Lead {
            flight: flight.clone(),
            map: self.map.clone(),
            key,
        };
        (Waiter { flight }, Some(lead))
    }
}

impl<T> Lead<T> {
    /// The flight it drives.
    pub fn flight(&self) -> &Flight<T> {
        &self.flight
    }

    /// Does the flight's transfer ([`transfer`]: `attempt` makes one try, `wait` sleeps before
    /// the next) and lands it. Its tries stop, and a wait ends, once every waiter has let go.
    pub async fn fly<F, S>(
        self,
        retry: Retry,
        stats: &RefCell<LoadStats>,
        attempt: impl FnMut() -> F,
        check: impl Fn(Vec<u8>) -> Result<T, LoadError>,
        mut wait: impl FnMut(u32) -> S,
        jitter: impl FnMut() -> f64,
    ) where
        F: Future<Output = Result<Vec<u8>, LoadError>>,
        S: Future<Output = ()>,
    {
        let flight = &*self.flight;
        let cancelled = || flight.cancelled();
        let wait = |ms| flight.unless_cancelled(wait(ms));
        let outcome = transfer(retry, stats, cancelled, attempt, check, wait, jitter).await;
        self.land(outcome);
    }

    /// Lands the flight: every waiter gets `outcome`, and it leaves the air.
    pub fn land(self, outcome: Result<T, LoadError>) {
        *self.flight.outcome.borrow_mut() = Some(outcome);
        let mut map = self.map.borrow_mut();
        if map
            .get(&self.key)
            .is_some_and(|f| Rc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
        drop(map);
        self.flight.wake();
    }
}

impl<T: Clone> Future for Waiter<T> {
    type Output = Result<T, LoadError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(o) = self.flight.outcome.borrow().as_ref() {
            return Poll::Ready(o.clone());
        }
        self.flight.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for Waiter<T> {
    fn drop(&mut self) {
        let f = &self.flight;
        let n = f.waiters.get() - 1;
        f.waiters.set(n);
        if n == 0 && f.outcome.borrow().is_none() && !f.cancelled.get() {
            f.cancelled.set(true);
            if let Some(cancel) = f.on_cancel.borrow_mut().take() {
                cancel();
            }
            // A driver sleeping before a retry stops now instead of when its timer fires.
            f.wake();
        }
    }
}

/// One request, tried until `check` accepts a body, the failure is final by `retry`, or
/// `cancelled()` (every waiter let go): the one retry loop of every driver. `attempt` makes one
/// try; `wait` sleeps before the next (`jitter` in `[0, 1)` spreads it). Counts every try in
/// `stats`.
#[allow(clippy::too_many_arguments)]
pub async fn transfer<T, F: Future<Output = Result<Vec<u8>, LoadError>>, S: Future<Output = ()>>(
    retry: Retry,
    stats: &RefCell<LoadStats>,
    cancelled: impl Fn() -> bool,
    mut attempt: impl FnMut() -> F,
    check: impl Fn(Vec<u8>) -> Result<T, LoadError>,
    mut wait: impl FnMut(u32) -> S,
    mut jitter: impl FnMut() -> f64,
) -> Result<T, LoadError> {
    let mut failures = 0;
    loop {
        if cancelled() {
            stats.borrow_mut().aborted += 1;
            return Err(LoadError::Aborted);
        }
        let got = attempt().await;
        stats.borrow_mut().requests += 1;
        let failure = match got {
            Ok(body) => {
                stats.borrow_mut().bytes_fetched += body.len() as u64;
                match check(body) {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        stats.borrow_mut().rejected += 1;
                        e
                    }
                }
            }
            Err(e @ LoadError::Http { .. }) => {
                stats.borrow_mut().rejected += 1;
                e
            }
            Err(_) if cancelled() => {
                stats.borrow_mut().aborted += 1;
                return Err(LoadError::Aborted);
            }
            Err(e) => e,
        };
        failures += 1;
        match retry.delay_ms(failures, &failure, jitter()) {
            Some(ms) if !cancelled() => {
                stats.borrow_mut().retries += 1;
                wait(ms).await;
            }
            _ => return Err(failure),
        }
    }
}

/// The output of a future polled once: a native driver's [`transfer`], whose tries and sleeps
/// are blocking calls, is ready at once (`None` if it is not).
pub fn now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Waits for all `futures`, in order.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(out.iter_mut().map(|o| o.take().expect("ready")).collect())
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn waiters_of_one_request_share_its_flight() {
        let flights: Flights<u32> = Flights::new(true);
        let (mut a, lead) = flights.join("x".into());
        let (mut b, none) = flights.join("x".into());
        assert!(
            none.is_none(),
            "the second query joins the first one's flight"
        );
        assert_eq!(flights.in_flight(), 1);
        assert!(poll(&mut a).is_pending());
        lead.unwrap().land(Ok(7));
        assert_eq!(flights.in_flight(), 0);
        assert!(matches!(poll(&mut a), Poll::Ready(Ok(7))));
        assert!(matches!(poll(&mut b), Poll::Ready(Ok(7))));
    }

    #[test]
    fn the_last_waiter_to_let_go_cancels_the_flight() {
        let flights: Flights<u32> = Flights::new(true);
        let (a, lead) = flights.join("x".into());
        let (b, _) = flights.join("x".into());
        let lead = lead.unwrap();
        let cancelled = Rc::new(Cell::new(0));
        let c = cancelled.clone();
        lead.flight().on_cancel(move || c.set(c.get() + 1));
        drop(a);
        assert!(!lead.flight().cancelled(), "one query still waits");
        drop(b);
        assert!(lead.flight().cancelled());
        assert_eq!(cancelled.get(), 1);
        // A cancelled flight is not joined: the next query starts its own.
        let (_c, again) = flights.join("x".into());
        assert!(again.is_some());
        lead.land(Err(LoadError::Aborted));
        assert_eq!(
            flights.in_flight(),
            1,
            "landing the old flight leaves the new one"
        );
    }

    /// Runs `transfer` natively over canned answers; returns its outcome, the counters and the
    /// waits it slept.
    fn run(
        answers: Vec<Result<Vec<u8>, LoadError>>,
        good: fn(&[u8]) -> bool,
        cancelled: bool,
    ) -> (Result<usize, LoadError>, LoadStats, Vec<u32>) {
        let stats = RefCell::new(LoadStats::default());
        let mut answers = answers.into_iter();
        let waits = RefCell::new(Vec::new());
        let out = now(transfer(
            Retry {
                retries: 2,
                backoff_ms: 10,
            },
            &stats,
            || cancelled,
            || std::future::ready(answers.next().expect("no more tries than answers")),
            |b| match good(&b) {
                true => Ok(b.len()),
                false => Err(crate::Error::corrupt("bad body").into()),
            },
            |ms| {
                waits.borrow_mut().push(ms);
                std::future::ready(())
            },
            || 0.5,
        ))
        .expect("ready at once");
        (out, stats.into_inner(), waits.into_inner())
    }

    fn http(status: u16) -> Result<Vec<u8>, LoadError> {
        Err(LoadError::Http {
            name: "f".into(),
            status,
        })
    }

    #[test]
    fn a_transfer_retries_by_the_rule_and_counts_every_try() {
        // A 503, a body failing its check, then a good one: three tries, two waits doubling.
        let (out, s, waits) = run(
            vec![http(503), Ok(vec![0; 3]), Ok(vec![1; 5])],
            |b| b[0] == 1,
            false,
        );
        assert_eq!(out.unwrap(), 5);
        assert_eq!(
            (s.requests, s.retries, s.rejected, s.bytes_fetched),
            (3, 2, 2, 8)
        );
        assert_eq!(waits, vec![20, 40]);
        // A 404 is final: one try, no wait.
        let (out, s, waits) = run(vec![http(404)], |_| true, false);
        assert_eq!(out.unwrap_err().code(), "HttpStatus");
        assert_eq!((s.requests, s.retries), (1, 0));
        assert!(waits.is_empty());
        // Out of retries: the last failure is the answer.
        let (out, s, _) = run(vec![http(500), http(502), http(503)], |_| true, false);
        assert!(matches!(out, Err(LoadError::Http { status: 503, .. })));
        assert_eq!((s.requests, s.retries), (3, 2));
        // Nobody waits any more: no try at all.
        let (out, s, _) = run(vec![], |_| true, true);
        assert!(matches!(out, Err(LoadError::Aborted)));
        assert_eq!((s.requests, s.aborted), (0, 1));
    }

    #[test]
    fn a_lead_flies_its_transfer_and_lands_it_for_every_waiter() {
        let flights: Flights<usize> = Flights::new(true);
        let (mut a, lead) = flights.join("x".into());
        let (mut b, _) = flights.join("x".into());
        let stats = RefCell::new(LoadStats::default());
        let mut answers = vec![http(503), Ok(vec![1; 4])].into_iter();
        let fly = lead.unwrap().fly(
            Retry::default(),
            &stats,
            || std::future::ready(answers.next().expect("two tries")),
            |body| Ok(body.len()),
            |_| std::future::ready(()),
            || 0.5,
        );
        now(fly).expect("ready at once");
        assert!(matches!(poll(&mut a), Poll::Ready(Ok(4))));
        assert!(matches!(poll(&mut b), Poll::Ready(Ok(4))));
        assert_eq!((stats.borrow().requests, stats.borrow().retries), (2, 1));
        // Once every waiter has let go, no try is made.
        let (c, lead) = flights.join("y".into());
        drop(c);
        let stats = RefCell::new(LoadStats::default());
        let fly = lead.unwrap().fly(
            Retry::default(),
            &stats,
            || std::future::ready(http(500)),
            |body| Ok(body.len()),
            |_| std::future::ready(()),
            || 0.5,
        );
        now(fly).expect("ready at once");
        assert_eq!((stats.borrow().requests, stats.borrow().aborted), (0, 1));
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn unshared_flights_are_one_per_query() {
        let flights: Flights<u32> = Flights::new(false);
        let (_a, first) = flights.join("x".into());
        let (_b, second) = flights.join("x".into());
        assert!(first.is_some() && second.is_some());
        assert_eq!(flights.in_flight(), 2);
    }
}
