//! dhat sees the naive check's allocations exactly as heapmeter does.
//!
//! dhat counts each `realloc` as a new block of the full new size, so per
//! warm request at n = 1,000 users it counts 3 + 8 blocks (body, the
//! parsed `Vec`'s first block and its 8 doublings, the table) and
//! `13,001 + (32 + 64 + … + 8,192) + 18,448 = 47,801` bytes, and nothing
//! left live. A plain `fn main` (`harness = false`): dhat sees every thread.

use std::hint::black_box;

use std::sync::Arc;

use fraudcheck::{build, data, id_set, Env, ManualClock, Variant, CACHE_KEY};

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

    // The sizes the doc comment's formula takes, read from what a request
    // handles: the cached reply's length (13 bytes per 12-digit id), the
    // parsed `Vec`'s doublings from capacity 4 to `n`, and the buckets of
    // the set's table (hashbrown keeps 7/8 of them usable).
    let body = env
        .cache
        .get(CACHE_KEY)
        .expect("cache")
        .expect("warm")
        .len() as u64;
    let vec_blocks: Vec<u64> =
        std::iter::successors(Some(4u64), |&cap| (cap < n).then_some(cap * 2))
            .map(|cap| 8 * cap)
            .collect();
    let buckets = (id_set(&env.store.active_ids()).capacity() as u64 * 8 / 7).next_power_of_two();
    const GROUP: u64 = 16; // hashbrown's group width with SSE2

    let before = dhat::HeapStats::get();
    for p in &payments {
        black_box(check.is_risky(black_box(p)).expect("naive check"));
    }
    let after = dhat::HeapStats::get();

    let requests = payments.len() as u64;
    let blocks_per_request = 2 + vec_blocks.len() as u64; // body + table + the Vec's blocks
    let bytes_per_request = body + vec_blocks.iter().sum::<u64>() + (9 * buckets + GROUP);
    // The doc comment's figures, if the data and the containers still
    // give them (12-digit ids; 32 B … 8 KiB; 2,048 buckets).
    assert_eq!(
        (body, buckets),
        (13 * n + 1, 2048),
        "the doc comment's sizes"
    );
    assert_eq!(
        (blocks_per_request, bytes_per_request),
        (11, 47_801),
        "the doc comment's figures"
    );
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
