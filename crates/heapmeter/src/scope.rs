//! Scoped measurement: one thread, or the whole process.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::{Mutex, MutexGuard};

use crate::engine::{self, switches::process, Slot};
use crate::Stats;

/// Runs `f` and returns its value with the allocation activity of the
/// calling thread while `f` ran.
///
/// Exact and thread-precise: allocations of other threads are not counted,
/// however many run at the same time. Scopes nest; an outer scope includes
/// what its inner scopes counted. Memory that `f` allocates on this thread
/// and another thread frees counts as retained here (and as freed there).
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// let (_, stats) = heapmeter::measure(|| {
///     let v: Vec<u8> = Vec::with_capacity(100);
///     drop(v);
/// });
/// assert_eq!(stats.allocs, 1);
/// assert_eq!(stats.bytes_allocated, 100);
/// assert_eq!(stats.deallocs, 1);
/// assert_eq!(stats.net_bytes(), 0);
/// assert_eq!(stats.peak_bytes, 100);
/// ```
///
/// # Panics
///
/// If [`CountingAlloc`](crate::CountingAlloc) is not the global allocator,
/// or the calling thread owns no counting slot (more than 256 threads alive,
/// or the call comes from a thread-local destructor). Panics of `f`
/// propagate, and the thread's counters stay consistent.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    let slot = thread_slot();
    let start = Stats::from(slot.counts());
    let window = PeakWindow::open(slot, 0);
    let value = f();
    let end = Stats::from(slot.counts());
    let peak_bytes = window.finish();
    let stats = Stats {
        peak_bytes,
        ..end.since(&start)
    };
    (value, stats)
}

/// A peak window open on one thread's slot, with the label of the work
/// inside it (0: the enclosing one's); restores the enclosing window's
/// peak and label even if the code inside unwinds.
pub(crate) struct PeakWindow {
    slot: &'static Slot,
    saved: (i64, i64),
    /// The label to restore, when this window set one.
    outer_label: Option<u16>,
}

impl PeakWindow {
    /// Opens a window at the slot's current live level; a nonzero `label`
    /// marks the work inside it (see [`Label`](crate::Label)).
    #[inline]
    pub(crate) fn open(slot: &'static Slot, label: u16) -> PeakWindow {
        PeakWindow {
            slot,
            saved: slot.open_window(),
            outer_label: (label != 0).then(|| slot.swap_label(label)),
        }
    }

    /// Closes the window: its peak above where it opened, in bytes.
    #[inline]
    pub(crate) fn finish(self) -> u64 {
        let peak = self.close();
        std::mem::forget(self);
        peak
    }

    #[inline]
    fn close(&self) -> u64 {
        if let Some(label) = self.outer_label {
            self.slot.swap_label(label);
        }
        self.slot.close_window(self.saved)
    }
}

impl Drop for PeakWindow {
    fn drop(&mut self) {
        self.close();
    }
}

/// What a process without the counting allocator is told, by every entry
/// point that would otherwise report zeros.
pub(crate) const NOT_INSTALLED: &str =
    "heapmeter: CountingAlloc is not the global allocator; add\n    \
    #[global_allocator]\n    \
    static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();";

/// Panics with [`NOT_INSTALLED`] unless `CountingAlloc` is the global
/// allocator.
#[track_caller]
pub(crate) fn assert_installed() {
    assert!(engine::ensure_installed(), "{NOT_INSTALLED}");
}

#[track_caller]
fn thread_slot() -> &'static Slot {
    if let Some(slot) = engine::current_slot() {
        return slot;
    }
    // A thread that has not allocated yet has no slot: one allocation
    // through the global allocator claims it (if CountingAlloc is installed).
    drop(black_box(Box::new(0u8)));
    match engine::current_slot() {
        Some(slot) => slot,
        None if !engine::installed() => panic!("{NOT_INSTALLED}"),
        None => panic!(
            "heapmeter: this thread has no counting slot ({} threads already own one, \
             or the thread is exiting); use measure_process instead",
            engine::SLOTS
        ),
    }
}

/// Runs `f` and returns its value with the allocation activity of **all
/// threads** of the process while `f` ran: for work that spawns threads.
///
/// Counts are exact; what other threads do at the same time (a test
/// harness running other tests, say) is counted too. `peak_bytes` is the
/// highest process-wide live bytes above the scope's start.
///
/// Process scopes from different threads run one at a time (a second one
/// waits); process scopes nest on one thread.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// let (_, stats) = heapmeter::measure_process(|| {
///     std::thread::spawn(|| drop(vec![0u8; 4096])).join().unwrap();
/// });
/// assert!(stats.bytes_allocated >= 4096);
/// ```
///
/// # Panics
///
/// If [`CountingAlloc`](crate::CountingAlloc) is not the global allocator.
pub fn measure_process<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    assert_installed();
    let scope = ProcessScope::open();
    let start = Stats::from(engine::sum_slots());
    let value = f();
    let end = Stats::from(engine::sum_slots());
    let peak_bytes = scope.close();
    let stats = Stats {
        peak_bytes,
        ..end.since(&start)
    };
    (value, stats)
}

