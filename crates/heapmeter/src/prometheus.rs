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
//! | `heapmeter_requests_total{method,route}` | counter | requests recorded |
//! | `heapmeter_request_allocations{method,route}` | histogram | allocations per request |
//! | `heapmeter_request_allocated_bytes{method,route}` | histogram | bytes allocated per request |
//! | `heapmeter_route_inuse_bytes{method,route}` | gauge | live heap allocated by the route's requests (sampled) |
//! | `heapmeter_sampling_interval_bytes` | gauge | the heap sampler's mean interval, 0 when off |
//!
//! The process-wide figures are read when the metrics are rendered, so a
//! scrape costs a walk over the allocator's thread slots and nothing is
//! paid between scrapes.
//!
//! # The live heap by route
//!
//! `heapmeter_route_inuse_bytes` answers "which route keeps the memory":
//! the bytes still live that were allocated while a request of that route
//! was being polled, whatever the server allocated or freed around the
//! request. It comes from the heap sampler: each sampled block carries the
//! [`Label`] of the request future that was polled when it
//! was allocated (`AllocLayer` labels each
//! request with its method and route), and the gauge is the unbiased sum
//! over the live samples of each label: exact at an interval of 1 byte,
//! within sampling error otherwise (a few sampled blocks per route make a
//! rough figure; hundreds make a good one). It needs sampling on:
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();
//! let _session = heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL)
//!     .expect("CountingAlloc is the global allocator");
//! ```
//!
//! Without it, the gauge is absent and `heapmeter_sampling_interval_bytes`
//! reads 0. Per request, the histograms count exactly what each request
//! allocated; what it *kept* is not a per-request figure (a request also
//! frees what the server allocated before it, such as its own head), so
//! it is left to the gauge.
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//! #     heapmeter::CountingAlloc::new(std::alloc::System);
//! use heapmeter::prometheus::Metrics;
//!
//! let metrics = Metrics::new();
//! let (_, stats) = heapmeter::measure(|| drop(vec![0u8; 100]));
//! metrics.record("POST", "/payments", &stats);
//! let text = metrics.render();
//! assert!(text.contains(
//!     "heapmeter_request_allocated_bytes_sum{method=\"POST\",route=\"/payments\"} 100.0"
//! ));
//! assert!(text.contains("# TYPE heapmeter_live_bytes gauge"));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::{sampling, Label, Stats};

pub use prometheus_client;

/// The `method` and `route` labels of the per-request metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    method: String,
    route: String,
}

/// One route's (method and pattern) metric handles and request label,
/// looked up once and kept: what [`Metrics::route`] returns.
#[derive(Debug)]
pub struct Route {
    requests: Counter,
    allocations: Histogram,
    allocated_bytes: Histogram,
    label: Label,
}

impl Route {
    /// Records one request of this route that made `stats`.
    pub fn record(&self, stats: &Stats) {
        self.requests.inc();
        self.allocations.observe(stats.allocs as f64);
        self.allocated_bytes.observe(stats.bytes_allocated as f64);
    }

    /// The request label of this route (`method` and `route` pairs): give
    /// it to each request's [`MeasuredFuture`](crate::MeasuredFuture) with
    /// [`with_label`](crate::MeasuredFuture::with_label), so that the
    /// route's live heap shows in `heapmeter_route_inuse_bytes`.
    pub fn label(&self) -> Label {
        self.label
    }
}

/// Routes by pattern, then by method.
type Routes = HashMap<Box<str>, Vec<(Box<str>, Arc<Route>)>, BuildFnv>;

/// FNV-1a: route patterns are short strings the service itself chose, so
/// a lookup per request needs speed, not SipHash's defence against
/// chosen keys.
#[derive(Clone, Copy, Debug, Default)]
struct BuildFnv;

#[derive(Debug)]
struct Fnv(u64);

impl std::hash::BuildHasher for BuildFnv {
    type Hasher = Fnv;

    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
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
    /// PERF: a request looks its route up by `&str` here, so it allocates
    /// nothing once its route has been seen.
    routes: Arc<RwLock<Routes>>,
}

/// 1, 4, 16, … 4^10 (about a million) allocations.
fn count_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 4.0, 11))
}

