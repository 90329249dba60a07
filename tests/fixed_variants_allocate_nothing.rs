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
fn shared_set() {
    zero_per_request(Variant::SharedSet, 1_000);
    zero_per_request(Variant::SharedSet, 10_000);
}

#[test]
fn ttl_refresh() {
    zero_per_request(Variant::TtlRefresh, 1_000);
    zero_per_request(Variant::TtlRefresh, 10_000);
}

#[test]
fn bloom() {
    zero_per_request(Variant::Bloom, 1_000);
    zero_per_request(Variant::Bloom, 10_000);
}

#[test]
fn cache_set() {
    zero_per_request(Variant::CacheSet, 1_000);
    zero_per_request(Variant::CacheSet, 10_000);
}

#[test]
fn every_fix_is_listed() {
    let fixes: Vec<Variant> = Variant::ALL.into_iter().filter(|v| v.is_fix()).collect();
    assert_eq!(
        fixes,
        [
            Variant::SharedSet,
            Variant::TtlRefresh,
            Variant::CacheSet,
            Variant::Bloom
        ]
    );
}
