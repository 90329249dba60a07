//! `heaplab compare`: every variant side by side on a warm cache, with
//! exact allocation counts, a leak verdict and the time per request.
//!
//! For each variant, over a fresh [`Env`] whose virtual clock never moves (so
//! the cache never expires and only the first request misses):
//!
//! 1. **allocations, bytes and retained bytes per request**:
//!    [`heapmeter::per_op`] over `requests` requests, after one uncounted
//!    warm-up request;
//! 2. **verdict**: a [`heapmeter::LeakDetector`] with a short warm-up
//!    ([`LEAK_WARMUP`] requests, then [`LEAK_PHASES`] doubling phases) on a
//!    fresh check, so slow variants stay fast: `retained_listener` is a
//!    leak, `naive` and `parse_and_scan` churn, the fixes are clean;
//! 3. **time per request**: the median of [`TIMED_BATCHES`] timed batches on
//!    a fresh check, each batch long enough (about 2 ms) to time well.
//!
//! Each step builds its own check, so a leak's memory is freed between
//! steps.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fraudcheck::{build, Env, FraudCheck, ManualClock, Payment, Variant};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::workload::{Workload, SHORT_POOL};

/// Warm-up requests of the leak detector.
pub const LEAK_WARMUP: u64 = 20;
/// Doubling phases of the leak detector (`20 · 2⁵ = 640` requests in all).
pub const LEAK_PHASES: u32 = 5;
/// Timed batches; the reported time is their median.
pub const TIMED_BATCHES: usize = 5;
/// Shortest timed batch.
const MIN_BATCH: Duration = Duration::from_millis(2);

/// What to compare.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareConfig {
    /// Variants, in the order to report them.
    pub variants: Vec<Variant>,
    /// Risky users in the store.
    pub users: usize,
    /// Requests measured by `per_op`.
    pub requests: u64,
    /// Seed of the ids and payments.
    pub seed: u64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            variants: Variant::ALL.to_vec(),
            users: 10_000,
            requests: 1_000,
            seed: 42,
        }
    }
}

/// One variant's figures. This is the `--json` record that external tools
/// read: keep its fields and their meaning stable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareRow {
    /// The variant's name, e.g. `"naive"`.
    pub variant: &'static str,
    /// Risky users in the store.
    pub users: usize,
    /// Allocations per warm request, mean (`alloc` calls).
    pub allocs_per_request: f64,
    /// Bytes allocated per warm request, mean.
    pub bytes_per_request: f64,
    /// Bytes still allocated after each warm request, mean (allocated minus
    /// freed).
    pub retained_bytes_per_request: f64,
    /// The leak detector's verdict: `"leak"`, `"churn"` or `"clean"`.
    pub verdict: &'static str,
    /// Wall time per warm request, median of the timed batches, in
    /// nanoseconds.
    pub ns_per_request: f64,
}

/// Compares the configured variants, one after the other on the calling
/// thread; `progress` is called with each variant's name as it starts.
///
/// # Panics
///
/// If `heapmeter::CountingAlloc` is not the global allocator.
pub fn run(config: &CompareConfig, progress: &dyn Fn(Variant)) -> Result<Vec<CompareRow>> {
    if config.users == 0 {
        return Err(Error::Zero { what: "--users" });
    }
    if config.requests == 0 {
        return Err(Error::Zero { what: "--requests" });
    }
    let workload = Workload::new(config.users, config.seed, SHORT_POOL);
    config
        .variants
        .iter()
        .map(|&v| {
            progress(v);
            compare_variant(config, v, &workload)
        })
        .collect()
}

