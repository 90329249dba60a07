//! What to replay, and the checks on it.

use std::time::Duration;

use fraudcheck::{FailPolicy, Variant};

use crate::error::{Error, Result};

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
    /// Connections to the store per pod: a query waits for one of them
    /// (10 by default, node-postgres's `Pool`, which the incident's Node
    /// service used).
    pub store_connections: u32,
    /// Memory of the rest of the service per pod, in bytes (not simulated).
    pub baseline: u64,
    /// Growth of a pod's memory above which the growth alert is pending,
    /// in bytes per second: the post-mortem's rule is
    /// `deriv(memory[5m]) > alert_rate for 10m`, with 1 MB/s.
    pub alert_rate: u64,
    /// Seed of the risky ids and the payments.
    pub seed: u64,
    /// Worker threads (variants run in parallel); 0 = one per variant.
    pub threads: usize,
    /// What a request whose check fails is decided as (see
    /// [`VariantReport::errors`](super::VariantReport::errors)).
    pub fail_policy: FailPolicy,
    /// What a pod's memory counts: see [`MemoryModel`].
    pub memory: MemoryModel,
}

/// What a pod's memory, the figure its limit and the growth alert act on,
/// is made of in the replay, and whether requests in flight are counted.
///
/// The two models book the same bytes; `Resident` also counts the
/// requests in flight. Neither is the kernel's RSS: the allocator's own
/// share (0.9–1.6× the live growth, measured with `examples/pod_memory`)
/// is not added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryModel {
    /// The baseline plus the bytes the pod's check holds; each request's
    /// peak counts for the instant it happens.
    #[default]
    Live,
    /// `Live`, with the requests in flight counted: a request is in flight
    /// from its arrival until its store queries have answered (each waits
    /// for a connection of its pod's pool, then for `store_latency`), and
    /// a pod OOMKilled with requests in flight loses them. While it waits,
    /// a request holds nothing of the check: no variant has allocated
    /// anything it keeps before its query answers (a `GET` that misses
    /// returns no body). From the answer on it holds its working set,
    /// until it ends: an instant here, since the replay does not simulate
    /// the CPU time after the answer. So a stalled store fills the pods
    /// with waiting requests, not with memory; the memory that arrives
    /// when a stalled store answers thousands of waiting requests at once,
    /// each then parsing the list on a busy CPU, is measured on the real
    /// services (`scripts/node-vs-rust`, in `docs/BENCHMARKS.md`), not
    /// modelled here.
    Resident,
}

impl MemoryModel {
    /// The model's name, as `--memory` takes it.
    pub fn name(self) -> &'static str {
        match self {
            MemoryModel::Live => "live",
            MemoryModel::Resident => "resident",
        }
    }
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
            store_connections: 10,
            baseline: 128 << 20,
            alert_rate: 1_000_000,
            seed: 42,
            threads: 0,
            fail_policy: FailPolicy::default(),
            memory: MemoryModel::default(),
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
        if self.store_connections == 0 {
            return zero("--store-connections");
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

    /// Virtual time at which request `k` arrives.
    pub(crate) fn arrival(&self, k: u64) -> Duration {
        Duration::from_secs_f64(k as f64 / self.rps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_figure_is_refused_with_its_flag_named() {
        let bad = ReplayConfig {
            pods: 0,
            ..ReplayConfig::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("--pods"));
    }

    #[test]
    fn a_limit_below_the_baseline_is_refused() {
        let low = ReplayConfig {
            limit: 64 << 20,
            ..ReplayConfig::default()
        };
        assert!(matches!(
            low.validate(),
            Err(Error::LimitBelowBaseline { .. })
        ));
    }

    #[test]
    fn four_hours_at_100_per_second_are_1_440_000_requests_arriving_10_ms_apart() {
        let c = ReplayConfig::default();
        assert_eq!(c.requests(), 1_440_000);
        assert_eq!(c.arrival(3), Duration::from_millis(30));
        assert_eq!(c.rps_per_pod(), 25.0);
    }
}
