//! What a soak found, per target: returned by the library, printed by the
//! command line (as text with `Display`, or as JSON with [`json`]).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use heapmeter::GrowthRule;
use serde_json::{json, Value};

use super::exposition::Figures;
use super::sample::{HeapMetric, Sample};
use super::schedule::Driven;
use super::stats::{self, Growth, MIN_JUDGED_SAMPLES};
use super::tally::Tally;
use super::{SoakConfig, Target};

/// What a soak found about one target.
#[derive(Clone, Debug)]
pub struct SoakReport {
    /// What was soaked (variant and backends, or the target's name).
    pub label: String,
    /// The service's address.
    pub addr: SocketAddr,
    /// Its process, when the soak read its `/proc/PID/status`.
    pub pid: Option<u32>,
    /// Requests per second scheduled.
    pub rps: u32,
    /// Scheduled duration.
    pub duration: Duration,
    /// From the first scheduled request to the last answer.
    pub elapsed: Duration,
    /// Where every request ended.
    pub tally: Tally,
    /// The most requests in flight at once.
    pub max_in_flight: usize,
    /// Median latency from the scheduled send time, of answered requests.
    pub p50: Duration,
    /// 99th percentile latency, of answered requests.
    pub p99: Duration,
    /// Every scrape, in time order.
    pub samples: Vec<Sample>,
    /// The series of [`exposition`](super::exposition) the target served.
    pub served: Vec<&'static str>,
    /// The heap figure followed: heapmeter's live bytes, V8's used heap, or
    /// none served.
    pub heap: Option<HeapMetric>,
    /// The growth rule evaluated on it.
    pub rule: GrowthRule,
    /// When the rule first fired, in seconds since the start, with the
    /// growth rate then, in bytes per second.
    pub firing: Option<(f64, f64)>,
    /// The heap's growth per request over the second half, with heapmeter's
    /// verdict where the target serves allocation counts; `None` when the
    /// soak was too short to judge (fewer than [`MIN_JUDGED_SAMPLES`]
    /// scrapes in that half) or no heap figure was served.
    pub growth: Option<Growth>,
    /// Fault steps applied, as `(seconds since the start, what)`.
    pub faults: Vec<(f64, String)>,
}

impl SoakReport {
    pub(crate) fn new(target: Target, config: &SoakConfig, driven: Driven) -> SoakReport {
        let Driven {
            tally,
            latencies,
            samples,
            faults,
            max_in_flight,
            elapsed,
        } = driven;
        // In the table's order, whichever scrape first had each.
        let seen: Vec<Vec<&'static str>> = samples.iter().map(|s| s.figures.served()).collect();
        let served: Vec<&'static str> = Figures::default()
            .all()
            .into_iter()
            .map(|(_, name)| name)
            .filter(|name| seen.iter().any(|names| names.contains(name)))
            .collect();
        let heap = HeapMetric::served_in(&samples);
        SoakReport {
            label: target.label,
            addr: target.addr,
            pid: target.pid,
            rps: config.rps,
            duration: config.duration,
            elapsed,
            tally,
            max_in_flight,
            p50: stats::percentile(&latencies, 0.50),
            p99: stats::percentile(&latencies, 0.99),
            firing: heap.and_then(|h| stats::first_firing(config.rule, h, &samples)),
            growth: heap.and_then(|h| stats::growth(h, &samples)),
            served,
            heap,
            rule: config.rule,
            samples,
            faults,
        }
    }

    /// Mean allocations and bytes allocated per request over the whole
    /// soak, from heapmeter's per-request histograms; zeros when the target
    /// does not serve them.
    pub fn per_request(&self) -> (f64, f64) {
        stats::per_request(&self.samples).unwrap_or_default()
    }

    /// The live heap that `/payments` requests allocated, at the last
    /// scrape that has it (heapmeter's sampled `heapmeter_route_inuse_bytes`).
    pub fn route_inuse_bytes(&self) -> Option<f64> {
        self.samples
            .iter()
            .rev()
            .find_map(|s| s.figures.route_inuse_bytes)
    }

    /// Requests answered per second of the soak (`elapsed`).
    pub fn throughput(&self) -> f64 {
        self.tally.answered() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The most the target was resident (`VmHWM` of its last scrape), in
    /// bytes; `None` without its pid.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        self.samples
            .iter()
            .filter_map(|s| s.resident.map(|r| r.peak_bytes))
            .max()
    }
}

