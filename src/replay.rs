//! `heaplab replay`: the incident's traffic, replayed in virtual time
//! against real fraud-check code, pod by pod.
//!
//! # The model
//!
//! ```text
//!             round robin: request k → pod k % pods, arriving at k / rps
//!   balancer ──┬──▶ pod 0: baseline + heap of its own check object ─┐
//!              ├──▶ pod 1                                            ├──▶ Cache (one per
//!              ├──▶ …                                                │    variant, outside
//!              └──▶ pod n-1                                          ┘    the pods) ──▶ Store
//! ```
//!
//! - **Real work, virtual time.** Every request runs the variant's real
//!   `is_risky` under [`heapmeter::measure`]; only the clock is simulated.
//!   Each variant has one [`Env`] with a [`ManualClock`] that is set to the
//!   request's arrival time before the call, so four hours take seconds.
//! - **Pods.** A pod is its own [`fraudcheck::build`] object. Its memory is
//!   `baseline` (the rest of the service, not simulated) plus the net bytes
//!   its construction and its requests left allocated; its peak adds each
//!   request's `peak_bytes`.
//! - **OOMKilled.** When a pod's memory passes `limit`, the pod is killed:
//!   its check object is dropped (measured, so its state is seen to be
//!   freed), the restart is counted, and it is rebuilt cold at once, as
//!   Kubernetes would (the restart back-off is not modelled: the new pod
//!   takes the next request routed to it).
//! - **The stampede.** The store answers after `store_latency` on the
//!   variant's clock, so a query moves virtual time on, and the cache (see
//!   [`fraudcheck::Cache`]) hides the write-back from requests that arrived
//!   before it landed: they miss too and behave as their code dictates
//!   (naive: each one queries; ttl_refresh: one refresh per pod). Queries
//!   are grouped into miss episodes: a query more than `ttl / 2` after the
//!   first query of the current episode starts a new one.
//! - **Parallel variants.** By default every variant runs on its own
//!   thread at once, and the OS shares the cores among them: the work of
//!   each variant cannot be split (its pods share a cache and a clock), and
//!   with fewer threads than variants the two slowest would queue behind
//!   each other while a core idles at the end. [`heapmeter::measure`]
//!   counts per thread, so the figures stay exact; times are medians (see
//!   [`VariantReport::cpu_us_per_request`]).
//!
//! NOTE: the cache lives outside the pods, but its value is written during
//! the request that missed and freed during the request that overwrote it,
//! which may run on another pod: a pod's figure can drift by one cached value
//! (about `13 · users` bytes) either way. That is noise next to the baseline.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fraudcheck::{build, data, Config, Env, FraudCheck, ManualClock, Payment, Variant};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::units::thousands;

/// Share of payments made by a user on the risky list. The reference
/// measurements used even ids for about 50%.
pub const RISKY_SHARE: f64 = 0.5;

/// Payments generated once and cycled through (ids renumbered per request).
const PAYMENT_POOL: usize = 65_536;

/// Points in each memory series.
pub const SERIES_POINTS: u64 = 240;

/// What to replay. [`ReplayConfig::default`] mirrors the incident.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayConfig {
    /// Variants to replay, in the order to report them.
    pub variants: Vec<Variant>,
    /// Pods behind the round-robin balancer.
    pub pods: u32,
    /// Requests per second, all pods together.
    pub rps: f64,
    /// Simulated time.
    pub duration: Duration,
    /// Memory limit per pod, in bytes.
    pub limit: u64,
    /// Risky users in the store.
    pub users: usize,
    /// Cache TTL (`SETEX` and in-process refresh interval).
    pub ttl: Duration,
    /// Time a store query takes, on the virtual clock.
    pub store_latency: Duration,
    /// Memory of the rest of the service per pod, in bytes (not simulated).
    pub baseline: u64,
    /// Seed of the risky ids and the payments.
    pub seed: u64,
    /// Worker threads (variants run in parallel); 0 = one per variant.
    pub threads: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            variants: Variant::ALL.to_vec(),
            pods: 4,
            rps: 100.0,
            duration: Duration::from_secs(4 * 3600),
            limit: 1 << 30,
            users: 1_000,
            ttl: Duration::from_secs(300),
            store_latency: Duration::from_millis(200),
            baseline: 128 << 20,
            seed: 42,
            threads: 0,
        }
    }
}

