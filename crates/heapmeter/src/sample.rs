//! Heap sampling inside the allocator: the per-thread countdown, the stack
//! capture and the static tables of sampled stacks and live sampled blocks.
//!
//! Everything here runs inside `GlobalAlloc` calls, so it never allocates:
//! the tables are fixed-size statics behind one spin lock that is held only
//! for table operations (no allocation, no backtrace, no call into the inner
//! allocator while it is held), so nothing can re-enter it.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering::*};

use crate::alloc::Slot;

/// What the allocator reports to the sampler.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    /// A new block.
    Alloc {
        /// Its address.
        ptr: *mut u8,
    },
    /// A block moved or resized.
    Realloc {
        /// The old address.
        old_ptr: *mut u8,
        /// The new address.
        new_ptr: *mut u8,
        /// The new size, in bytes.
        new_size: u64,
    },
}

/// Frames kept per sampled stack (the innermost ones).
pub(crate) const MAX_FRAMES: usize = 48;
/// Distinct sampled stacks the table holds.
const STACKS: usize = 4096;
/// Live sampled blocks the table holds.
const LIVE: usize = 1 << 16;
/// Counters of the free filter.
const FILTER: usize = 1 << 16;

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
    /// Nonzero while the thread must not sample (capturing a stack, or
    /// inside [`crate::sampling::paused`]).
    paused: AtomicU32,
}

impl ThreadSampling {
    pub(crate) const fn new() -> ThreadSampling {
        ThreadSampling {
            next: AtomicU64::new(u64::MAX),
            rng: AtomicU64::new(1),
            epoch: AtomicU64::new(0),
            index: AtomicU32::new(0),
            paused: AtomicU32::new(0),
        }
    }

    /// The slot at `index` was just claimed by the calling thread.
    pub(crate) fn claimed(&self, index: usize) {
        self.index.store(index as u32, Relaxed);
        self.epoch.store(0, Relaxed);
        self.paused.store(0, Relaxed);
        self.next.store(0, Relaxed);
    }

