//! A future's own allocations, summed over its polls on whichever threads
//! poll it.
//!
//! # How it stays exact without a task-local
//!
//! A future only runs while it is polled, and a poll runs on one thread
//! from start to end. So [`MeasuredFuture`] does around every poll what
//! [`measure`](crate::measure) does around a closure: it snapshots the
//! polling thread's counters, polls, and adds the difference to its own
//! running [`Stats`]. Which thread polls does not matter, and other tasks
//! that the same worker runs between two polls are never inside the window.
//!
//! ```text
//!   worker 1:  ─[poll 1]──── other tasks ────────────[poll 3]─▶ Ready
//!   worker 2:  ────── other tasks ──[poll 2]── other tasks ───
//!   stats   =  Δslot(poll 1)  +  Δslot(poll 2)  +  Δslot(poll 3)
//!   peak    =  max over polls of (net before the poll + the poll's peak)
//! ```
//!
//! The peak across polls follows [`Stats`]' addition (`a + b` is `a` then
//! `b` on the same live memory): the future's running net before a poll plus
//! that poll's own peak above its start.

use core::future::{Future, IntoFuture};
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::engine::{self, labels};
use crate::scope::PeakWindow;
use crate::Stats;

/// Wraps a future so that it resolves to `(output, stats)`: every
/// allocation, reallocation and free made while **this** future is polled,
/// on whichever thread polls it, summed over all its polls.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
/// # }
/// use std::hint::black_box;
///
/// let (kept, stats) = block_on(heapmeter::measure_future(async {
///     drop(black_box(vec![0u8; 1000])); // churn
///     black_box(vec![0u8; 24]) // kept: the request's output
/// }));
/// assert_eq!((stats.allocs, stats.deallocs), (2, 1));
/// assert_eq!(stats.bytes_allocated, 1024);
/// assert_eq!(stats.net_bytes(), 24);
/// assert_eq!(stats.peak_bytes, 1000);
/// # drop(kept);
/// ```
///
/// A poll runs on one thread from start to end, so the wrapper snapshots
/// the polling thread's counters around each poll and adds the difference
/// to the future's own running [`Stats`]:
///
/// ```text
///   worker 1:  ─[poll 1]──── other tasks ────────────[poll 3]─▶ Ready
///   worker 2:  ────── other tasks ──[poll 2]── other tasks ───
///   stats   =  Δslot(poll 1)  +  Δslot(poll 2)  +  Δslot(poll 3)
///   peak    =  max over polls of (net before the poll + the poll's peak)
/// ```
///
/// Nesting works as with [`measure`](crate::measure): an outer measured
/// future (or an outer `measure` around a `block_on`) includes what its
/// inner ones counted. The wrapper itself never allocates.
///
/// # What is not counted
///
/// Only what runs inside this future's polls is counted, so these are not:
///
/// - the work of tasks it spawns (`tokio::spawn`): they are polled as tasks
///   of their own; the spawn itself (the task's allocation) is counted.
///   Wrap the spawned future in `measure_future` too to count it;
/// - closures sent to `spawn_blocking` or to another thread pool;
/// - memory this future allocated and something else frees later: after
///   it completed (the output, when the caller drops it), or on another
///   task (a buffer handed over a channel). It shows here as retained, in
///   [`Stats::net_bytes`], and as a free of whoever frees it;
/// - a poll on a thread that owns no counting slot (more than 256 threads
///   alive at once, or a thread that is exiting): such a poll runs
///   unmeasured. Runtime worker threads are far fewer than that.
///
/// What the runtime itself allocates *during* a poll is counted, since it
/// cannot be told apart: tokio's `yield_now`, for instance, hands the waker
/// to a per-worker list that now and then grows. Such growth is rare and
/// kept for the runtime's lifetime, so it shows as a few bytes retained by
/// whichever future happened to make the list grow.
///
/// # Panics
///
/// A panicking poll propagates its panic; the thread's counters and any
/// enclosing measurement stay exact (the enclosing one counts what the
/// panicking poll did). A future dropped before it completes loses only its
/// own `Stats`: an enclosing measurement has counted its polls, and counts
/// the drop too when it happens inside the enclosing one's poll.
pub fn measure_future<F: IntoFuture>(future: F) -> MeasuredFuture<F::IntoFuture> {
    MeasuredFuture {
        inner: future.into_future(),
        stats: Stats::default(),
        label: Label::NONE,
    }
}

