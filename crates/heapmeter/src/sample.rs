//! Heap sampling: the per-thread state the allocator consults (sampling
//! itself is not implemented yet: the hooks do nothing).

use crate::alloc::Slot;

/// What the allocator reports to the sampler.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
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

/// One thread's sampling state, kept in its slot.
pub(crate) struct ThreadSampling {}

impl ThreadSampling {
    pub(crate) const fn new() -> ThreadSampling {
        ThreadSampling {}
    }

    /// The slot at `index` was just claimed by the calling thread.
    pub(crate) fn claimed(&self, _index: usize) {}

    /// The byte count at which the next sample is due.
    pub(crate) fn next_sample_at(&self) -> u64 {
        u64::MAX
    }

    /// The slot's byte count reached its trigger.
    pub(crate) fn on_trigger(&self, _slot: &Slot, _allocated: u64, _grown: u64, _event: Event) {}
}

/// A block at `ptr` is being freed.
pub(crate) fn on_free(_ptr: *mut u8) {}

/// A block was resized without growth reaching a sampling point.
pub(crate) fn on_realloc_move(_event: Event) {}
