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
//!   `is_risky` under [`heapmeter::measure`]; the clock, the pods and the
//!   store are simulated, as below.
//!   Each variant has one [`Env`](fraudcheck::Env) with a
//!   [`ManualClock`](fraudcheck::ManualClock) that is set to the
//!   request's arrival time before the call, so four hours take seconds.
//! - **Pods.** A pod is its own [`fraudcheck::build`] object. Its memory is
//!   `baseline` (the rest of the service, not simulated) plus the net bytes
//!   its construction and its requests left allocated; its peak adds each
//!   request's `peak_bytes`.
//! - **The store's connections.** Each pod has a pool of
//!   `store_connections` connections to the store; a query waits for the
//!   first to free, then takes `store_latency` (the clock's `sleep`, see
//!   `pool`).
//! - **Requests in flight** (`--memory resident`, [`MemoryModel`]). A
//!   request whose query waited is counted in flight on its pod until the
//!   query answers; it holds nothing of the check while it waits, and its
//!   working set for an instant after the answer, so the bytes booked are
//!   the same as by default ([`MemoryModel::Live`]).
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
//! - **Failures.** A check that returns an error is decided by
//!   [`ReplayConfig::fail_policy`] (open: let through; closed: held), and
//!   counted in [`VariantReport::errors`] and [`VariantReport::held`].
//!
//! NOTE: the cache lives outside the pods, but its value is written during
//! the request that missed and freed during the request that overwrote it,
//! which may run on another pod: a pod's figure can drift by one cached value
//! (about `13 · users` bytes) either way. That is noise next to the baseline.
//!
//! The modules: `config` (what to replay), `fleet` (the
//! pods and their OOMKills), `pool` (virtual time and the pods' connections
//! to the store), `series` (memory over time), `episodes` (store
//! queries per cache miss), `report` (what each variant did), `variant`
//! (the main loop) and `workers` (variants in parallel).

mod config;
mod episodes;
mod fleet;
mod pool;
mod report;
mod series;
mod variant;
mod workers;

pub use config::{MemoryModel, ReplayConfig};
pub use episodes::Episodes;
pub use report::VariantReport;
pub use series::{MemoryPoint, SERIES_POINTS};

use crate::error::Result;
use crate::workload::{Workload, REPLAY_POOL};

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
    let pool = REPLAY_POOL.min(config.requests() as usize);
    let workload = Workload::new(config.users, config.seed, pool);
    // PERF: the variants that are not fixes parse the whole list on every
    // request: they go first, so that the fast ones fill the gaps.
    let mut order: Vec<usize> = (0..config.variants.len()).collect();
    order.sort_by_key(|&i| config.variants[i].is_fix());
    let threads = match config.threads {
        0 => order.len(),
        n => n,
    };
    Ok(workers::run_all(&order, threads, |i| {
        variant::replay(config, config.variants[i], &workload, progress)
    }))
}
