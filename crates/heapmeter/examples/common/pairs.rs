//! The loop the `pairs_*` examples run: `PAIRS` (default 1,000,000) 64-byte
//! allocations, each freed at once, so that an instruction count divided by
//! `PAIRS` is the cost of one pair (plus a constant start-up cost, which
//! running with two values of `PAIRS` cancels out).

use std::hint::black_box;

pub fn run() {
    let pairs: u64 = std::env::var("PAIRS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    for _ in 0..pairs {
        // NOTE: not `Box::new([0u8; 64])`: with `System` as the global
        // allocator LLVM turns that into `calloc`, which takes another path
        // through glibc than `malloc`, and the comparison would be unfair.
        drop(black_box(Vec::<u8>::with_capacity(64)));
    }
}
