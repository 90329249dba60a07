//! The counting global allocator and the per-thread tallies behind it (the
//! design is documented on [`CountingAlloc`]).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{
    fence, AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
    Ordering::*,
};
use std::alloc::System;

use crate::sample;
use crate::Stats;

/// A global allocator that counts every allocation, reallocation and
/// deallocation, then forwards it to the allocator `A` it wraps.
///
/// ```
/// use heapmeter::CountingAlloc;
///
/// #[global_allocator]
/// static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();
///
/// let (v, stats) = heapmeter::measure(|| Vec::<u8>::with_capacity(100));
/// assert_eq!((stats.allocs, stats.bytes_allocated), (1, 100));
/// # drop(v);
/// ```
///
/// It never allocates and never panics. It can also sample allocations with
/// their call stacks: see [`sampling`](crate::sampling).
///
/// # Inner allocators that allocate
///
/// [`new`](CountingAlloc::new) and [`system`](CountingAlloc::system) are for
/// inner allocators that never call back into the global allocator (System,
/// jemalloc, mimalloc): nothing is spent on telling the inner allocator's
/// own calls from the program's. An inner allocator that does allocate
/// through the global allocator while it serves a call (`dhat::Alloc`
/// records a backtrace in a `Vec`, for instance) needs
/// [`reentrant`](CountingAlloc::reentrant): its own allocations are then
/// forwarded without being counted, so the counts are what the program
/// asked for. (Wrapped with `new`, such an allocator still works; its own
/// allocations are counted as if the program had made them.)
///
/// # Design
///
/// Every thread that allocates claims one slot of a static table the first
/// time it calls the allocator, and keeps a pointer to the slot in a `const`
/// thread-local (no lazy initialisation, no destructor: reading it is one
/// `fs`-relative load). Only the owning thread writes its slot, so a count is
/// a relaxed load and a relaxed store: no `lock`-prefixed instruction and no
/// cache line shared with another writer. Any thread may *read* every slot,
/// which gives the exact process-wide view: totals are the sum of all slots.
///
/// ```text
///   thread A ──▶ SLOTS[0] ─┐
///   thread B ──▶ SLOTS[1] ─┼──▶ process_totals() = Σ slots (+ overflow)
///   thread C ──▶ SLOTS[2] ─┤
///   (no slot) ─▶ OVERFLOW ─┘   atomic read-modify-write, shared
/// ```
///
/// Slot counters are monotonic and never reset, so a slot handed from an
/// exited thread to a new one keeps counting where it stood: the sum over
/// slots loses nothing at thread exit. A thread that cannot own a slot (the
/// table of 256 is full, it is being set up, or its thread-local storage is
/// already being torn down) counts into the shared overflow slot with atomic
/// read-modify-write operations: slower, still exact.
///
/// Memory freed by another thread than the one that allocated it is counted
/// as a deallocation of the freeing thread: process-wide sums stay exact,
/// and a thread's [`measure`](crate::measure) sees what that thread did.
///
/// Everything that is not counting (the peak of an open `measure` scope,
/// the process-wide live bytes of `measure_process`, heap sampling) hides
/// behind one comparison per allocation: the slot's byte counter against
/// the slot's *trigger*, a byte count that is zero while a scope or the
/// process tracking is open and the next sampling point otherwise. A free
/// checks one shared flag word. Off, all of it costs a load and a branch.
#[derive(Debug, Default)]
pub struct CountingAlloc<A> {
    inner: A,
    /// Whether `inner` may call back into the global allocator. A `const`
    /// in practice: the allocator lives in a `static`, so the optimiser
    /// folds the checks away when this is false.
    reentrant: bool,
}

impl CountingAlloc<System> {
    /// Counts and forwards to [`System`]; usable in a `static`.
    pub const fn system() -> Self {
        CountingAlloc::new(System)
    }
}

impl<A> CountingAlloc<A> {
    /// Wraps `inner`, an allocator that never calls back into the global
    /// allocator (see [above](CountingAlloc#inner-allocators-that-allocate));
    /// usable in a `static`.
    pub const fn new(inner: A) -> Self {
        CountingAlloc {
            inner,
            reentrant: false,
        }
    }

