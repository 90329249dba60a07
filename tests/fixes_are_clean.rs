//! Every fixed variant is `Clean` for the leak detector: in steady state a
//! request neither allocates nor retains.

mod common;

use fraudcheck::Variant;
use heapmeter::{CountingAlloc, LeakDetector, Verdict};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

#[test]
fn every_fix_is_clean_for_the_leak_detector() {
    for variant in Variant::ALL.into_iter().filter(|v| v.is_fix()) {
        let (_env, check, payments) = common::warm(variant, 10_000);
        let report = LeakDetector::new().run(|i| check.is_risky(common::nth(&payments, i)));
        assert_eq!(report.verdict, Verdict::Clean, "{variant}: {report}");
        assert_eq!(report.allocs_per_op, 0.0, "{variant}");
        assert_eq!(report.retained_bytes_per_op, 0.0, "{variant}");
    }
}
