//! Prometheus metrics (feature `prometheus`): the process's heap as the
//! counting allocator sees it, resident memory, and per-route request
//! histograms, rendered in the text exposition format.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `heapmeter_live_bytes` | gauge | bytes allocated and not yet freed, process-wide |
//! | `heapmeter_allocations_total` | counter | `alloc` calls (a realloc is not one) |
//! | `heapmeter_deallocations_total` | counter | `dealloc` calls |
//! | `heapmeter_allocated_bytes_total` | counter | bytes handed out, growing reallocs included |
//! | `heapmeter_deallocated_bytes_total` | counter | bytes given back, shrinking reallocs included |
//! | `process_resident_memory_bytes` | gauge | resident set size (Linux `/proc`) |
//! | `heapmeter_jemalloc_{allocated,active,resident,mapped,retained,metadata}_bytes` | gauge | jemalloc's statistics (feature `jemalloc`) |
//! | `heapmeter_requests_total{route}` | counter | requests recorded |
//! | `heapmeter_request_allocations{route}` | histogram | allocations per request |
//! | `heapmeter_request_allocated_bytes{route}` | histogram | bytes allocated per request |
//! | `heapmeter_request_retained_bytes{route}` | histogram | bytes a request allocated and did not free |
//!
//! The process-wide figures are read when the metrics are rendered, so a
//! scrape costs a walk over the allocator's thread slots and nothing is
//! paid between scrapes.
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//! #     heapmeter::CountingAlloc::new(std::alloc::System);
//! use heapmeter::prometheus::Metrics;
//!
//! let metrics = Metrics::new();
//! let (_, stats) = heapmeter::measure(|| drop(vec![0u8; 100]));
//! metrics.record("/payments", &stats);
//! let text = metrics.render();
//! assert!(text.contains("heapmeter_request_allocated_bytes_sum{route=\"/payments\"} 100.0"));
//! assert!(text.contains("# TYPE heapmeter_live_bytes gauge"));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::Stats;

pub use prometheus_client;

/// The `route` label of the per-request metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

/// One route's metric handles, looked up once and kept.
#[derive(Clone, Debug)]
struct RouteMetrics {
    requests: Counter,
    allocations: Histogram,
    allocated_bytes: Histogram,
    retained_bytes: Histogram,
}

impl RouteMetrics {
    fn observe(&self, stats: &Stats) {
        self.requests.inc();
        self.allocations.observe(stats.allocs as f64);
        self.allocated_bytes.observe(stats.bytes_allocated as f64);
        self.retained_bytes.observe(stats.net_bytes().max(0) as f64);
    }
}

/// A registry with heapmeter's metrics; add your own through
/// [`Metrics::registry_mut`]. Cheap to share: wrap it in an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabel, Counter>,
    allocations: Family<RouteLabel, Histogram, fn() -> Histogram>,
    allocated_bytes: Family<RouteLabel, Histogram, fn() -> Histogram>,
    retained_bytes: Family<RouteLabel, Histogram, fn() -> Histogram>,
    /// PERF: recording looks a route up by `&str` here, so a request
    /// allocates nothing once its route has been seen.
    routes: RwLock<HashMap<Box<str>, RouteMetrics>>,
}

/// 1, 4, 16, … 4^10 (about a million) allocations.
fn count_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 4.0, 11))
}

/// 64 B, 256 B, … 4^12 × 64 B (1 GiB).
fn byte_buckets() -> Histogram {
    Histogram::new(exponential_buckets(64.0, 4.0, 13))
}

