//! The incident's check allocates a deterministic amount per request.
//!
//! For `n` risky users with 12-digit ids, a warm request (cache hit):
//!
//! | block | allocs | reallocs | bytes |
//! |---|---|---|---|
//! | `GET` reply body | 1 | 0 | `13n + 1` (`[`, ids, commas, `]`) |
//! | parsed `Vec<u64>` | 1 | `log2(cap / 4)` | `8·cap`, `cap = max(4, n.next_power_of_two())` |
//! | the set's table | 1 | 0 | `9·buckets + 16`, `buckets = (8n/7).next_power_of_two()` (x86-64) |
//!
//! All three are freed before the request returns; the peak is the parsed
//! `Vec` plus the larger of the body (freed after parsing) and the table.
//! n = 1,000: 3 allocs, 8 reallocs, 39,641 bytes; n = 10,000: 3 allocs, 12
//! reallocs, 408,545 bytes.

mod common;

use fraudcheck::{id_set, Variant, CACHE_KEY};
use heapmeter::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

/// The set's table for `n` ids, measured on its own.
fn table_bytes(n: usize) -> u64 {
    let ids: Vec<u64> = (0..n as u64).collect();
    let (set, s) = heapmeter::measure(|| id_set(&ids));
    assert_eq!((s.allocs, s.reallocs), (1, 0));
    drop(set);
    // hashbrown's layout: 8-byte buckets plus one control byte each and a
    // trailing group (16 bytes with SSE2).
    #[cfg(target_arch = "x86_64")]
    {
        let buckets = (n * 8 / 7).next_power_of_two() as u64;
        assert_eq!(s.bytes_allocated, 9 * buckets + 16);
    }
    s.bytes_allocated
}

fn exact(n: usize, expected_bytes: u64, expected_reallocs: f64) {
    let (env, check, payments) = common::warm(Variant::Naive, n);
    let body = env.cache.get(CACHE_KEY).unwrap().unwrap().len() as u64;
    assert_eq!(body, 13 * n as u64 + 1);
    let cap = n.max(4).next_power_of_two() as u64;
    let table = table_bytes(n);

    let per = heapmeter::per_op(200, |i| check.is_risky(common::nth(&payments, i)));
    assert_eq!(per.allocs, 3.0);
    assert_eq!(per.reallocs, (cap / 4).ilog2() as f64);
    assert_eq!(per.reallocs, expected_reallocs);
    assert_eq!(per.deallocs, 3.0);
    assert_eq!(per.bytes_allocated, (body + 8 * cap + table) as f64);
    assert_eq!(per.bytes_allocated, expected_bytes as f64);
    assert_eq!(per.retained_bytes, 0.0);
    assert_eq!(per.max_peak_bytes, 8 * cap + body.max(table));
    assert_eq!(env.store.queries(), 1, "only the warm-up missed the cache");
}

#[test]
fn a_warm_request_at_1_000_users_makes_3_allocations_8_reallocations_and_39_641_bytes() {
    exact(1_000, 39_641, 8.0);
}

#[test]
fn a_warm_request_at_10_000_users_makes_3_allocations_12_reallocations_and_408_545_bytes() {
    exact(10_000, 408_545, 12.0);
}