impl ReplayConfig {
    /// Checks the figures: everything positive, the limit above the
    /// baseline, at least one request.
    pub fn validate(&self) -> Result<()> {
        let zero = |what| Err(Error::Zero { what });
        if self.pods == 0 {
            return zero("--pods");
        }
        if !(self.rps > 0.0 && self.rps.is_finite()) {
            return zero("--rps");
        }
        if self.duration.is_zero() {
            return zero("--duration");
        }
        if self.limit == 0 {
            return zero("--limit");
        }
        if self.users == 0 {
            return zero("--users");
        }
        if self.ttl.is_zero() {
            return zero("--ttl");
        }
        if self.limit <= self.baseline {
            return Err(Error::LimitBelowBaseline {
                limit: heapmeter::Bytes(self.limit as f64).to_string(),
                baseline: heapmeter::Bytes(self.baseline as f64).to_string(),
            });
        }
        if self.requests() == 0 {
            return zero("--duration × --rps (the number of requests)");
        }
        Ok(())
    }

    /// Requests in the replay: `⌊duration · rps⌋`.
    pub fn requests(&self) -> u64 {
        (self.duration.as_secs_f64() * self.rps).floor() as u64
    }

    /// Requests per second that one pod serves.
    pub fn rps_per_pod(&self) -> f64 {
        self.rps / f64::from(self.pods)
    }

    fn arrival(&self, k: u64) -> Duration {
        Duration::from_secs_f64(k as f64 / self.rps)
    }
}

/// One point of a memory series: a slice of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryPoint {
    /// End of the slice, in seconds of virtual time.
    pub t_s: f64,
    /// Highest memory each pod reached in the slice, in bytes (baseline
    /// included).
    pub pod_peak_bytes: Vec<u64>,
    /// The highest of `pod_peak_bytes`, in bytes.
    pub max_pod_bytes: u64,
    /// Memory of all pods together at the end of the slice, in bytes.
    pub total_bytes: u64,
    /// OOMKills in the slice.
    pub oom_kills: u64,
}

/// Store queries grouped into miss episodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Episodes {
    /// Number of episodes (the cold start included).
    pub episodes: u64,
    /// Mean queries per episode.
    pub mean: f64,
    /// Most queries in one episode.
    pub max: u64,
}

/// What one variant did during the replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantReport {
    /// The variant's name.
    pub variant: &'static str,
    /// Whether the variant is one of the fixes.
    pub is_fix: bool,
    /// Requests replayed.
    pub requests: u64,
    /// Requests whose check returned an error (answered by the fail policy).
    pub errors: u64,
    /// Allocations per request, mean (`alloc` calls).
    pub allocs_per_request: f64,
    /// Reallocations per request, mean.
    pub reallocs_per_request: f64,
    /// Bytes allocated per request, mean.
    pub bytes_per_request: f64,
    /// Highest memory any pod reached, in bytes (baseline included).
    pub peak_pod_bytes: u64,
    /// Memory of each pod at the end, in bytes (baseline included).
    pub end_pod_bytes: Vec<u64>,
    /// OOMKills (= restarts), all pods.
    pub restarts: u64,
    /// OOMKills per pod.
    pub restarts_per_pod: Vec<u64>,
    /// Bytes freed by dropping the check objects of OOMKilled pods: the
    /// state they held.
    pub freed_on_kill_bytes: u64,
    /// Virtual time of the first OOMKill, in seconds; `None` if none.
    pub first_oom_kill_s: Option<f64>,
    /// Queries that reached the store, all pods.
    pub store_queries: u64,
    /// Queries per miss episode as the store sees them (all pods).
    pub store_queries_per_expiry: Episodes,
    /// Queries per miss episode of each pod on its own, pooled.
    pub pod_queries_per_expiry: Episodes,
    /// Time one request spends inside `is_risky`, in microseconds: the
    /// median of the requests' wall times. NOTE: the median, not the mean,
    /// because the variants run on more threads than there are cores and
    /// the requests the OS descheduled show the wait; the median is the
    /// request's own cost. The rare slow requests it leaves out (a refresh,
    /// a store query every few minutes) are amortised over tens of
    /// thousands of requests.
    pub cpu_us_per_request: f64,
    /// Share of one core that `is_risky` takes at one pod's rate (0..1).
    pub core_share_per_pod: f64,
    /// Wall time the replay of this variant took, in seconds.
    pub wall_s: f64,
    /// Memory per pod over time.
    pub series: Vec<MemoryPoint>,
}

