//! Stack capture for a sample: the frame-pointer chain when the program
//! keeps one, else the unwinder.
//!
//! A program built with frame pointers (`-C force-frame-pointers=yes`;
//! Rust's standard library keeps them already) links each frame to its
//! caller's: the walk reads two words per frame, a few hundred instructions
//! for a whole stack. Without them the unwinder reads the binary's unwind
//! tables, tens of thousands of instructions per stack. Which one a
//! program gets is decided once, when sampling first starts: a probe walks
//! the chain of two functions of this crate and checks that it finds them
//! (frame pointers are a whole-build setting). `HEAPMETER_STACK_WALK=unwinder`
//! in the environment forces the unwinder.
//!
//! The walk never reads outside the calling thread's stack (found once per
//! thread with `pthread_getattr_np`, its own allocations uncounted), so a
//! frame of code built without frame pointers ends it instead of
//! faulting.

use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// Frames kept per sampled stack (the innermost ones).
pub(crate) const MAX_FRAMES: usize = 48;

/// A thread's stack: `lo..hi`; empty when unknown.
#[derive(Clone, Copy, Debug)]
pub(super) struct StackBounds {
    pub(super) lo: usize,
    pub(super) hi: usize,
}

impl StackBounds {
    /// No stack known: the walk finds nothing.
    pub(super) const NONE: StackBounds = StackBounds { lo: 0, hi: 0 };
}

const UNKNOWN: u8 = 0;
const FRAME_POINTERS: u8 = 1;
const UNWINDER: u8 = 2;

/// How samples capture stacks, decided by [`configure`].
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether samples walk frame pointers.
#[inline]
pub(super) fn walks_frame_pointers() -> bool {
    MODE.load(Relaxed) == FRAME_POINTERS
}

/// Decides once how samples capture stacks. Called outside the allocator.
pub(super) fn configure() {
    if MODE.load(Relaxed) != UNKNOWN {
        return;
    }
    let forced = std::env::var_os("HEAPMETER_STACK_WALK").is_some_and(|v| v == "unwinder");
    let mode = if !forced && probe_outer(thread_stack()) {
        FRAME_POINTERS
    } else {
        UNWINDER
    };
    MODE.store(mode, Relaxed);
}

/// How stacks are captured: `"frame pointers"`, `"unwinder"`, or
/// `"not decided"` before sampling first started.
pub(crate) fn method() -> &'static str {
    match MODE.load(Relaxed) {
        FRAME_POINTERS => "frame pointers",
        UNWINDER => "unwinder",
        _ => "not decided",
    }
}

#[inline(never)]
fn probe_outer(bounds: StackBounds) -> bool {
    let outer = probe_outer as fn(StackBounds) -> bool as usize;
    std::hint::black_box(probe_inner(bounds, outer))
}

/// True when the walk from here finds this function, then `outer`.
#[inline(never)]
fn probe_inner(bounds: StackBounds, outer: usize) -> bool {
    let inner = probe_inner as fn(StackBounds, usize) -> bool as usize;
    let mut frames = [0usize; 2];
    let n = walk(&mut frames, bounds);
    let within = |ret: usize, start: usize| ret > start && ret - start < 512;
    n == 2 && within(frames[0], inner) && within(frames[1], outer)
}

/// Captures the calling thread's stack into `frames` (return addresses,
/// innermost first); returns the depth.
pub(super) fn capture(frames: &mut [usize; MAX_FRAMES], bounds: StackBounds) -> usize {
    if bounds.hi > bounds.lo {
        let n = walk(frames, bounds);
        if n >= 3 {
            return n;
        }
    }
    unwind(frames)
}

/// Follows the frame-pointer chain from this function's frame, within
/// `bounds`.
#[inline(never)]
fn walk(frames: &mut [usize], bounds: StackBounds) -> usize {
    let Some((mut fp, sp)) = registers() else {
        return 0;
    };
    let lo = bounds.lo.max(sp);
    let mut n = 0;
    while n < frames.len() {
        let inside = fp >= lo && fp % 8 == 0 && fp.checked_add(16).is_some_and(|e| e <= bounds.hi);
        if !inside {
            break;
        }
        let record = fp as *const usize;
        // SAFETY: the two words at `fp` lie inside the calling thread's
        // stack, above its stack pointer: mapped and readable. Volatile
        // reads: they are another frame's words, not values of this one.
        let (next, ret) = unsafe {
            (
                core::ptr::read_volatile(record),
                core::ptr::read_volatile(record.add(1)),
            )
        };
        if ret == 0 {
            break;
        }
        frames[n] = ret;
        n += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    n
}

/// The frame pointer and the stack pointer of the calling function.
#[inline(always)]
fn registers() -> Option<(usize, usize)> {
    #[cfg(target_arch = "x86_64")]
    {
        let (fp, sp): (usize, usize);
        // SAFETY: reads two registers; no memory, stack or flags touched.
        unsafe {
            core::arch::asm!(
                "mov {fp}, rbp",
                "mov {sp}, rsp",
                fp = out(reg) fp,
                sp = out(reg) sp,
                options(nomem, nostack, preserves_flags)
            );
        }
        Some((fp, sp))
    }
    #[cfg(target_arch = "aarch64")]
    {
        let (fp, sp): (usize, usize);
        // SAFETY: reads two registers; no memory, stack or flags touched.
        unsafe {
            core::arch::asm!(
                "mov {fp}, x29",
                "mov {sp}, sp",
                fp = out(reg) fp,
                sp = out(reg) sp,
                options(nomem, nostack, preserves_flags)
            );
        }
        Some((fp, sp))
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        None
    }
}

/// The calling thread's stack. glibc's `pthread_getattr_np` allocates (it
/// reads `/proc/self/maps` for the main thread): those calls run
/// uncounted.
pub(super) fn thread_stack() -> StackBounds {
    #[cfg(target_os = "linux")]
    {
        super::slot::uncounted(|| {
            let mut attr = core::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
            // SAFETY: `attr` is initialised by a successful
            // `pthread_getattr_np` before it is read, and destroyed once.
            unsafe {
                if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
                    return StackBounds::NONE;
                }
                let mut addr: *mut libc::c_void = core::ptr::null_mut();
                let mut size: libc::size_t = 0;
                let found = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0;
                libc::pthread_attr_destroy(attr.as_mut_ptr());
                if !found {
                    return StackBounds::NONE;
                }
                StackBounds {
                    lo: addr as usize,
                    hi: (addr as usize).saturating_add(size),
                }
            }
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        StackBounds::NONE
    }
}

/// The unwinder's capture.
fn unwind(frames: &mut [usize; MAX_FRAMES]) -> usize {
    let mut n = 0;
    // SAFETY: `trace_unsynchronized` is unsafe only because it does not
    // take backtrace's global lock (which `trace` would take, and which a
    // thread resolving symbols may hold while it allocates: a deadlock).
    // On the unix unwinder it walks this thread's own stack and does not
    // allocate through the global allocator; the callback only writes into
    // the fixed buffer and never panics.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            frames[n] = frame.ip() as usize;
            n += 1;
            n < MAX_FRAMES
        });
    }
    n
}
