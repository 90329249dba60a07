//! The service's `/metrics`: Prometheus text exposition (format 0.0.4).
//!
//! Process-wide heap figures come from heapmeter's counting allocator (the
//! binary must install [`heapmeter::CountingAlloc`] as its global
//! allocator), resident memory from `/proc/self/statm`, and per-request
//! figures from the service's own measurement of each check.
//!
//! NOTE: the names are the project's contract (base units, `_total`
//! counters); the per-route histograms carry the label `route`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use heapmeter::Stats;

/// Bucket bounds for allocation counts per request.
const COUNT_BOUNDS: &[f64] = &[
    0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0,
];
/// Bucket bounds for bytes per request, in bytes.
const BYTE_BOUNDS: &[f64] = &[
    0.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
    67108864.0,
];
/// Bucket bounds for request latency, in seconds.
const SECOND_BOUNDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A cumulative histogram with fixed bounds, lock-free to observe.
#[derive(Debug)]
struct Histogram {
    bounds: &'static [f64],
    /// One count per bound, then `+Inf`.
    counts: Vec<AtomicU64>,
    /// Sum of observations, an `f64` stored as bits.
    sum: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|&b| v <= b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        // An `fetch_update` never fails with a closure that always returns Some.
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    fn render(&self, out: &mut String, name: &str, route: &str) {
        let mut cumulative = 0u64;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = match self.bounds.get(i) {
                Some(b) => format!("{b}"),
                None => "+Inf".to_string(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {cumulative}");
    }
}

/// How the service answered one payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The check answered.
    Checked,
    /// The check failed; the fail policy let the payment through.
    FailedOpen,
    /// The check failed; the fail policy held the payment.
    FailedClosed,
    /// The check failed and the service answered `503`.
    Unavailable,
    /// The request was malformed (`400`, `413`, `415`).
    Rejected,
}

impl Outcome {
    const ALL: [Outcome; 5] = [
        Outcome::Checked,
        Outcome::FailedOpen,
        Outcome::FailedClosed,
        Outcome::Unavailable,
        Outcome::Rejected,
    ];

    /// The label value, e.g. `"failed_open"`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Checked => "checked",
            Outcome::FailedOpen => "failed_open",
            Outcome::FailedClosed => "failed_closed",
            Outcome::Unavailable => "unavailable",
            Outcome::Rejected => "rejected",
        }
    }
}

/// The service's metrics: per-request histograms for `POST /payments` and
/// answer counters by outcome.
#[derive(Debug)]
pub struct Metrics {
    allocations: Histogram,
    allocated_bytes: Histogram,
    retained_bytes: Histogram,
    duration: Histogram,
    outcomes: [AtomicU64; 5],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The route label of the measured handler.
pub const PAYMENTS_ROUTE: &str = "/payments";

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Metrics {
        Metrics {
            allocations: Histogram::new(COUNT_BOUNDS),
            allocated_bytes: Histogram::new(BYTE_BOUNDS),
            retained_bytes: Histogram::new(BYTE_BOUNDS),
            duration: Histogram::new(SECOND_BOUNDS),
            outcomes: Default::default(),
        }
    }

    /// Records one checked payment: its check's allocation stats and the
    /// handler's time in seconds.
    pub fn record_check(&self, stats: &Stats, seconds: f64) {
        self.allocations
            .observe((stats.allocs + stats.reallocs) as f64);
        self.allocated_bytes.observe(stats.bytes_allocated as f64);
        self.retained_bytes.observe(stats.net_bytes() as f64);
        self.duration.observe(seconds);
    }

    /// Counts one answer.
    pub fn record_outcome(&self, outcome: Outcome) {
        let i = Outcome::ALL
            .iter()
            .position(|&o| o == outcome)
            .unwrap_or_default();
        self.outcomes[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let t = heapmeter::process_totals();
        let live = t.bytes_allocated.saturating_sub(t.bytes_deallocated);
        gauge(
            &mut out,
            "heapmeter_live_bytes",
            "Bytes allocated and not yet freed, process-wide.",
            live,
        );
        counter(
            &mut out,
            "heapmeter_allocations_total",
            "Allocation calls (alloc, alloc_zeroed, realloc), process-wide.",
            t.allocs + t.reallocs,
        );
        counter(
            &mut out,
            "heapmeter_deallocations_total",
            "Deallocation calls, process-wide.",
            t.deallocs,
        );
        counter(
            &mut out,
            "heapmeter_allocated_bytes_total",
            "Bytes handed out by the allocator, process-wide.",
            t.bytes_allocated,
        );
        counter(
            &mut out,
            "heapmeter_deallocated_bytes_total",
            "Bytes given back to the allocator, process-wide.",
            t.bytes_deallocated,
        );
        if let Some(rss) = resident_bytes() {
            gauge(
                &mut out,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                rss,
            );
        }
        for (name, help, h) in [
            (
                "heapmeter_request_allocations",
                "Allocations made by one request's check.",
                &self.allocations,
            ),
            (
                "heapmeter_request_allocated_bytes",
                "Bytes allocated by one request's check.",
                &self.allocated_bytes,
            ),
            (
                "heapmeter_request_retained_bytes",
                "Bytes one request's check allocated and did not free.",
                &self.retained_bytes,
            ),
            (
                "heaplab_request_duration_seconds",
                "Time from the request's arrival to its answer, in seconds.",
                &self.duration,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            h.render(&mut out, name, PAYMENTS_ROUTE);
        }
        let name = "heaplab_payments_total";
        let _ = writeln!(
            out,
            "# HELP {name} Payments answered, by outcome.\n# TYPE {name} counter"
        );
        for (o, n) in Outcome::ALL.iter().zip(&self.outcomes) {
            let _ = writeln!(
                out,
                "{name}{{outcome=\"{}\"}} {}",
                o.label(),
                n.load(Ordering::Relaxed)
            );
        }
        out
    }
}

fn gauge(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let base = name.trim_end_matches("_total");
    let _ = writeln!(
        out,
        "# HELP {base} {help}\n# TYPE {base} counter\n{name} {v}"
    );
}

/// Resident set size in bytes, from `/proc/self/statm` (Linux; `None`
/// elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // NOTE: 4 KiB pages on every Linux target this runs on (x86_64, aarch64
    // with 4K pages); no libc call needed for a figure this coarse.
    Some(pages * 4096)
}

/// One sample's value from a text exposition: the first line starting with
/// `series` followed by a space (`series` includes labels, if any).
pub fn scrape_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_sums() {
        let h = Histogram::new(&[1.0, 10.0]);
        for v in [0.5, 5.0, 5.0, 50.0] {
            h.observe(v);
        }
        let mut out = String::new();
        h.render(&mut out, "x", "/r");
        assert_eq!(
            out,
            "x_bucket{route=\"/r\",le=\"1\"} 1\nx_bucket{route=\"/r\",le=\"10\"} 3\n\
             x_bucket{route=\"/r\",le=\"+Inf\"} 4\nx_sum{route=\"/r\"} 60.5\nx_count{route=\"/r\"} 4\n"
        );
    }

    #[test]
    fn scrape_finds_labelled_series() {
        let text = "a_total 3\nb{route=\"/payments\"} 7.5\n";
        assert_eq!(scrape_value(text, "a_total"), Some(3.0));
        assert_eq!(scrape_value(text, "b{route=\"/payments\"}"), Some(7.5));
        assert_eq!(scrape_value(text, "b"), None);
    }
}
