//! The incident's check, and the published "Fix 1", churn: they allocate
//! on every request and retain nothing. Not a leak.

mod common;

use fraudcheck::Variant;
use heapmeter::{CountingAlloc, LeakDetector, Verdict};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

fn verdict(variant: Variant) -> heapmeter::LeakReport {
    let (_env, check, payments) = common::warm(variant, 1_000);
    LeakDetector::new()
        .warmup(50)
        .phases(6)
        .run(|i| check.is_risky(common::nth(&payments, i)))
}

#[test]
fn the_naive_check_churns_39_641_bytes_and_keeps_none() {
    let report = verdict(Variant::Naive);
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
    assert_eq!(report.retained_bytes_per_op, 0.0);
    assert_eq!(report.allocated_bytes_per_op, 39_641.0);
}

#[test]
fn parse_and_scan_churns_21_193_bytes_and_keeps_none() {
    let report = verdict(Variant::ParseAndScan);
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
    assert_eq!(report.retained_bytes_per_op, 0.0);
    assert_eq!(report.allocated_bytes_per_op, 21_193.0);
}
