//! The workloads of the profiler-overhead benches. Each `overhead_*` bench
//! binary installs one global allocator and runs these same groups, so the
//! criterion ids differ only in the allocator's name:
//!
//! - `overhead/alloc_free_64/{1,2}_threads/<allocator>`: one 64-byte
//!   allocation and its free, per thread (time per pair);
//! - `overhead/naive_1k/{1,2}_threads/<allocator>`: one request of the
//!   incident's naive fraud check at 1,000 risky users, per thread.
//!
//! With 2 threads both threads run the same number of iterations at once
//! and the time is the wall time: a contended allocator shows up as a
//! larger time per iteration. `cargo run --example bench_table` prints the
//! ratios of one run.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::Criterion;
use fraudcheck::{build, data, Env, FraudCheck, Payment, Variant};

/// Criterion settings for these benches: short, since five binaries run
/// the same groups.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

/// Runs `iters` iterations of `op` on each of `threads` threads at once and
/// returns the wall time from the first thread's start to the last finish.
///
/// NOTE: each thread reads the clock itself when the start line opens. A
/// start read by the spawning thread after its own `wait` raced the
/// workers: on a loaded machine they could finish a short sample before it
/// was scheduled again, and the sample came out as zero (criterion then
/// drops the benchmark) or too short.
fn run_threads(threads: usize, iters: u64, op: &(dyn Fn(u64) + Sync)) -> Duration {
    let start_line = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start_line.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        op(i);
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        let spans: Vec<(Instant, Instant)> = handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect();
        let start = spans
            .iter()
            .map(|s| s.0)
            .min()
            .expect("at least one thread");
        let end = spans
            .iter()
            .map(|s| s.1)
            .max()
            .expect("at least one thread");
        end - start
    })
}

fn alloc_free_64(_: u64) {
    // NOTE: not `Box::new([0u8; 64])`: with `System` as the global
    // allocator LLVM turns that into `calloc`, a slower path through glibc
    // than the `malloc` other allocators get, which skews the ratios.
    drop(black_box(Vec::<u8>::with_capacity(64)));
}

/// Both groups for the allocator called `allocator`.
pub fn benches(c: &mut Criterion, allocator: &str) {
    let env = Env::new(1_000, 7);
    let check = build(Variant::Naive, &env);
    let payments: Vec<Payment> = data::payments(1_024, 11, &env.store.active_ids(), 0.1);
    let naive = |i: u64| {
        let p = &payments[i as usize % payments.len()];
        black_box(check.is_risky(black_box(p)).expect("naive check"));
    };
    naive(0); // fill the cache

    let mut group = c.benchmark_group("overhead");
    for threads in [1, 2] {
        group.bench_function(
            format!("alloc_free_64/{threads}_threads/{allocator}"),
            |b| b.iter_custom(|iters| run_threads(threads, iters, &alloc_free_64)),
        );
        group.bench_function(format!("naive_1k/{threads}_threads/{allocator}"), |b| {
            b.iter_custom(|iters| run_threads(threads, iters, &naive))
        });
    }
    group.finish();
    assert_send_sync(&*check);
}

fn assert_send_sync(_: &(dyn FraudCheck + Send + Sync)) {}
