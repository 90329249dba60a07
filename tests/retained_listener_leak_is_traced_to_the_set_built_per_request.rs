//! The leak detector, asked for sites, names where the retained-listener
//! leak comes from: the top growing call site is the set that each request
//! builds (`id_set`) and the listener captures, at about one set's bytes
//! per request.

mod common;

use fraudcheck::{id_set, Variant};
use heapmeter::{sampling, CountingAlloc, LeakDetector, Verdict};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();

#[test]
fn top_growing_site_is_the_set_built_per_request() {
    let (env, check, payments) = common::warm(Variant::RetainedListener, 1_000);
    let (set, one_set) = heapmeter::measure(|| id_set(&env.store.active_ids()));
    drop(set);

    // 20 warm-up requests, then phases up to 640 requests (about 12 MiB,
    // some 20 samples at the default interval of 512 KiB); a fixed seed
    // makes the estimate reproducible.
    let session = sampling::start_seeded(sampling::DEFAULT_INTERVAL, 5).expect("installed");
    let report = LeakDetector::new()
        .warmup(20)
        .phases(5)
        .by_site(true)
        .run(|i| check.is_risky(common::nth(&payments, i)));
    drop(session);
    assert_eq!(report.verdict, Verdict::Leak, "{report}");
    let top = report
        .sites
        .first()
        .unwrap_or_else(|| panic!("no growing site: {report}"));
    assert!(
        top.site.contains("id_set"),
        "top site {top}; all: {:?}",
        report.sites
    );
    // An estimate from a few dozen samples: within a factor of 2 of a set.
    let ratio = top.bytes_per_op / one_set.bytes_allocated as f64;
    assert!((0.5..=2.0).contains(&ratio), "{top}; one set {one_set}");
}