/// 64 B, 256 B, … 4^12 × 64 B (1 GiB).
fn byte_buckets() -> Histogram {
    Histogram::new(exponential_buckets(64.0, 4.0, 13))
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
    /// allocator: every figure would read zero.
    #[track_caller]
    pub fn new() -> Metrics {
        crate::scope::assert_installed();
        let mut registry = Registry::default();
        let routes: Arc<RwLock<Routes>> = Arc::default();
        registry.register_collector(Box::new(ProcessCollector));
        registry.register_collector(Box::new(RouteInuse(Arc::clone(&routes))));
        let requests = Family::<RouteLabel, Counter>::default();
        let allocations = Family::new_with_constructor(count_buckets as fn() -> Histogram);
        let allocated_bytes = Family::new_with_constructor(byte_buckets as fn() -> Histogram);
        registry.register(
            "heapmeter_requests",
            "Requests measured, by method and route",
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
        Metrics {
            registry,
            requests,
            allocations,
            allocated_bytes,
            routes,
        }
    }

    /// The underlying registry, to register metrics of your own beside
    /// heapmeter's.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Records one request of `method` and `route` that made `stats`.
    ///
    /// NOTE: `route` is a label: use a route pattern (`/users/{id}`), never
    /// the raw path, or every id becomes a time series of its own.
    pub fn record(&self, method: &str, route: &str, stats: &Stats) {
        self.route(method, route).record(stats);
    }

    /// The handles of one route (method and pattern), created on first
    /// use; later calls allocate nothing.
    pub fn route(&self, method: &str, route: &str) -> Arc<Route> {
        let found = |routes: &Routes| {
            routes
                .get(route)?
                .iter()
                .find(|(m, _)| &**m == method)
                .map(|(_, r)| Arc::clone(r))
        };
        if let Some(r) = found(&self.routes.read().unwrap_or_else(|e| e.into_inner())) {
            return r;
        }
        self.add_route(method, route, found)
    }

    /// A route seen for the first time (slow path).
    #[cold]
    fn add_route(
        &self,
        method: &str,
        route: &str,
        found: impl Fn(&Routes) -> Option<Arc<Route>>,
    ) -> Arc<Route> {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = found(&routes) {
            return r;
        }
        let label = RouteLabel {
            method: method.to_owned(),
            route: route.to_owned(),
        };
        let r = Arc::new(Route {
            requests: self.requests.get_or_create(&label).clone(),
            allocations: self.allocations.get_or_create(&label).clone(),
            allocated_bytes: self.allocated_bytes.get_or_create(&label).clone(),
            label: Label::new(&[("method", method), ("route", route)]),
        });
        routes
            .entry(route.into())
            .or_default()
            .push((method.into(), Arc::clone(&r)));
        r
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

/// Reads the live heap by route from the sampler at each scrape.
#[derive(Debug)]
struct RouteInuse(Arc<RwLock<Routes>>);

impl Collector for RouteInuse {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let interval = sampling::interval().unwrap_or(0);
        gauge(
            &mut enc,
            "heapmeter_sampling_interval_bytes",
            "Mean interval of the heap sampler in bytes, 0 when it is off",
            interval,
        )?;
        let live = sampling::inuse_by_label();
        if interval == 0 && live.is_empty() {
            return Ok(());
        }
        let mut values: Vec<(RouteLabel, i64)> = Vec::new();
        for (route, methods) in self.0.read().unwrap_or_else(|e| e.into_inner()).iter() {
            for (method, r) in methods {
                let bytes = live
                    .iter()
                    .find(|l| l.label == r.label)
                    .map_or(0.0, |l| l.bytes);
                values.push((
                    RouteLabel {
                        method: method.to_string(),
                        route: route.to_string(),
                    },
                    bytes.round() as i64,
                ));
            }
        }
        values.sort_by(|a, b| (&a.0.route, &a.0.method).cmp(&(&b.0.route, &b.0.method)));
        let mut metric = enc.encode_descriptor(
            "heapmeter_route_inuse_bytes",
            "Live heap bytes allocated while a request of the route was polled (sampled estimate; exact at a 1-byte interval)",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (label, v) in &values {
            ConstGauge::new(*v).encode(metric.encode_family(label)?)?;
        }
        Ok(())
    }
}

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
