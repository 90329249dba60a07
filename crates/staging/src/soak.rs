//! `heaplab soak`: an open-loop load at a fixed rate over loopback, bounded
//! in time, that scrapes the service's `/metrics` and judges its heap.
//!
//! Open loop: request `i` is sent at `start + i / rps` whatever happened to
//! the ones before, and its latency is measured from that scheduled time,
//! so a slow service shows up as latency instead of as a slower client
//! (no coordinated omission). Every scheduled request ends in exactly one
//! bucket of [`Tally`]; nothing is dropped silently.

use std::fmt;
use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use heapmeter::Verdict;
use tokio::sync::mpsc;

use crate::client::{HttpClient, HttpError};
use crate::metrics::scrape_value;
use crate::{Result, StagingError};
use heapmeter::{GrowthMonitor, GrowthRule};

/// How to run a soak.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// Requests per second, scheduled at even intervals.
    pub rps: u32,
    /// How long requests are scheduled for.
    pub duration: Duration,
    /// Time between two scrapes of `/metrics`.
    pub scrape_every: Duration,
    /// A request not answered within this is counted as timed out.
    pub timeout: Duration,
    /// Requests in flight at most; a request scheduled beyond it is counted
    /// as not sent.
    pub max_in_flight: usize,
    /// The growth alert to evaluate on live bytes (see [`crate::growth`]).
    pub rule: GrowthRule,
    /// Every `risky_every`-th request pays as one of these users (known
    /// risky ids, to see `"risky":true` answers); the others pay as ids no
    /// list holds.
    pub risky_ids: Vec<u64>,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

impl SoakConfig {
    /// `rps` for `duration`, scraping every second, 5 s timeout, 1,024 in
    /// flight, the post-mortem's rule compressed 10 times.
    pub fn new(rps: u32, duration: Duration) -> SoakConfig {
        SoakConfig {
            rps: rps.max(1),
            duration,
            scrape_every: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            max_in_flight: 1024,
            rule: crate::growth::compressed(10),
            risky_ids: Vec::new(),
            progress: std::io::stderr().is_terminal(),
        }
    }
}

/// Where every scheduled request ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests scheduled.
    pub scheduled: u64,
    /// `200` with a decision from the check.
    pub checked: u64,
    /// Of those, `"risky":true`.
    pub risky: u64,
    /// `200` decided by the fail policy (`"degraded"` set).
    pub degraded: u64,
    /// `503` with a reason.
    pub unavailable: u64,
    /// Any other status.
    pub other_status: u64,
    /// Connection refused, reset or closed before an answer.
    pub transport_errors: u64,
    /// No answer within the timeout.
    pub timeouts: u64,
    /// Not sent: too many requests in flight.
    pub not_sent: u64,
}

impl Tally {
    /// Requests answered by the service (any status).
    pub fn answered(&self) -> u64 {
        self.checked + self.degraded + self.unavailable + self.other_status
    }

    /// Requests that got no decision.
    pub fn failed(&self) -> u64 {
        self.unavailable + self.other_status + self.transport_errors + self.timeouts + self.not_sent
    }

    /// Whether every scheduled request is in exactly one bucket.
    pub fn accounted(&self) -> bool {
        self.checked + self.degraded + self.failed() == self.scheduled
    }
}

/// One scrape of `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSample {
    /// Seconds since the soak started.
    pub at_secs: f64,
    /// `heapmeter_live_bytes`, in bytes.
    pub live_bytes: f64,
    /// `process_resident_memory_bytes`, in bytes.
    pub resident_bytes: f64,
    /// Requests measured so far (`heapmeter_request_allocations_count`).
    pub requests: f64,
    /// Sum of allocations per request so far.
    pub allocations: f64,
    /// Sum of bytes allocated per request so far, in bytes.
    pub allocated_bytes: f64,
    /// Sum of bytes retained per request so far, in bytes.
    pub retained_bytes: f64,
}

