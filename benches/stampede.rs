//! The cache stampede: `k` requests in flight when the cache key (and any
//! in-process copy) expires, and the store queries they cause, per variant.
//!
//! Virtual time, real code: each variant runs over a `ManualClock`; the
//! store takes 100 ms per query on that clock, and the `k` requests arrive
//! spread over those 100 ms, so all of them are in flight while the first
//! query runs. The incident's code sends each of them to the store; a
//! single-flight refresh sends one.
//!
//! The table of queries is printed first (the counts are exact and
//! deterministic); criterion then times serving the `k` requests
//! (`stampede/<variant>/<k>`), refresh included.
//!
//! ```text
//! cargo bench --bench stampede
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use fraudcheck::{build, data, Clock, Env, FraudCheck, ManualClock, Payment, Variant};

const USERS: usize = 1_000;
const LATENCY: Duration = Duration::from_millis(100);
const IN_FLIGHT: [u32; 3] = [1, 10, 100];

/// A warm variant whose cached list has just expired.
struct AtExpiry {
    env: Env,
    clock: Arc<ManualClock>,
    check: Box<dyn FraudCheck>,
    payments: Vec<Payment>,
    expiry: Duration,
}

impl AtExpiry {
    fn new(variant: Variant) -> AtExpiry {
        let clock = Arc::new(ManualClock::new());
        let env = Env::with_clock(USERS, 7, clock.clone());
        let check = build(variant, &env);
        let payments = data::payments(128, 11, &env.store.active_ids(), 0.1);
        check.is_risky(&payments[0]).expect("warm-up request");
        env.store.set_latency(LATENCY);
        // Just past the TTL of what the warm-up loaded, at the end of its query.
        let expiry = clock.now() + env.config.refresh.ttl + Duration::from_millis(1);
        AtExpiry {
            env,
            clock,
            check,
            payments,
            expiry,
        }
    }

    /// Serves `k` requests arriving evenly over one query's latency.
    fn serve(&self, k: u32) {
        for i in 0..k {
            self.clock.set(self.expiry + LATENCY * i / k);
            let p = &self.payments[i as usize % self.payments.len()];
            black_box(self.check.is_risky(black_box(p)).expect("check"));
        }
    }

    /// Store queries caused by `k` requests in flight at expiry.
    fn queries(&self, k: u32) -> u64 {
        let before = self.env.store.queries();
        self.serve(k);
        self.env.store.queries() - before
    }
}

fn print_table() {
    println!("\nstore queries when the key expires with k requests in flight ({USERS} users, {LATENCY:?} per query)");
    print!("{:<18}", "variant");
    for k in IN_FLIGHT {
        print!("{:>8}", format!("k={k}"));
    }
    println!();
    for variant in Variant::ALL {
        print!("{:<18}", variant.name());
        for k in IN_FLIGHT {
            print!("{:>8}", AtExpiry::new(variant).queries(k));
        }
        println!();
    }
    println!();
}

fn stampede(c: &mut Criterion) {
    print_table();
    let mut group = c.benchmark_group("stampede");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    for variant in Variant::ALL {
        for k in IN_FLIGHT {
            group.bench_function(format!("{variant}/{k}"), |b| {
                b.iter_batched_ref(
                    || AtExpiry::new(variant),
                    |at| at.serve(k),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, stampede);
criterion_main!(benches);
