//! The tables of sampled stacks and of live sampled blocks, and the filter
//! that lets a free skip them.
//!
//! Everything here that the allocator calls never allocates: the tables
//! are fixed-size statics behind one spin lock that is held only for table
//! operations (no allocation, no stack capture, no call into the inner
//! allocator while it is held), so nothing can re-enter it.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU16, Ordering::*};

use super::labels::{self, Pairs};
use super::sampler::{self, weight, Event};
use super::slot;
use super::stack::{self, StackBounds, MAX_FRAMES};
use super::switches::{self, HOOK_SAMPLES};

/// Distinct sampled stacks (with their labels) the table holds.
const STACKS: usize = 4096;
/// Live sampled blocks the table holds.
const LIVE: usize = 1 << 16;
/// Counters of the free filter.
const FILTER: usize = 1 << 16;

/// A sampled stack, its label, and the allocations sampled at it.
#[derive(Clone, Copy)]
struct StackEntry {
    /// Hash of the frames and the label; 0 for an empty entry.
    hash: u64,
    depth: u32,
    label: u16,
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
        label: 0,
        frames: [0; MAX_FRAMES],
        samples: 0,
        alloc_objects: 0.0,
        alloc_space: 0.0,
    };
}

/// A live sampled block.
#[derive(Clone, Copy, Debug)]
pub(super) struct LiveEntry {
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