impl MetricSample {
    fn parse(text: &str, at_secs: f64) -> Option<MetricSample> {
        let route = "{route=\"/payments\"}";
        let v = |name: &str| scrape_value(text, name);
        Some(MetricSample {
            at_secs,
            live_bytes: v("heapmeter_live_bytes")?,
            resident_bytes: v("process_resident_memory_bytes").unwrap_or(0.0),
            requests: v(&format!("heapmeter_request_allocations_count{route}"))?,
            allocations: v(&format!("heapmeter_request_allocations_sum{route}"))?,
            allocated_bytes: v(&format!("heapmeter_request_allocated_bytes_sum{route}"))?,
            retained_bytes: v(&format!("heapmeter_request_retained_bytes_sum{route}"))?,
        })
    }
}

/// What a soak found.
#[derive(Clone, Debug)]
pub struct SoakReport {
    /// What was soaked (variant and backends), for the heading.
    pub label: String,
    /// The service's address.
    pub addr: SocketAddr,
    /// Requests per second scheduled.
    pub rps: u32,
    /// Scheduled duration.
    pub duration: Duration,
    /// Where every request ended.
    pub tally: Tally,
    /// Median latency from the scheduled send time, of answered requests.
    pub p50: Duration,
    /// 99th percentile latency, of answered requests.
    pub p99: Duration,
    /// Every scrape, in time order.
    pub samples: Vec<MetricSample>,
    /// The growth rule evaluated.
    pub rule: GrowthRule,
    /// When it first fired, in seconds since the start, with the growth
    /// rate then, in bytes per second.
    pub firing: Option<(f64, f64)>,
    /// Leak, churn or clean, from the slope of live bytes over requests in
    /// the second half of the soak; `None` when the soak was too short to
    /// judge (fewer than [`MIN_JUDGED_SAMPLES`] scrapes in that half).
    pub verdict: Option<Verdict>,
    /// That slope over the second half of the soak, in bytes per request.
    pub live_bytes_per_request: f64,
    /// Fault steps applied, as `(seconds since the start, what)`.
    pub faults: Vec<(f64, String)>,
}

impl SoakReport {
    /// Mean allocations, bytes allocated and bytes retained per request
    /// over the whole soak (from the service's per-request histograms).
    pub fn per_request(&self) -> (f64, f64, f64) {
        let (Some(first), Some(last)) = (self.samples.first(), self.samples.last()) else {
            return (0.0, 0.0, 0.0);
        };
        let n = (last.requests - first.requests).max(1.0);
        (
            (last.allocations - first.allocations) / n,
            (last.allocated_bytes - first.allocated_bytes) / n,
            (last.retained_bytes - first.retained_bytes) / n,
        )
    }
}

/// Mutable hooks the soak calls at fixed points, e.g. to inject faults.
pub type FaultPlan = Vec<FaultStep>;

/// One fault action at a fraction of the soak's duration.
pub struct FaultStep {
    /// When, as a fraction of the duration (0..1).
    pub at: f64,
    /// What it does, for the report (e.g. "redis down").
    pub what: String,
    /// The action.
    pub action: Box<dyn FnMut() -> Result<()> + Send>,
}

impl fmt::Debug for FaultStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultStep")
            .field("at", &self.at)
            .field("what", &self.what)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug)]
enum Ending {
    Checked { risky: bool },
    Degraded,
    Unavailable,
    OtherStatus,
    Transport,
    Timeout,
}

