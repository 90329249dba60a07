//! A short soak with the cache and store down for its middle third: every
//! scheduled request ends in exactly one bucket; `ttl_refresh` keeps
//! answering from its snapshot (no fail-policy decisions), `naive` has no
//! snapshot and follows its fail policy (fail open, `degraded`).

use std::time::Duration;

use fraudcheck::Variant;
use heaplab_staging::cli::{soak_in_process, SoakArgs};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

fn args(variant: Variant) -> SoakArgs {
    SoakArgs {
        variant: Some(variant),
        rps: 100,
        duration: Duration::from_secs(3),
        url: None,
        faults: true,
        real: false,
        users: 1000,
        compress: 10,
        targets: Vec::new(),
        pids: Vec::new(),
        timeout: Duration::from_secs(5),
        max_in_flight: 1024,
        // NOTE: the test counts requests, not bytes: no heap sampling.
        heap_sampling: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_answered_and_counted() {
    let config = args(Variant::TtlRefresh).config();

    let r = soak_in_process(Variant::TtlRefresh, &args(Variant::TtlRefresh), &config)
        .await
        .unwrap();
    eprintln!("{r}");
    assert_eq!(r.tally.scheduled, 300);
    assert!(r.tally.accounted(), "{:?}", r.tally);
    assert_eq!(r.tally.checked, 300, "{:?}", r.tally);
    assert_eq!(r.tally.risky, 30);
    assert_eq!(r.faults.len(), 2);

    let r = soak_in_process(Variant::Naive, &args(Variant::Naive), &config)
        .await
        .unwrap();
    eprintln!("{r}");
    assert!(r.tally.accounted(), "{:?}", r.tally);
    assert_eq!(r.tally.checked + r.tally.degraded, 300, "{:?}", r.tally);
    // A third of 3 s at 100 req/s, give or take the scheduling of the fault.
    assert!((60..=140).contains(&r.tally.degraded), "{:?}", r.tally);
}