fn compare_variant(
    config: &CompareConfig,
    variant: Variant,
    workload: &Workload,
) -> Result<CompareRow> {
    let env = Env::with_clock(config.users, config.seed, Arc::new(ManualClock::new()));
    let fail = |source| Error::Check {
        variant: variant.name(),
        source,
    };
    let payment = |i: u64| workload.payment(i);
    // The first request fills the cache; any error is a real failure here
    // (nothing is injected), so report it instead of measuring error paths.
    build(variant, &env).is_risky(payment(0)).map_err(fail)?;

    let check = build(variant, &env);
    let per = heapmeter::per_op(config.requests, |i| check.is_risky(payment(i)));
    drop(check);

    let check = build(variant, &env);
    let leak = heapmeter::LeakDetector::new()
        .warmup(LEAK_WARMUP)
        .phases(LEAK_PHASES)
        .window(3)
        .run(|i| check.is_risky(payment(i)));
    drop(check);

    let check = build(variant, &env);
    let ns = time_per_request(&*check, payment);
    drop(check);

    Ok(CompareRow {
        variant: variant.name(),
        users: config.users,
        allocs_per_request: per.allocs,
        bytes_per_request: per.bytes_allocated,
        retained_bytes_per_request: per.retained_bytes,
        verdict: leak.verdict.as_str(),
        ns_per_request: ns,
    })
}

/// One variant's bytes request by request, as `compare --svg` draws them.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareSeries {
    /// The variant's name.
    pub variant: &'static str,
    /// The leak detector's verdict, as in [`CompareRow::verdict`].
    pub verdict: &'static str,
    /// Bytes allocated by the first `i` warm requests, for `i` in
    /// `0..=requests` (exact).
    pub allocated: Vec<u64>,
    /// Bytes the first `i` warm requests left allocated: allocated minus
    /// freed, for `i` in `0..=requests` (exact).
    pub live: Vec<i64>,
}

/// The bytes allocated and left live by each variant of `config`, request
/// by request over `config.requests` warm requests of a fresh check (after
/// one uncounted warm-up request, as [`heapmeter::per_op`] does); `rows`
/// are [`run`]'s, in the same order, for the verdicts.
///
/// # Panics
///
/// If `heapmeter::CountingAlloc` is not the global allocator.
pub fn series(config: &CompareConfig, rows: &[CompareRow]) -> Result<Vec<CompareSeries>> {
    let workload = Workload::new(config.users, config.seed, SHORT_POOL);
    let payment = |i: u64| workload.payment(i);
    config
        .variants
        .iter()
        .zip(rows)
        .map(|(&variant, row)| {
            let fail = |source| Error::Check {
                variant: row.variant,
                source,
            };
            let env = Env::with_clock(config.users, config.seed, Arc::new(ManualClock::new()));
            build(variant, &env).is_risky(payment(0)).map_err(fail)?;
            let check = build(variant, &env);
            check.is_risky(payment(0)).map_err(fail)?;
            let (mut allocated, mut live) = (vec![0], vec![0]);
            for i in 1..=config.requests {
                let (answer, s) = heapmeter::measure(|| check.is_risky(payment(i)));
                answer.map_err(fail)?;
                allocated.push(allocated[allocated.len() - 1] + s.bytes_allocated);
                live.push(live[live.len() - 1] + s.net_bytes());
            }
            Ok(CompareSeries {
                variant: row.variant,
                verdict: row.verdict,
                allocated,
                live,
            })
        })
        .collect()
}

/// Median time per request over [`TIMED_BATCHES`] batches of a length
/// found by doubling until one batch takes [`MIN_BATCH`].
fn time_per_request<'a>(check: &dyn FraudCheck, payment: impl Fn(u64) -> &'a Payment) -> f64 {
    let batch = |start: u64, len: u64| {
        let t = Instant::now();
        for i in start..start + len {
            let _ = black_box(check.is_risky(black_box(payment(i))));
        }
        t.elapsed()
    };
    let mut len = 1u64;
    let mut next = 0u64;
    while len < 1 << 22 {
        let took = batch(next, len);
        next += len;
        if took >= MIN_BATCH {
            break;
        }
        len *= 2;
    }
    let mut per: Vec<f64> = (0..TIMED_BATCHES)
        .map(|b| batch(next + b as u64 * len, len).as_nanos() as f64 / len as f64)
        .collect();
    per.sort_by(f64::total_cmp);
    per[per.len() / 2]
}
