//! The counting global allocator and the per-thread tallies behind it.
//!
//! # Design
//!
//! Every thread that allocates claims one [`Slot`] of a static table the first
//! time it calls the allocator, and keeps the slot's index in a `const`
//! thread-local (no lazy initialisation, no destructor: reading it is one
//! `fs`-relative load). Only the owning thread writes its slot, so a count is a
//! relaxed load and a relaxed store — no `lock`-prefixed instruction and no
//! cache line shared with another writer. Any thread may *read* every slot,
//! which gives the exact process-wide view: totals are the sum of all slots.
//!
//! ```text
//!   thread A ──▶ SLOTS[0] ─┐
//!   thread B ──▶ SLOTS[1] ─┼──▶ process_totals() = Σ slots (+ overflow)
//!   thread C ──▶ SLOTS[2] ─┤
//!   (no slot) ─▶ OVERFLOW ─┘   atomic read-modify-write, shared
//! ```
//!
//! Slot counters are monotonic and never reset, so a slot handed from an
//! exited thread to a new one keeps counting where it stood: the sum over
//! slots loses nothing at thread exit. A thread that cannot own a slot (the
//! table is full, it is being set up, or its thread-local storage is already
//! being torn down) counts into the shared `OVERFLOW` slot with atomic
//! read-modify-write operations: slower, still exact.
//!
//! Memory freed by another thread than the one that allocated it is counted
//! as a deallocation of the freeing thread: process-wide sums stay exact,
//! and a thread's [`measure`](crate::measure) sees what that thread did.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::*};

use crate::Stats;

/// A global allocator that counts every allocation, reallocation and
/// deallocation, then forwards it to the allocator `A` it wraps.
///
/// ```
/// use heapmeter::CountingAlloc;
///
/// #[global_allocator]
/// static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);
///
/// let (v, stats) = heapmeter::measure(|| Vec::<u8>::with_capacity(100));
/// assert_eq!((stats.allocs, stats.bytes_allocated), (1, 100));
/// # drop(v);
/// ```
///
/// It never allocates and never panics. Allocations that `A` makes for itself
/// while it serves a request (dhat's backtraces, for instance, go through the
/// global allocator again) are forwarded without being counted: the counts
/// are what the program asked for.
#[derive(Debug, Default)]
pub struct CountingAlloc<A> {
    inner: A,
}

impl<A> CountingAlloc<A> {
    /// Wraps `inner`, usable in a `static`.
    pub const fn new(inner: A) -> Self {
        CountingAlloc { inner }
    }

    /// The wrapped allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

/// Number of thread slots. Threads beyond it count into the shared overflow
/// slot (exact, but contended); `measure` on such a thread panics.
pub(crate) const SLOTS: usize = 256;

/// One thread's monotonic tallies. Aligned to two cache lines so that
/// neighbouring slots never share a line (adjacent-line prefetch included).
#[repr(align(128))]
pub(crate) struct Slot {
    claimed: AtomicBool,
    allocs: AtomicU64,
    reallocs: AtomicU64,
    deallocs: AtomicU64,
    bytes_allocated: AtomicU64,
    bytes_deallocated: AtomicU64,
    /// Highest `net` seen since the innermost open `measure` scope began.
    peak_net: AtomicI64,
    /// Open `measure` scopes on the owning thread: the peak is tracked only
    /// while there is one.
    scopes: AtomicU32,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            claimed: AtomicBool::new(false),
            allocs: AtomicU64::new(0),
            reallocs: AtomicU64::new(0),
            deallocs: AtomicU64::new(0),
            bytes_allocated: AtomicU64::new(0),
            bytes_deallocated: AtomicU64::new(0),
            peak_net: AtomicI64::new(0),
            scopes: AtomicU32::new(0),
        }
    }

    /// Live bytes this slot accounts for: allocated minus freed (negative
    /// when it freed memory that other threads allocated).
    fn net(&self) -> i64 {
        let a = self.bytes_allocated.load(Relaxed);
        self.net_with(a)
    }

    /// [`Slot::net`] given the allocated total just written.
    ///
    /// PERF: reusing the value in a register instead of reloading the
    /// counter just stored avoids a store-to-load forwarding stall on every
    /// allocation.
    #[inline(always)]
    fn net_with(&self, allocated: u64) -> i64 {
        allocated.wrapping_sub(self.bytes_deallocated.load(Relaxed)) as i64
    }

    /// Raises the peak of the open window to the live bytes given the
    /// allocated total just written, if a window is open.
    ///
    /// PERF: outside any `measure` scope this is one load and a branch that
    /// predicts well; the peak's two loads, compare and store cost about as
    /// much as the rest of the counting (measured on 64-byte pairs).
    #[inline(always)]
    fn raise_peak(&self, allocated: u64) {
        if self.scopes.load(Relaxed) != 0 {
            let net = self.net_with(allocated);
            if net > self.peak_net.load(Relaxed) {
                self.peak_net.store(net, Relaxed);
            }
        }
    }

    pub(crate) fn totals(&self) -> Stats {
        Stats {
            allocs: self.allocs.load(Relaxed),
            reallocs: self.reallocs.load(Relaxed),
            deallocs: self.deallocs.load(Relaxed),
            bytes_allocated: self.bytes_allocated.load(Relaxed),
            bytes_deallocated: self.bytes_deallocated.load(Relaxed),
            peak_bytes: 0,
        }
    }

    /// Starts a peak window at the current live level; returns the peak of
    /// the enclosing window so that [`Slot::end_peak`] can restore it.
    pub(crate) fn begin_peak(&self) -> (i64, i64) {
        let start = self.net();
        self.scopes.store(self.scopes.load(Relaxed) + 1, Relaxed);
        (start, self.peak_net.swap(start, Relaxed))
    }

    /// Ends a peak window begun at `start`: returns the window's peak above
    /// `start`, and folds it into the enclosing window's `outer` peak.
    pub(crate) fn end_peak(&self, (start, outer): (i64, i64)) -> u64 {
        self.scopes
            .store(self.scopes.load(Relaxed).saturating_sub(1), Relaxed);
        let peak = self.peak_net.load(Relaxed);
        self.peak_net.store(peak.max(outer), Relaxed);
        peak.saturating_sub(start).max(0) as u64
    }
}

