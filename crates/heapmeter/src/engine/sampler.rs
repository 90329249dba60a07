//! Heap sampling inside the allocator: the per-thread countdown over
//! allocated bytes, and the switch that turns it on and off.
//!
//! Each thread walks its own stream of allocated bytes and takes a sample
//! where an exponentially distributed countdown runs out (see
//! `crate::sampling` for the statistics). The countdown *is* the slot's
//! byte counter against the next sampling point, folded into the slot's
//! trigger: between samples it costs nothing beyond counting.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::*};

use super::stack::{self, StackBounds};
use super::switches::{self, HOOK_SAMPLES};
use super::table;

/// What the slow path reports to the sampler.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// A new block.
    Alloc {
        /// Its address.
        ptr: *mut u8,
    },
    /// A block grew in place or moved (its sample, if it had one, follows
    /// it in the table; the growth is sampled like an allocation of that
    /// many bytes, for the allocated view).
    Grow,
}

/// Mean sampling interval in bytes; 0 while sampling is off.
static INTERVAL: AtomicU64 = AtomicU64::new(0);
/// Bumped by every start and stop: threads reseed and redraw when they see
/// a new value.
static CONFIG_EPOCH: AtomicU64 = AtomicU64::new(1);
/// Seed of the per-thread generators (mixed with the slot's index).
static SEED: AtomicU64 = AtomicU64::new(0x853C_49E6_748F_EA9B);

/// One thread's sampling state, kept in its slot and written only by the
/// owning thread.
pub(crate) struct ThreadSampling {
    /// Slot byte count at which the next sample is due (`u64::MAX`: never).
    next: AtomicU64,
    /// xorshift64* state.
    rng: AtomicU64,
    /// The `CONFIG_EPOCH` the thread last drew under.
    epoch: AtomicU64,
    /// The slot's index, mixed into the seed.
    index: AtomicU32,
    /// Nonzero while the thread must not sample (taking a sample, or
    /// inside `crate::sampling::paused`).
    paused: AtomicU32,
    /// The thread's stack, for the frame-pointer walk (found at the first
    /// sample that walks; `hi == 0` until then).
    stack_lo: AtomicUsize,
    stack_hi: AtomicUsize,
}

impl ThreadSampling {
    pub(super) const fn new() -> ThreadSampling {
        ThreadSampling {
            next: AtomicU64::new(u64::MAX),
            rng: AtomicU64::new(1),
            epoch: AtomicU64::new(0),
            index: AtomicU32::new(0),
            paused: AtomicU32::new(0),
            stack_lo: AtomicUsize::new(0),
            stack_hi: AtomicUsize::new(0),
        }
    }

    /// The slot at `index` was just claimed by the calling thread.
    pub(super) fn claimed(&self, index: usize) {
        self.index.store(index as u32, Relaxed);
        self.epoch.store(0, Relaxed);
        self.paused.store(0, Relaxed);
        self.next.store(0, Relaxed);
        self.stack_hi.store(0, Relaxed);
    }

    /// The byte count at which the next sample is due.
    #[inline]
    pub(super) fn next_sample_at(&self) -> u64 {
        self.next.load(Relaxed)
    }

    pub(crate) fn pause(&self) {
        self.paused.store(self.paused.load(Relaxed) + 1, Relaxed);
    }

    pub(crate) fn resume(&self) {
        self.paused
            .store(self.paused.load(Relaxed).saturating_sub(1), Relaxed);
    }

    /// Draws the distance to the next sample: exponential with mean
    /// `interval` bytes (0 for an interval of 1: every allocation).
    fn draw(&self, interval: u64) -> u64 {
        if interval <= 1 {
            return 0;
        }
        let mut x = self.rng.load(Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Relaxed);
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        // u in (0, 1]: ln(u) is finite.
        let u = (bits + 1) as f64 / (1u64 << 53) as f64;
        (-u.ln() * interval as f64) as u64
    }

