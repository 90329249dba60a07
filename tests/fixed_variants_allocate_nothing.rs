//! With warm caches, the fixed variants make zero allocations per request,
//! at 1,000 and 10,000 risky users, in debug and in release.

mod common;

use fraudcheck::Variant;
use heapmeter::{assert_budget, Budget, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

fn zero_per_request(variant: Variant, users: usize) {
    let (_env, check, payments) = common::warm(variant, users);
    let per = heapmeter::per_op(2_000, |i| check.is_risky(common::nth(&payments, i)));
    assert_budget!(
        per,
        Budget::new()
            .max_allocs(0)
            .max_reallocs(0)
            .max_bytes(0)
            .max_retained_bytes(0),
        "{variant} at {users} users"
    );
    assert_eq!(
        per.total,
        heapmeter::Stats::default(),
        "{variant} at {users} users"
    );
}

#[test]
fn every_fix_in_the_catalogue_allocates_nothing_per_warm_request() {
    let fixes: Vec<Variant> = Variant::ALL.into_iter().filter(|v| v.is_fix()).collect();
    assert!(!fixes.is_empty(), "the catalogue names no fix");
    for variant in fixes {
        zero_per_request(variant, 1_000);
        zero_per_request(variant, 10_000);
    }
}

#[test]
fn the_same_budget_rejects_every_variant_that_is_not_a_fix() {
    for variant in Variant::ALL.into_iter().filter(|v| !v.is_fix()) {
        let (_env, check, payments) = common::warm(variant, 1_000);
        let per = heapmeter::per_op(100, |i| check.is_risky(common::nth(&payments, i)));
        let over = Budget::new().max_allocs(0).max_bytes(0).check(&per);
        assert!(over.is_err(), "{variant} allocated nothing: {per:?}");
    }
}
