//! The replay of one variant: the main loop.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use fraudcheck::{
    Clock, Config, Decision, Env, FraudCheck, ManualClock, Payment, RefreshPolicy, Variant,
};

use super::episodes::QueryLog;
use super::fleet::Fleet;
use super::report::{Decisions, Timings, VariantReport};
use super::series::Series;
use super::ReplayConfig;
use crate::workload::Workload;

/// Requests between two calls of the progress callback.
const PROGRESS_EVERY: u64 = 4096;

/// Replays one variant on the calling thread.
pub(crate) fn replay(
    config: &ReplayConfig,
    variant: Variant,
    workload: &Workload,
    progress: &(dyn Fn(u64) + Sync),
) -> VariantReport {
    let started = Instant::now();
    let clock = Arc::new(ManualClock::new());
    let env = Env::with_clock(config.users, config.seed, clock.clone()).with_config(Config {
        refresh: RefreshPolicy {
            ttl: config.ttl,
            ..RefreshPolicy::default()
        },
        fail_policy: config.fail_policy,
        ..Config::default()
    });
    env.store.set_latency(config.store_latency);

    let n = config.requests();
    let mut fleet = Fleet::start(config, variant, &env);
    let mut series = Series::new(config);
    let mut queries = QueryLog::default();
    let mut decisions = Decisions::new(env.config.fail_policy);
    let mut times = Timings::with_capacity(n);
    let mut totals = heapmeter::Stats::default();

    for k in 0..n {
        let t = config.arrival(k);
        clock.set(t);
        let p = fleet.route(k);
        let before = env.store.queries();
        let ((decision, took), s) = heapmeter::measure(|| {
            let start = Instant::now();
            let decision = ask(fleet.check(p), &workload.request(k));
            (decision, start.elapsed())
        });
        queries.record(t, p, env.store.queries() - before);
        decisions.record(&decision);
        times.push(took);
        totals.allocs += s.allocs;
        totals.reallocs += s.reallocs;
        totals.bytes_allocated += s.bytes_allocated;
        fleet.account(p, &s, t, clock.now(), &env);
        series.after_request(k, &mut fleet);
        if (k + 1) % PROGRESS_EVERY == 0 {
            progress(PROGRESS_EVERY);
        }
    }
    progress(n % PROGRESS_EVERY);

    let (store_episodes, pod_episodes) = queries.episodes(config.ttl / 2, fleet.pods().len());
    let per_request = |v: u64| v as f64 / n as f64;
    let cpu_us = times.median_us();
    let report = VariantReport {
        variant: variant.name(),
        is_fix: variant.is_fix(),
        requests: n,
        errors: decisions.errors,
        fail_policy: decisions.policy_name(),
        held: decisions.held,
        allocs_per_request: per_request(totals.allocs),
        reallocs_per_request: per_request(totals.reallocs),
        bytes_per_request: per_request(totals.bytes_allocated),
        peak_pod_bytes: fleet.peak_bytes(),
        end_pod_bytes: fleet.end_bytes(),
        restarts: fleet.pods().iter().map(|p| p.restarts).sum(),
        restarts_per_pod: fleet.pods().iter().map(|p| p.restarts).collect(),
        lost_in_kills: fleet.pods().iter().map(|p| p.lost_in_kills).sum(),
        peak_in_flight: fleet.peak_in_flight,
        memory: config.memory.name(),
        freed_on_kill_bytes: fleet.pods().iter().map(|p| p.freed_on_kill).sum(),
        first_oom_kill_s: fleet.first_kill.map(|t| t.as_secs_f64()),
        alert_s: fleet.first_alert.map(|t| t.as_secs_f64()),
        alert_before_oom_min: fleet
            .first_alert
            .zip(fleet.first_kill)
            .map(|(alert, kill)| (kill.as_secs_f64() - alert.as_secs_f64()) / 60.0),
        store_queries: env.store.queries(),
        store_queries_per_expiry: store_episodes,
        pod_queries_per_expiry: pod_episodes,
        cpu_us_per_request: cpu_us,
        core_share_per_pod: cpu_us * 1e-6 * config.rps_per_pod(),
        wall_s: 0.0,
        series: series.into_points(),
    };
    // The pods' state (a leak's gigabyte included) is freed here, outside
    // any measurement.
    drop(fleet);
    VariantReport {
        wall_s: started.elapsed().as_secs_f64(),
        ..report
    }
}

/// One request as the payment flow makes it: the check's answer, or its
/// fail policy's when it fails; opaque to the optimiser so it is neither
/// skipped nor merged with its neighbours.
fn ask(check: &dyn FraudCheck, payment: &Payment) -> Decision {
    black_box(check.decide(black_box(payment)))
}
