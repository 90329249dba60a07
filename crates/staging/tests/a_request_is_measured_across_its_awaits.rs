//! The service's checks are awaited, so heapmeter's `measure_future` (what
//! `AllocLayer` measures each request with) sees a check's allocations on
//! both sides of an `.await`: a naive request that misses the cache waits
//! for the store (its latency, on tokio's timer) and then parses, writes
//! back and builds its set, and the future's count is exactly what the same
//! check counts run synchronously on one thread.

use std::sync::Arc;
use std::time::Duration;

use fraudcheck::{build, Env, ManualClock, Payment, Variant};
use heaplab_staging::service::{App, ServiceConfig};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_miss_that_waits_for_the_store_is_counted_whole() {
    let config = ServiceConfig::new(Variant::Naive, 1_000);
    let app = App::embedded(&config);
    let payment = Payment {
        id: 1,
        user_id: config.risky_ids()[5],
        amount_cents: 100,
    };
    app.env().store.set_latency(Duration::from_millis(50));

    // The same request on the synchronous face, over the same data.
    let twin = Env::with_clock(1_000, config.seed, Arc::new(ManualClock::new()));
    let check = build(Variant::Naive, &twin);
    let (sync_answer, sync) = heapmeter::measure(|| check.is_risky(&payment));
    assert_eq!(sync_answer, Ok(true));
    // Body-less miss: the store's list, its JSON, the cache's copy, the set.
    assert!(sync.bytes_allocated > 30_000, "{sync:?}");

    let started = std::time::Instant::now();
    let (decision, awaited) = heapmeter::measure_future(app.decide(&payment)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "the request waited for the store"
    );
    assert_eq!((decision.risky, decision.failure), (true, None));
    assert_eq!(app.env().store.queries(), 1);
    // NOTE: the store's own `active_ids` allocates the list on both sides,
    // and the cache keeps the JSON it was sent on both: the same blocks.
    assert_eq!(awaited.allocs, sync.allocs, "{awaited:?} vs {sync:?}");
    assert_eq!(awaited.reallocs, sync.reallocs, "{awaited:?} vs {sync:?}");
    assert_eq!(awaited.bytes_allocated, sync.bytes_allocated);
    assert_eq!(awaited.net_bytes(), sync.net_bytes());
}
