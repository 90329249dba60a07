//! Eight threads allocate random sizes, grow and shrink blocks, free blocks
//! that other threads allocated, and exit: the process-wide live bytes
//! return exactly to where they started, and no count is lost.
//!
//! A plain `fn main` (`harness = false`): no test harness thread allocates
//! beside the work, so the process-wide figures are the work's own.

mod common;

use common::stress;
use std::hint::black_box;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

fn main() {
    // Run once first so that one-time allocations (thread-spawn machinery,
    // the channel's first blocks) are not part of the measured run.
    stress();
    let before = heapmeter::process_totals();
    let ((), inside) = heapmeter::measure_process(stress);
    let after = heapmeter::process_totals();
    let run = after;

    assert!(inside.allocs > 10_000, "{inside}");
    assert!(inside.reallocs > 1_000, "{inside}");
    assert!(inside.peak_bytes > 0, "{inside}");
    assert_eq!(
        inside.net_bytes(),
        0,
        "live bytes back to the baseline: {inside}"
    );
    assert_eq!(
        run.net_bytes(),
        before.net_bytes(),
        "process totals: {run} vs {before}"
    );
    assert_eq!(run.allocs - before.allocs, inside.allocs);
    assert_eq!(run.deallocs - before.deallocs, inside.deallocs);

    // The process peak sees a block allocated and freed on another thread.
    let ((), spawned) = heapmeter::measure_process(|| {
        std::thread::spawn(|| drop(black_box(vec![0u8; 40_000])))
            .join()
            .expect("thread");
    });
    assert!(spawned.peak_bytes >= 40_000, "{spawned}");
    assert_eq!(spawned.net_bytes(), 0, "{spawned}");
    println!("eight_thread_stress: ok ({inside})");
}
