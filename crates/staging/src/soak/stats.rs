//! The statistics of a soak: latency percentiles, means per request, the
//! growth alert over the scrapes, and the heap's growth per request with
//! heapmeter's leak verdict.

use std::time::Duration;

use heapmeter::verdict::{least_squares_slope, SeriesPoint, VerdictRule};
use heapmeter::{GrowthMonitor, GrowthRule, Verdict};

use super::sample::{HeapMetric, Sample};

/// Nearest-rank percentile `q` (0..1) of sorted durations; zero when there
/// are none.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Mean allocations and bytes allocated per request between the first
/// scrape that had measured at least one request and the last one; `None`
/// if fewer than two scrapes have heapmeter's per-request histograms.
///
/// NOTE: from the first scrape *after* a request, not from the first
/// scrape: the soak's first request is the cold one (a cache miss, the
/// store's list, the write-back), and it is the baseline, not averaged in.
/// A service whose series are registered before any request serves them
/// at zero, and a scrape racing the first request would otherwise decide
/// whether a 100-request mean says 24.0 or 24.1.
pub fn per_request(samples: &[Sample]) -> Option<(f64, f64)> {
    let with = |s: &&Sample| s.figures.requests.is_some_and(|n| n > 0.0);
    let first = samples.iter().find(with)?;
    let last = samples.iter().rev().find(with)?;
    let get = |s: &Sample| {
        let f = &s.figures;
        Some((f.requests?, f.allocations?, f.allocated_bytes?))
    };
    let (n0, a0, b0) = get(first)?;
    let (n1, a1, b1) = get(last)?;
    let n = (n1 - n0).max(1.0);
    Some(((a1 - a0) / n, (b1 - b0) / n))
}

/// When the growth alert first fired on the heap metric, in seconds since
/// the start, with the growth rate then, in bytes per second.
pub fn first_firing(rule: GrowthRule, heap: HeapMetric, samples: &[Sample]) -> Option<(f64, f64)> {
    let mut monitor = GrowthMonitor::new(rule);
    for s in samples {
        let Some(bytes) = heap.of(s) else { continue };
        monitor.record(Duration::from_secs_f64(s.at_secs), bytes as u64);
        if let Some(at) = monitor.first_fired() {
            return Some((at.as_secs_f64(), monitor.rate().unwrap_or(0.0)));
        }
    }
    None
}

/// Scrapes in the second half of a soak needed to judge its growth.
pub const MIN_JUDGED_SAMPLES: usize = 15;

/// The smallest growth, in bytes per request, that counts as a leak in a
/// soak. NOTE: the scraped heap is the whole process's: requests in flight
/// at the moment of a scrape move it by tens of kilobytes, and on 2,000
/// requests that is a slope of tens of bytes per request with no leak.
pub const MIN_LEAK_BYTES_PER_REQUEST: f64 = 64.0;

/// The fewest allocations per request that count as churn.
pub const MIN_CHURN_ALLOCS_PER_REQUEST: f64 = 0.5;

/// The rule a soak judges with: heapmeter's, with a soak's thresholds.
pub fn rule() -> VerdictRule {
    VerdictRule::new()
        .min_leak_bytes_per_op(MIN_LEAK_BYTES_PER_REQUEST)
        .min_churn_allocs_per_op(MIN_CHURN_ALLOCS_PER_REQUEST)
}

/// How the heap grew over the second half of a soak.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Growth {
    /// The heap figure judged.
    pub metric: HeapMetric,
    /// Its growth, in bytes per request answered (least squares, over the
    /// second half of the scrapes).
    pub bytes_per_request: f64,
    /// heapmeter's verdict ([`rule`]), when the target serves heapmeter's
    /// per-request allocations too (churn needs them); a heap alone tells a
    /// leak only by its slope.
    pub verdict: Option<Verdict>,
}