    /// The slot's byte count reached its trigger at `allocated`, after
    /// growing by `grown`: take a sample if one is due (labelled `label`),
    /// and draw the next sampling point.
    pub(super) fn on_trigger(&self, label: u16, allocated: u64, grown: u64, event: Event) {
        let epoch = CONFIG_EPOCH.load(Acquire);
        let interval = INTERVAL.load(Acquire);
        if self.epoch.load(Relaxed) != epoch {
            // Sampling was switched: a fresh stream starts with this
            // allocation's first byte.
            self.epoch.store(epoch, Relaxed);
            let index = u64::from(self.index.load(Relaxed));
            self.rng.store(
                splitmix(SEED.load(Relaxed) ^ splitmix(index + 1)) | 1,
                Relaxed,
            );
            self.next.store(
                if interval == 0 {
                    u64::MAX
                } else {
                    allocated
                        .wrapping_sub(grown)
                        .saturating_add(self.draw(interval))
                },
                Relaxed,
            );
        }
        if interval == 0 || allocated < self.next.load(Relaxed) {
            return;
        }
        if self.paused.load(Relaxed) == 0 {
            self.pause();
            let bounds = self.stack_bounds();
            table::record(interval, epoch, grown, label, event, bounds);
            self.resume();
        }
        self.next
            .store(allocated.saturating_add(self.draw(interval)), Relaxed);
    }

    /// The thread's stack bounds for the frame-pointer walk, found once.
    fn stack_bounds(&self) -> StackBounds {
        if !stack::walks_frame_pointers() {
            return StackBounds::NONE;
        }
        if self.stack_hi.load(Relaxed) == 0 {
            let b = stack::thread_stack();
            self.stack_lo.store(b.lo, Relaxed);
            // NOTE: a thread whose stack could not be found keeps `hi` at 1
            // (an empty range): it is not asked again, and uses the unwinder.
            self.stack_hi.store(b.hi.max(1), Relaxed);
        }
        StackBounds {
            lo: self.stack_lo.load(Relaxed),
            hi: self.stack_hi.load(Relaxed),
        }
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The unbiasing weight of a sample of `size` bytes at a mean interval of
/// `interval` bytes: the inverse of the probability that a Poisson process
/// over bytes samples it, `1 / (1 − e^(−size/interval))`. Exactly 1 at an
/// interval of 1 (every allocation is sampled).
pub(super) fn weight(size: u64, interval: u64) -> f64 {
    if interval <= 1 || size == 0 {
        return 1.0;
    }
    let p = -(-(size as f64) / interval as f64).exp_m1();
    1.0 / p
}

/// Starts sampling at a mean interval of `interval` bytes, with `seed` if
/// given. Called outside the allocator: it may allocate (once, to learn
/// whether the program keeps frame pointers).
pub(crate) fn start(interval: u64, seed: Option<u64>) {
    stack::configure();
    if let Some(seed) = seed {
        SEED.store(seed, Relaxed);
    }
    INTERVAL.store(interval, Release);
    CONFIG_EPOCH.fetch_add(1, AcqRel);
    switches::set_hook(HOOK_SAMPLES, true);
    switches::wake_all();
}

/// Stops taking samples; live samples stay until their blocks are freed
/// or [`table::clear`] forgets them.
pub(crate) fn stop() {
    INTERVAL.store(0, Release);
    CONFIG_EPOCH.fetch_add(1, AcqRel);
    switches::wake_all();
}

/// The mean interval, 0 while off.
pub(crate) fn interval() -> u64 {
    INTERVAL.load(Acquire)
}

/// Whether a sample drawn under `epoch` may still be recorded (sampling
/// was not switched since).
pub(super) fn still_on(epoch: u64) -> bool {
    INTERVAL.load(Acquire) != 0 && CONFIG_EPOCH.load(Acquire) == epoch
}
