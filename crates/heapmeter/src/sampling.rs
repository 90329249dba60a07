//! Heap sampling: *where* the bytes come from, cheaply enough for a running
//! service, beside the exact counts of *how many*.
//!
//! Off by default. [`start`] switches it on with a mean interval in bytes
//! ([`DEFAULT_INTERVAL`], 512 KiB, as Go's `MemProfileRate`, jemalloc's
//! `lg_prof_sample:19` and V8's `--heap-prof`; Google's tcmalloc samples
//! every 2 MiB) until the [`Session`] it returns is dropped. Each
//! thread walks its own stream of
//! allocated bytes and takes a sample where an exponentially distributed
//! countdown runs out, so an allocation of `size` bytes is sampled with
//! probability `1 − e^(−size/interval)`; its call stack is recorded
//! (unresolved) with its size and the inverse of that probability as its
//! weight. Every estimate is a sum of weights, unbiased before any
//! aggregation. An interval of 1 samples every allocation with weight 1:
//! the profile is then exact.
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//! #     heapmeter::CountingAlloc::system();
//! use heapmeter::sampling;
//!
//! let session = sampling::start_seeded(1, 7).unwrap(); // every allocation
//! let kept: Vec<u64> = Vec::with_capacity(1000);
//! let profile = sampling::profile();
//! drop(session); // sampling stops
//! sampling::clear();
//! assert!(profile.inuse_space() >= 8000.0);
//! # drop(kept);
//! ```
//!
//! What it costs: while on and not sampling, an allocation pays nothing
//! beyond counting (the countdown is the slot's byte counter against the
//! next sampling point, the comparison counting makes anyway) and a free
//! checks a counter of a small filter keyed by address; a sample captures
//! the stack and takes a spin lock around fixed-size static tables.
//! Nothing is allocated through the counted path; nothing is symbolised
//! until [`profile`]. The repository's `docs/BENCHMARKS.md` measures each
//! part beside other profilers.
//!
//! # Stacks: frame pointers or the unwinder
//!
//! Most of a sample's cost is its stack. A program built with frame
//! pointers gets a walk of the frame-pointer chain: a few hundred
//! instructions for a whole stack. Without them, the unwinder reads the
//! binary's unwind tables: tens of thousands of instructions. Build a
//! service with them to sample cheaply:
//!
//! ```text
//! RUSTFLAGS="-C force-frame-pointers=yes" cargo build --release
//! ```
//!
//! or, for every build of a project, in `.cargo/config.toml`:
//!
//! ```text
//! [build]
//! rustflags = ["-C", "force-frame-pointers=yes"]
//! ```
//!
//! Rust's standard library already keeps them. They cost the program one
//! register and two instructions per call that has a frame; the
//! repository's benchmarks measure what that means for a request.
//! [`stack_walk`] says which method this process uses: it is decided when
//! sampling first starts, by walking two known frames (the setting is the
//! same for the whole build); `HEAPMETER_STACK_WALK=unwinder` in the
//! environment forces the unwinder. The walk never reads outside the
//! thread's own stack, so it cannot crash; but where a stack passes
//! through code built without frame pointers (a C library's, say) the
//! frames above it are missing or wrong: use the unwinder for such
//! programs.
//!
//! Realloc: a sampled block keeps its sample when it is resized or moved
//! (same stack and weight, new size), so in-use estimates follow it. The
//! growth of a realloc is sampled like an allocation of that many bytes,
//! at the realloc's stack, for the allocated view (`alloc_space`).
//!
//! Limits: 3,072 distinct stacks and 49,152 live sampled blocks (¾ of
//! tables of 4,096 and 65,536 entries); samples beyond are dropped and counted
//! ([`Profile::dropped`](crate::Profile::dropped)). Threads without a
//! counting slot (beyond 256) are counted but not sampled. Stacks keep their
//! innermost 48 frames.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};

use crate::engine::{self, sampler, table};
use crate::profile::Profile;
use crate::{Label, Stats};

/// Go's, jemalloc's and V8's `--heap-prof` default mean interval: 512 KiB
/// (Google's tcmalloc samples every 2 MiB).
pub const DEFAULT_INTERVAL: u64 = 512 * 1024;

/// Why sampling could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SamplingError {
    /// The interval was 0 bytes.
    ZeroInterval,
    /// [`CountingAlloc`](crate::CountingAlloc) is not the global allocator.
    NotInstalled,
    /// A [`Session`] is already running, at this interval in bytes.
    AlreadyOn {
        /// The running session's interval.
        interval: u64,
    },
}

impl fmt::Display for SamplingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplingError::ZeroInterval => f.write_str("sampling interval must be at least 1 byte"),
            SamplingError::NotInstalled => {
                f.write_str("heapmeter::CountingAlloc is not the global allocator")
            }
            SamplingError::AlreadyOn { interval } => write!(
                f,
                "a sampling session is already running (interval {interval} bytes)"
            ),
        }
    }
}

impl std::error::Error for SamplingError {}

/// A running sampling session: sampling stops when it is dropped (or
/// [`stop`](Session::stop)ped), as dhat's `Profiler` and pprof-rs's guard
/// do. Samples taken stay (see [`clear`]), so [`profile`] still shows what
/// was sampled.
///
/// One session runs at a time in a process: sampling is process-wide.
#[derive(Debug)]
#[must_use = "sampling stops when the session is dropped: bind it, `let _session = ...`"]
pub struct Session {
    id: u64,
    interval: u64,
}

