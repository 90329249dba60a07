//! A closure that captures each request's set and is never unregistered is
//! a true leak: the leak detector says `Leak`, and the bytes retained per
//! request are one set (its table, plus the listener's box and its slot in
//! the bus) — within 10 % of one set's size.

mod common;

use fraudcheck::{id_set, Variant};
use heapmeter::{CountingAlloc, LeakDetector, Verdict};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

#[test]
fn retained_listener_leaks_one_set_per_request() {
    let users = 1_000;
    let (env, check, payments) = common::warm(Variant::RetainedListener, users);
    let ids = env.store.active_ids();
    let (set, one_set) = heapmeter::measure(|| id_set(&ids));
    drop(set);

    // 20 warm-up requests, then phases up to 640 requests (about 12 MiB).
    let report = LeakDetector::new()
        .warmup(20)
        .phases(5)
        .run(|i| check.is_risky(common::nth(&payments, i)));
    assert_eq!(report.verdict, Verdict::Leak, "{report}");
    let set_bytes = one_set.bytes_allocated as f64;
    let ratio = report.retained_bytes_per_op / set_bytes;
    assert!(
        (0.9..=1.1).contains(&ratio),
        "{report}; one set is {set_bytes} B"
    );

    // At the incident's rate, a pod's 1 GiB lasts minutes, not days.
    let to_oom = report
        .time_to_limit(25.0, 1 << 30)
        .expect("a leak has a limit");
    assert!(to_oom.as_secs() < 3 * 3600, "{to_oom:?}");
}