    /// Wraps `inner`, an allocator that may allocate through the global
    /// allocator while it serves a call (`dhat::Alloc`): those nested calls
    /// are forwarded without being counted. Costs a thread-local flag set
    /// and cleared around every call.
    pub const fn reentrant(inner: A) -> Self {
        CountingAlloc {
            inner,
            reentrant: true,
        }
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
    allocs: AtomicU64,
    deallocs: AtomicU64,
    bytes_allocated: AtomicU64,
    bytes_deallocated: AtomicU64,
    /// Allocations take the hook path once `bytes_allocated` reaches this:
    /// 0 while a scope or process tracking is open, else the next sampling
    /// point (`u64::MAX` when sampling is off).
    trigger: AtomicU64,
    reallocs: AtomicU64,
    /// Highest `net` seen since the innermost open `measure` scope began.
    peak_net: AtomicI64,
    /// Open `measure` scopes on the owning thread: the peak is tracked only
    /// while there is one.
    scopes: AtomicU32,
    claimed: AtomicBool,
    /// What a free counted here must do beside counting (`HOOK_*` bits);
    /// written only by the switches, which write every slot.
    free_hooks: AtomicU8,
    /// The owning thread's sampling state (see `crate::sample`).
    pub(crate) sampling: sample::ThreadSampling,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            allocs: AtomicU64::new(0),
            deallocs: AtomicU64::new(0),
            bytes_allocated: AtomicU64::new(0),
            bytes_deallocated: AtomicU64::new(0),
            trigger: AtomicU64::new(0),
            reallocs: AtomicU64::new(0),
            peak_net: AtomicI64::new(0),
            scopes: AtomicU32::new(0),
            claimed: AtomicBool::new(false),
            free_hooks: AtomicU8::new(0),
            sampling: sample::ThreadSampling::new(),
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
    /// counter just stored avoids a store-to-load forwarding stall.
    #[inline(always)]
    fn net_with(&self, allocated: u64) -> i64 {
        allocated.wrapping_sub(self.bytes_deallocated.load(Relaxed)) as i64
    }

    /// Raises the peak of the open window to the live bytes given the
    /// allocated total just written.
    fn raise_peak(&self, allocated: u64) {
        let net = self.net_with(allocated);
        if net > self.peak_net.load(Relaxed) {
            self.peak_net.store(net, Relaxed);
        }
    }

    #[inline]
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
    ///
    /// PERF: `measure_future` calls this around every poll. Only the owning
    /// thread writes `peak_net`, so a load and a store replace a locked
    /// `swap`; and any other thread only ever zeroes the trigger, as this
    /// does, so a relaxed store cannot lose a switch (see [`Slot::rearm`]).
    #[inline]
    pub(crate) fn begin_peak(&self) -> (i64, i64) {
        let start = self.net();
        self.scopes.store(self.scopes.load(Relaxed) + 1, Relaxed);
        self.trigger.store(0, Relaxed);
        let outer = self.peak_net.load(Relaxed);
        self.peak_net.store(start, Relaxed);
        (start, outer)
    }

    /// Ends a peak window begun at `start`: returns the window's peak above
    /// `start`, and folds it into the enclosing window's `outer` peak.
    #[inline]
    pub(crate) fn end_peak(&self, (start, outer): (i64, i64)) -> u64 {
        self.scopes
            .store(self.scopes.load(Relaxed).saturating_sub(1), Relaxed);
        self.rearm();
        let peak = self.peak_net.load(Relaxed);
        self.peak_net.store(peak.max(outer), Relaxed);
        peak.saturating_sub(start).max(0) as u64
    }

    /// Recomputes the trigger from the slot's and the process's state.
    /// Only the owning thread calls it.
    ///
    /// NOTE: another thread may zero the trigger at any time (turning on
    /// process tracking or sampling) and bumps `HOOK_EPOCH` first. Storing,
    /// then re-reading the epoch behind a `SeqCst` fence means that either
    /// this store comes before that zero in the trigger's modification
    /// order, or this thread sees the new epoch and zeroes the trigger
    /// itself: a switch is never missed.
    pub(crate) fn rearm(&self) {
        loop {
            let epoch = HOOK_EPOCH.load(SeqCst);
            let trigger = if self.scopes.load(Relaxed) != 0 || PROCESS_TRACKING.is_on() {
                0
            } else {
                self.sampling.next_sample_at()
            };
            self.trigger.store(trigger, SeqCst);
            fence(SeqCst);
            if HOOK_EPOCH.load(SeqCst) == epoch {
                return;
            }
        }
    }
}

/// Adds `v` to a counter that only the current thread writes.
///
/// PERF: a relaxed load and store compile to plain `mov`s; a `fetch_add`
/// would be a `lock xadd`, which is what makes shared-counter allocators
/// several times slower on more than one core.
#[inline(always)]
fn bump(counter: &AtomicU64, v: u64) -> u64 {
    let new = counter.load(Relaxed).wrapping_add(v);
    counter.store(new, Relaxed);
    new
}

pub(crate) static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static OVERFLOW: Slot = Slot::new();
/// Where a thread without a slot points: its trigger (zero) and free hooks
/// (`HOOK_NO_SLOT`) send every call to the hook path, which counts into the
/// thread's new slot or the overflow slot. Its own counters are written
/// racily by every such thread and never read.
///
/// PERF: pointing at a real slot instead of null saves the null check on
/// every call.
static NO_SLOT: Slot = {
    let mut slot = Slot::new();
    slot.free_hooks = AtomicU8::new(HOOK_NO_SLOT);
    slot
};
/// Set once a thread has claimed a slot: proof that `CountingAlloc` is the
/// global allocator of this process.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Where the next slot search starts, so that claims spread over the table.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// Bumped by every switch that zeroes the slots' triggers (see
/// [`Slot::rearm`]).
static HOOK_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Bits of a slot's free hooks: process tracking is on.
pub(crate) const HOOK_TRACKING: u8 = 1;
/// Sampling is on, or sampled blocks are live: a free must check whether it
/// frees one.
#[allow(dead_code)]
pub(crate) const HOOK_SAMPLES: u8 = 2;
/// The thread has no slot (only [`NO_SLOT`] has it).
const HOOK_NO_SLOT: u8 = 4;

/// Sets (`on`) or clears `bit` in every slot's free hooks.
pub(crate) fn set_free_hook(bit: u8, on: bool) {
    for slot in TABLE.iter().chain([&OVERFLOW]) {
        if on {
            slot.free_hooks.fetch_or(bit, SeqCst);
        } else {
            slot.free_hooks.fetch_and(!bit, SeqCst);
        }
    }
}

/// Zeroes every claimed slot's trigger so that the owners take the hook
/// path on their next allocation and see a switch that was just turned.
pub(crate) fn wake_all_slots() {
    HOOK_EPOCH.fetch_add(1, SeqCst);
    for slot in &TABLE {
        slot.trigger.store(0, SeqCst);
    }
}

/// The switch of the process-wide live-bytes tracking that
/// `measure_process` turns on: an `AtomicBool` that, when turned on, also
/// wakes every slot so that allocations update [`PROCESS_LIVE`].
pub(crate) struct ProcessTracking(AtomicBool);

impl ProcessTracking {
    /// Turns tracking on or off.
    pub(crate) fn store(&self, on: bool, order: Ordering) {
        self.0.store(on, order);
        set_free_hook(HOOK_TRACKING, on);
        if on {
            wake_all_slots();
        } else {
            // NOTE: the slots' triggers stay at zero until their owners
            // next allocate; the hook path then rearms them.
        }
    }

