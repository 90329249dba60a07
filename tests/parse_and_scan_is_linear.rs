//! The published "Fix 1" (parse, then scan the array) drops the set but
//! still copies and parses the whole list on every request: two
//! allocations and O(n) bytes per request, ten times more at ten times the
//! users.

mod common;

use fraudcheck::{Variant, CACHE_KEY};
use heapmeter::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

/// Bytes per request at `n` users, checked against the formula
/// `(13n + 1) + 8·max(4, n.next_power_of_two())`.
fn bytes_per_request(n: usize) -> f64 {
    let (env, check, payments) = common::warm(Variant::ParseAndScan, n);
    let body = env.cache.get(CACHE_KEY).unwrap().unwrap().len() as f64;
    let cap = n.max(4).next_power_of_two() as f64;
    let per = heapmeter::per_op(200, |i| check.is_risky(common::nth(&payments, i)));
    assert_eq!(per.allocs, 2.0, "{n} users");
    assert_eq!(per.reallocs, (cap / 4.0).log2(), "{n} users");
    assert_eq!(per.retained_bytes, 0.0, "{n} users");
    assert_eq!(per.bytes_allocated, body + 8.0 * cap, "{n} users");
    per.bytes_allocated
}

#[test]
fn bytes_per_request_follow_the_list_at_1_000_and_10_000_users() {
    let small = bytes_per_request(1_000);
    let large = bytes_per_request(10_000);
    assert_eq!(small, 21_193.0);
    assert_eq!(large, 261_073.0);
}