    /// The byte count at which the next sample is due.
    #[inline]
    pub(crate) fn next_sample_at(&self) -> u64 {
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

    /// The slot's byte count reached its trigger: take a sample if one is
    /// due, and draw the next sampling point.
    pub(crate) fn on_trigger(&self, slot: &Slot, allocated: u64, grown: u64, event: Event) {
        if let Event::Realloc { .. } = event {
            on_realloc_move(event);
        }
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
            record(interval, grown, event);
            self.resume();
        }
        self.next
            .store(allocated.saturating_add(self.draw(interval)), Relaxed);
        let _ = slot;
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
pub(crate) fn weight(size: u64, interval: u64) -> f64 {
    if interval <= 1 || size == 0 {
        return 1.0;
    }
    let p = -(-(size as f64) / interval as f64).exp_m1();
    1.0 / p
}

/// A sampled stack and the allocations sampled at it.
#[derive(Clone, Copy)]
struct StackEntry {
    /// Hash of the frames; 0 for an empty entry.
    hash: u64,
    depth: u32,
    frames: [usize; MAX_FRAMES],
    /// Raw samples taken at this stack.
    samples: u64,
    /// Estimated allocations (sum of weights).
    alloc_objects: f64,
    /// Estimated bytes allocated (sum of weight · size).
    alloc_space: f64,
}

impl StackEntry {
    const EMPTY: StackEntry = StackEntry {
        hash: 0,
        depth: 0,
        frames: [0; MAX_FRAMES],
        samples: 0,
        alloc_objects: 0.0,
        alloc_space: 0.0,
    };
}

/// A live sampled block.
#[derive(Clone, Copy)]
struct LiveEntry {
    /// Its address; 0 for an empty entry.
    addr: usize,
    size: u64,
    stack: u32,
    weight: f64,
}

impl LiveEntry {
    const EMPTY: LiveEntry = LiveEntry {
        addr: 0,
        size: 0,
        stack: 0,
        weight: 0.0,
    };
}

struct Tables {
    stacks: [StackEntry; STACKS],
    stack_count: usize,
    live: [LiveEntry; LIVE],
    live_count: usize,
    /// Samples not recorded because a table was full.
    dropped: u64,
}

/// The tables behind [`LOCK`].
struct Locked(UnsafeCell<Tables>);

// SAFETY: the tables are only reached through `lock()`, which gives one
// thread at a time exclusive access.
unsafe impl Sync for Locked {}

static TABLES: Locked = Locked(UnsafeCell::new(Tables {
    stacks: [StackEntry::EMPTY; STACKS],
    stack_count: 0,
    live: [LiveEntry::EMPTY; LIVE],
    live_count: 0,
    dropped: 0,
}));
static LOCK: AtomicBool = AtomicBool::new(false);
/// Counts of live sampled blocks per address hash: a free whose counter is
/// zero did not free a sampled block and skips the lock.
static FILTER_COUNTS: [AtomicU16; FILTER] = [const { AtomicU16::new(0) }; FILTER];

/// Exclusive access to the tables while it lives.
struct Guard;

impl Guard {
    fn tables(&mut self) -> &mut Tables {
        // SAFETY: holding the guard means holding LOCK, so no other
        // reference to the tables exists; `&mut self` ties the borrow to it.
        unsafe { &mut *TABLES.0.get() }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        LOCK.store(false, Release);
    }
}

/// Takes the spin lock. NOTE: the holder never allocates, captures a stack
/// or calls the inner allocator, so no holder ever waits for anything and
/// the lock cannot deadlock; waiting yields the CPU after a short spin.
fn lock() -> Guard {
    let mut spins = 0u32;
    while LOCK
        .compare_exchange_weak(false, true, Acquire, Relaxed)
        .is_err()
    {
        spins = spins.saturating_add(1);
        if spins < 64 {
            core::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    Guard
}

#[inline(always)]
fn addr_hash(addr: usize) -> usize {
    ((addr as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

#[inline(always)]
fn filter_slot(addr: usize) -> &'static AtomicU16 {
    &FILTER_COUNTS[addr_hash(addr) % FILTER]
}

fn stack_hash(frames: &[usize]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &f in frames {
        h = (h.rotate_left(5) ^ f as u64).wrapping_mul(0x0100_0000_01B3);
    }
    h | 1
}

/// Captures the calling thread's stack into `frames`; returns the depth.
fn capture(frames: &mut [usize; MAX_FRAMES]) -> usize {
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

/// Records one sample of `size` bytes (an allocation, or a realloc's
/// growth) with the calling thread's stack.
#[cold]
#[inline(never)]
fn record(interval: u64, size: u64, event: Event) {
    let mut frames = [0usize; MAX_FRAMES];
    let depth = capture(&mut frames);
    let w = weight(size, interval);
    let mut guard = lock();
    let t = guard.tables();
    let Some(stack) = intern(t, &frames[..depth]) else {
        t.dropped += 1;
        return;
    };
    let entry = &mut t.stacks[stack];
    entry.samples += 1;
    entry.alloc_space += w * size as f64;
    if let Event::Alloc { ptr } = event {
        entry.alloc_objects += w;
        insert_live(
            t,
            LiveEntry {
                addr: ptr as usize,
                size,
                stack: stack as u32,
                weight: w,
            },
        );
    }
}

/// The index of `frames` in the stack table, added if new; `None` when the
/// table is full.
fn intern(t: &mut Tables, frames: &[usize]) -> Option<usize> {
    let hash = stack_hash(frames);
    let mut i = hash as usize % STACKS;
    for _ in 0..STACKS {
        let e = &t.stacks[i];
        if e.hash == 0 {
            if t.stack_count * 4 >= STACKS * 3 {
                return None;
            }
            let e = &mut t.stacks[i];
            e.hash = hash;
            e.depth = frames.len() as u32;
            e.frames[..frames.len()].copy_from_slice(frames);
            t.stack_count += 1;
            return Some(i);
        }
        if e.hash == hash && &e.frames[..e.depth as usize] == frames {
            return Some(i);
        }
        i = (i + 1) % STACKS;
    }
    None
}

fn insert_live(t: &mut Tables, entry: LiveEntry) {
    if t.live_count * 4 >= LIVE * 3 {
        t.dropped += 1;
        return;
    }
    let mut i = addr_hash(entry.addr) % LIVE;
    while t.live[i].addr != 0 {
        i = (i + 1) % LIVE;
    }
    t.live[i] = entry;
    t.live_count += 1;
    filter_slot(entry.addr).fetch_add(1, Relaxed);
}

/// Removes the live entry of `addr`, if any, and returns it.
fn remove_live(t: &mut Tables, addr: usize) -> Option<LiveEntry> {
    let mut i = addr_hash(addr) % LIVE;
    loop {
        let e = t.live[i];
        if e.addr == 0 {
            return None;
        }
        if e.addr == addr {
            break;
        }
        i = (i + 1) % LIVE;
    }
    let found = t.live[i];
    // Backward-shift deletion keeps linear probing free of tombstones.
    let mut hole = i;
    let mut j = (i + 1) % LIVE;
    while t.live[j].addr != 0 {
        let home = addr_hash(t.live[j].addr) % LIVE;
        let dist_j = (j + LIVE - home) % LIVE;
        let dist_hole = (hole + LIVE - home) % LIVE;
        if dist_hole <= dist_j {
            t.live[hole] = t.live[j];
            hole = j;
        }
        j = (j + 1) % LIVE;
    }
    t.live[hole] = LiveEntry::EMPTY;
    t.live_count -= 1;
    filter_slot(addr).fetch_sub(1, Relaxed);
    Some(found)
}

/// Whether the block at `ptr` may have been sampled (no false negatives).
#[inline(always)]
pub(crate) fn maybe_sampled(ptr: *mut u8) -> bool {
    filter_slot(ptr as usize).load(Relaxed) != 0
}

/// A block at `ptr` is being freed: forget its sample, if it had one.
#[inline]
pub(crate) fn on_free(ptr: *mut u8) {
    if !maybe_sampled(ptr) {
        return;
    }
    let mut guard = lock();
    remove_live(guard.tables(), ptr as usize);
}

/// A block was resized: a sampled block keeps its sample (same stack, same
/// weight, the new address and size).
pub(crate) fn on_realloc_move(event: Event) {
    let Event::Realloc {
        old_ptr,
        new_ptr,
        new_size,
    } = event
    else {
        return;
    };
    if filter_slot(old_ptr as usize).load(Relaxed) == 0 {
        return;
    }
    let mut guard = lock();
    let t = guard.tables();
    if let Some(mut e) = remove_live(t, old_ptr as usize) {
        e.addr = new_ptr as usize;
        e.size = new_size;
        insert_live(t, e);
    }
}

// ---- control and snapshots, for `crate::sampling` ----

/// Starts sampling at a mean interval of `interval` bytes with `seed`.
pub(crate) fn start(interval: u64, seed: Option<u64>) {
    if let Some(seed) = seed {
        SEED.store(seed, Relaxed);
    }
    INTERVAL.store(interval, Release);
    CONFIG_EPOCH.fetch_add(1, AcqRel);
    crate::alloc::set_free_hook(crate::alloc::HOOK_SAMPLES, true);
    crate::alloc::wake_all_slots();
}

/// Stops taking samples; live samples stay until their blocks are freed.
pub(crate) fn stop() {
    INTERVAL.store(0, Release);
    CONFIG_EPOCH.fetch_add(1, AcqRel);
    crate::alloc::wake_all_slots();
}

/// The mean interval, 0 while off.
pub(crate) fn interval() -> u64 {
    INTERVAL.load(Acquire)
}

/// Forgets every sample. Blocks that were sampled are then freed as
/// unsampled ones.
pub(crate) fn clear() {
    let mut guard = lock();
    let t = guard.tables();
    for e in t.live.iter_mut() {
        if e.addr != 0 {
            filter_slot(e.addr).fetch_sub(1, Relaxed);
            *e = LiveEntry::EMPTY;
        }
    }
    t.live_count = 0;
    for e in t.stacks.iter_mut() {
        *e = StackEntry::EMPTY;
    }
    t.stack_count = 0;
    t.dropped = 0;
}

/// One stack of a raw snapshot.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawStack {
    pub(crate) frames: Vec<usize>,
    pub(crate) samples: u64,
    pub(crate) alloc_objects: f64,
    pub(crate) alloc_space: f64,
    pub(crate) inuse_objects: f64,
    pub(crate) inuse_space: f64,
    /// Live sampled blocks (raw count).
    pub(crate) inuse_samples: u64,
}

#[derive(Clone)]
/// A copy of the tables: every sampled stack with its allocated and in-use
/// estimates; with `frames`, their frames too.
pub(crate) struct RawSnapshot {
    pub(crate) stacks: Vec<RawStack>,
    pub(crate) live_samples: u64,
    pub(crate) dropped: u64,
}

/// Copies the tables. Allocates only outside the lock, and the calling
/// thread's own allocations meanwhile are not sampled.
pub(crate) fn snapshot(with_frames: bool) -> RawSnapshot {
    let _pause = crate::sampling::PauseGuard::new();
    loop {
        let count = lock().tables().stack_count;
        let mut stacks: Vec<RawStack> = Vec::with_capacity(count + 16);
        let mut frames: Vec<usize> = Vec::with_capacity(if with_frames {
            (count + 16) * MAX_FRAMES
        } else {
            0
        });
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(count + 16);
        let mut index = vec![u32::MAX; 0];
        index.reserve_exact(STACKS);
        let (live_samples, dropped) = {
            let mut guard = lock();
            let t = guard.tables();
            if t.stack_count > count + 16 {
                continue;
            }
            index.resize(STACKS, u32::MAX);
            for (i, e) in t.stacks.iter().enumerate() {
                if e.hash == 0 {
                    continue;
                }
                index[i] = stacks.len() as u32;
                let start = frames.len();
                if with_frames {
                    frames.extend_from_slice(&e.frames[..e.depth as usize]);
                }
                ranges.push((start, frames.len()));
                stacks.push(RawStack {
                    frames: Vec::new(),
                    samples: e.samples,
                    alloc_objects: e.alloc_objects,
                    alloc_space: e.alloc_space,
                    ..RawStack::default()
                });
            }
            for e in t.live.iter().filter(|e| e.addr != 0) {
                let k = index[e.stack as usize];
                if let Some(s) = stacks.get_mut(k as usize) {
                    s.inuse_objects += e.weight;
                    s.inuse_space += e.weight * e.size as f64;
                    s.inuse_samples += 1;
                }
            }
            (t.live_count as u64, t.dropped)
        };
        for (s, (a, b)) in stacks.iter_mut().zip(ranges) {
            s.frames = frames[a..b].to_vec();
        }
        return RawSnapshot {
            stacks,
            live_samples,
            dropped,
        };
    }
}