/// Adds `v` to a counter that only the current thread writes.
///
/// PERF: a relaxed load and store compile to two plain `mov`s; a
/// `fetch_add` would be a `lock xadd`, which is what makes shared-counter
/// allocators several times slower on more than one core.
#[inline(always)]
fn bump(counter: &AtomicU64, v: u64) -> u64 {
    let new = counter.load(Relaxed).wrapping_add(v);
    counter.store(new, Relaxed);
    new
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static OVERFLOW: Slot = Slot::new();
/// Set once a thread has claimed a slot: proof that `CountingAlloc` is the
/// global allocator of this process.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Where the next slot search starts, so that claims spread over the table.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

// Process-wide live bytes and their peak, kept only while a
// `measure_process` scope is open (see `crate::scope`). Off, they cost the
// hot path one relaxed load of a line that nobody writes.
pub(crate) static PROCESS_TRACKING: AtomicBool = AtomicBool::new(false);
pub(crate) static PROCESS_LIVE: AtomicI64 = AtomicI64::new(0);
pub(crate) static PROCESS_PEAK: AtomicI64 = AtomicI64::new(0);

// Thread state: a slot index below `SLOTS`, or one of these markers, plus
// the `IN_INNER` bit. NOTE: the markers must leave bit 31 clear.
const UNCLAIMED: u32 = 0x7FFF_FFFF;
const CLAIMING: u32 = UNCLAIMED - 1;
const EXITED: u32 = UNCLAIMED - 2;
const FULL: u32 = UNCLAIMED - 3;
/// Set while the inner allocator runs: re-entrant calls are its own.
const IN_INNER: u32 = 1 << 31;

thread_local! {
    static STATE: Cell<u32> = const { Cell::new(UNCLAIMED) };
    static RELEASE: SlotRelease = const { SlotRelease };
}

/// Hands the thread's slot back when the thread exits.
struct SlotRelease;

impl Drop for SlotRelease {
    fn drop(&mut self) {
        let _ = STATE.try_with(|s| {
            let state = s.get() & !IN_INNER;
            // NOTE: from here on this thread counts into OVERFLOW: memory
            // freed by later thread-local destructors is still counted.
            s.set(EXITED);
            if let Some(slot) = TABLE.get(state as usize) {
                slot.claimed.store(false, Release);
            }
        });
    }
}

/// Claims a slot for the current thread (slow path, once per thread).
#[cold]
fn claim(cell: &Cell<u32>) -> u32 {
    cell.set(CLAIMING);
    INSTALLED.store(true, Relaxed);
    // Touching `RELEASE` registers its destructor. Should that registration
    // allocate, the nested call sees CLAIMING and counts into OVERFLOW.
    if RELEASE.try_with(|_| ()).is_err() {
        cell.set(EXITED);
        return EXITED;
    }
    let start = NEXT_SLOT.fetch_add(1, Relaxed);
    for k in 0..SLOTS {
        let i = (start + k) % SLOTS;
        let slot = &TABLE[i];
        if slot
            .claimed
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_ok()
        {
            slot.peak_net.store(slot.net(), Relaxed);
            slot.scopes.store(0, Relaxed);
            cell.set(i as u32);
            return i as u32;
        }
    }
    cell.set(FULL);
    FULL
}

/// The slot the current thread counts into, claiming one if needed.
/// `None` if it cannot own one (see [`SLOTS`]).
pub(crate) fn current_slot() -> Option<&'static Slot> {
    STATE
        .try_with(|cell| {
            let mut state = cell.get();
            if state == UNCLAIMED || state == FULL {
                state = claim(cell);
            }
            TABLE.get(state as usize)
        })
        .ok()
        .flatten()
}

