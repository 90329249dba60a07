//! The slow paths: what an allocator call does beyond counting, once the
//! fast path found the slot's trigger reached or a hook bit set.
//!
//! Each takes the slot the fast path used. That may be a stand-in (the
//! thread has no slot yet, or the call is uncounted): [`owner`] then says
//! where the call counts, the one place that decides it.

use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::sampler::Event;
use super::slot::{bump, is_overflow, slot_for_call, unbump, Slot};
use super::switches::{process, HOOK_ELSEWHERE, HOOK_PEAK};
use super::table;

/// The slot a slow-path call counts into: the thread's own; for a thread
/// that found a stand-in, the slot it claims now or the overflow slot;
/// `None` for an uncounted call.
#[inline]
fn owner(slot: &'static Slot) -> Option<&'static Slot> {
    if slot.hooks.load(Relaxed) & HOOK_ELSEWHERE == 0 {
        Some(slot)
    } else {
        slot_for_call(slot)
    }
}

/// Adds `v` to one of `owner`'s counters: a plain add on an owned slot,
/// an atomic one on the shared overflow slot. Returns the new total.
#[inline]
fn add(owner: &Slot, counter: &AtomicU64, v: u64) -> u64 {
    if is_overflow(owner) {
        counter.fetch_add(v, Relaxed).wrapping_add(v)
    } else {
        bump(counter, v)
    }
}

/// An allocation of `size` bytes whose count reached `slot`'s trigger,
/// served at `ptr` (null: refused): a refused allocation's count is taken
/// back; else the process's live bytes follow, and a sample is taken if
/// due.
pub(super) fn allocated(slot: &'static Slot, size: u64, ptr: *mut u8) {
    let Some(owner) = owner(slot) else {
        return;
    };
    // The fast path counted on `slot`; on a stand-in that count was lost.
    let counted_here = ptr::addr_eq(owner, slot);
    if ptr.is_null() {
        if counted_here {
            unbump(&owner.allocs, 1);
            unbump(&owner.bytes_allocated, size);
        }
        return;
    }
    let allocated = if counted_here {
        owner.bytes_allocated.load(Relaxed)
    } else {
        add(owner, &owner.allocs, 1);
        add(owner, &owner.bytes_allocated, size)
    };
    grew(owner, allocated, size, Event::Alloc { ptr });
}

/// After `owner`'s allocated bytes grew by `grown` to `allocated`.
fn grew(owner: &'static Slot, allocated: u64, grown: u64, event: Event) {
    process::track(grown as i64);
    if is_overflow(owner) {
        return;
    }
    owner
        .sampling
        .on_trigger(owner.label(), allocated, grown, event);
    owner.rearm();
}

/// What a free of `size` bytes at `ptr`, already counted on `slot`, does
/// beyond counting and the peak window (which the fast path minds), as
/// its hook bits `hooks` ask.
pub(super) fn freeing(slot: &'static Slot, hooks: u8, ptr: *mut u8, size: u64) {
    if hooks & HOOK_ELSEWHERE != 0 {
        if let Some(owner) = owner(slot) {
            add(owner, &owner.deallocs, 1);
            add(owner, &owner.bytes_deallocated, size);
            process::track(-(size as i64));
        }
    } else {
        process::track(-(size as i64));
    }
    table::forget(ptr);
}

/// A realloc from `old` to `new` bytes of the block at `ptr` that the fast
/// path could not count inline (it shrinks, reaches the trigger, or may
/// move a sampled block); `call` runs the inner allocator.
#[cold]
#[inline(never)]
pub(super) fn realloc(
    slot: &'static Slot,
    ptr: *mut u8,
    old: u64,
    new: u64,
    call: impl FnOnce() -> *mut u8,
) -> *mut u8 {
    // A sampled block keeps its sample: the entry leaves the table before
    // the inner call (the old address may be handed to another thread as
    // soon as it returns) and comes back at the new address.
    let sampled = table::take(ptr);
    let owner = owner(slot);
    if let Some(owner) = owner {
        if new < old && owner.hooks.load(Relaxed) & HOOK_PEAK != 0 {
            owner.peak_before_fall(owner.net());
        }
    }
    let moved = call();
    if let Some(entry) = sampled {
        let (at, size) = if moved.is_null() {
            (ptr, old)
        } else {
            (moved, new)
        };
        table::put(entry.moved(at, size));
    }
    let Some(owner) = owner else {
        return moved;
    };
    if moved.is_null() {
        return moved;
    }
    add(owner, &owner.reallocs, 1);
    if new >= old {
        let allocated = add(owner, &owner.bytes_allocated, new - old);
        if allocated >= owner.trigger.load(Relaxed) || is_overflow(owner) {
            grew(owner, allocated, new - old, Event::Grow);
        }
    } else {
        add(owner, &owner.bytes_deallocated, old - new);
        process::track(-((old - new) as i64));
    }
    moved
}
