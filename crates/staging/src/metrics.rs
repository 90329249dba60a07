//! The service's `/metrics`: heapmeter's Prometheus registry (process-wide
//! heap, resident memory, and the per-route request histograms that
//! heapmeter's `AllocLayer` records; the names are the project's contract)
//! plus the service's own answers by outcome and the check's latency.
//!
//! The process-wide heap figures need heapmeter's counting allocator as the
//! binary's global allocator.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use std::sync::Arc;

use heapmeter::prometheus::{prometheus_client, CONTENT_TYPE};

/// The route label of the measured handler.
pub const PAYMENTS_ROUTE: &str = "/payments";

/// The content type of [`Metrics::render`]'s text.
pub const METRICS_CONTENT_TYPE: &str = CONTENT_TYPE;

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    heap: Arc<heapmeter::prometheus::Metrics>,
    outcomes: Family<OutcomeLabel, Counter>,
    duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// heapmeter's registry with the service's metrics added.
    pub fn new() -> Metrics {
        let mut heap = heapmeter::prometheus::Metrics::new();
        let outcomes = Family::<OutcomeLabel, Counter>::default();
        // 100 µs … about 3.3 s.
        let duration = Histogram::new(exponential_buckets(1e-4, 2.0, 16));
        let registry = heap.registry_mut();
        registry.register(
            "heaplab_payments",
            "Payments answered, by outcome",
            outcomes.clone(),
        );
        registry.register(
            "heaplab_payment_duration_seconds",
            "Time from a payment's arrival at the handler to its answer, in seconds",
            duration.clone(),
        );
        Metrics {
            heap: Arc::new(heap),
            outcomes,
            duration,
        }
    }

    /// The registry heapmeter's `AllocLayer` records requests into.
    pub fn heap(&self) -> Arc<heapmeter::prometheus::Metrics> {
        Arc::clone(&self.heap)
    }

    /// Records how long one payment's handler took, in seconds.
    pub fn record_duration(&self, seconds: f64) {
        self.duration.observe(seconds);
    }

    /// Counts one answer.
    pub fn record_outcome(&self, outcome: Outcome) {
        self.outcomes
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        self.heap.render()
    }
}