/// The running session's id, 0 when none runs.
static RUNNING: AtomicU64 = AtomicU64::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// The exact process totals when the running (or last) session started.
static STARTED_ALLOCATED: AtomicU64 = AtomicU64::new(0);
static STARTED_DEALLOCATED: AtomicU64 = AtomicU64::new(0);

impl Session {
    /// The mean interval in bytes.
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// Stops sampling now (what dropping the session does).
    pub fn stop(self) {}
}

impl Drop for Session {
    fn drop(&mut self) {
        if RUNNING.compare_exchange(self.id, 0, SeqCst, SeqCst).is_ok() {
            sampler::stop();
        }
    }
}

/// Starts sampling at a mean interval of `interval_bytes` (1: every
/// allocation), until the returned [`Session`] is dropped. Samples taken
/// before stay (see [`clear`]).
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();
/// let session = heapmeter::sampling::start(64 * 1024).expect("CountingAlloc is installed");
/// assert_eq!(heapmeter::sampling::interval(), Some(64 * 1024));
/// drop(session);
/// assert_eq!(heapmeter::sampling::interval(), None);
/// ```
///
/// # Errors
///
/// [`SamplingError`] for a zero interval, when `CountingAlloc` is not the
/// global allocator, or when a session is already running.
pub fn start(interval_bytes: u64) -> Result<Session, SamplingError> {
    begin(interval_bytes, None)
}

/// [`start`] with the per-thread generators seeded from `seed`: the same
/// single-threaded work then takes the same samples.
///
/// # Errors
///
/// As [`start`].
pub fn start_seeded(interval_bytes: u64, seed: u64) -> Result<Session, SamplingError> {
    begin(interval_bytes, Some(seed))
}

fn begin(interval_bytes: u64, seed: Option<u64>) -> Result<Session, SamplingError> {
    if interval_bytes == 0 {
        return Err(SamplingError::ZeroInterval);
    }
    if !engine::ensure_installed() {
        return Err(SamplingError::NotInstalled);
    }
    let id = NEXT_ID.fetch_add(1, SeqCst);
    if RUNNING.compare_exchange(0, id, SeqCst, SeqCst).is_err() {
        return Err(SamplingError::AlreadyOn {
            interval: sampler::interval(),
        });
    }
    let totals = engine::sum_slots();
    STARTED_ALLOCATED.store(totals.bytes_allocated, SeqCst);
    STARTED_DEALLOCATED.store(totals.bytes_deallocated, SeqCst);
    sampler::start(interval_bytes, seed);
    Ok(Session {
        id,
        interval: interval_bytes,
    })
}

/// The mean interval in bytes, `None` while sampling is off.
pub fn interval() -> Option<u64> {
    Some(sampler::interval()).filter(|&i| i != 0)
}

/// How this process captures the stacks of samples: `"frame pointers"`
/// when the program was built with them (`RUSTFLAGS="-C
/// force-frame-pointers=yes"`: a few hundred instructions per sample),
/// `"unwinder"` otherwise (tens of thousands), `"not decided"` before
/// sampling first started.
pub fn stack_walk() -> &'static str {
    engine::stack_walk()
}

/// Forgets every sample, live or not.
pub fn clear() {
    table::clear();
}

/// The live heap by request [`Label`]: estimated live bytes and blocks
/// that were allocated while a future with that label was polled (see
/// [`MeasuredFuture::with_label`](crate::MeasuredFuture::with_label)), from
/// the live samples, largest first. The unbiased sum over samples: exact
/// at an interval of 1, within sampling error otherwise.
/// [`Label::NONE`] gathers what was allocated outside any labelled future.
pub fn inuse_by_label() -> Vec<LabelInuse> {
    let mut by: Vec<LabelInuse> = table::inuse_by_label()
        .into_iter()
        .map(|(label, bytes, blocks)| LabelInuse {
            label: Label::from_number(label),
            bytes,
            blocks,
        })
        .collect();
    by.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
    by
}

/// One label's live heap, from [`inuse_by_label`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct LabelInuse {
    /// The label.
    pub label: Label,
    /// Estimated live bytes, in bytes.
    pub bytes: f64,
    /// Estimated live blocks.
    pub blocks: f64,
}

/// Live sampled blocks right now.
pub fn live_samples() -> u64 {
    table::live_samples()
}

/// The sampled profile so far, symbolised, with the exact process totals
/// beside it.
pub fn profile() -> Profile {
    let _pause = table::Paused::new();
    let totals = Stats::from(engine::sum_slots());
    let raw = table::snapshot(true);
    Profile::from_raw(raw, sampler::interval(), totals)
}

/// Live bytes of the process (exact, all threads) above what they were when
/// the running or last session started: what the in-use estimate of a
/// profile taken now should agree with, when the memory live before the
/// session is neither freed nor grown during it, and no block sampled by an
/// earlier session is still live (a profile keeps those: they are live
/// samples, with the weight of the interval they were drawn at).
pub fn live_bytes_since_start() -> i64 {
    let now = engine::sum_slots();
    let at_start = STARTED_ALLOCATED
        .load(SeqCst)
        .wrapping_sub(STARTED_DEALLOCATED.load(SeqCst)) as i64;
    (now.bytes_allocated.wrapping_sub(now.bytes_deallocated) as i64).wrapping_sub(at_start)
}

/// Runs `f` with this thread's allocations left out of sampling (still
/// counted): for the profiler's own bookkeeping.
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let _pause = table::Paused::new();
    f()
}
