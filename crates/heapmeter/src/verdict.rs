//! One rule for a leak verdict, and one least-squares slope, for every
//! judge of a series of observations: [`LeakDetector`](crate::LeakDetector)'s
//! phases, a soak's scrapes of a service's `/metrics`, the growth alert's
//! window.
//!
//! The rule ([`VerdictRule`]) is the one the project's contract describes:
//! **Leak** when retained bytes keep growing with the number of ops (over
//! the judged window, *and* still at its end: growth that stopped, a cache
//! that filled, is not a leak); otherwise **Churn** when each op allocates;
//! otherwise **Clean**. Its inputs are growth rates; how they are estimated
//! is the caller's: exact counts over doubling phases suit a robust median
//! of slopes (the detector's Theil–Sen), noisy scrapes of a process-wide
//! gauge suit the [least-squares slope](least_squares_slope) that
//! [`VerdictRule::judge_series`] uses.
//!
//! ```
//! use heapmeter::verdict::{least_squares_slope, SeriesPoint, VerdictRule};
//! use heapmeter::Verdict;
//!
//! assert_eq!(least_squares_slope([(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some(2.0));
//!
//! // A service scraped every 100 requests: 18 KB kept per request.
//! let leak: Vec<SeriesPoint> = (0..20)
//!     .map(|k| SeriesPoint { ops: 100.0 * k as f64, live_bytes: 1e6 + 1.8e6 * k as f64, allocs: 2_500.0 * k as f64 })
//!     .collect();
//! let judged = VerdictRule::new().min_leak_bytes_per_op(64.0).judge_series(&leak).unwrap();
//! assert_eq!(judged.verdict, Verdict::Leak);
//! assert!((judged.bytes_per_op - 18_000.0).abs() < 1e-6);
//!
//! // The same allocations, nothing kept: churn.
//! let churn: Vec<SeriesPoint> = leak.iter().map(|p| SeriesPoint { live_bytes: 1e6, ..*p }).collect();
//! assert_eq!(VerdictRule::new().judge_series(&churn).unwrap().verdict, Verdict::Churn);
//! ```

use crate::leak::Verdict;

/// Least-squares slope of `y` over `x` (what Prometheus' `deriv()`
/// computes over time); `None` with fewer than two points or when every `x`
/// is the same.
///
/// NOTE: one pass with running means (Welford's update), so large offsets
/// (byte counts of a process, seconds since an epoch) keep their precision,
/// and nothing is allocated: the growth alert calls it on every sample.
pub fn least_squares_slope(points: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let (mut n, mut mean_x, mut mean_y, mut sxx, mut sxy) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in points {
        n += 1.0;
        let dx = x - mean_x;
        mean_x += dx / n;
        mean_y += (y - mean_y) / n;
        sxx += dx * (x - mean_x);
        sxy += dx * (y - mean_y);
    }
    (n >= 2.0 && sxx > 0.0).then(|| sxy / sxx)
}

/// The thresholds that turn growth into a [`Verdict`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VerdictRule {
    min_leak: f64,
    min_churn: f64,
}

impl Default for VerdictRule {
    fn default() -> Self {
        VerdictRule::new()
    }
}

/// One observation of a series: ops done so far, live (or retained) bytes
/// then, and allocations made so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SeriesPoint {
    /// Ops (requests) done so far.
    pub ops: f64,
    /// Live or retained bytes at that point, in bytes.
    pub live_bytes: f64,
    /// Allocations made so far.
    pub allocs: f64,
}

/// What [`VerdictRule::judge_series`] concluded, and from what.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SeriesJudgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Growth of live bytes over the series, in bytes per op (least
    /// squares).
    pub bytes_per_op: f64,
    /// The same over the series' last half: still growing at the end?
    pub last_bytes_per_op: f64,
    /// Allocations per op over the series.
    pub allocs_per_op: f64,
}

impl VerdictRule {
    /// A leak from 1 byte retained per op, churn from one allocation per
    /// thousand ops: [`LeakDetector`](crate::LeakDetector)'s defaults.
    pub const fn new() -> VerdictRule {
        VerdictRule {
            min_leak: 1.0,
            min_churn: 1e-3,
        }
    }

