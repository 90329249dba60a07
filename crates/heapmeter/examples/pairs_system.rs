//! `N` 64-byte alloc + free pairs under `System`: the baseline of the
//! instruction counts in `docs/BENCHMARKS.md` (run under
//! `valgrind --tool=callgrind`, see `pairs_counting.rs`).

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

#[path = "common/pairs.rs"]
mod pairs;

fn main() {
    pairs::run();
}