fn mib(b: f64) -> String {
    format!("{:.1} MiB", b / 1048576.0)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

/// Up to 7 scrapes, evenly spread, as `  {t}s {value}` columns.
fn row(
    f: &mut fmt::Formatter<'_>,
    picks: &[&Sample],
    value: impl Fn(&Sample) -> Option<f64>,
) -> fmt::Result {
    for s in picks {
        match value(s) {
            Some(v) => write!(f, "{:>4.0}s {:<10}", s.at_secs, mib(v))?,
            None => write!(f, "{:>4.0}s {:<10}", s.at_secs, "-")?,
        }
    }
    Ok(())
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.tally;
        let target = self.pid;
        match target {
            None => writeln!(
                f,
                "soak: {} at {} req/s for {}, open loop over {}",
                self.label,
                self.rps,
                secs(self.duration),
                self.addr
            )?,
            Some(pid) => writeln!(
                f,
                "soak: {} (http://{}, pid {pid}) at {} req/s for {}, open loop",
                self.label,
                self.addr,
                self.rps,
                secs(self.duration)
            )?,
        }
        writeln!(
            f,
            "  requests     {} scheduled = {} decided ({} checked, {} risky; {} by the fail policy) + {} failed ({} 503, {} other status, {} transport, {} timeout, {} not sent){}",
            t.scheduled,
            t.checked + t.degraded,
            t.checked,
            t.risky,
            t.degraded,
            t.failed(),
            t.unavailable,
            t.other_status,
            t.transport_errors,
            t.timeouts,
            t.not_sent,
            if t.accounted() { "" } else { "  [NOT ALL ACCOUNTED FOR]" }
        )?;
        if target.is_some() {
            writeln!(
                f,
                "  sent         {} = {} answered + {} failed + {} timed out; at most {} in flight; {:.1} answered/s over {}",
                t.sent(),
                t.answered(),
                t.transport_errors,
                t.timeouts,
                self.max_in_flight,
                self.throughput(),
                secs(Duration::from_secs_f64((self.elapsed.as_secs_f64() * 10.0).round() / 10.0))
            )?;
        }
        writeln!(
            f,
            "  latency      p50 {}, p99 {} (from the scheduled send time)",
            ms(self.p50),
            ms(self.p99)
        )?;
        if target.is_none() || self.served.contains(&"heapmeter_request_allocations") {
            let (allocs, bytes) = self.per_request();
            writeln!(
                f,
                "  per request  {allocs:.1} allocations, {bytes:.0} B allocated (whole request, heapmeter's AllocLayer, from /metrics)"
            )?;
        }
        if let Some(kept) = self.route_inuse_bytes() {
            writeln!(
                f,
                "  route heap   {kept:.0} B live, allocated by /payments requests (sampled: heapmeter_route_inuse_bytes)"
            )?;
        }
        if !self.faults.is_empty() {
            let steps: Vec<String> = self
                .faults
                .iter()
                .map(|(t, what)| format!("{t:.0}s {what}"))
                .collect();
            writeln!(f, "  faults       {}", steps.join("; "))?;
        }
        let n = self.samples.len();
        let picks: Vec<&Sample> = if n <= 7 {
            self.samples.iter().collect()
        } else {
            (0..7).map(|k| &self.samples[k * (n - 1) / 6]).collect()
        };
        match target {
            None => {
                write!(f, "  live         ")?;
                row(f, &picks, |s| s.figures.live_bytes)?;
                write!(f, "\n  resident     ")?;
                row(f, &picks, |s| s.figures.resident_bytes)?;
                writeln!(f)?;
            }
            Some(pid) => {
                for heap in HeapMetric::ALL {
                    if !self.samples.iter().any(|s| heap.of(s).is_some()) {
                        continue;
                    }
                    write!(f, "  {:<13}", heap.row())?;
                    row(f, &picks, |s| heap.of(s))?;
                    writeln!(f, "({})", heap.name())?;
                }
                write!(f, "  resident     ")?;
                row(f, &picks, |s| s.resident.map(|r| r.rss_bytes as f64))?;
                writeln!(f, "(VmRSS, /proc/{pid}/status)")?;
                if let Some(peak) = self.peak_rss_bytes() {
                    writeln!(
                        f,
                        "  peak RSS     {} (VmHWM, /proc/{pid}/status)",
                        mib(peak as f64)
                    )?;
                }
                if let Some(last) = self.samples.last() {
                    let fig = &last.figures;
                    let mut v8 = Vec::new();
                    if let Some(b) = fig.v8_heap_total_bytes {
                        v8.push(format!("heap total {}", mib(b)));
                    }
                    if let Some(b) = fig.v8_external_bytes {
                        v8.push(format!("external {}", mib(b)));
                    }
                    if let Some(s) = fig.gc_seconds {
                        v8.push(format!("GC {s:.2} s in all"));
                    }
                    if !v8.is_empty() {
                        writeln!(f, "  V8 at end    {}", v8.join(", "))?;
                    }
                }
                if self.served.is_empty() {
                    writeln!(f, "  metrics      none read from /metrics")?;
                } else {
                    writeln!(
                        f,
                        "  metrics      {} (from /metrics)",
                        self.served.join(", ")
                    )?;
                }
            }
        }
        let Some(heap) = self.heap else {
            let names: Vec<&str> = HeapMetric::ALL.iter().map(|h| h.name()).collect();
            return write!(
                f,
                "  growth alert not evaluated, leak not judged: no heap figure served ({})",
                names.join(", ")
            );
        };
        let rule = crate::growth::promql(&self.rule, heap.name());
        match self.firing {
            Some((at, rate)) => writeln!(
                f,
                "  growth alert FIRED at {at:.0}s: {rule} ({:.2} MB/s then)",
                rate / 1e6
            )?,
            None => writeln!(f, "  growth alert not fired: {rule}")?,
        }
        let what = heap.what();
        // NOTE: whole bytes; a slope that rounds to zero prints 0, not -0.
        let whole = |b: f64| if b.round() == 0.0 { 0.0 } else { b };
        match self.growth.map(|g| Growth {
            bytes_per_request: whole(g.bytes_per_request),
            ..g
        }) {
            Some(Growth {
                verdict: Some(v),
                bytes_per_request,
                ..
            }) => write!(
                f,
                "  leak verdict {v:?}: {what} grow {bytes_per_request:.0} B per request over the second half"
            ),
            Some(Growth {
                verdict: None,
                bytes_per_request,
                ..
            }) => write!(
                f,
                "  heap growth  {what} grow {bytes_per_request:.0} B per request over the second half (no verdict: no allocation counts served)"
            ),
            None => write!(
                f,
                "  leak verdict none: too short to judge (fewer than {MIN_JUDGED_SAMPLES} scrapes in the second half)"
            ),
        }
    }
}