    /// The smallest growth, in bytes per op, that counts as a leak.
    pub const fn min_leak_bytes_per_op(mut self, bytes: f64) -> VerdictRule {
        self.min_leak = bytes;
        self
    }

    /// The fewest allocations per op that count as churn.
    pub const fn min_churn_allocs_per_op(mut self, allocs: f64) -> VerdictRule {
        self.min_churn = allocs;
        self
    }

    /// The smallest growth that counts as a leak, in bytes per op.
    pub const fn min_leak(&self) -> f64 {
        self.min_leak
    }

    /// Whether memory grows like a leak: by at least the leak threshold per
    /// op over the judged window (`growth`) and at its end (`last_growth`).
    pub fn grows(&self, growth: f64, last_growth: f64) -> bool {
        growth >= self.min_leak && last_growth >= self.min_leak
    }

    /// The verdict for these growth rates (bytes per op) and allocation
    /// rate (allocations per op).
    pub fn verdict(&self, growth: f64, last_growth: f64, allocs_per_op: f64) -> Verdict {
        if self.grows(growth, last_growth) {
            Verdict::Leak
        } else if allocs_per_op >= self.min_churn {
            Verdict::Churn
        } else {
            Verdict::Clean
        }
    }

    /// Judges a series in order of ops: growth by the least-squares slope
    /// of live bytes over ops, over all of it and over its last half;
    /// allocations per op between its first and last point. `None` with
    /// fewer than four points or no ops between the first and the last.
    pub fn judge_series(&self, points: &[SeriesPoint]) -> Option<SeriesJudgement> {
        let (first, last) = (points.first()?, points.last()?);
        let ops = last.ops - first.ops;
        if points.len() < 4 || ops <= 0.0 {
            return None;
        }
        let slope =
            |p: &[SeriesPoint]| least_squares_slope(p.iter().map(|p| (p.ops, p.live_bytes)));
        let bytes_per_op = slope(points)?;
        let last_bytes_per_op = slope(&points[points.len() / 2..]).unwrap_or(bytes_per_op);
        let allocs_per_op = (last.allocs - first.allocs) / ops;
        Some(SeriesJudgement {
            verdict: self.verdict(bytes_per_op, last_bytes_per_op, allocs_per_op),
            bytes_per_op,
            last_bytes_per_op,
            allocs_per_op,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_a_line_is_exact_and_needs_two_distinct_xs() {
        let line = (0..10).map(|x| (1e12 + x as f64, 3.0 * x as f64 + 1e9));
        assert_eq!(least_squares_slope(line), Some(3.0));
        assert_eq!(least_squares_slope([(1.0, 2.0)]), None);
        assert_eq!(least_squares_slope([(1.0, 2.0), (1.0, 5.0)]), None);
    }

    #[test]
    fn growth_that_stops_is_not_a_leak() {
        let rule = VerdictRule::new();
        assert_eq!(rule.verdict(10.0, 10.0, 1.0), Verdict::Leak);
        assert_eq!(rule.verdict(10.0, 0.0, 1.0), Verdict::Churn, "a plateau");
        assert_eq!(rule.verdict(0.5, 0.5, 0.0), Verdict::Clean);
        // A cache that fills for the first half of a series, then stays.
        let plateau: Vec<SeriesPoint> = (0..20)
            .map(|k| SeriesPoint {
                ops: k as f64,
                live_bytes: 100.0 * (k.min(10)) as f64,
                allocs: k as f64,
            })
            .collect();
        let judged = rule.judge_series(&plateau).unwrap();
        assert!(judged.bytes_per_op > 1.0);
        assert_eq!(judged.last_bytes_per_op, 0.0);
        assert_eq!(judged.verdict, Verdict::Churn);
    }

    #[test]
    fn a_series_too_short_is_not_judged() {
        let p = SeriesPoint::default();
        assert_eq!(VerdictRule::new().judge_series(&[p, p, p]), None);
        assert_eq!(VerdictRule::new().judge_series(&[p; 8]), None, "no ops");
    }
}