/// Whether `CountingAlloc` has served any thread of this process.
pub(crate) fn installed() -> bool {
    INSTALLED.load(Relaxed)
}

/// Sum of every slot: the process-wide totals since start.
pub(crate) fn sum_slots() -> Stats {
    let mut sum = OVERFLOW.totals();
    for slot in &TABLE {
        sum = sum.plus(&slot.totals());
    }
    sum
}

/// What a call must do once the inner allocator has answered.
enum Counted {
    /// Count into this thread's own slot.
    Own(&'static Slot),
    /// Count into the shared overflow slot.
    Shared,
    /// A re-entrant call made by the inner allocator itself: do not count.
    No,
}

/// Marks the thread as inside the inner allocator and says where to count.
#[inline(always)]
fn enter() -> (Counted, u32) {
    match STATE.try_with(|cell| {
        let state = cell.get();
        if state & IN_INNER != 0 {
            return (Counted::No, state);
        }
        let state = if state == UNCLAIMED {
            claim(cell)
        } else {
            state
        };
        cell.set(state | IN_INNER);
        match TABLE.get(state as usize) {
            Some(slot) => (Counted::Own(slot), state),
            None => (Counted::Shared, state),
        }
    }) {
        Ok(r) => r,
        Err(_) => (Counted::Shared, EXITED),
    }
}

/// Clears the in-inner mark set by [`enter`].
#[inline(always)]
fn leave(how: &Counted, state: u32) {
    if !matches!(how, Counted::No) {
        let _ = STATE.try_with(|cell| cell.set(state));
    }
}

#[inline(always)]
fn track_process(delta: i64) {
    if PROCESS_TRACKING.load(Relaxed) {
        let live = PROCESS_LIVE.fetch_add(delta, Relaxed) + delta;
        if delta > 0 {
            PROCESS_PEAK.fetch_max(live, Relaxed);
        }
    }
}

#[inline(always)]
fn count_alloc(how: &Counted, size: u64) {
    match how {
        Counted::Own(slot) => {
            bump(&slot.allocs, 1);
            let allocated = bump(&slot.bytes_allocated, size);
            slot.raise_peak(allocated);
        }
        Counted::Shared => {
            OVERFLOW.allocs.fetch_add(1, Relaxed);
            OVERFLOW.bytes_allocated.fetch_add(size, Relaxed);
        }
        Counted::No => return,
    }
    track_process(size as i64);
}

#[inline(always)]
fn count_dealloc(how: &Counted, size: u64) {
    match how {
        Counted::Own(slot) => {
            bump(&slot.deallocs, 1);
            bump(&slot.bytes_deallocated, size);
        }
        Counted::Shared => {
            OVERFLOW.deallocs.fetch_add(1, Relaxed);
            OVERFLOW.bytes_deallocated.fetch_add(size, Relaxed);
        }
        Counted::No => return,
    }
    track_process(-(size as i64));
}

#[inline(always)]
fn count_realloc(how: &Counted, old: u64, new: u64) {
    match how {
        Counted::Own(slot) => {
            bump(&slot.reallocs, 1);
            if new >= old {
                let allocated = bump(&slot.bytes_allocated, new - old);
                slot.raise_peak(allocated);
            } else {
                bump(&slot.bytes_deallocated, old - new);
            }
        }
        Counted::Shared => {
            OVERFLOW.reallocs.fetch_add(1, Relaxed);
            if new >= old {
                OVERFLOW.bytes_allocated.fetch_add(new - old, Relaxed);
            } else {
                OVERFLOW.bytes_deallocated.fetch_add(old - new, Relaxed);
            }
        }
        Counted::No => return,
    }
    track_process(new as i64 - old as i64);
}

// SAFETY: every method forwards the caller's arguments unchanged to the inner
// allocator, which upholds the `GlobalAlloc` contract; the bookkeeping around
// the call touches only atomics and a const thread-local, never allocates and
// never unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (how, state) = enter();
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        leave(&how, state);
        if !ptr.is_null() {
            count_alloc(&how, layout.size() as u64);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let (how, state) = enter();
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        leave(&how, state);
        if !ptr.is_null() {
            count_alloc(&how, layout.size() as u64);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (how, state) = enter();
        // SAFETY: the caller guarantees `ptr` was allocated by this allocator
        // (hence by `inner`) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        leave(&how, state);
        count_dealloc(&how, layout.size() as u64);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (how, state) = enter();
        // SAFETY: the caller upholds `realloc`'s contract; `inner` allocated
        // `ptr` with `layout`.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        leave(&how, state);
        if !new.is_null() {
            count_realloc(&how, layout.size() as u64, new_size as u64);
        }
        new
    }
}
