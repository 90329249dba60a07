//! dhat sees the naive check's allocations exactly as heapmeter does.
//!
//! dhat counts each `realloc` as a new block of the full new size, so per
//! warm request at n = 1,000 users it counts 3 + 8 blocks (body, the
//! parsed `Vec`'s first block and its 8 doublings, the table) and
//! `13,001 + (32 + 64 + … + 8,192) + 18,448 = 47,801` bytes, and nothing
//! left live. A plain `fn main` (`harness = false`): dhat sees every thread.

use std::hint::black_box;

use std::sync::Arc;

use fraudcheck::{build, data, Env, ManualClock, Variant};

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let n: u64 = 1_000;
    // NOTE: a manual clock, not `Env::new`'s coarse clock: dhat counts every
    // thread, and the coarse clock's ticking thread frees its start-up
    // blocks at a moment the OS chooses, possibly inside the measurement.
    let env = Env::with_clock(n as usize, 2024, Arc::new(ManualClock::new()));
    let check = build(Variant::Naive, &env);
    let payments = data::payments(100, 2025, &env.store.active_ids(), 0.1);
    check.is_risky(&payments[0]).expect("warm-up");

    let before = dhat::HeapStats::get();
    for p in &payments {
        black_box(check.is_risky(black_box(p)).expect("naive check"));
    }
    let after = dhat::HeapStats::get();

    let requests = payments.len() as u64;
    let vec_blocks: Vec<u64> = (2..=10).map(|k| 8 << k).collect(); // 32 B … 8 KiB
    let blocks_per_request = 2 + vec_blocks.len() as u64; // body + table + the Vec's blocks
    let bytes_per_request = (13 * n + 1) + vec_blocks.iter().sum::<u64>() + (9 * 2048 + 16);
    assert_eq!(blocks_per_request, 11);
    assert_eq!(bytes_per_request, 47_801);
    dhat::assert_eq!(
        after.total_blocks - before.total_blocks,
        requests * blocks_per_request
    );
    dhat::assert_eq!(
        after.total_bytes - before.total_bytes,
        requests * bytes_per_request
    );
    dhat::assert_eq!(after.curr_bytes, before.curr_bytes);
    dhat::assert_eq!(after.curr_blocks, before.curr_blocks);
    println!("dhat_naive_budget: ok ({blocks_per_request} blocks, {bytes_per_request} bytes per request)");
}
