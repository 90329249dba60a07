//! The engine: everything that runs inside `GlobalAlloc`.
//!
//! It is a leaf: no file under `engine/` imports anything from the crate
//! above it (`tests/the_engine_imports_nothing_above_it.rs` fails when one
//! does). The public modules (`scope`, `future`, `sampling`, `profile`,
//! `leak`, the writers, the tower layer) call down into it, never the
//! reverse. Its parts, each with one owner:
//!
//! | file | owns |
//! |---|---|
//! | `alloc.rs` | [`CountingAlloc`] and its `GlobalAlloc` fast paths |
//! | `hooks.rs` | what a call does beyond counting (the slow paths) |
//! | `slot.rs` | thread slots: claiming, counters, peak windows, labels |
//! | `switches.rs` | the hook bits, their epoch, process-wide tracking |
//! | `sampler.rs` | the per-thread sampling countdown and its switch |
//! | `stack.rs` | stack capture: frame pointers, else the unwinder |
//! | `table.rs` | the tables of sampled stacks and live sampled blocks |
//! | `labels.rs` | interned request labels (`method`, `route`, …) |
//!
//! Nothing in here allocates through the counted path while serving a
//! call, panics, or waits for a lock whose holder could be waiting for it.

mod alloc;
mod hooks;
pub(crate) mod labels;
pub(crate) mod sampler;
pub(crate) mod slot;
mod stack;
pub(crate) mod switches;
pub(crate) mod table;

pub use alloc::CountingAlloc;
pub(crate) use slot::{current_slot, installed, sum_slots, Counts, Slot, SLOTS};

/// Whether `CountingAlloc` is this process's global allocator: true once
/// it has served a call. A process whose threads have not allocated yet is
/// asked with one small allocation of the caller's.
pub(crate) fn ensure_installed() -> bool {
    if !installed() {
        drop(std::hint::black_box(Box::new(0u8)));
    }
    installed()
}

/// How samples capture stacks (see `stack.rs`).
pub(crate) fn stack_walk() -> &'static str {
    stack::method()
}
