//! dhat agrees that the fixed variants allocate nothing per warm request.
//! A plain `fn main` (`harness = false`): dhat sees every thread.

use std::hint::black_box;

use std::sync::Arc;

use fraudcheck::{build, data, Env, ManualClock, Variant};

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    for variant in Variant::ALL.into_iter().filter(|v| v.is_fix()) {
        // NOTE: a manual clock, not `Env::new`'s coarse clock: dhat counts every
        // thread, and the coarse clock's ticking thread frees its start-up
        // blocks at a moment the OS chooses, possibly inside the measurement.
        let env = Env::with_clock(10_000, 2024, Arc::new(ManualClock::new()));
        let check = build(variant, &env);
        let payments = data::payments(1_000, 2025, &env.store.active_ids(), 0.1);
        check.is_risky(&payments[0]).expect("warm-up");

        let before = dhat::HeapStats::get();
        for p in &payments {
            black_box(check.is_risky(black_box(p)).expect("fixed check"));
        }
        let after = dhat::HeapStats::get();
        dhat::assert_eq!(after.total_blocks, before.total_blocks);
        dhat::assert_eq!(after.total_bytes, before.total_bytes);
        println!("dhat_fixed_variants_budget: {variant}: 0 blocks per request");
    }
}
