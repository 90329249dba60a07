//! Thread slots: every counting thread's monotonic tallies, written only by
//! that thread, readable by all (the design is told on
//! [`CountingAlloc`](super::CountingAlloc)).

use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{
    fence, AtomicBool, AtomicI64, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
    Ordering::*,
};

use super::sampler::ThreadSampling;
use super::switches::{self, HOOK_ELSEWHERE, HOOK_PEAK};

/// Number of thread slots. Threads beyond it count into the shared overflow
/// slot (exact, but contended); `measure` on such a thread panics.
pub(crate) const SLOTS: usize = 256;

/// The most an allocation may count before the inner allocator has served
/// it: allocations of this size or more, and one small allocation per this
/// many bytes, take the slow path, which calls the inner allocator first
/// and takes back the count of a refused (null) allocation.
pub(super) const FAST_PATH_BYTES: u64 = 256 * 1024;

/// The five counters of a slot, or a sum of slots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) allocs: u64,
    pub(crate) reallocs: u64,
    pub(crate) deallocs: u64,
    pub(crate) bytes_allocated: u64,
    pub(crate) bytes_deallocated: u64,
}

impl Counts {
    fn plus(self, o: Counts) -> Counts {
        Counts {
            allocs: self.allocs.wrapping_add(o.allocs),
            reallocs: self.reallocs.wrapping_add(o.reallocs),
            deallocs: self.deallocs.wrapping_add(o.deallocs),
            bytes_allocated: self.bytes_allocated.wrapping_add(o.bytes_allocated),
            bytes_deallocated: self.bytes_deallocated.wrapping_add(o.bytes_deallocated),
        }
    }
}

/// One thread's monotonic tallies. Aligned to two cache lines so that
/// neighbouring slots never share a line (adjacent-line prefetch included);
/// the fields every call touches come first.
#[repr(C, align(128))]
pub(crate) struct Slot {
    pub(super) allocs: AtomicU64,
    pub(super) deallocs: AtomicU64,
    pub(super) bytes_allocated: AtomicU64,
    pub(super) bytes_deallocated: AtomicU64,
    /// Allocations take the slow path once `bytes_allocated` reaches this:
    /// 0 while every allocation must (process tracking, a stand-in slot),
    /// else the next sampling point or [`FAST_PATH_BYTES`] ahead, the
    /// nearer.
    pub(super) trigger: AtomicU64,
    /// What a free must do beside counting (`HOOK_*` bits): the switches
    /// write the global bits of every slot, the owner its `HOOK_PEAK`, all
    /// with atomic read-modify-writes.
    pub(super) hooks: AtomicU8,
    pub(super) reallocs: AtomicU64,
    /// The highest live bytes seen at a free since the innermost open peak
    /// window began (see [`Slot::open_window`]).
    peak_net: AtomicI64,
    /// Open peak windows on the owning thread.
    windows: AtomicU32,
    /// The request label the owning thread is working for (0: none).
    label: AtomicU16,
    claimed: AtomicBool,
    /// The owning thread's sampling state.
    pub(super) sampling: ThreadSampling,
}

impl Slot {
    const fn new(hooks: u8) -> Slot {
        Slot {
            allocs: AtomicU64::new(0),
            deallocs: AtomicU64::new(0),
            bytes_allocated: AtomicU64::new(0),
            bytes_deallocated: AtomicU64::new(0),
            trigger: AtomicU64::new(0),
            hooks: AtomicU8::new(hooks),
            reallocs: AtomicU64::new(0),
            peak_net: AtomicI64::new(0),
            windows: AtomicU32::new(0),
            label: AtomicU16::new(0),
            claimed: AtomicBool::new(false),
            sampling: ThreadSampling::new(),
        }
    }

    /// Live bytes this slot accounts for: allocated minus freed (negative
    /// when it freed memory that other threads allocated).
    #[inline]
    pub(super) fn net(&self) -> i64 {
        self.bytes_allocated
            .load(Relaxed)
            .wrapping_sub(self.bytes_deallocated.load(Relaxed)) as i64
    }

