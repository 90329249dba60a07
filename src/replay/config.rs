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
/// is made of in the replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryModel {
    /// The baseline plus the bytes the pod's check holds, requests served
    /// one at a time: each request's peak counts for an instant. The
    /// default, because it is what the code shown does to a pod when its
    /// dependencies answer quickly: resident memory measured under churn
    /// followed live bytes (chapter 8), and one request's working set does
    /// not show next to the baseline.
    #[default]
    Live,
    /// `Live`, plus the requests in flight: a request that waits on the
    /// virtual clock (a store query of `store_latency`) holds its working
    /// set (its peak bytes above what it keeps) until it ends, so requests
    /// that overlap add up, `λ·W` of them per pod by Little's law. A pod
    /// OOMKilled with requests in flight loses them. This is the one
    /// mechanism measured in chapter 8 that takes a pod running the code
    /// shown to its limit without a retained reference; the allocator's
    /// own overhead (0.9–1.6× the live growth, measured there) is not
    /// added.
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
