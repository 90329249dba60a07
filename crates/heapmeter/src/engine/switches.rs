//! The hook bits of the slots, the epoch that makes switching them safe,
//! and the process-wide live-bytes tracking of `measure_process`.
//!
//! A slot's `trigger` sends allocations to the slow path; its `hooks` bits
//! send frees there. Both are per slot, so that the fast path reads one
//! cache line the owner already holds. The switches below write every slot.

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::*};

use super::slot::{all_slots, Slot};

/// Process tracking is on: a free lowers the process's live bytes.
pub(crate) const HOOK_TRACKING: u8 = 1;
/// Sampling is on, or sampled blocks are live: a free must check whether
/// it frees one.
pub(crate) const HOOK_SAMPLES: u8 = 2;
/// A peak window is open on the owning thread: a free first raises the
/// window's peak to the live bytes before it (see `Slot::open_window`).
pub(crate) const HOOK_PEAK: u8 = 4;
/// The calling thread counts elsewhere: it has no slot, or the call is the
/// engine's own or a re-entrant inner allocator's (only the two stand-in
/// slots carry it).
pub(crate) const HOOK_ELSEWHERE: u8 = 8;

/// Bumped by every switch that zeroes the slots' triggers (see
/// `Slot::rearm`).
pub(super) static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Sets (`on`) or clears `bit` in every slot's hooks.
pub(crate) fn set_hook(bit: u8, on: bool) {
    for slot in all_slots() {
        if on {
            slot.hooks.fetch_or(bit, SeqCst);
        } else {
            slot.hooks.fetch_and(!bit, SeqCst);
        }
    }
}

/// Zeroes every slot's trigger so that the owners take the slow path on
/// their next allocation and see a switch that was just turned.
pub(crate) fn wake_all() {
    EPOCH.fetch_add(1, SeqCst);
    for slot in all_slots() {
        slot.trigger.store(0, SeqCst);
    }
}

/// Process-wide live bytes and their peak, kept only while tracking is on
/// (a `measure_process` scope is open): every allocation then takes the
/// slow path and updates two shared atomics.
pub(crate) mod process {
    use super::*;

    static ON: AtomicBool = AtomicBool::new(false);
    static LIVE: AtomicI64 = AtomicI64::new(0);
    static PEAK: AtomicI64 = AtomicI64::new(0);

    /// Starts tracking from zero live bytes.
    pub(crate) fn start() {
        LIVE.store(0, SeqCst);
        PEAK.store(0, SeqCst);
        ON.store(true, SeqCst);
        set_hook(HOOK_TRACKING, true);
        wake_all();
    }

    /// Stops tracking. The slots' triggers stay at zero until their owners
    /// next allocate; the slow path then rearms them.
    pub(crate) fn stop() {
        ON.store(false, SeqCst);
        set_hook(HOOK_TRACKING, false);
    }

    #[inline(always)]
    pub(crate) fn is_on() -> bool {
        ON.load(Relaxed)
    }

    /// Live bytes since tracking started.
    pub(crate) fn live() -> i64 {
        LIVE.load(SeqCst)
    }

    /// Sets the peak to `to` and returns what it was.
    pub(crate) fn swap_peak(to: i64) -> i64 {
        PEAK.swap(to, SeqCst)
    }

    /// Raises the peak to at least `to`.
    pub(crate) fn raise_peak(to: i64) {
        PEAK.fetch_max(to, SeqCst);
    }

    /// The peak so far.
    pub(crate) fn peak() -> i64 {
        PEAK.load(SeqCst)
    }

    /// Adds `delta` bytes to the live total, if tracking is on.
    #[inline]
    pub(crate) fn track(delta: i64) {
        if is_on() {
            let live = LIVE.fetch_add(delta, Relaxed) + delta;
            if delta > 0 {
                PEAK.fetch_max(live, Relaxed);
            }
        }
    }
}

/// Whether every slot must take the slow path on every allocation.
#[inline]
pub(super) fn every_allocation_hooked(slot: &Slot) -> bool {
    process::is_on() || slot.hooks.load(Relaxed) & HOOK_ELSEWHERE != 0
}