fn secs_f(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The reports as JSON, for machines: an array, one object per target, in
/// base units (bytes, seconds), every figure the text shows and every
/// scrape.
pub fn json(reports: &[SoakReport]) -> Value {
    Value::Array(reports.iter().map(report_json).collect())
}

fn report_json(r: &SoakReport) -> Value {
    let t = &r.tally;
    let (allocs, bytes) = r.per_request();
    let samples: Vec<Value> = r
        .samples
        .iter()
        .map(|s| {
            json!({
                "at_s": s.at_secs,
                "answered": s.answered,
                "rss_bytes": s.resident.map(|m| m.rss_bytes),
                "hwm_bytes": s.resident.map(|m| m.peak_bytes),
                "metrics": s.figures,
            })
        })
        .collect();
    json!({
        "label": r.label,
        "url": format!("http://{}", r.addr),
        "pid": r.pid,
        "rps": r.rps,
        "duration_s": secs_f(r.duration),
        "elapsed_s": secs_f(r.elapsed),
        "requests": {
            "scheduled": t.scheduled,
            "sent": t.sent(),
            "answered": t.answered(),
            "checked": t.checked,
            "risky": t.risky,
            "degraded": t.degraded,
            "unavailable": t.unavailable,
            "other_status": t.other_status,
            "failed": t.transport_errors,
            "timed_out": t.timeouts,
            "not_sent": t.not_sent,
            "accounted": t.accounted(),
        },
        "throughput_rps": r.throughput(),
        "max_in_flight": r.max_in_flight,
        "latency_s": { "p50": secs_f(r.p50), "p99": secs_f(r.p99) },
        "per_request": r.served.contains(&"heapmeter_request_allocations").then(|| json!({
            "allocations": allocs, "allocated_bytes": bytes,
        })),
        "route_inuse_bytes": r.route_inuse_bytes(),
        "peak_rss_bytes": r.peak_rss_bytes(),
        "metrics_served": r.served,
        "heap_metric": r.heap.map(HeapMetric::name),
        "growth_alert": {
            "rule": r.heap.map(|h| crate::growth::promql(&r.rule, h.name())),
            "fired_at_s": r.firing.map(|f| f.0),
            "rate_bytes_per_s": r.firing.map(|f| f.1),
        },
        "heap_growth": r.growth.map(|g| json!({
            "bytes_per_request": g.bytes_per_request,
            "verdict": g.verdict.map(|v| v.as_str()),
        })),
        "faults": r.faults.iter().map(|(at, what)| json!({"at_s": at, "what": what})).collect::<Vec<_>>(),
        "samples": samples,
    })
}
