//! Time per request of every fraudcheck variant at 1k, 10k and 100k risky
//! users (`request/<variant>/<users>`), and the fixed variants beside a
//! bare `HashSet::contains` on the same prebuilt set (`floor/<users>/…`):
//! the floor a fixed check can approach.
//!
//! The global allocator is the system's: these are times only (see
//! `variant_allocs` for the allocations).
//!
//! ```text
//! cargo bench --bench variants
//! cargo run --example bench_table     # ratios from the run
//! ```

#[path = "common/variants.rs"]
mod variants;

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use fraudcheck::{
    data, id_set, BloomCheck, CacheSetCheck, Env, FraudCheck, Payment, SharedSetCheck,
    TtlRefreshCheck, Variant,
};

fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1_500));
    for users in variants::USERS {
        for variant in Variant::ALL {
            variants::bench_request(&mut group, format!("{variant}/{users}"), variant, users);
        }
    }
    group.finish();
}

fn floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for users in variants::USERS {
        let ids = data::risky_user_ids(users, 7);
        let payments = data::payments(1_024, 11, &ids, 0.1);
        let fast = id_set(&ids);
        let std_set: HashSet<u64> = ids.iter().copied().collect();
        let mut i = 0usize;
        group.bench_function(BenchmarkId::new("bare_idset", users), |b| {
            b.iter(|| {
                i = (i + 1) % payments.len();
                black_box(fast.contains(&black_box(&payments[i]).user_id))
            })
        });
        group.bench_function(BenchmarkId::new("bare_std_hashset", users), |b| {
            b.iter(|| {
                i = (i + 1) % payments.len();
                black_box(std_set.contains(&black_box(&payments[i]).user_id))
            })
        });
        // The fixes as their concrete types, called directly as a service
        // would: the floor compares the fix, not trait-object dispatch.
        let env = Env::new(users, 7);
        fixed(&mut group, users, &payments, SharedSetCheck::new(&env));
        fixed(&mut group, users, &payments, TtlRefreshCheck::new(&env));
        fixed(&mut group, users, &payments, CacheSetCheck::new(&env));
        fixed(&mut group, users, &payments, BloomCheck::new(&env));
    }
    group.finish();
}

/// One warm fixed check in the floor group, over the same payments.
fn fixed(
    group: &mut BenchmarkGroup<'_, WallTime>,
    users: usize,
    payments: &[Payment],
    check: impl FraudCheck,
) {
    check.is_risky(&payments[0]).expect("warm-up request");
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new(check.name(), users), |b| {
        b.iter(|| {
            i = (i + 1) % payments.len();
            black_box(check.is_risky(black_box(&payments[i])))
        })
    });
}

criterion_group!(benches, requests, floor);
criterion_main!(benches);
