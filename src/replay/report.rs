//! What one variant did during the replay, and the tallies the main loop
//! keeps to fill it in.

use std::time::Duration;

use fraudcheck::{Decision, FailPolicy};
use serde::Serialize;

use super::episodes::Episodes;
use super::series::MemoryPoint;

/// What one variant did during the replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantReport {
    /// The variant's name.
    pub variant: &'static str,
    /// Whether the variant is one of the fixes.
    pub is_fix: bool,
    /// Requests replayed.
    pub requests: u64,
    /// Requests whose check returned an error; each was decided by the fail
    /// policy (let through when open, held when closed).
    pub errors: u64,
    /// The fail policy that decided the errors: `"open"` or `"closed"`.
    pub fail_policy: &'static str,
    /// Payments decided risky (held), errors held by the fail policy
    /// included.
    pub held: u64,
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
    /// Requests in flight on a pod when it was OOMKilled, all pods: lost
    /// (always 0 with [`MemoryModel::Live`](super::MemoryModel::Live)).
    pub lost_in_kills: u64,
    /// Most requests in flight on one pod at once (0 with
    /// [`MemoryModel::Live`](super::MemoryModel::Live), where each request is
    /// served in an instant).
    pub peak_in_flight: u64,
    /// Longest time a request took on the virtual clock, in seconds: its
    /// wait for a connection of its pod's pool and its store queries.
    pub longest_request_s: f64,
    /// The memory model the pods were booked with: `"live"` or
    /// `"resident"`.
    pub memory: &'static str,
    /// Bytes freed by dropping the check objects of OOMKilled pods: the
    /// state they held.
    pub freed_on_kill_bytes: u64,
    /// Virtual time of the first OOMKill, in seconds; `None` if none.
    pub first_oom_kill_s: Option<f64>,
    /// Virtual time the post-mortem's growth alert (`deriv(memory[5m]) >
    /// 1 MB/s for 10m`, evaluated by `heapmeter::GrowthMonitor` on each
    /// pod's memory sampled every 15 s) first fired on any pod, in seconds;
    /// `None` if it never fired.
    pub alert_s: Option<f64>,
    /// Minutes from the alert to the first OOMKill (negative if the alert
    /// came after it); `None` unless both happened.
    pub alert_before_oom_min: Option<f64>,
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

/// The fail policy's decisions over the replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decisions {
    policy: FailPolicy,
    /// Requests whose check failed.
    pub(crate) errors: u64,
    /// Payments decided risky, errors included.
    pub(crate) held: u64,
}

impl Decisions {
    pub(crate) fn new(policy: FailPolicy) -> Decisions {
        Decisions {
            policy,
            errors: 0,
            held: 0,
        }
    }

    /// Counts one request's decision.
    pub(crate) fn record(&mut self, decision: &Decision) {
        self.errors += u64::from(decision.by_policy());
        self.held += u64::from(decision.risky);
    }

    /// The policy's name as the report prints it.
    pub(crate) fn policy_name(&self) -> &'static str {
        match self.policy {
            FailPolicy::Open => "open",
            FailPolicy::Closed => "closed",
        }
    }
}

/// Wall time inside each request, for the median (see
/// [`VariantReport::cpu_us_per_request`]).
#[derive(Debug)]
pub(crate) struct Timings(Vec<u32>);

impl Timings {
    pub(crate) fn with_capacity(n: u64) -> Timings {
        Timings(Vec::with_capacity(n as usize))
    }

    pub(crate) fn push(&mut self, took: Duration) {
        self.0
            .push(u32::try_from(took.as_nanos()).unwrap_or(u32::MAX));
    }

    /// The median, in microseconds (0 for none).
    pub(crate) fn median_us(mut self) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let mid = self.0.len() / 2;
        *self.0.select_nth_unstable(mid).1 as f64 / 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fraudcheck::CheckError;

    fn failure() -> Result<bool, CheckError> {
        Err(CheckError::CorruptPayload {
            reason: "test".into(),
        })
    }

    #[test]
    fn a_failed_check_passes_when_open_and_is_held_when_closed() {
        for (policy, name, held) in [
            (FailPolicy::Open, "open", 1),
            (FailPolicy::Closed, "closed", 2),
        ] {
            let mut d = Decisions::new(policy);
            for result in [Ok(true), failure(), Ok(false)] {
                d.record(&policy.apply(result));
            }
            assert_eq!((d.errors, d.held), (1, held), "{name}");
            assert_eq!(d.policy_name(), name);
        }
    }

    #[test]
    fn the_median_ignores_the_slow_outlier() {
        let mut t = Timings::with_capacity(3);
        for ns in [1_000, 900_000_000, 2_000] {
            t.push(Duration::from_nanos(ns));
        }
        assert_eq!(t.median_us(), 2.0);
        assert_eq!(Timings::with_capacity(0).median_us(), 0.0);
    }
}
