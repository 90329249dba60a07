//! The post-mortem's alert, evaluated on the samples a soak scrapes.
//!
//! The post-mortem proposed `rate(heap[5m]) > 1 MB/s for 10m`. Live bytes
//! are a gauge, and PromQL's `rate` is for counters, so the rule as
//! Prometheus evaluates it is
//! `deriv(heapmeter_live_bytes[5m]) > 1e6` held `for: 10m`: the
//! least-squares slope of live bytes over the window, above the threshold at
//! every evaluation for the whole `for` duration.
//!
//! A soak lasts minutes, not hours, so it compresses time: window and `for`
//! are divided by [`GrowthRule::compression`] (default 10: a 30 s window,
//! held for 60 s) while the threshold stays 1 MB/s. A leak of a given rate
//! is then caught ten times sooner; churn, whose live bytes go up and down
//! within a request, has no slope over a 30 s window either.

use std::time::Duration;

/// `deriv(live[window]) > threshold for for_`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrowthRule {
    /// Window of the slope.
    pub window: Duration,
    /// Threshold, in bytes per second.
    pub threshold_bytes_per_sec: f64,
    /// How long the condition must hold before the alert fires.
    pub for_: Duration,
    /// How many times shorter than the post-mortem's windows these are
    /// (1 = the production rule).
    pub compression: u32,
}

impl GrowthRule {
    /// The post-mortem's rule, with window and `for` divided by `compression`
    /// (at least 1).
    pub fn compressed(compression: u32) -> GrowthRule {
        let c = compression.max(1);
        GrowthRule {
            window: Duration::from_secs(300) / c,
            threshold_bytes_per_sec: 1e6,
            for_: Duration::from_secs(600) / c,
            compression: c,
        }
    }

    /// The PromQL expression of the condition.
    pub fn promql(&self, metric: &str) -> String {
        format!(
            "deriv({metric}[{}s]) > {}",
            self.window.as_secs(),
            self.threshold_bytes_per_sec
        )
    }

    /// Evaluates the rule at every sample (`(seconds since start, live
    /// bytes)`, in time order): the first time it fires, with the slope
    /// that made it fire, in bytes per second, or `None`.
    pub fn first_firing(&self, samples: &[(f64, f64)]) -> Option<Firing> {
        let window = self.window.as_secs_f64();
        let hold = self.for_.as_secs_f64();
        let mut pending_since: Option<f64> = None;
        for (i, &(t, _)) in samples.iter().enumerate() {
            // NOTE: like Prometheus, no verdict before a full window of data.
            if t - samples[0].0 < window {
                continue;
            }
            let in_window: Vec<(f64, f64)> = samples[..=i]
                .iter()
                .copied()
                .filter(|&(ts, _)| ts >= t - window)
                .collect();
            let slope = slope(&in_window);
            if slope > self.threshold_bytes_per_sec {
                let since = *pending_since.get_or_insert(t);
                if t - since >= hold {
                    return Some(Firing {
                        at_secs: t,
                        bytes_per_sec: slope,
                    });
                }
            } else {
                pending_since = None;
            }
        }
        None
    }
}

/// When and why the rule fired.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Firing {
    /// Seconds since the soak started.
    pub at_secs: f64,
    /// The slope of live bytes at that evaluation, in bytes per second.
    pub bytes_per_sec: f64,
}

/// Least-squares slope of `y` over `x` (0 for fewer than two points).
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(secs: u32, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (0..=secs)
            .map(|t| (f64::from(t), f(f64::from(t))))
            .collect()
    }

    #[test]
    fn a_2_mb_per_s_leak_fires_after_window_and_hold() {
        let rule = GrowthRule::compressed(10);
        let fired = rule.first_firing(&series(200, |t| 2e6 * t)).unwrap();
        assert_eq!(fired.at_secs, 90.0); // 30 s of window, then 60 s held
        assert!((fired.bytes_per_sec - 2e6).abs() < 1.0);
    }

    #[test]
    fn churn_a_filled_cache_and_a_flat_heap_never_fire() {
        let rule = GrowthRule::compressed(10);
        // 8 MB up and down every other second.
        let churn = series(600, |t| {
            if (t as u64).is_multiple_of(2) {
                0.0
            } else {
                8e6
            }
        });
        assert_eq!(rule.first_firing(&churn), None);
        // Fills at 5 MB/s for 40 s, then stays: pending, never held 60 s.
        let cache = series(600, |t| 5e6 * t.min(40.0));
        assert_eq!(rule.first_firing(&cache), None);
        assert_eq!(rule.first_firing(&series(600, |_| 3e6)), None);
    }

    #[test]
    fn a_leak_below_the_threshold_never_fires() {
        let rule = GrowthRule::compressed(10);
        assert_eq!(rule.first_firing(&series(600, |t| 0.9e6 * t)), None);
    }

    #[test]
    fn promql_is_the_compressed_rule() {
        assert_eq!(
            GrowthRule::compressed(10).promql("heapmeter_live_bytes"),
            "deriv(heapmeter_live_bytes[30s]) > 1000000"
        );
    }
}