/// The heap's growth per request over the second half of the scrapes.
/// NOTE: the first half is warm-up (first loads, and connections with
/// their buffers on both sides opened until there are as many as the
/// load's concurrency needs, which on a loaded machine takes tens of
/// seconds). Bounded growth like that stops; a leak goes on through the
/// second half. `None` with fewer than [`MIN_JUDGED_SAMPLES`] scrapes in it.
pub fn growth(heap: HeapMetric, samples: &[Sample]) -> Option<Growth> {
    let judged = &samples[samples.len() / 2..];
    let points: Vec<(Sample, f64)> = judged
        .iter()
        .filter_map(|s| heap.of(s).map(|b| (*s, b)))
        .collect();
    if points.len() < MIN_JUDGED_SAMPLES {
        return None;
    }
    // The requests the service measured, where it says; else the soak's
    // own count of answers at each scrape.
    let measured = points
        .iter()
        .all(|(s, _)| s.figures.requests.is_some() && s.figures.allocations.is_some());
    if heap == HeapMetric::Live && measured {
        let series: Vec<SeriesPoint> = points
            .iter()
            .map(|(s, bytes)| SeriesPoint {
                ops: s.figures.requests.unwrap_or_default(),
                live_bytes: *bytes,
                allocs: s.figures.allocations.unwrap_or_default(),
            })
            .collect();
        let judged = rule().judge_series(&series)?;
        return Some(Growth {
            metric: heap,
            bytes_per_request: judged.bytes_per_op,
            verdict: Some(judged.verdict),
        });
    }
    let slope = least_squares_slope(points.iter().map(|(s, b)| (s.answered as f64, *b)))?;
    Some(Growth {
        metric: heap,
        bytes_per_request: slope,
        verdict: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::exposition::Figures;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }

    #[test]
    fn the_first_request_is_the_baseline_of_the_means_not_one_of_them() {
        let at = |requests: f64, allocations: f64| Sample {
            figures: Figures {
                requests: Some(requests),
                allocations: Some(allocations),
                allocated_bytes: Some(100.0 * allocations),
                ..Figures::default()
            },
            ..Sample::default()
        };
        // Served at zero before any request, then a cold first request of
        // 38 allocations, then 100 warm ones of 24.
        let samples = [at(0.0, 0.0), at(1.0, 38.0), at(101.0, 38.0 + 2_400.0)];
        assert_eq!(per_request(&samples), Some((24.0, 2_400.0)));
        assert_eq!(per_request(&samples[..1]), None, "no request measured yet");
    }

    fn scrapes(kept_per_request: f64, with_heapmeter: bool) -> Vec<Sample> {
        (0..40)
            .map(|k| {
                let requests = 100.0 * k as f64;
                let heap = 1e6 + kept_per_request * requests;
                let figures = if with_heapmeter {
                    Figures {
                        live_bytes: Some(heap),
                        requests: Some(requests),
                        allocations: Some(25.0 * requests),
                        ..Figures::default()
                    }
                } else {
                    Figures {
                        v8_heap_used_bytes: Some(heap),
                        ..Figures::default()
                    }
                };
                Sample {
                    at_secs: k as f64,
                    answered: requests as u64,
                    figures,
                    resident: None,
                }
            })
            .collect()
    }

    #[test]
    fn a_heap_that_grows_per_request_is_a_leak_and_a_flat_one_churn() {
        let leak = growth(HeapMetric::Live, &scrapes(18_480.0, true)).unwrap();
        assert_eq!(leak.verdict, Some(Verdict::Leak));
        assert!((leak.bytes_per_request - 18_480.0).abs() < 1e-6);
        let churn = growth(HeapMetric::Live, &scrapes(0.0, true)).unwrap();
        assert_eq!(churn.verdict, Some(Verdict::Churn));
        // A V8 heap: its slope, no verdict (no allocation counts).
        let v8 = growth(HeapMetric::V8Used, &scrapes(500.0, false)).unwrap();
        assert_eq!(v8.verdict, None);
        assert!((v8.bytes_per_request - 500.0).abs() < 1e-6);
        // Too short to judge.
        assert_eq!(growth(HeapMetric::Live, &scrapes(0.0, true)[..20]), None);
    }
}