/// The replay of every configured variant, in the configured order.
///
/// Variants run on `config.threads` workers (slowest first); `progress` is
/// called from the workers with the number of requests just done.
///
/// # Panics
///
/// If `heapmeter::CountingAlloc` is not the global allocator.
pub fn run(config: &ReplayConfig, progress: &(dyn Fn(u64) + Sync)) -> Result<Vec<VariantReport>> {
    config.validate()?;
    let ids = data::risky_user_ids(config.users, config.seed);
    let pool: Arc<[Payment]> = data::payments(
        PAYMENT_POOL.min(config.requests() as usize).max(1),
        config.seed,
        &ids,
        RISKY_SHARE,
    )
    .into();
    drop(ids);

    // PERF: the slow variants first, so that the fast ones fill the gaps.
    let mut order: Vec<usize> = (0..config.variants.len()).collect();
    order.sort_by_key(|&i| cost_rank(config.variants[i]));
    let threads = match config.threads {
        0 => order.len(),
        n => n,
    }
    .min(order.len())
    .max(1);

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<VariantReport>>>> =
        Mutex::new((0..config.variants.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let report = replay_variant(config, config.variants[i], &pool, progress);
                    results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(report);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every variant was replayed"))
        .collect()
}

/// The median of `values` (0 for none).
fn median_ns(values: &mut [u32]) -> u32 {
    if values.is_empty() {
        return 0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable(mid).1
}

/// Lower runs first: the variants that parse the list on every request.
fn cost_rank(v: Variant) -> u8 {
    match v {
        Variant::RetainedListener => 0,
        Variant::Naive => 1,
        Variant::ParseAndScan => 2,
        _ => 3,
    }
}

/// One pod: its check object and its accounting.
#[derive(Debug)]
struct Pod {
    check: Option<Box<dyn FraudCheck>>,
    /// Net heap bytes of the check since the pod (re)started.
    heap: i64,
    /// Highest heap in the current series slice.
    slice_peak: i64,
    restarts: u64,
    /// Bytes freed by dropping the checks of killed pods.
    freed_on_kill: u64,
}

impl Pod {
    fn start(variant: Variant, env: &Env) -> Pod {
        let (check, s) = heapmeter::measure(|| build(variant, env));
        Pod {
            check: Some(check),
            heap: s.net_bytes(),
            slice_peak: s.net_bytes(),
            restarts: 0,
            freed_on_kill: 0,
        }
    }

    /// OOMKilled: drop the check (its state is freed), start a new one.
    fn restart(&mut self, variant: Variant, env: &Env) {
        let old = self.check.take();
        let ((), freed) = heapmeter::measure(|| drop(old));
        // NOTE: what is left after the drop is cache values this pod wrote
        // and other pods freed (or the reverse); a new process starts from
        // its baseline, so the pod's account starts over.
        self.freed_on_kill += freed.bytes_deallocated;
        let (check, built) = heapmeter::measure(|| build(variant, env));
        self.check = Some(check);
        self.heap = built.net_bytes();
        self.restarts += 1;
    }
}

/// Query counts per miss episode: `times` in arrival order, one entry per
/// query.
fn episodes(times: impl IntoIterator<Item = Duration>, window: Duration) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut start: Option<Duration> = None;
    for t in times {
        match start {
            Some(s) if t < s + window => *out.last_mut().expect("episode open") += 1,
            _ => {
                start = Some(t);
                out.push(1);
            }
        }
    }
    out
}

fn summarise(counts: &[u64]) -> Episodes {
    let total: u64 = counts.iter().sum();
    Episodes {
        episodes: counts.len() as u64,
        mean: if counts.is_empty() {
            0.0
        } else {
            total as f64 / counts.len() as f64
        },
        max: counts.iter().copied().max().unwrap_or(0),
    }
}

/// Replays one variant on the calling thread.
fn replay_variant(
    config: &ReplayConfig,
    variant: Variant,
    pool: &[Payment],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<VariantReport> {
    let started = Instant::now();
    let clock = Arc::new(ManualClock::new());
    let env = Env::with_clock(config.users, config.seed, clock.clone()).with_config(Config {
        ttl: config.ttl,
        ..Config::default()
    });
    env.store.set_latency(config.store_latency);

    let n = config.requests();
    let pods = config.pods as usize;
    let baseline = config.baseline as i64;
    let limit = config.limit as i64;
    let mem = |heap: i64| (baseline + heap).max(0) as u64;

    let mut pod: Vec<Pod> = (0..pods).map(|_| Pod::start(variant, &env)).collect();
    let mut totals = heapmeter::Stats::default();
    // Wall time inside each request, for the median (see `cpu_us_per_request`).
    let mut took_ns: Vec<u32> = Vec::with_capacity(n as usize);
    let mut errors = 0u64;
    let mut first_kill: Option<Duration> = None;
    let mut peak: i64 = pod.iter().map(|p| p.heap).max().unwrap_or(0);
    // (arrival, pod) of every store query.
    let mut queries: Vec<(Duration, usize)> = Vec::new();

    let points = SERIES_POINTS.min(n).max(1);
    let mut series = Vec::with_capacity(points as usize);
    let mut slice_kills = 0u64;
    let mut slice = 0u64;
    let mut unreported = 0u64;

    for k in 0..n {
        let t = config.arrival(k);
        clock.set(t);
        let p = k as usize % pods;
        let mut payment = pool[k as usize % pool.len()];
        payment.id = k + 1;
        let check = pod[p].check.as_deref().expect("a running pod has a check");

        let before = env.store.queries();
        let ((result, took), s) = heapmeter::measure(|| {
            let start = Instant::now();
            let result = check.is_risky(black_box(&payment));
            (result, start.elapsed())
        });
        let asked = env.store.queries() - before;
        for _ in 0..asked {
            queries.push((t, p));
        }
        match black_box(result) {
            Ok(_) => {}
            Err(_) => errors += 1,
        }
        took_ns.push(u32::try_from(took.as_nanos()).unwrap_or(u32::MAX));
        totals.allocs += s.allocs;
        totals.reallocs += s.reallocs;
        totals.bytes_allocated += s.bytes_allocated;

        let pd = &mut pod[p];
        let high = pd.heap + s.peak_bytes as i64;
        pd.heap += s.net_bytes();
        let high = high.max(pd.heap);
        pd.slice_peak = pd.slice_peak.max(high);
        peak = peak.max(high);
        if baseline + high > limit {
            first_kill.get_or_insert(t);
            slice_kills += 1;
            pd.restart(variant, &env);
        }

        // Close the series slices that end at or before this request.
        let slice_of_next = ((k + 1) as u128 * u128::from(points) / u128::from(n)) as u64;
        while slice < slice_of_next {
            slice += 1;
            let end_s = config.duration.as_secs_f64() * slice as f64 / points as f64;
            let pod_peak_bytes: Vec<u64> = pod.iter().map(|p| mem(p.slice_peak)).collect();
            series.push(MemoryPoint {
                t_s: end_s,
                max_pod_bytes: pod_peak_bytes.iter().copied().max().unwrap_or(0),
                pod_peak_bytes,
                total_bytes: pod.iter().map(|p| mem(p.heap)).sum(),
                oom_kills: std::mem::take(&mut slice_kills),
            });
            for p in &mut pod {
                p.slice_peak = p.heap;
            }
        }

        unreported += 1;
        if unreported == 4096 {
            progress(std::mem::take(&mut unreported));
        }
    }
    progress(unreported);

    let window = config.ttl / 2;
    let all = episodes(queries.iter().map(|&(t, _)| t), window);
    let mut per_pod = Vec::new();
    for p in 0..pods {
        per_pod.extend(episodes(
            queries.iter().filter(|q| q.1 == p).map(|&(t, _)| t),
            window,
        ));
    }
    let per_request = |v: u64| v as f64 / n as f64;
    let cpu_us = median_ns(&mut took_ns) as f64 / 1e3;
    drop(took_ns);
    let report = VariantReport {
        variant: variant.name(),
        is_fix: variant.is_fix(),
        requests: n,
        errors,
        allocs_per_request: per_request(totals.allocs),
        reallocs_per_request: per_request(totals.reallocs),
        bytes_per_request: per_request(totals.bytes_allocated),
        peak_pod_bytes: mem(peak),
        end_pod_bytes: pod.iter().map(|p| mem(p.heap)).collect(),
        restarts: pod.iter().map(|p| p.restarts).sum(),
        restarts_per_pod: pod.iter().map(|p| p.restarts).collect(),
        freed_on_kill_bytes: pod.iter().map(|p| p.freed_on_kill).sum(),
        first_oom_kill_s: first_kill.map(|t| t.as_secs_f64()),
        store_queries: env.store.queries(),
        store_queries_per_expiry: summarise(&all),
        pod_queries_per_expiry: summarise(&per_pod),
        cpu_us_per_request: cpu_us,
        core_share_per_pod: cpu_us * 1e-6 * config.rps_per_pod(),
        wall_s: 0.0,
        series,
    };
    // The pods' state (a leak's gigabyte included) is freed here, outside
    // any measurement.
    drop(pod);
    Ok(VariantReport {
        wall_s: started.elapsed().as_secs_f64(),
        ..report
    })
}

/// One line describing the replay, for the table's title.
pub fn describe(config: &ReplayConfig) -> String {
    format!(
        "{} pods, {} req/s round robin, {} simulated ({} requests per variant), limit {} per pod \
         (baseline {}), {} risky users, TTL {}, store latency {}",
        config.pods,
        config.rps,
        crate::units::human_duration(config.duration),
        thousands(config.requests()),
        heapmeter::Bytes(config.limit as f64),
        heapmeter::Bytes(config.baseline as f64),
        thousands(config.users as u64),
        crate::units::human_duration(config.ttl),
        crate::units::human_duration(config.store_latency),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_split_after_the_window() {
        let s = Duration::from_secs;
        let counts = episodes([s(0), s(0), s(1), s(400), s(401), s(900)], s(150));
        assert_eq!(counts, vec![3, 2, 1]);
        let e = summarise(&counts);
        assert_eq!((e.episodes, e.mean, e.max), (3, 2.0, 3));
        assert_eq!(summarise(&[]).mean, 0.0);
    }

    #[test]
    fn validation_names_the_flag() {
        let bad = ReplayConfig {
            pods: 0,
            ..ReplayConfig::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("--pods"));
        let low = ReplayConfig {
            limit: 64 << 20,
            ..ReplayConfig::default()
        };
        assert!(matches!(
            low.validate(),
            Err(Error::LimitBelowBaseline { .. })
        ));
        assert_eq!(ReplayConfig::default().requests(), 1_440_000);
    }
}