    /// Whether tracking is on.
    #[inline(always)]
    pub(crate) fn is_on(&self) -> bool {
        self.0.load(Relaxed)
    }
}

// Process-wide live bytes and their peak, kept only while a
// `measure_process` scope is open (see `crate::scope`).
pub(crate) static PROCESS_TRACKING: ProcessTracking = ProcessTracking(AtomicBool::new(false));
pub(crate) static PROCESS_LIVE: AtomicI64 = AtomicI64::new(0);
pub(crate) static PROCESS_PEAK: AtomicI64 = AtomicI64::new(0);

// Thread states while the thread has no slot pointer.
const UNCLAIMED: u8 = 0;
const CLAIMING: u8 = 1;
const CLAIMED: u8 = 2;
const EXITED: u8 = 3;
const FULL: u8 = 4;

thread_local! {
    /// The thread's slot, or `NO_SLOT` while it has none (see `STATUS`).
    static CURRENT: Cell<&'static Slot> = const { Cell::new(&NO_SLOT) };
    static STATUS: Cell<u8> = const { Cell::new(UNCLAIMED) };
    /// Set while a re-entrant inner allocator runs: nested calls are its own.
    static IN_INNER: Cell<bool> = const { Cell::new(false) };
    static RELEASE: SlotRelease = const { SlotRelease };
}

/// Hands the thread's slot back when the thread exits.
struct SlotRelease;

impl Drop for SlotRelease {
    fn drop(&mut self) {
        // NOTE: from here on this thread counts into OVERFLOW: memory freed
        // by later thread-local destructors is still counted.
        let slot = CURRENT.replace(&NO_SLOT);
        STATUS.set(EXITED);
        if !ptr::eq(slot, &NO_SLOT) {
            slot.claimed.store(false, Release);
        }
    }
}

/// Claims a slot for the current thread (slow path, once per thread).
#[cold]
fn claim() -> Option<&'static Slot> {
    STATUS.set(CLAIMING);
    INSTALLED.store(true, Relaxed);
    // Touching `RELEASE` registers its destructor. Should that registration
    // allocate, the nested call sees CLAIMING and counts into OVERFLOW.
    if RELEASE.try_with(|_| ()).is_err() {
        STATUS.set(EXITED);
        return None;
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
            slot.sampling.claimed(i);
            slot.rearm();
            STATUS.set(CLAIMED);
            CURRENT.set(slot);
            return Some(slot);
        }
    }
    STATUS.set(FULL);
    None
}