    /// The same sample for the block resized to `size` bytes at `at`.
    pub(super) fn moved(self, at: *mut u8, size: u64) -> LiveEntry {
        LiveEntry {
            addr: at as usize,
            size,
            ..self
        }
    }
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
/// Counts of live sampled blocks per address bucket: a free whose counter
/// is zero did not free a sampled block and skips the lock.
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

/// The slot of the live table where the search for `addr` starts.
#[inline(always)]
fn live_home(addr: usize) -> usize {
    ((addr as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize % LIVE
}

/// The filter counter of `addr`: the address's 16-byte granule, modulo
/// the filter's size. Blocks handed out near each other never share one;
/// blocks a multiple of 1 MiB apart do, which costs only a lock and a
/// lookup on their free.
#[inline(always)]
fn filter_slot(addr: usize) -> &'static AtomicU16 {
    &FILTER_COUNTS[(addr >> 4) % FILTER]
}

/// Whether the block at `ptr` may have been sampled (no false negatives).
#[inline(always)]
pub(super) fn maybe_sampled(ptr: *mut u8) -> bool {
    filter_slot(ptr as usize).load(Relaxed) != 0
}

fn stack_hash(frames: &[usize], label: u16) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ u64::from(label);
    for &f in frames {
        h = (h.rotate_left(5) ^ f as u64).wrapping_mul(0x0100_0000_01B3);
    }
    h | 1
}

/// Records one sample of `size` bytes (an allocation, or a realloc's
/// growth) with the calling thread's stack, drawn under sampling epoch
/// `epoch`.
#[cold]
#[inline(never)]
pub(super) fn record(
    interval: u64,
    epoch: u64,
    size: u64,
    label: u16,
    event: Event,
    bounds: StackBounds,
) {
    let mut frames = [0usize; MAX_FRAMES];
    let depth = stack::capture(&mut frames, bounds);
    let w = weight(size, interval);
    let mut guard = lock();
    let t = guard.tables();
    if !sampler::still_on(epoch) {
        // Sampling was switched off (and the table perhaps cleared) while
        // this stack was captured.
        return;
    }
    let Some(stack) = intern(t, &frames[..depth], label) else {
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

/// The index of `frames` with `label` in the stack table, added if new;
/// `None` when the table is full.
fn intern(t: &mut Tables, frames: &[usize], label: u16) -> Option<usize> {
    let hash = stack_hash(frames, label);
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
            e.label = label;
            e.frames[..frames.len()].copy_from_slice(frames);
            t.stack_count += 1;
            return Some(i);
        }
        if e.hash == hash && e.label == label && &e.frames[..e.depth as usize] == frames {
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
    let mut i = live_home(entry.addr);
    while t.live[i].addr != 0 {
        i = (i + 1) % LIVE;
    }
    t.live[i] = entry;
    t.live_count += 1;
    filter_slot(entry.addr).fetch_add(1, Relaxed);
}

/// Removes the live entry of `addr`, if any, and returns it.
fn remove_live(t: &mut Tables, addr: usize) -> Option<LiveEntry> {
    let mut i = live_home(addr);
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
        let home = live_home(t.live[j].addr);
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

/// The block at `ptr` is being freed: forget its sample, if it had one.
#[inline]
pub(super) fn forget(ptr: *mut u8) {
    take(ptr);
}

/// Takes the sample of the block at `ptr` out of the table, if it has one
/// (a realloc puts it back at the new address with [`put`]).
#[inline]
pub(super) fn take(ptr: *mut u8) -> Option<LiveEntry> {
    if !maybe_sampled(ptr) {
        return None;
    }
    remove_live(lock().tables(), ptr as usize)
}

/// Puts a sample taken with [`take`] back.
pub(super) fn put(entry: LiveEntry) {
    insert_live(lock().tables(), entry);
}

// ---- for the public layer (outside the allocator) ----

/// Forgets every sample, live or not; with sampling off, frees stop
/// checking the filter.
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
    if sampler::interval() == 0 {
        switches::set_hook(HOOK_SAMPLES, false);
    }
}

/// One stack of a raw snapshot.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawStack {
    pub(crate) frames: Vec<usize>,
    /// The label its samples were taken under.
    pub(crate) labels: Pairs,
    pub(crate) samples: u64,
    pub(crate) alloc_objects: f64,
    pub(crate) alloc_space: f64,
    pub(crate) inuse_objects: f64,
    pub(crate) inuse_space: f64,
    /// Live sampled blocks (raw count).
    pub(crate) inuse_samples: u64,
}

/// A copy of the tables: every sampled stack with its allocated and in-use
/// estimates; with `frames`, their frames too.
#[derive(Clone, Debug)]
pub(crate) struct RawSnapshot {
    pub(crate) stacks: Vec<RawStack>,
    pub(crate) live_samples: u64,
    pub(crate) dropped: u64,
}

/// Copies the tables. Allocates only outside the lock, and the calling
/// thread's own allocations meanwhile are not sampled.
pub(crate) fn snapshot(with_frames: bool) -> RawSnapshot {
    let _pause = Paused::new();
    loop {
        let count = lock().tables().stack_count;
        let mut stacks: Vec<RawStack> = Vec::with_capacity(count + 16);
        let mut frames: Vec<usize> = Vec::with_capacity(if with_frames {
            (count + 16) * MAX_FRAMES
        } else {
            0
        });
        let mut ranges: Vec<(usize, usize, u16)> = Vec::with_capacity(count + 16);
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
                ranges.push((start, frames.len(), e.label));
                stacks.push(RawStack {
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
        for (s, (a, b, label)) in stacks.iter_mut().zip(ranges) {
            s.frames = frames[a..b].to_vec();
            s.labels = labels::pairs(label);
        }
        return RawSnapshot {
            stacks,
            live_samples,
            dropped,
        };
    }
}

/// Live sampled blocks right now.
pub(crate) fn live_samples() -> u64 {
    lock().tables().live_count as u64
}

/// Estimated live bytes and blocks by label number: the unbiased sums over
/// live samples, `(label, bytes, blocks)`, one entry per label that has
/// any (label 0 for the unlabelled ones).
pub(crate) fn inuse_by_label() -> Vec<(u16, f64, f64)> {
    let _pause = Paused::new();
    // NOTE: allocated before the lock is taken: an allocation under it
    // could free a block the filter flags, whose free takes the lock.
    let mut per_stack = vec![(0u16, 0.0f64, 0.0f64); STACKS];
    {
        let mut guard = lock();
        let t = guard.tables();
        for e in t.live.iter().filter(|e| e.addr != 0) {
            let s = &mut per_stack[e.stack as usize];
            s.0 = t.stacks[e.stack as usize].label;
            s.1 += e.weight * e.size as f64;
            s.2 += e.weight;
        }
    }
    let mut by: Vec<(u16, f64, f64)> = Vec::new();
    for (label, bytes, blocks) in per_stack.into_iter().filter(|s| s.2 > 0.0) {
        match by.iter_mut().find(|(l, _, _)| *l == label) {
            Some(b) => {
                b.1 += bytes;
                b.2 += blocks;
            }
            None => by.push((label, bytes, blocks)),
        }
    }
    by
}

/// Keeps the calling thread from sampling while it lives (still counted).
pub(crate) struct Paused(Option<&'static slot::Slot>);

impl Paused {
    pub(crate) fn new() -> Paused {
        let slot = slot::current_slot();
        if let Some(slot) = slot {
            slot.sampling.pause();
        }
        Paused(slot)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            slot.sampling.resume();
        }
    }
}