/// 0 (nothing retained, or more freed than allocated), then as bytes.
fn retained_buckets() -> Histogram {
    Histogram::new(std::iter::once(0.0).chain(exponential_buckets(64.0, 4.0, 13)))
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry holding heapmeter's process-wide and per-route metrics.
    ///
    /// # Panics
    ///
    /// If [`CountingAlloc`](crate::CountingAlloc) is not the global
    /// allocator (every heap figure would be zero), with how to install it.
    #[track_caller]
    pub fn new() -> Metrics {
        crate::install::require_installed();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessCollector));
        let requests = Family::<RouteLabel, Counter>::default();
        let allocations = Family::new_with_constructor(count_buckets as fn() -> Histogram);
        let allocated_bytes = Family::new_with_constructor(byte_buckets as fn() -> Histogram);
        let retained_bytes = Family::new_with_constructor(retained_buckets as fn() -> Histogram);
        registry.register(
            "heapmeter_requests",
            "Requests measured, by route",
            requests.clone(),
        );
        registry.register(
            "heapmeter_request_allocations",
            "Allocations (alloc calls) made while a request's future was polled",
            allocations.clone(),
        );
        registry.register(
            "heapmeter_request_allocated_bytes",
            "Bytes allocated while a request's future was polled",
            allocated_bytes.clone(),
        );
        registry.register(
            "heapmeter_request_retained_bytes",
            "Bytes a request allocated and did not free by its end (0 if it freed more)",
            retained_bytes.clone(),
        );
        Metrics {
            registry,
            requests,
            allocations,
            allocated_bytes,
            retained_bytes,
            routes: RwLock::new(HashMap::new()),
        }
    }

    /// The underlying registry, to register metrics of your own beside
    /// heapmeter's.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Records one request of `route` that made `stats`.
    ///
    /// NOTE: `route` is a label: use a route pattern (`/users/{id}`), never
    /// the raw path, or every id becomes a time series of its own.
    pub fn record(&self, route: &str, stats: &Stats) {
        if let Some(m) = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
        {
            return m.observe(stats);
        }
        self.route(route).observe(stats);
    }

    /// The handles of a route seen for the first time (slow path).
    #[cold]
    fn route(&self, route: &str) -> RouteMetrics {
        let label = RouteLabel {
            route: route.to_owned(),
        };
        let m = RouteMetrics {
            requests: self.requests.get_or_create(&label).clone(),
            allocations: self.allocations.get_or_create(&label).clone(),
            allocated_bytes: self.allocated_bytes.get_or_create(&label).clone(),
            retained_bytes: self.retained_bytes.get_or_create(&label).clone(),
        };
        self.routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(route.into(), m.clone());
        m
    }

    /// Renders every metric in Prometheus' text exposition format (version
    /// 0.0.4: serve it with the content type [`CONTENT_TYPE`]).
    ///
    /// NOTE: `prometheus-client` writes OpenMetrics text, where a counter's
    /// family is named without its `_total` suffix. Prometheus scrapes
    /// either, but `promtool check metrics` and many other readers parse
    /// only the classic format, so the text is rewritten to it: counters'
    /// `# HELP`/`# TYPE` lines take the `_total` name, and `# UNIT` and
    /// `# EOF` lines go.
    ///
    /// # Errors
    ///
    /// Only those of `out`.
    pub fn encode(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let mut open = String::with_capacity(4096);
        prometheus_client::encoding::text::encode(&mut open, &self.registry)?;
        to_classic(&open, out)
    }

    /// [`Metrics::encode`] into a new `String`.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // NOTE: writing into a String cannot fail.
        let _ = self.encode(&mut out);
        out
    }
}

/// Rewrites OpenMetrics text into Prometheus' classic text format.
fn to_classic(open: &str, out: &mut impl fmt::Write) -> fmt::Result {
    // A family's HELP comes before its TYPE: hold it until the type says
    // whether the name takes `_total`.
    let mut help: Option<(&str, &str)> = None;
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            help = Some((name, text));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (suffix, kind) = match kind {
                "counter" => ("_total", "counter"),
                "unknown" => ("", "untyped"),
                other => ("", other),
            };
            if let Some((_, text)) = help.take().filter(|(n, _)| *n == name) {
                writeln!(out, "# HELP {name}{suffix} {text}")?;
            }
            writeln!(out, "# TYPE {name}{suffix} {kind}")?;
            continue;
        }
        // A sample; OpenMetrics exemplars (` # {…}`) have no classic form.
        writeln!(out, "{}", line.split(" # ").next().unwrap_or(line))?;
    }
    Ok(())
}

/// The HTTP content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Reads the process-wide figures at each scrape.
#[derive(Debug)]
struct ProcessCollector;

fn counter(enc: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: u64) -> fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(enc.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(enc: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: u64) -> fmt::Result {
    let g = ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX));
    g.encode(enc.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let t = crate::process_totals();
        let e = &mut enc;
        gauge(
            e,
            "heapmeter_live_bytes",
            "Heap bytes allocated and not yet freed, process-wide",
            t.net_bytes().max(0) as u64,
        )?;
        counter(
            e,
            "heapmeter_allocations",
            "Allocations (alloc calls), process-wide",
            t.allocs,
        )?;
        counter(
            e,
            "heapmeter_deallocations",
            "Deallocations (dealloc calls), process-wide",
            t.deallocs,
        )?;
        counter(
            e,
            "heapmeter_allocated_bytes",
            "Bytes allocated, growing reallocs included, process-wide",
            t.bytes_allocated,
        )?;
        counter(
            e,
            "heapmeter_deallocated_bytes",
            "Bytes freed, shrinking reallocs included, process-wide",
            t.bytes_deallocated,
        )?;
        if let Some(rss) = crate::resident_bytes() {
            gauge(
                e,
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                rss,
            )?;
        }
        #[cfg(feature = "jemalloc")]
        if let Ok(j) = crate::jemalloc::stats() {
            for (name, help, v) in [
                (
                    "heapmeter_jemalloc_allocated_bytes",
                    "jemalloc: bytes allocated by the program",
                    j.allocated,
                ),
                (
                    "heapmeter_jemalloc_active_bytes",
                    "jemalloc: bytes in active pages",
                    j.active,
                ),
                (
                    "heapmeter_jemalloc_resident_bytes",
                    "jemalloc: bytes in resident data pages",
                    j.resident,
                ),
                (
                    "heapmeter_jemalloc_mapped_bytes",
                    "jemalloc: bytes in mapped active extents",
                    j.mapped,
                ),
                (
                    "heapmeter_jemalloc_retained_bytes",
                    "jemalloc: bytes retained as unmapped virtual memory",
                    j.retained,
                ),
                (
                    "heapmeter_jemalloc_metadata_bytes",
                    "jemalloc: bytes of jemalloc's own metadata",
                    j.metadata,
                ),
            ] {
                gauge(e, name, help, v)?;
            }
        }
        Ok(())
    }
}
