//! Eight threads allocate, grow, shrink and free blocks, some freed by
//! other threads, with sampling on at a small interval: nothing deadlocks,
//! the live samples of the work return to zero once everything is freed,
//! and the exact counters still balance.
//!
//! A plain `fn main` (`harness = false`): process-wide figures.

mod common;

use common::stress;
use heapmeter::{sampling, SampleType};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn main() {
    stress(); // one-time allocations of thread and channel machinery
    sampling::clear();
    let session = sampling::start_seeded(4 * 1024, 1).expect("installed");
    let ((), inside) = heapmeter::measure_process(stress);
    drop(session);
    let profile = sampling::profile();

    let sampled: u64 = profile.stacks.iter().map(|s| s.samples).sum();
    assert!(sampled > 1_000, "only {sampled} samples");
    // Everything the work allocated is freed: its in-use estimate is zero.
    let live_in_work: f64 = profile
        .stacks
        .iter()
        .filter(|s| s.frames.iter().any(|f| f.function.contains("stress")))
        .map(|s| s.value(SampleType::InuseSpace))
        .sum();
    assert_eq!(live_in_work, 0.0);
    assert_eq!(profile.dropped, 0);
    // The counters still balance exactly.
    assert_eq!(inside.net_bytes(), 0, "{inside}");
    assert_eq!(inside.allocs, inside.deallocs, "{inside}");
    println!(
        "8 threads: {sampled} samples, {} live samples left, counters balance ({inside})",
        profile.live_samples
    );
}
