//! Heap sampling: *where* the bytes come from, cheaply enough for a running
//! service, beside the exact counts of *how many*.
//!
//! Off by default. [`start`] switches it on with a mean interval in bytes
//! ([`DEFAULT_INTERVAL`], 512 KiB, as Go's `MemProfileRate`, jemalloc's
//! `lg_prof_sample:19` and tcmalloc). Each thread walks its own stream of
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
//! sampling::start_seeded(1, 7).unwrap(); // every allocation
//! let kept: Vec<u64> = Vec::with_capacity(1000);
//! let profile = sampling::profile();
//! sampling::stop();
//! sampling::clear();
//! assert!(profile.inuse_space() >= 8000.0);
//! # drop(kept);
//! ```
//!
//! What it costs: while on and not sampling, an allocation pays the
//! counting's byte compare (the countdown is the slot's byte counter
//! against the next sampling point) and a free checks a counter of a small
//! filter keyed by address; a sample captures the stack (tens of thousands of
//! instructions, most of them the unwinder's: see the repository's
//! `docs/BENCHMARKS.md`) and takes a spin lock around fixed-size static tables. Nothing is allocated
//! through the counted path; nothing is symbolised until [`profile`].
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

use crate::alloc;
use crate::profile::Profile;
use crate::sample;

/// Go's, jemalloc's and tcmalloc's default mean interval: 512 KiB.
pub const DEFAULT_INTERVAL: u64 = 512 * 1024;

/// Why sampling could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SamplingError {
    /// The interval was 0 bytes.
    ZeroInterval,
    /// [`CountingAlloc`](crate::CountingAlloc) is not the global allocator.
    NotInstalled,
}

impl fmt::Display for SamplingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplingError::ZeroInterval => f.write_str("sampling interval must be at least 1 byte"),
            SamplingError::NotInstalled => {
                f.write_str("heapmeter::CountingAlloc is not the global allocator")
            }
        }
    }
}

impl std::error::Error for SamplingError {}

/// Starts sampling at a mean interval of `interval_bytes` (1: every
/// allocation). Samples taken before stay (see [`clear`]).
///
/// # Errors
///
/// [`SamplingError`] for a zero interval, or when `CountingAlloc` is not
/// the global allocator.
pub fn start(interval_bytes: u64) -> Result<(), SamplingError> {
    check(interval_bytes)?;
    sample::start(interval_bytes, None);
    Ok(())
}

/// [`start`] with the per-thread generators seeded from `seed`: the same
/// single-threaded work then takes the same samples.
///
/// # Errors
///
/// As [`start`].
pub fn start_seeded(interval_bytes: u64, seed: u64) -> Result<(), SamplingError> {
    check(interval_bytes)?;
    sample::start(interval_bytes, Some(seed));
    Ok(())
}

fn check(interval_bytes: u64) -> Result<(), SamplingError> {
    if interval_bytes == 0 {
        return Err(SamplingError::ZeroInterval);
    }
    if !alloc::installed() {
        drop(std::hint::black_box(Box::new(0u8)));
        if !alloc::installed() {
            return Err(SamplingError::NotInstalled);
        }
    }
    Ok(())
}

/// Stops taking samples. Live samples stay (and leave when their blocks are
/// freed), so [`profile`] still shows what was sampled.
pub fn stop() {
    sample::stop();
}

/// The mean interval in bytes, `None` while sampling is off.
pub fn interval() -> Option<u64> {
    Some(sample::interval()).filter(|&i| i != 0)
}

/// Forgets every sample, live or not.
pub fn clear() {
    sample::clear();
}

/// Live sampled blocks right now.
pub fn live_samples() -> u64 {
    sample::snapshot(false).live_samples
}

/// The sampled profile so far, symbolised, with the exact process totals
/// beside it.
pub fn profile() -> Profile {
    let _pause = PauseGuard::new();
    let totals = alloc::sum_slots();
    let raw = sample::snapshot(true);
    Profile::from_raw(raw, sample::interval(), totals)
}

/// Runs `f` with this thread's allocations left out of sampling (still
/// counted): for the profiler's own bookkeeping.
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let _pause = PauseGuard::new();
    f()
}

/// Keeps the calling thread from sampling while it lives.
pub(crate) struct PauseGuard(Option<&'static alloc::Slot>);

impl PauseGuard {
    pub(crate) fn new() -> PauseGuard {
        let slot = alloc::current_slot();
        if let Some(slot) = slot {
            slot.sampling.pause();
        }
        PauseGuard(slot)
    }
}

impl Drop for PauseGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            slot.sampling.resume();
        }
    }
}