/// Drives `addr` open-loop as `config` says, applying `faults` on the way.
pub async fn run(
    addr: SocketAddr,
    label: String,
    config: &SoakConfig,
    mut faults: FaultPlan,
) -> Result<SoakReport> {
    if !addr.ip().is_loopback() {
        return Err(StagingError::Config(format!(
            "{addr}: the soak targets loopback only (127.0.0.1 or [::1])"
        )));
    }
    let client = HttpClient::new(addr, config.timeout);
    let first = client.get("/healthz").await?;
    if first.status != 200 {
        return Err(StagingError::Unhealthy {
            url: format!("http://{addr}"),
            status: first.status,
            body: first.text(),
        });
    }

    let period = Duration::from_secs_f64(1.0 / f64::from(config.rps));
    let total = (config.duration.as_secs_f64() * f64::from(config.rps)).round() as u64;
    // NOTE: the soak shares the process with an in-process service and
    // live bytes are process-wide: everything that grows with the number of
    // requests is allocated up front, so the soak's own heap stays flat.
    let mut latencies: Vec<Duration> = Vec::with_capacity(total as usize);
    let (tx, mut rx) = mpsc::channel::<(Ending, Duration)>(config.max_in_flight.max(1));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tally = Tally {
        scheduled: total,
        ..Tally::default()
    };
    let mut samples = Vec::with_capacity(
        (config.duration.as_secs_f64() / config.scrape_every.as_secs_f64()) as usize + 16,
    );
    let mut fault_log = Vec::new();
    faults.sort_by(|a, b| a.at.total_cmp(&b.at));
    let mut faults = faults.into_iter().peekable();
    let bar = progress_bar(config, total, &label);

    let start = Instant::now();
    let mut next_scrape = start;
    let mut i = 0u64;
    while i < total || in_flight.load(Ordering::Acquire) > 0 {
        let now = Instant::now();
        let t = now.duration_since(start).as_secs_f64();
        // Scrape, if due (scrapes go on while the last requests drain).
        if now >= next_scrape {
            if let Ok(r) = client.get("/metrics").await {
                if let Some(s) = MetricSample::parse(&r.text(), t) {
                    if let Some(bar) = &bar {
                        bar.set_message(format!(
                            "live {:.1} MiB, resident {:.1} MiB",
                            s.live_bytes / 1048576.0,
                            s.resident_bytes / 1048576.0
                        ));
                    }
                    samples.push(s);
                }
            }
            next_scrape += config.scrape_every;
        }
        // Faults, if due.
        while let Some(step) = faults.next_if(|s| s.at * config.duration.as_secs_f64() <= t) {
            // Starting and stopping servers blocks: on a blocking thread,
            // while the requests in flight go on.
            let (step, done) = tokio::task::spawn_blocking(move || {
                let mut step = step;
                let done = (step.action)();
                (step, done)
            })
            .await
            .map_err(StagingError::Blocking)?;
            done?;
            fault_log.push((t, step.what));
        }
        // Collect what finished.
        while let Ok((ending, latency)) = rx.try_recv() {
            count(&mut tally, ending);
            if !matches!(ending, Ending::Transport | Ending::Timeout) {
                latencies.push(latency);
            }
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        if i >= total {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let due = start + period.mul_f64(i as f64);
        if due > Instant::now() {
            let wake = due.min(next_scrape);
            tokio::time::sleep_until(wake.into()).await;
            continue;
        }
        let user_id = user_for(i, &config.risky_ids);
        let id = i;
        i += 1;
        if in_flight.load(Ordering::Acquire) >= config.max_in_flight {
            tally.not_sent += 1;
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            continue;
        }
        in_flight.fetch_add(1, Ordering::AcqRel);
        sent.fetch_add(1, Ordering::Relaxed);
        let (tx, client, in_flight) = (tx.clone(), client.clone(), in_flight.clone());
        tokio::spawn(async move {
            let body = format!(r#"{{"id":{id},"user_id":{user_id},"amount_cents":4200}}"#);
            let ending = match client.post_json("/payments", body.as_bytes()).await {
                Ok(r) => classify(r.status, &r.body),
                Err(HttpError::Timeout { .. }) => Ending::Timeout,
                Err(_) => Ending::Transport,
            };
            let latency = due.elapsed();
            // The receiver lives until every request is in.
            let _ = tx.send((ending, latency)).await;
            in_flight.fetch_sub(1, Ordering::AcqRel);
        });
    }
    drop(tx);
    while let Some((ending, latency)) = rx.recv().await {
        count(&mut tally, ending);
        if !matches!(ending, Ending::Transport | Ending::Timeout) {
            latencies.push(latency);
        }
    }
    let end = start.elapsed().as_secs_f64();
    if let Ok(r) = client.get("/metrics").await {
        if let Some(s) = MetricSample::parse(&r.text(), end) {
            samples.push(s);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    latencies.sort_unstable();
    let firing = first_firing(config.rule, &samples);
    let (verdict, per_request) = judge(&samples);
    Ok(SoakReport {
        label,
        addr,
        rps: config.rps,
        duration: config.duration,
        tally,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        samples,
        rule: config.rule,
        firing,
        verdict,
        live_bytes_per_request: per_request,
        faults: fault_log,
    })
}

/// Feeds the scraped live bytes to a [`GrowthMonitor`] in time order.
fn first_firing(rule: GrowthRule, samples: &[MetricSample]) -> Option<(f64, f64)> {
    let mut monitor = GrowthMonitor::new(rule);
    for s in samples {
        monitor.record(Duration::from_secs_f64(s.at_secs), s.live_bytes as u64);
        if let Some(at) = monitor.first_fired() {
            return Some((at.as_secs_f64(), monitor.rate().unwrap_or(0.0)));
        }
    }
    None
}

fn user_for(i: u64, risky: &[u64]) -> u64 {
    if !risky.is_empty() && i.is_multiple_of(10) {
        return risky[(i / 10) as usize % risky.len()];
    }
    // NOTE: ids below the data set's 12-digit range are on no list.
    1 + i.wrapping_mul(2_654_435_761) % 99_999_999_999
}

fn classify(status: u16, body: &[u8]) -> Ending {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    match status {
        200 if has(b"\"degraded\"") => Ending::Degraded,
        200 => Ending::Checked {
            risky: has(b"\"risky\":true"),
        },
        503 => Ending::Unavailable,
        _ => Ending::OtherStatus,
    }
}

fn count(t: &mut Tally, e: Ending) {
    match e {
        Ending::Checked { risky } => {
            t.checked += 1;
            t.risky += u64::from(risky);
        }
        Ending::Degraded => t.degraded += 1,
        Ending::Unavailable => t.unavailable += 1,
        Ending::OtherStatus => t.other_status += 1,
        Ending::Transport => t.transport_errors += 1,
        Ending::Timeout => t.timeouts += 1,
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Scrapes in the second half of a soak needed for a leak verdict.
pub const MIN_JUDGED_SAMPLES: usize = 15;

/// The smallest slope, in bytes per request, that counts as a leak.
const MIN_LEAK_BYTES_PER_REQUEST: f64 = 64.0;

/// Slope of live bytes over requests measured, over the second half of the
/// soak. NOTE: live bytes are process-wide, and the first half is warm-up:
/// first loads, and connections (with their buffers on both sides) opened
/// until there are as many as the load's concurrency needs, which on a
/// loaded machine takes tens of seconds. Bounded growth like that stops; a
/// leak goes on through the second half.
fn judge(samples: &[MetricSample]) -> (Option<Verdict>, f64) {
    let skip = samples.len() / 2;
    if samples.len() - skip < MIN_JUDGED_SAMPLES {
        return (None, 0.0);
    }
    let points: Vec<(f64, f64)> = samples[skip..]
        .iter()
        .map(|s| (s.requests, s.live_bytes))
        .collect();
    let per_request = slope(&points);
    let allocs = match (samples.get(skip), samples.last()) {
        (Some(a), Some(b)) if b.requests > a.requests => {
            (b.allocations - a.allocations) / (b.requests - a.requests)
        }
        _ => 0.0,
    };
    let verdict = if per_request >= MIN_LEAK_BYTES_PER_REQUEST {
        Verdict::Leak
    } else if allocs >= 0.5 {
        Verdict::Churn
    } else {
        Verdict::Clean
    };
    (Some(verdict), per_request)
}

/// Least-squares slope of `y` over `x` (0 for fewer than two points).
fn slope(points: &[(f64, f64)]) -> f64 {
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

fn progress_bar(config: &SoakConfig, total: u64, label: &str) -> Option<indicatif::ProgressBar> {
    if !config.progress {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} answered · {msg}",
    )
    .ok()?;
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    Some(bar)
}

fn mib(b: f64) -> String {
    format!("{:.1} MiB", b / 1048576.0)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.tally;
        writeln!(
            f,
            "soak: {} at {} req/s for {}s, open loop over {}",
            self.label,
            self.rps,
            self.duration.as_secs(),
            self.addr
        )?;
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
        writeln!(
            f,
            "  latency      p50 {}, p99 {} (from the scheduled send time)",
            ms(self.p50),
            ms(self.p99)
        )?;
        let (allocs, bytes, retained) = self.per_request();
        writeln!(
            f,
            "  per request  {allocs:.1} allocations, {bytes:.0} B allocated, {retained:.0} B retained (whole request, heapmeter's AllocLayer, from /metrics)"
        )?;
        if !self.faults.is_empty() {
            let steps: Vec<String> = self
                .faults
                .iter()
                .map(|(t, what)| format!("{t:.0}s {what}"))
                .collect();
            writeln!(f, "  faults       {}", steps.join("; "))?;
        }
        let n = self.samples.len();
        let picks: Vec<&MetricSample> = if n <= 7 {
            self.samples.iter().collect()
        } else {
            (0..7).map(|k| &self.samples[k * (n - 1) / 6]).collect()
        };
        write!(f, "  live         ")?;
        for s in &picks {
            write!(f, "{:>4.0}s {:<10}", s.at_secs, mib(s.live_bytes))?;
        }
        write!(f, "\n  resident     ")?;
        for s in &picks {
            write!(f, "{:>4.0}s {:<10}", s.at_secs, mib(s.resident_bytes))?;
        }
        writeln!(f)?;
        let rule = crate::growth::promql(&self.rule, "heapmeter_live_bytes");
        match self.firing {
            Some((at, rate)) => writeln!(
                f,
                "  growth alert FIRED at {at:.0}s: {rule} ({:.2} MB/s then)",
                rate / 1e6
            )?,
            None => writeln!(f, "  growth alert not fired: {rule}")?,
        }
        match self.verdict {
            Some(v) => write!(
                f,
                "  leak verdict {v:?}: live bytes grow {:.0} B per request over the second half",
                self.live_bytes_per_request
            ),
            None => write!(
                f,
                "  leak verdict none: too short to judge (fewer than {MIN_JUDGED_SAMPLES} scrapes in the second half)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }

    #[test]
    fn every_ending_lands_in_one_bucket() {
        let mut t = Tally {
            scheduled: 7,
            not_sent: 1,
            ..Tally::default()
        };
        for e in [
            Ending::Checked { risky: true },
            Ending::Degraded,
            Ending::Unavailable,
            Ending::OtherStatus,
            Ending::Transport,
            Ending::Timeout,
        ] {
            count(&mut t, e);
        }
        assert!(t.accounted());
        assert_eq!((t.answered(), t.failed(), t.risky), (4, 5, 1));
    }

    #[test]
    fn answers_are_classified_by_status_and_body() {
        assert!(matches!(
            classify(200, br#"{"risky":true}"#),
            Ending::Checked { risky: true }
        ));
        assert!(matches!(
            classify(200, br#"{"risky":false,"degraded":"x"}"#),
            Ending::Degraded
        ));
        assert!(matches!(classify(503, b"{}"), Ending::Unavailable));
        assert!(matches!(classify(400, b"{}"), Ending::OtherStatus));
    }
}
