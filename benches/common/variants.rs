//! One request of a fraudcheck variant as a criterion routine, shared by the
//! time bench (`variants`) and the allocation bench (`variant_allocs`).

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{BatchSize, BenchmarkGroup};
use fraudcheck::{build, data, Env, FraudCheck, Payment, Variant};

/// Risky-user counts every variant is measured at.
pub const USERS: [usize; 3] = [1_000, 10_000, 100_000];

/// A warm environment: the cache holds the list, the check has served one
/// request; payments cycle through 1,024, a tenth of them by risky users.
pub struct Warm {
    pub env: Env,
    pub check: Box<dyn FraudCheck>,
    pub payments: Vec<Payment>,
}

impl Warm {
    pub fn new(variant: Variant, users: usize) -> Warm {
        let env = Env::new(users, 7);
        let check = build(variant, &env);
        let payments = data::payments(1_024, 11, &env.store.active_ids(), 0.1);
        check.is_risky(&payments[0]).expect("warm-up request");
        Warm {
            env,
            check,
            payments,
        }
    }
}

/// Benchmarks one request of `variant` at `users` as `id` in `group`.
///
/// NOTE: `retained_listener` keeps every request's set, so thousands of
/// iterations on one check would fill the machine's memory. Each of its
/// iterations gets a fresh check (built outside the measurement, over the
/// same warm cache) and the memory is freed between batches. What the
/// iteration measures is the same request; only the listener list starts
/// empty.
pub fn bench_request<M: Measurement>(
    group: &mut BenchmarkGroup<'_, M>,
    id: String,
    variant: Variant,
    users: usize,
) {
    let warm = Warm::new(variant, users);
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % warm.payments.len();
        &warm.payments[i]
    };
    if variant == Variant::RetainedListener {
        group.bench_function(id, |b| {
            b.iter_batched_ref(
                || build(variant, &warm.env),
                |check| black_box(check.is_risky(black_box(next()))),
                BatchSize::NumIterations(64),
            )
        });
    } else {
        group.bench_function(id, |b| {
            b.iter(|| black_box(warm.check.is_risky(black_box(next()))))
        });
    }
}
