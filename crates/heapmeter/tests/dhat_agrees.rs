//! heapmeter and dhat count the same work the same way.
//!
//! `CountingAlloc<dhat::Alloc>` counts what the program asks for and hands
//! it to dhat, whose profiler (in testing mode) keeps its own totals. dhat
//! records a backtrace for each block through the global allocator; those
//! allocations are dhat's own and heapmeter, wrapping it with
//! `CountingAlloc::reentrant`, does not count them.
//!
//! How the two map: dhat counts a `realloc` as a new block of the full new
//! size, so dhat's `total_blocks` is heapmeter's `allocs + reallocs`, and
//! its live figures (`curr_blocks`, `curr_bytes`) move by heapmeter's
//! `allocs - deallocs` and `net_bytes()`. With no realloc, dhat's
//! `total_bytes` is heapmeter's `bytes_allocated`.
//!
//! A plain `fn main` (`harness = false`): dhat sees every thread of the
//! process, and a test harness would allocate beside the work.

use std::collections::HashSet;
use std::hint::black_box;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<dhat::Alloc> =
    heapmeter::CountingAlloc::reentrant(dhat::Alloc);

/// The incident's pattern in small: parse ids, build a set, look one up.
fn build_and_lookup(json: &str) -> bool {
    let mut ids: Vec<u64> = Vec::with_capacity(json.split(',').count());
    ids.extend(
        json.split(',')
            .map(|s| s.trim().parse::<u64>().expect("ids are numbers")),
    );
    let set: HashSet<u64> = ids.iter().copied().collect();
    set.contains(&42)
}

fn delta(before: &dhat::HeapStats, after: &dhat::HeapStats) -> (u64, u64, i64, i64) {
    (
        after.total_blocks - before.total_blocks,
        after.total_bytes - before.total_bytes,
        after.curr_blocks as i64 - before.curr_blocks as i64,
        after.curr_bytes as i64 - before.curr_bytes as i64,
    )
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let json: String = (0..1_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");

    // 1. Work without reallocs: every figure agrees.
    let before = dhat::HeapStats::get();
    let (hit, ours) = heapmeter::measure_process(|| build_and_lookup(black_box(&json)));
    let after = dhat::HeapStats::get();
    assert!(hit);
    let (blocks, bytes, curr_blocks, curr_bytes) = delta(&before, &after);
    assert_eq!(ours.reallocs, 0, "{ours}");
    assert_eq!(blocks, ours.allocs);
    assert_eq!(bytes, ours.bytes_allocated);
    assert_eq!(curr_blocks, ours.allocs as i64 - ours.deallocs as i64);
    assert_eq!(curr_bytes, ours.net_bytes());

    // 2. Work with reallocs and something kept: blocks and live bytes agree.
    let before = dhat::HeapStats::get();
    let (kept, ours) = heapmeter::measure_process(|| {
        let mut v: Vec<u64> = Vec::new();
        for i in 0..1_000 {
            v.push(i); // grows by doubling: 1 alloc, then reallocs
        }
        v.shrink_to(600); // one shrinking realloc
        let tmp = black_box(String::from("freed"));
        drop(tmp);
        v
    });
    let after = dhat::HeapStats::get();
    let (blocks, _, curr_blocks, curr_bytes) = delta(&before, &after);
    assert_eq!(ours.allocs, 2, "{ours}");
    assert!(ours.reallocs >= 8, "{ours}");
    assert_eq!(blocks, ours.allocs + ours.reallocs);
    assert_eq!(curr_blocks, ours.allocs as i64 - ours.deallocs as i64);
    assert_eq!(curr_bytes, ours.net_bytes());
    assert_eq!(ours.net_bytes(), 8 * kept.capacity() as i64);

    // 3. The same budget held by dhat's own assertion and by heapmeter's.
    let before = dhat::HeapStats::get();
    let (_, ours) = heapmeter::measure_process(|| build_and_lookup(black_box(&json)));
    let after = dhat::HeapStats::get();
    heapmeter::Budget::new()
        .max_allocs(2)
        .max_bytes(30_000)
        .check(&ours)
        .expect("heapmeter budget");
    dhat::assert!(after.total_blocks - before.total_blocks <= 2);
    dhat::assert!(after.total_bytes - before.total_bytes <= 30_000);

    println!("dhat_agrees: ok ({ours})");
}