    /// The slot's counters.
    #[inline]
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            allocs: self.allocs.load(Relaxed),
            reallocs: self.reallocs.load(Relaxed),
            deallocs: self.deallocs.load(Relaxed),
            bytes_allocated: self.bytes_allocated.load(Relaxed),
            bytes_deallocated: self.bytes_deallocated.load(Relaxed),
        }
    }

    /// Opens a peak window at the current live bytes; only the owning
    /// thread calls it. Returns what [`Slot::close_window`] needs.
    ///
    /// The peak is kept lazily: live bytes rise only at allocations and
    /// fall only at frees and shrinking reallocs, so their highest point in
    /// a window is where it opened, where it closes, or just before a free.
    /// While a window is open the slot's `HOOK_PEAK` bit sends frees to the
    /// slow path, which raises the peak to the live bytes before the free;
    /// allocations stay on the fast path.
    ///
    /// PERF: `measure_future` opens one around every poll: a load and a
    /// store per field, and one locked `or` for the outermost window only.
    #[inline]
    pub(crate) fn open_window(&self) -> (i64, i64) {
        let now = self.net();
        let depth = self.windows.load(Relaxed);
        self.windows.store(depth + 1, Relaxed);
        let outer = if depth == 0 {
            self.hooks.fetch_or(HOOK_PEAK, Relaxed);
            i64::MIN
        } else {
            // The enclosing window's peak so far, up to now.
            self.peak_net.load(Relaxed).max(now)
        };
        self.peak_net.store(now, Relaxed);
        (now, outer)
    }

    /// Closes a window opened at `start`: returns its peak above `start`,
    /// and folds it into the enclosing window's peak `outer`.
    #[inline]
    pub(crate) fn close_window(&self, (start, outer): (i64, i64)) -> u64 {
        let peak = self.peak_net.load(Relaxed).max(self.net());
        let depth = self.windows.load(Relaxed).saturating_sub(1);
        self.windows.store(depth, Relaxed);
        if depth == 0 {
            self.hooks.fetch_and(!HOOK_PEAK, Relaxed);
        }
        self.peak_net.store(peak.max(outer), Relaxed);
        peak.saturating_sub(start).max(0) as u64
    }

    /// Live bytes are about to fall from `before`: the open window's peak
    /// rises to it.
    #[inline]
    pub(super) fn peak_before_fall(&self, before: i64) {
        if before > self.peak_net.load(Relaxed) {
            self.peak_net.store(before, Relaxed);
        }
    }

    /// Sets the label of the owning thread's work; returns the previous.
    #[inline]
    pub(crate) fn swap_label(&self, label: u16) -> u16 {
        let previous = self.label.load(Relaxed);
        self.label.store(label, Relaxed);
        previous
    }

    /// The label of the owning thread's work.
    #[inline]
    pub(super) fn label(&self) -> u16 {
        self.label.load(Relaxed)
    }

    /// Recomputes the trigger from the slot's and the process's state.
    /// Only the owning thread calls it.
    ///
    /// NOTE: another thread may zero the trigger at any time (a switch
    /// turned on) and bumps `switches::EPOCH` first. Storing, then
    /// re-reading the epoch behind a `SeqCst` fence means that either this
    /// store comes before that zero in the trigger's modification order, or
    /// this thread sees the new epoch and zeroes the trigger itself: a
    /// switch is never missed.
    pub(super) fn rearm(&self) {
        loop {
            let epoch = switches::EPOCH.load(SeqCst);
            let trigger = if switches::every_allocation_hooked(self) {
                0
            } else {
                let ahead = self
                    .bytes_allocated
                    .load(Relaxed)
                    .saturating_add(FAST_PATH_BYTES);
                self.sampling.next_sample_at().min(ahead)
            };
            self.trigger.store(trigger, SeqCst);
            fence(SeqCst);
            if switches::EPOCH.load(SeqCst) == epoch {
                return;
            }
        }
    }
}

/// Adds `v` to a counter that only the current thread writes; returns the
/// new total.
///
/// PERF: a relaxed load and store compile to plain `mov`s (or one `add` to
/// memory when the total is not used); a `fetch_add` would be a
/// `lock xadd`, which is what makes shared-counter allocators several times
/// slower on more than one core.
#[inline(always)]
pub(super) fn bump(counter: &AtomicU64, v: u64) -> u64 {
    let new = counter.load(Relaxed).wrapping_add(v);
    counter.store(new, Relaxed);
    new
}

/// Takes `v` back from a counter that only the current thread writes.
#[inline(always)]
pub(super) fn unbump(counter: &AtomicU64, v: u64) {
    counter.store(counter.load(Relaxed).wrapping_sub(v), Relaxed);
}

static TABLE: [Slot; SLOTS] = [const { Slot::new(0) }; SLOTS];
/// Where threads that cannot own a slot count, with atomic
/// read-modify-writes.
pub(super) static OVERFLOW: Slot = Slot::new(0);
/// Where a thread without a slot points. Its zero trigger and its
/// `HOOK_ELSEWHERE` send every call to the slow path, which counts into the
/// thread's new slot or the overflow slot. Its own counters are written
/// racily by every such thread and never read.
///
/// PERF: pointing at a real slot instead of null saves a null check on
/// every call.
pub(super) static NO_SLOT: Slot = Slot::new(HOOK_ELSEWHERE);
/// Where a thread points while the engine itself, or a re-entrant inner
/// allocator, allocates on its behalf: every such call takes the slow path
/// and is forwarded uncounted (see [`uncounted`]).
pub(super) static UNCOUNTED: Slot = Slot::new(HOOK_ELSEWHERE);