/// The slot the current thread counts into, claiming one if needed (a
/// thread whose table was full tries again). `None` if it cannot own one.
///
/// NOTE: it claims only once `CountingAlloc` has served some thread: a
/// slot claimed here in a process whose global allocator is another would
/// count nothing, and `measure` would report zeros instead of saying so.
#[inline]
pub(crate) fn current_slot() -> Option<&'static Slot> {
    let slot = CURRENT.get();
    if !ptr::eq(slot, &NO_SLOT) {
        return Some(slot);
    }
    match STATUS.get() {
        UNCLAIMED | FULL if installed() => claim(),
        _ => None,
    }
}

/// The slot a call that found `NO_SLOT` counts into: only an unclaimed
/// thread claims one (a full table is not searched on every call).
#[cold]
fn slot_for_call() -> Option<&'static Slot> {
    match STATUS.get() {
        UNCLAIMED => claim(),
        _ => None,
    }
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

#[inline(always)]
fn track_process(delta: i64) {
    if PROCESS_TRACKING.is_on() {
        let live = PROCESS_LIVE.fetch_add(delta, Relaxed) + delta;
        if delta > 0 {
            PROCESS_PEAK.fetch_max(live, Relaxed);
        }
    }
}

/// Counts an allocation of `size` bytes at `ptr`.
#[inline(always)]
fn count_alloc(ptr: *mut u8, size: u64) {
    let slot = CURRENT.get();
    bump(&slot.allocs, 1);
    let allocated = bump(&slot.bytes_allocated, size);
    if allocated >= slot.trigger.load(Relaxed) {
        alloc_hooks(slot, allocated, size, sample::Event::Alloc { ptr });
    }
}

/// What an allocation whose byte count reached the slot's trigger does:
/// the scope's peak, the process's live bytes, a sample.
#[inline(never)]
fn alloc_hooks(slot: &'static Slot, allocated: u64, grown: u64, event: sample::Event) {
    if ptr::eq(slot, &NO_SLOT) {
        return alloc_without_slot(grown, event);
    }
    track_process(grown as i64);
    if slot.scopes.load(Relaxed) != 0 {
        slot.raise_peak(allocated);
    }
    slot.sampling.on_trigger(slot, allocated, grown, event);
    slot.rearm();
}

/// An allocation (or a growing realloc) on a thread that had no slot: it
/// claims one and counts there, or counts into the overflow slot.
#[cold]
fn alloc_without_slot(grown: u64, event: sample::Event) {
    match slot_for_call() {
        Some(slot) => {
            let allocated = match event {
                sample::Event::Alloc { .. } => {
                    bump(&slot.allocs, 1);
                    bump(&slot.bytes_allocated, grown)
                }
                sample::Event::Realloc { .. } => {
                    bump(&slot.reallocs, 1);
                    bump(&slot.bytes_allocated, grown)
                }
            };
            alloc_hooks(slot, allocated, grown, event);
        }
        None => {
            match event {
                sample::Event::Alloc { .. } => OVERFLOW.allocs.fetch_add(1, Relaxed),
                sample::Event::Realloc { .. } => OVERFLOW.reallocs.fetch_add(1, Relaxed),
            };
            OVERFLOW.bytes_allocated.fetch_add(grown, Relaxed);
            track_process(grown as i64);
            if let sample::Event::Realloc { .. } = event {
                sample::on_realloc_move(event);
            }
        }
    }
}