/// One scope at a time across threads; nesting on the owning thread.
static PROCESS_LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    static PROCESS_DEPTH: Cell<u32> = const { Cell::new(0) };
}

struct ProcessScope {
    _lock: Option<MutexGuard<'static, ()>>,
    start_live: i64,
    outer_peak: i64,
}

impl ProcessScope {
    fn open() -> ProcessScope {
        let depth = PROCESS_DEPTH.with(|d| d.replace(d.get() + 1));
        let lock = (depth == 0).then(|| PROCESS_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
        if depth == 0 {
            process::start();
        }
        let start_live = process::live();
        let outer_peak = process::swap_peak(start_live);
        ProcessScope {
            _lock: lock,
            start_live,
            outer_peak,
        }
    }

    fn close(self) -> u64 {
        (process::peak() - self.start_live).max(0) as u64
    }
}

impl Drop for ProcessScope {
    fn drop(&mut self) {
        process::raise_peak(self.outer_peak);
        let depth = PROCESS_DEPTH.with(|d| {
            d.set(d.get() - 1);
            d.get()
        });
        if depth == 0 {
            process::stop();
        }
    }
}

/// Totals of every thread since the process started: what the process
/// allocated and freed so far, and (as `net_bytes()`) its live heap bytes.
/// `peak_bytes` is zero: the process-wide peak is tracked only inside
/// [`measure_process`], where it costs a shared atomic per allocation.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// let before = heapmeter::process_totals();
/// let kept = vec![0u8; 1000];
/// let after = heapmeter::process_totals();
/// assert!(after.allocs > before.allocs);
/// # drop(kept);
/// ```
pub fn process_totals() -> Stats {
    Stats::from(engine::sum_slots())
}

/// Mean allocation activity per operation, from [`per_op`].
///
/// NOTE: `#[non_exhaustive]` because it follows [`Stats`]: a new count
/// there brings a new mean here.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PerOp {
    /// Operations measured (the warm-up call excluded).
    pub ops: u64,
    /// Allocations per op, mean.
    pub allocs: f64,
    /// Reallocations per op, mean.
    pub reallocs: f64,
    /// Deallocations per op, mean.
    pub deallocs: f64,
    /// Bytes allocated per op, in bytes, mean.
    pub bytes_allocated: f64,
    /// Bytes retained per op (allocated minus freed), in bytes, mean.
    pub retained_bytes: f64,
    /// The largest peak of one op, in bytes above that op's start.
    pub max_peak_bytes: u64,
    /// Sums over all measured ops; `total.peak_bytes` is the peak of the
    /// whole run above its start.
    pub total: Stats,
}

/// Calls `f(0)` once as a warm-up that is not counted, then `f(1)` …
/// `f(n)`, each measured on the calling thread, and returns the mean per
/// op. The value each call returns is dropped inside its measurement (and
/// passed through [`black_box`] so that the optimiser keeps the work).
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// let per = heapmeter::per_op(1_000, |i| vec![i as u8; 64]);
/// assert_eq!(per.ops, 1_000);
/// assert_eq!(per.allocs, 1.0);
/// assert_eq!(per.bytes_allocated, 64.0);
/// assert_eq!(per.retained_bytes, 0.0);
/// ```
///
/// With `n == 0` every mean is zero.
///
/// # Panics
///
/// As [`measure`].
pub fn per_op<R>(n: u64, mut f: impl FnMut(u64) -> R) -> PerOp {
    drop(black_box(f(0)));
    let mut max_peak_bytes = 0;
    let ((), total) = measure(|| {
        for i in 1..=n {
            let ((), s) = measure(|| drop(black_box(f(i))));
            max_peak_bytes = max_peak_bytes.max(s.peak_bytes);
        }
    });
    let mean = |v: f64| if n == 0 { 0.0 } else { v / n as f64 };
    PerOp {
        ops: n,
        allocs: mean(total.allocs as f64),
        reallocs: mean(total.reallocs as f64),
        deallocs: mean(total.deallocs as f64),
        bytes_allocated: mean(total.bytes_allocated as f64),
        retained_bytes: mean(total.net_bytes() as f64),
        max_peak_bytes,
        total,
    }
}

/// The calling thread's monotonic totals since it started counting; the
/// difference of two snapshots is what the thread did in between.
///
/// # Panics
///
/// As [`measure`].
#[cfg_attr(not(feature = "criterion"), allow(dead_code))]
pub(crate) fn thread_totals() -> Stats {
    Stats::from(thread_slot().counts())
}
