//! The pods behind the balancer: each its own check object, its memory,
//! and the OOMKill that restarts it cold.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use fraudcheck::{build, Env, FraudCheck, Variant};
use heapmeter::{GrowthMonitor, GrowthRule, Stats};

use super::{MemoryModel, ReplayConfig};

/// One pod: its check object and its accounting.
#[derive(Debug)]
pub(crate) struct Pod {
    check: Option<Box<dyn FraudCheck>>,
    /// Net heap bytes of the check since the pod (re)started.
    heap: i64,
    /// Highest heap in the current series slice.
    slice_peak: i64,
    /// OOMKills of this pod.
    pub(crate) restarts: u64,
    /// Bytes freed by dropping the checks of killed pods.
    pub(crate) freed_on_kill: u64,
    /// When each request in flight ends ([`MemoryModel::Resident`]).
    in_flight: BinaryHeap<Reverse<Duration>>,
    /// Requests in flight lost when this pod was OOMKilled.
    pub(crate) lost_in_kills: u64,
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
            in_flight: BinaryHeap::new(),
            lost_in_kills: 0,
        }
    }

    /// What the pod holds: its check's bytes. Its requests in flight hold
    /// nothing of the check until the store answers them, and from then to
    /// their end is an instant of virtual time (see [`MemoryModel::Resident`]).
    fn holds(&self) -> i64 {
        self.heap
    }

    /// Ends the requests in flight that are done by `t`.
    fn finish_until(&mut self, t: Duration) {
        while let Some(&Reverse(end)) = self.in_flight.peek() {
            if end > t {
                break;
            }
            self.in_flight.pop();
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
        self.lost_in_kills += self.in_flight.len() as u64;
        self.in_flight.clear();
    }
}

/// How often the growth alert samples each pod's memory, in virtual time:
/// Prometheus' default scrape interval.
pub(crate) const ALERT_SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// The pods of one variant, round robin, with their memory accounting.
#[derive(Debug)]
pub(crate) struct Fleet {
    variant: Variant,
    memory: MemoryModel,
    pods: Vec<Pod>,
    baseline: i64,
    limit: i64,
    /// Highest heap any pod reached.
    peak: i64,
    /// Virtual time of the first OOMKill.
    pub(crate) first_kill: Option<Duration>,
    /// OOMKills since the last [`Fleet::close_slice`].
    slice_kills: u64,
    /// The post-mortem's growth alert on each pod's memory, as Prometheus
    /// would evaluate it on the pod's scraped series.
    monitors: Vec<GrowthMonitor>,
    /// Virtual time of the next alert sample.
    next_sample: Duration,
    /// Virtual time the alert first fired on any pod.
    pub(crate) first_alert: Option<Duration>,
    /// Most requests in flight on one pod at once.
    pub(crate) peak_in_flight: u64,
    /// Longest time from a request's arrival to its end: its wait for a
    /// connection and its queries.
    pub(crate) longest_request: Duration,
}

impl Fleet {
    /// `config.pods` pods of `variant`, each with its check built cold.
    pub(crate) fn start(config: &ReplayConfig, variant: Variant, env: &Env) -> Fleet {
        let pods: Vec<Pod> = (0..config.pods).map(|_| Pod::start(variant, env)).collect();
        Fleet {
            variant,
            memory: config.memory,
            peak: pods.iter().map(|p| p.heap).max().unwrap_or(0),
            pods,
            baseline: config.baseline as i64,
            limit: config.limit as i64,
            first_kill: None,
            slice_kills: 0,
            monitors: (0..config.pods)
                .map(|_| {
                    GrowthMonitor::new(GrowthRule::default().threshold(config.alert_rate as f64))
                })
                .collect(),
            next_sample: Duration::ZERO,
            first_alert: None,
            peak_in_flight: 0,
            longest_request: Duration::ZERO,
        }
    }

