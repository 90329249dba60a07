//! The naive check churns: it builds and frees a set per request. Asked for
//! sites, the leak detector finds none whose live bytes keep growing.

mod common;

use fraudcheck::Variant;
use heapmeter::{sampling, CountingAlloc, LeakDetector, Verdict};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();

#[test]
fn no_site_grows() {
    let (_env, check, payments) = common::warm(Variant::Naive, 1_000);
    // A small interval, so that a growing site could not hide between
    // samples: about 4 samples per request.
    let session = sampling::start_seeded(8 * 1024, 3).expect("installed");
    let report = LeakDetector::new()
        .warmup(20)
        .phases(5)
        .by_site(true)
        .run(|i| check.is_risky(common::nth(&payments, i)));
    let sampled = sampling::profile();
    drop(session);
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
    assert!(sampled.alloc_space() > 1e6, "sampling saw the requests");
    assert!(report.sites.is_empty(), "{:?}", report.sites);
}
