//! A thread that exits hands its counting slot back, and what it counted is
//! not lost: the process-wide totals, and a `measure_process` around the
//! spawn, hold its allocation exactly.
//!
//! A plain `fn main` (`harness = false`): no test harness thread allocates
//! beside the work, so the process-wide figures are the work's own.

use std::hint::black_box;
use std::thread;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// Spawns a thread that allocates (and keeps) `bytes` bytes, or nothing.
fn spawn_and_join(bytes: usize) -> Option<Vec<u8>> {
    thread::spawn(move || (bytes > 0).then(|| black_box(vec![7u8; bytes])))
        .join()
        .expect("thread")
}

fn main() {
    // Warm up the spawn machinery, then measure what an empty thread costs.
    drop(spawn_and_join(0));
    let before = heapmeter::process_totals();
    drop(spawn_and_join(0));
    let empty = heapmeter::process_totals() - before;

    let before = heapmeter::process_totals();
    let kept = spawn_and_join(12_345);
    let with_block = heapmeter::process_totals() - before;
    assert_eq!(
        with_block.allocs,
        empty.allocs + 1,
        "{with_block} vs {empty}"
    );
    assert_eq!(
        with_block.bytes_allocated,
        empty.bytes_allocated + 12_345,
        "{with_block} vs {empty}"
    );
    assert_eq!(with_block.net_bytes(), empty.net_bytes() + 12_345);

    let (kept2, inside) = heapmeter::measure_process(|| spawn_and_join(40_000));
    assert_eq!(inside.allocs, empty.allocs + 1, "{inside}");
    assert_eq!(inside.bytes_allocated, empty.bytes_allocated + 40_000);
    assert!(inside.peak_bytes >= 40_000, "{inside}");
    drop((kept, kept2));
    println!("exited_threads_keep_their_counts: ok");
}
