//! [`ProfilingSwitch`]: the system allocator, or dhat's profiling allocator
//! once `heaplab profile` asks for it.
//!
//! dhat records heap blocks only through its own global allocator,
//! `dhat::Alloc`, and that allocator takes a global lock on every call, even
//! when no profiler runs. Making it the binary's allocator would slow down
//! `replay` and `compare`, which never profile. So the binary installs
//!
//! ```text
//! #[global_allocator]
//! static GLOBAL: heapmeter::CountingAlloc<ProfilingSwitch> = ...;
//!
//! CountingAlloc ──▶ ProfilingSwitch ──ON == false──▶ std::alloc::System
//!                                   └─ON == true───▶ dhat::Alloc ──▶ System
//! ```
//!
//! and `profile` calls [`ProfilingSwitch::turn_on`] once, before it starts the
//! profiler. The switch is never turned off.
//!
//! PERF: while off, each call costs one relaxed load of a static and a
//! predictable branch on top of `System`.
//!
//! # Why switching at run time is sound
//!
//! A block may be allocated while the switch is off and freed or resized
//! after it is on, so `dhat::Alloc` sees pointers that `System` handed out.
//! That is fine because `dhat::Alloc` is itself a thin layer over `System`:
//! every call forwards to `System` with the same pointer and layout, and it
//! only updates its records on the side. It ignores a free of a block it did
//! not record, and treats a resize of such a block as a new allocation
//! (both cases are documented in its source: "it must have been allocated
//! before [the profiler] was set up"). The reverse (a dhat block freed by
//! `System` directly) cannot happen, since the switch never goes back off.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether calls go to `dhat::Alloc` (true) or straight to `System`.
static ON: AtomicBool = AtomicBool::new(false);

/// A global allocator that forwards to [`System`] until
/// [`turn_on`](ProfilingSwitch::turn_on) is called, and to `dhat::Alloc`
/// from then on (see the [module documentation](self)).
#[derive(Debug, Default, Clone, Copy)]
pub struct ProfilingSwitch;

impl ProfilingSwitch {
    /// The switch, off; usable in a `static`.
    pub const fn new() -> ProfilingSwitch {
        ProfilingSwitch
    }

    /// Routes every later allocation through `dhat::Alloc`, for good. Call it
    /// before starting a `dhat::Profiler`.
    pub fn turn_on() {
        ON.store(true, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System` or to
// `dhat::Alloc`, both of which uphold the `GlobalAlloc` contract, and
// `dhat::Alloc` serves and frees every block through `System` itself, so a
// block allocated by either path may be freed or resized by the other (see
// the module documentation).
unsafe impl GlobalAlloc for ProfilingSwitch {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            // SAFETY: the caller upholds `alloc`'s contract for `layout`.
            unsafe { dhat::Alloc.alloc(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            // SAFETY: the caller upholds `alloc_zeroed`'s contract for
            // `layout`. dhat::Alloc has no `alloc_zeroed` of its own: the
            // trait's default calls its `alloc` and zeroes the block.
            unsafe { dhat::Alloc.alloc_zeroed(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Ordering::Relaxed) {
            // SAFETY: `ptr` was allocated with `layout` by this allocator,
            // i.e. by `System` directly or through dhat::Alloc (which uses
            // `System`); dhat::Alloc frees it through `System` and ignores
            // blocks it did not record.
            unsafe { dhat::Alloc.dealloc(ptr, layout) }
        } else {
            // SAFETY: `ptr` came from `System` (the switch was never on, so
            // nothing went through dhat), with `layout`.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            // SAFETY: as for `dealloc`; dhat::Alloc resizes through `System`
            // and records an unknown block as a new one.
            unsafe { dhat::Alloc.realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: `ptr` came from `System` with `layout`; the caller
            // upholds `realloc`'s contract for `new_size`.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}
