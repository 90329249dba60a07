//! The post-mortem's alert, time-compressed for a soak.
//!
//! The post-mortem proposed `rate(heap[5m]) > 1 MB/s for 10m`; heapmeter's
//! [`GrowthMonitor`](heapmeter::GrowthMonitor) evaluates it as Prometheus
//! does, with `deriv` (live bytes are a gauge). A soak lasts minutes, not
//! hours, so it compresses time: window and `for` are divided by a factor
//! (default 10: a 30 s window held for 60 s) while the threshold stays
//! 1 MB/s. A leak of a given rate is then caught that many times sooner;
//! churn, whose live bytes rise and fall within a request, has no slope
//! over 30 s either. `scripts/prometheus/heaplab.rules.yml` holds the same
//! rule for Prometheus.

use heapmeter::GrowthRule;

/// The post-mortem's rule with its window and `for` divided by
/// `compression` (at least 1).
pub fn compressed(compression: u32) -> GrowthRule {
    let rule = GrowthRule::default();
    let c = compression.max(1);
    rule.window(rule.window_len() / c)
        .for_duration(rule.for_len() / c)
}

/// The rule as a PromQL condition on `metric`, with its `for` duration.
pub fn promql(rule: &GrowthRule, metric: &str) -> String {
    format!(
        "deriv({metric}[{}s]) > {} for {}s",
        rule.window_len().as_secs(),
        rule.threshold_bytes_per_sec(),
        rule.for_len().as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_ten_times_is_the_rules_file() {
        assert_eq!(
            promql(&compressed(10), "heapmeter_live_bytes"),
            "deriv(heapmeter_live_bytes[30s]) > 1000000 for 60s"
        );
        assert_eq!(compressed(0), GrowthRule::default());
    }
}
