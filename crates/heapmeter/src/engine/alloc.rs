//! [`CountingAlloc`] and the fast paths of its `GlobalAlloc` methods.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::Ordering::Relaxed;
use std::alloc::System;

use super::hooks;
use super::slot::{self, bump, Slot};
use super::switches::{HOOK_PEAK, HOOK_SAMPLES};
use super::table;

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
/// ## The fast path
///
/// An allocation or a free is counted *before* the inner allocator is
/// called, so the call to it is the wrapper's last act (a jump, as in
/// `System`'s own wrappers) and no stack frame is needed. Everything that
/// is not counting hides behind one comparison per allocation and one per
/// free:
///
/// - an allocation compares the slot's byte counter with the slot's
///   *trigger*: the next sampling point, or 256 KiB ahead when that is
///   nearer, or zero while every allocation must be seen (the process-wide
///   live bytes of `measure_process`). Past it, the slow path calls the
///   inner allocator first, then samples, and takes the count back if the
///   allocation was refused. So a refused allocation of 256 KiB or more is
///   never counted; a smaller one that the inner allocator refuses (under
///   `RLIMIT_AS` or strict overcommit, say) stays counted, and Rust then
///   aborts the process unless the caller used `try_reserve`.
/// - a free reads the slot's hook bits: a peak window is open (the peak of
///   [`measure`](crate::measure) is kept at frees, see below), process
///   tracking is on, or sampling is on (then an inline check of a small
///   filter keyed by address tells whether the block may have been
///   sampled).
///
/// The peak of a scope needs no work at allocations: live bytes rise only
/// when memory is allocated and fall only when it is freed, so their
/// highest point is where the scope began, where it ended, or just before
/// one of its frees. A `realloc` calls the inner allocator first (it needs
/// the new address); a growing one takes the allocation's trigger, a
/// shrinking one is counted as freed bytes.
#[derive(Debug, Default)]
pub struct CountingAlloc<A = System> {
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
    /// are forwarded without being counted. Costs a thread-local pointer
    /// swapped around every call.
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

    /// Runs `call` on the inner allocator; a re-entrant one runs with the
    /// thread's calls uncounted, so that its own allocations are not the
    /// program's.
    #[inline(always)]
    fn forward<T>(&self, call: impl FnOnce() -> T) -> T {
        if self.reentrant {
            slot::uncounted(call)
        } else {
            call()
        }
    }
}

/// Counts an allocation of `size` bytes on `slot`; true when it must take
/// the slow path.
#[inline(always)]
fn count_alloc(slot: &Slot, size: u64) -> bool {
    bump(&slot.allocs, 1);
    let allocated = bump(&slot.bytes_allocated, size);
    allocated >= slot.trigger.load(Relaxed)
}

/// Whether a free (or a realloc) of the block at `ptr` needs the slow path
/// given the slot's hook bits `hooks`, `HOOK_PEAK` aside when `ignore` has
/// it.
///
/// PERF: with sampling on and nothing else to do, the filter check is
/// inline: a shift, a mask, a load and a branch.
#[inline(always)]
fn needs_hooks(hooks: u8, ignore: u8, ptr: *mut u8) -> bool {
    let hooks = hooks & !ignore;
    hooks != 0 && (hooks != HOOK_SAMPLES || table::maybe_sampled(ptr))
}

impl<A: GlobalAlloc> CountingAlloc<A> {
    /// The slow path of an allocation whose count reached the trigger.
    ///
    /// NOTE: its arguments start with the fast path's own (size, then
    /// alignment), so that reaching it shuffles no register on the fast
    /// path; it makes the inner call itself, so that the fast path needs
    /// no stack frame.
    ///
    /// # Safety
    ///
    /// `size` and `align` come from a `Layout` whose `alloc` (or
    /// `alloc_zeroed`) contract the caller upholds.
    #[cold]
    #[inline(never)]
    unsafe fn alloc_slow(
        size: usize,
        align: usize,
        slot: &'static Slot,
        this: &Self,
        zeroed: bool,
    ) -> *mut u8 {
        // SAFETY: `size` and `align` were a valid `Layout`'s.
        let layout = unsafe { Layout::from_size_align_unchecked(size, align) };
        let ptr = this.forward(|| {
            // SAFETY: the caller upholds the contract for `layout`.
            unsafe {
                if zeroed {
                    this.inner.alloc_zeroed(layout)
                } else {
                    this.inner.alloc(layout)
                }
            }
        });
        hooks::allocated(slot, size as u64, ptr);
        ptr
    }