/// A request label: a few key-value pairs (`method`, `route`) that a
/// [`MeasuredFuture`] carries into its polls. Heap samples taken while it
/// is polled carry the label too, so a profile (and the
/// `heapmeter_route_inuse_bytes` gauge of the `tower` layer) can say which
/// requests the live heap was allocated for.
///
/// Labels are interned: the first use of a set of pairs copies them and
/// keeps them for the life of the process, later uses look them up without
/// allocating. Use a bounded set (routes and methods, never raw paths or
/// ids); past 4,095 distinct sets, new ones are [`Label::NONE`].
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();
/// let label = heapmeter::Label::new(&[("method", "GET"), ("route", "/users/{id}")]);
/// assert_eq!(label, heapmeter::Label::new(&[("method", "GET"), ("route", "/users/{id}")]));
/// assert_eq!(label.pairs()[1], ("route", "/users/{id}"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Label(u16);

impl Label {
    /// No label: the work is attributed to the enclosing labelled future,
    /// if any.
    pub const NONE: Label = Label(0);

    /// The label of `pairs`, interned on first use.
    pub fn new(pairs: &[(&str, &str)]) -> Label {
        Label(labels::intern(pairs))
    }

    /// Its pairs, in the order they were given (empty for `NONE`).
    pub fn pairs(self) -> &'static [(&'static str, &'static str)] {
        labels::pairs(self.0)
    }

    pub(crate) const fn from_number(n: u16) -> Label {
        Label(n)
    }
}

pin_project! {
    /// The future returned by [`measure_future`]: resolves to the inner
    /// future's output and the [`Stats`] of all its polls.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct MeasuredFuture<F> {
        #[pin]
        inner: F,
        stats: Stats,
        label: Label,
    }
}

impl<F> MeasuredFuture<F> {
    /// What the polls so far counted (all of it, once the future is ready).
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Marks every poll of this future with `label`: heap samples taken
    /// during its polls carry it (see [`Label`]).
    pub fn with_label(mut self, label: Label) -> MeasuredFuture<F> {
        self.label = label;
        self
    }

    /// The label its polls carry.
    pub fn label(&self) -> Label {
        self.label
    }

    /// Wraps `inner`, starting from `stats` already counted (the work that
    /// created the future, say).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn starting_at(inner: F, stats: Stats, label: Label) -> MeasuredFuture<F> {
        MeasuredFuture {
            inner,
            stats,
            label,
        }
    }
}

/// Runs `f` and counts what it does on the calling thread, like
/// [`measure`](crate::measure), but never panics and never allocates: on a
/// thread that owns no counting slot it counts nothing.
///
/// A nonzero `label` marks the work (see [`Label`]).
#[inline]
pub(crate) fn count<R>(label: Label, f: impl FnOnce() -> R) -> (R, Stats) {
    // NOTE: `current_slot` claims a slot without allocating; `None` only
    // on a thread that cannot own one (see "What is not counted").
    let Some(slot) = engine::current_slot() else {
        return (f(), Stats::default());
    };
    let start = Stats::from(slot.counts());
    // If `f` unwinds, the window's drop closes it, so the thread's
    // enclosing peak windows and label stay consistent.
    let window = PeakWindow::open(slot, label.0);
    let value = f();
    let peak_bytes = window.finish();
    let stats = Stats {
        peak_bytes,
        ..Stats::from(slot.counts()).since(&start)
    };
    (value, stats)
}

impl<F: Future> Future for MeasuredFuture<F> {
    type Output = (F::Output, Stats);

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (poll, polled) = count(*this.label, || this.inner.poll(cx));
        *this.stats += polled;
        poll.map(|out| (out, *this.stats))
    }
}
