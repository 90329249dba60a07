//! Chapter 8's flamegraph is `retained_listener` after 2,000 requests
//! (`examples/where_is_it.rs`). Its sampled estimate moves with the seed
//! and the build; the exact figures beside it do not: the live bytes the
//! environment and the 2,000 requests keep, and what one request keeps.
//! The chapter quotes the figures this test computes.

use fraudcheck::{build, data, Env, Variant};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

const CHAPTER: &str = include_str!("../docs/08-where-is-it.md");
const REQUESTS: usize = 2_000;

#[test]
fn retained_listener_keeps_what_chapter_7_counts_after_2000_requests() {
    // NOTE: the same work as the example, measured process-wide so that
    // the environment's own allocations are in, as in the example's total.
    let (kept, whole) = heapmeter::measure_process(|| {
        let env = Env::new(1_000, 7);
        let payments = data::payments(64, 8, &env.store.active_ids(), 0.1);
        let check = build(Variant::RetainedListener, &env);
        let (_, requests) = heapmeter::measure(|| {
            for i in 0..REQUESTS {
                check.is_risky(&payments[i % 64]).expect("request");
            }
        });
        (env, payments, check, requests)
    });
    let per_request = kept.3.net_bytes() as f64 / REQUESTS as f64;
    assert!(
        per_request > 18_000.0,
        "one set per request: {per_request} B"
    );

    let live = format!("{:.1} MB of live bytes", whole.net_bytes() as f64 / 1e6);
    let each = format!("2,000 requests keeping {:.1} KB each", per_request / 1e3);
    assert!(CHAPTER.contains(&live), "chapter 8 quotes {live:?}");
    assert!(CHAPTER.contains(&each), "chapter 8 quotes {each:?}");
}