    /// The slow path of a free whose hook bits `hooks` asked for more
    /// (arguments as [`alloc_slow`](Self::alloc_slow)'s, for the same
    /// reasons).
    ///
    /// # Safety
    ///
    /// As `dealloc`'s: `ptr` was allocated by this allocator with the
    /// layout of `size` and `align`.
    #[cold]
    #[inline(never)]
    unsafe fn dealloc_slow(
        ptr: *mut u8,
        size: usize,
        align: usize,
        slot: &'static Slot,
        hooks: u8,
        this: &Self,
    ) {
        hooks::freeing(slot, hooks, ptr, size as u64);
        // SAFETY: the caller's `dealloc` contract, for the same layout.
        this.forward(|| unsafe {
            this.inner
                .dealloc(ptr, Layout::from_size_align_unchecked(size, align))
        });
    }
}

// SAFETY: every method forwards the caller's arguments unchanged to the inner
// allocator, which upholds the `GlobalAlloc` contract; the bookkeeping around
// the call touches only atomics, const thread-locals and static tables, never
// allocates through the counted path and never unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let slot = slot::current();
        if count_alloc(slot, layout.size() as u64) {
            // SAFETY: the caller upholds `alloc`'s contract for `layout`.
            return unsafe { Self::alloc_slow(layout.size(), layout.align(), slot, self, false) };
        }
        // SAFETY: as above.
        self.forward(|| unsafe { self.inner.alloc(layout) })
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let slot = slot::current();
        if count_alloc(slot, layout.size() as u64) {
            // SAFETY: the caller upholds `alloc_zeroed`'s contract.
            return unsafe { Self::alloc_slow(layout.size(), layout.align(), slot, self, true) };
        }
        // SAFETY: as above.
        self.forward(|| unsafe { self.inner.alloc_zeroed(layout) })
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let slot = slot::current();
        let size = layout.size() as u64;
        bump(&slot.deallocs, 1);
        bump(&slot.bytes_deallocated, size);
        // NOTE: the hooks run before the inner free, while the block is
        // still this caller's: a sampled block's entry goes before another
        // thread can be handed the same address.
        let hooks = slot.hooks.load(Relaxed);
        if hooks != 0 {
            let slow = if hooks == HOOK_PEAK {
                slot.peak_before_fall(slot.net().wrapping_add(size as i64));
                false
            } else if hooks == HOOK_SAMPLES {
                table::maybe_sampled(ptr)
            } else {
                if hooks & HOOK_PEAK != 0 {
                    slot.peak_before_fall(slot.net().wrapping_add(size as i64));
                }
                needs_hooks(hooks, HOOK_PEAK, ptr)
            };
            if slow {
                // SAFETY: the caller guarantees `ptr` was allocated by this
                // allocator with `layout`.
                return unsafe {
                    Self::dealloc_slow(
                        ptr,
                        layout.size(),
                        layout.align(),
                        slot,
                        hooks & !HOOK_PEAK,
                        self,
                    )
                };
            }
        }
        // SAFETY: as above (hence by `inner`).
        self.forward(|| unsafe { self.inner.dealloc(ptr, layout) })
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let slot = slot::current();
        let (old, new) = (layout.size() as u64, new_size as u64);
        let hooks = slot.hooks.load(Relaxed);
        // A growth that stays before the trigger, of a block that was not
        // sampled, with nothing but a peak window to mind (growth cannot
        // make a peak fall): counted after the call, inline.
        let quiet = new > old
            && slot.bytes_allocated.load(Relaxed).wrapping_add(new - old)
                < slot.trigger.load(Relaxed)
            && !needs_hooks(hooks, HOOK_PEAK, ptr);
        if !quiet {
            return hooks::realloc(slot, ptr, old, new, || {
                // SAFETY: the caller upholds `realloc`'s contract; `inner`
                // allocated `ptr` with `layout`.
                self.forward(|| unsafe { self.inner.realloc(ptr, layout, new_size) })
            });
        }
        // SAFETY: as above.
        let moved = self.forward(|| unsafe { self.inner.realloc(ptr, layout, new_size) });
        if !moved.is_null() {
            bump(&slot.reallocs, 1);
            bump(&slot.bytes_allocated, new - old);
        }
        moved
    }
}