/// Every slot a switch must reach: the table and the overflow slot.
pub(super) fn all_slots() -> impl Iterator<Item = &'static Slot> {
    TABLE.iter().chain([&OVERFLOW])
}

/// Set once a thread has claimed a slot: proof that `CountingAlloc` is the
/// global allocator of this process.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Where the next slot search starts, so that claims spread over the table.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

// Thread states while the thread has no slot pointer.
const UNCLAIMED: u8 = 0;
const CLAIMING: u8 = 1;
const CLAIMED: u8 = 2;
const EXITED: u8 = 3;
const FULL: u8 = 4;

thread_local! {
    /// The slot the thread counts into: its own, `NO_SLOT` while it has
    /// none (see `STATUS`), `UNCOUNTED` while a call is not the program's.
    static CURRENT: Cell<&'static Slot> = const { Cell::new(&NO_SLOT) };
    static STATUS: Cell<u8> = const { Cell::new(UNCLAIMED) };
    static RELEASE: SlotRelease = const { SlotRelease };
}

/// The slot the calling thread's calls count into right now.
#[inline(always)]
pub(super) fn current() -> &'static Slot {
    CURRENT.get()
}

/// Runs `f` with the calling thread's allocator calls forwarded without
/// being counted or sampled: for the engine's own allocations (a libc call
/// that allocates) and a re-entrant inner allocator's.
#[inline]
pub(super) fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    let slot = CURRENT.replace(&UNCOUNTED);
    let r = f();
    CURRENT.set(slot);
    r
}

/// Hands the thread's slot back when the thread exits.
struct SlotRelease;

impl Drop for SlotRelease {
    fn drop(&mut self) {
        // NOTE: from here on this thread counts into OVERFLOW: memory freed
        // by later thread-local destructors is still counted.
        let slot = CURRENT.replace(&NO_SLOT);
        STATUS.set(EXITED);
        if ptr::addr_eq(slot, &UNCOUNTED) {
            return;
        }
        if !ptr::addr_eq(slot, &NO_SLOT) {
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
            // A slot of an exited thread: its windows and label were the
            // old owner's.
            slot.hooks.fetch_and(!HOOK_PEAK, Relaxed);
            slot.windows.store(0, Relaxed);
            slot.label.store(0, Relaxed);
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
/// thread whose table was full tries again). `None` if it cannot own one,
/// or while its calls are uncounted.
///
/// NOTE: it claims only once `CountingAlloc` has served some thread: a
/// slot claimed here in a process whose global allocator is another would
/// count nothing, and `measure` would report zeros instead of saying so.
#[inline]
pub(crate) fn current_slot() -> Option<&'static Slot> {
    let slot = CURRENT.get();
    if slot.hooks.load(Relaxed) & HOOK_ELSEWHERE == 0 {
        return Some(slot);
    }
    if ptr::addr_eq(slot, &UNCOUNTED) {
        return None;
    }
    match STATUS.get() {
        UNCLAIMED | FULL if installed() => claim(),
        _ => None,
    }
}

/// The slot a call that found a stand-in counts into: `None` for an
/// uncounted call; an unclaimed thread claims one (a full table is not
/// searched on every call); the overflow slot otherwise.
#[cold]
pub(super) fn slot_for_call(stand_in: &'static Slot) -> Option<&'static Slot> {
    if ptr::addr_eq(stand_in, &UNCOUNTED) {
        return None;
    }
    Some(match STATUS.get() {
        UNCLAIMED => claim().unwrap_or(&OVERFLOW),
        _ => &OVERFLOW,
    })
}

/// Whether `CountingAlloc` has served any thread of this process.
pub(crate) fn installed() -> bool {
    INSTALLED.load(Relaxed)
}

/// Sum of every slot: the process-wide totals since start.
pub(crate) fn sum_slots() -> Counts {
    all_slots().fold(Counts::default(), |sum, slot| sum.plus(slot.counts()))
}

/// Whether `slot` is the shared overflow slot (counted with atomic
/// read-modify-writes).
#[inline]
pub(super) fn is_overflow(slot: &Slot) -> bool {
    ptr::addr_eq(slot, &OVERFLOW)
}