/// Counts a free of `size` bytes at `ptr`.
#[inline(always)]
fn count_dealloc(ptr: *mut u8, size: u64) {
    let slot = CURRENT.get();
    bump(&slot.deallocs, 1);
    bump(&slot.bytes_deallocated, size);
    let hooks = slot.free_hooks.load(Relaxed);
    // PERF: with sampling on and nothing else to do, the filter check is
    // inline: a hash, a load and a branch.
    if hooks != 0 && (hooks != HOOK_SAMPLES || sample::maybe_sampled(ptr)) {
        free_hooks(hooks, ptr, size);
    }
}

#[inline(never)]
fn free_hooks(hooks: u8, ptr: *mut u8, size: u64) {
    if hooks & HOOK_NO_SLOT != 0 {
        let target = slot_for_call().unwrap_or(&OVERFLOW);
        if ptr::eq(target, &OVERFLOW) {
            OVERFLOW.deallocs.fetch_add(1, Relaxed);
            OVERFLOW.bytes_deallocated.fetch_add(size, Relaxed);
        } else {
            bump(&target.deallocs, 1);
            bump(&target.bytes_deallocated, size);
        }
    }
    track_process(-(size as i64));
    sample::on_free(ptr);
}

/// Counts a realloc from `old` to `new` bytes, `old_ptr` to `new_ptr`.
///
/// NOTE: shrinking is counted where it happens, as freed bytes; growing
/// takes the allocation's path (trigger, hooks) with the growth as size. A
/// sampled block must follow its move even when the growth reaches no
/// trigger, hence the free hooks are checked too.
#[inline(always)]
fn count_realloc(old_ptr: *mut u8, new_ptr: *mut u8, old: u64, new: u64) {
    let event = sample::Event::Realloc {
        old_ptr,
        new_ptr,
        new_size: new,
    };
    let slot = CURRENT.get();
    if new > old {
        let grown = new - old;
        bump(&slot.reallocs, 1);
        let allocated = bump(&slot.bytes_allocated, grown);
        if allocated >= slot.trigger.load(Relaxed) || slot.free_hooks.load(Relaxed) != 0 {
            alloc_hooks(slot, allocated, grown, event);
        }
    } else {
        shrink(slot, old - new, event);
    }
}

/// A realloc that did not grow the block.
#[cold]
fn shrink(slot: &'static Slot, freed: u64, event: sample::Event) {
    let target = if ptr::eq(slot, &NO_SLOT) {
        slot_for_call().unwrap_or(&OVERFLOW)
    } else {
        slot
    };
    if ptr::eq(target, &OVERFLOW) {
        OVERFLOW.reallocs.fetch_add(1, Relaxed);
        OVERFLOW.bytes_deallocated.fetch_add(freed, Relaxed);
    } else {
        bump(&target.reallocs, 1);
        bump(&target.bytes_deallocated, freed);
    }
    track_process(-(freed as i64));
    sample::on_realloc_move(event);
}

/// Runs `call` on the inner allocator; for a re-entrant one, marks the
/// thread as inside it, and returns `None` when the call is itself a
/// nested call of the inner allocator (not to be counted).
#[inline(always)]
fn forward<T>(reentrant: bool, call: impl FnOnce() -> T) -> (T, bool) {
    if !reentrant {
        return (call(), true);
    }
    if IN_INNER.get() {
        return (call(), false);
    }
    IN_INNER.set(true);
    let r = call();
    IN_INNER.set(false);
    (r, true)
}

// SAFETY: every method forwards the caller's arguments unchanged to the inner
// allocator, which upholds the `GlobalAlloc` contract; the bookkeeping around
// the call touches only atomics, const thread-locals and static tables, never
// allocates and never unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let (ptr, count) = forward(self.reentrant, || unsafe { self.inner.alloc(layout) });
        if count && !ptr.is_null() {
            count_alloc(ptr, layout.size() as u64);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let (ptr, count) = forward(self.reentrant, || unsafe {
            self.inner.alloc_zeroed(layout)
        });
        if count && !ptr.is_null() {
            count_alloc(ptr, layout.size() as u64);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` was allocated by this allocator
        // (hence by `inner`) with `layout`.
        let ((), count) = forward(self.reentrant, || unsafe {
            self.inner.dealloc(ptr, layout)
        });
        if count {
            count_dealloc(ptr, layout.size() as u64);
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract; `inner` allocated
        // `ptr` with `layout`.
        let (new, count) = forward(self.reentrant, || unsafe {
            self.inner.realloc(ptr, layout, new_size)
        });
        if count && !new.is_null() {
            count_realloc(ptr, new, layout.size() as u64, new_size as u64);
        }
        new
    }
}