    /// Samples every pod's memory for the growth alert at each sampling
    /// instant up to `t` (the memory as it stood before the request at `t`).
    fn sample_until(&mut self, t: Duration) {
        while self.next_sample <= t {
            for (pod, monitor) in self.pods.iter_mut().zip(&mut self.monitors) {
                pod.finish_until(self.next_sample);
                let mem = (self.baseline + pod.holds()).max(0) as u64;
                monitor.record(self.next_sample, mem);
                if self.first_alert.is_none() {
                    self.first_alert = monitor.first_fired();
                }
            }
            self.next_sample += ALERT_SAMPLE_EVERY;
        }
    }

    /// The pod that request `k` is routed to.
    pub(crate) fn route(&self, k: u64) -> usize {
        k as usize % self.pods.len()
    }

    /// The check object of pod `p`.
    pub(crate) fn check(&self, p: usize) -> &dyn FraudCheck {
        self.pods[p]
            .check
            .as_deref()
            .expect("a running pod has a check")
    }

    /// Books a request of pod `p` that arrived at `t`, ended at `end` on
    /// the virtual clock and allocated `s`; OOMKills and restarts the pod if
    /// its memory passed the limit, and says whether it did.
    ///
    /// NOTE: a request's peak counts for the instant it happens. With
    /// [`MemoryModel::Resident`] a request that ends after it arrived is
    /// also counted in flight until `end`; it adds no bytes while it
    /// waits, because the replay's only wait is a store query (queued for
    /// a connection of the pod's pool, then answering after the latency),
    /// before which no check has allocated anything it holds
    /// (`tests/a_request_holds_nothing_of_the_check_while_its_query_waits.rs`),
    /// and after which nothing takes virtual time: the answer is the end.
    pub(crate) fn account(
        &mut self,
        p: usize,
        s: &Stats,
        t: Duration,
        end: Duration,
        env: &Env,
    ) -> bool {
        self.sample_until(t);
        let pod = &mut self.pods[p];
        pod.finish_until(t);
        let high = pod.holds() + s.peak_bytes as i64;
        pod.heap += s.net_bytes();
        if self.memory == MemoryModel::Resident && end > t {
            pod.in_flight.push(Reverse(end));
            self.peak_in_flight = self.peak_in_flight.max(pod.in_flight.len() as u64);
        }
        self.longest_request = self.longest_request.max(end.saturating_sub(t));
        let high = high.max(pod.holds());
        pod.slice_peak = pod.slice_peak.max(high);
        self.peak = self.peak.max(high);
        if self.baseline + high > self.limit {
            self.first_kill.get_or_insert(t);
            self.slice_kills += 1;
            pod.restart(self.variant, env);
            return true;
        }
        false
    }

    /// Memory of a pod whose check holds `heap` bytes, baseline included.
    fn mem(&self, heap: i64) -> u64 {
        (self.baseline + heap).max(0) as u64
    }

    /// Ends a slice of the memory series: each pod's highest memory in it,
    /// the memory of all pods now, and the OOMKills in it.
    pub(crate) fn close_slice(&mut self) -> (Vec<u64>, u64, u64) {
        let peaks = self.pods.iter().map(|p| self.mem(p.slice_peak)).collect();
        let total = self.pods.iter().map(|p| self.mem(p.holds())).sum();
        for p in &mut self.pods {
            p.slice_peak = p.holds();
        }
        (peaks, total, std::mem::take(&mut self.slice_kills))
    }

    /// Highest memory any pod reached, baseline included.
    pub(crate) fn peak_bytes(&self) -> u64 {
        self.mem(self.peak)
    }

    /// Each pod's memory now, baseline included.
    pub(crate) fn end_bytes(&self) -> Vec<u64> {
        self.pods.iter().map(|p| self.mem(p.holds())).collect()
    }

    /// The pods.
    pub(crate) fn pods(&self) -> &[Pod] {
        &self.pods
    }
}
