//! An alert rule on heap growth, evaluated on a clock the caller owns.
//!
//! A service's heap alert is typically a rule such as `rate(heap[5m]) >
//! 1 MB/s for 10m`. [`GrowthMonitor`] evaluates one the way Prometheus evaluates an
//! alerting rule: at each sample, the growth rate over the last `window`
//! is compared with the threshold; the alert is *pending* from the first
//! sample where it is over, and *fires* once it has stayed over for the
//! `for` duration. The clock is whatever the caller passes in, so a replay
//! on virtual time gets the same answer as a live process.
//!
//! The rate is the least-squares slope of the samples in the window, which
//! is what Prometheus computes with `deriv()`. NOTE: for a gauge such as
//! live bytes, `deriv` is the right function: `rate()` is for counters and
//! reads every drop as a counter reset, so a heap that rises and falls
//! (garbage collection, a cache that is cleared) would look like steady
//! fast growth.

use std::collections::VecDeque;
use std::time::Duration;

/// The rule: growth faster than `threshold` over `window`, for `for_duration`.
///
/// The default is the post-mortem's: over 1 MB/s (10⁶ bytes per second)
/// over 5 minutes, for 10 minutes.
///
/// ```
/// use std::time::Duration;
/// let rule = heapmeter::GrowthRule::default()
///     .window(Duration::from_secs(120))
///     .threshold(512.0 * 1024.0)
///     .for_duration(Duration::from_secs(300));
/// assert_eq!(rule.window_len(), Duration::from_secs(120));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrowthRule {
    window: Duration,
    threshold: f64,
    for_duration: Duration,
    capacity: usize,
}

impl Default for GrowthRule {
    fn default() -> GrowthRule {
        GrowthRule {
            window: Duration::from_secs(5 * 60),
            threshold: 1e6,
            for_duration: Duration::from_secs(10 * 60),
            capacity: 1024,
        }
    }
}

impl GrowthRule {
    /// The span the rate is measured over (`[5m]`).
    pub const fn window(mut self, window: Duration) -> GrowthRule {
        self.window = window;
        self
    }

    /// The growth rate above which the rule is over, in bytes per second.
    pub const fn threshold(mut self, bytes_per_sec: f64) -> GrowthRule {
        self.threshold = bytes_per_sec;
        self
    }

    /// How long the rule must stay over before the alert fires (`for 10m`).
    pub const fn for_duration(mut self, d: Duration) -> GrowthRule {
        self.for_duration = d;
        self
    }

    /// The most samples the window keeps (at least 2; default 1024).
    /// Samples closer together than `window / capacity` are not kept, so
    /// the monitor's memory is bounded whatever the sampling rate.
    pub const fn capacity(mut self, samples: usize) -> GrowthRule {
        self.capacity = if samples < 2 { 2 } else { samples };
        self
    }

    /// The window's length.
    pub const fn window_len(&self) -> Duration {
        self.window
    }

    /// The threshold, in bytes per second.
    pub const fn threshold_bytes_per_sec(&self) -> f64 {
        self.threshold
    }

    /// The `for` duration.
    pub const fn for_len(&self) -> Duration {
        self.for_duration
    }
}

/// Where the alert stands after a sample, as Prometheus names the states.
///
/// NOTE: exhaustive on purpose: these are Prometheus' three alert states,
/// and a `match` over them should say what it does in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    /// The rule is not over its threshold (or there are too few samples).
    Inactive,
    /// Over the threshold since this time, not yet for the `for` duration.
    Pending {
        /// When the rule went over, on the caller's clock.
        since: Duration,
    },
    /// Over the threshold for at least the `for` duration.
    Firing {
        /// When the rule went over, on the caller's clock.
        since: Duration,
    },
}

/// One kept sample.
#[derive(Clone, Copy, Debug)]
struct Point {
    at: Duration,
    live: u64,
    resident: Option<u64>,
}

/// Samples live bytes (and resident bytes where the system tells them) and
/// evaluates a [`GrowthRule`] on them.
///
/// A service's heap alert is typically a rule such as `rate(heap[5m]) >
/// 1 MB/s for 10m`. [`GrowthMonitor`] evaluates one the way Prometheus evaluates an
/// alerting rule: at each sample, the growth rate over the last `window`
/// is compared with the threshold; the alert is *pending* from the first
/// sample where it is over, and *fires* once it has stayed over for the
/// `for` duration. The clock is whatever the caller passes in, so a replay
/// on virtual time gets the same answer as a live process.
///
/// The rate is the least-squares slope of the samples in the window, which
/// is what Prometheus computes with `deriv()`. NOTE: for a gauge such as
/// live bytes, `deriv` is the right function: `rate()` is for counters and
/// reads every drop as a counter reset, so a heap that rises and falls
/// (garbage collection, a cache that is cleared) would look like steady
/// fast growth.
///
/// ```
/// use std::time::Duration;
/// use heapmeter::{AlertState, GrowthMonitor, GrowthRule};
///
/// // A leak of 2 MB/s, sampled every 15 s on a virtual clock.
/// let mut monitor = GrowthMonitor::new(GrowthRule::default());
/// for k in 0..=60u64 {
///     monitor.record(Duration::from_secs(15 * k), 2_000_000 * 15 * k);
/// }
/// // Over from the second sample (15 s), firing 10 minutes later.
/// assert_eq!(monitor.first_fired(), Some(Duration::from_secs(615)));
/// assert!(matches!(monitor.state(), AlertState::Firing { .. }));
/// // 1.8 GB live at 15 min: a 2 GB limit is 100 s away.
/// let left = monitor.time_to_limit(2_000_000_000).unwrap();
/// assert_eq!(left.as_secs_f64().round(), 100.0);
/// ```
#[derive(Clone, Debug)]
pub struct GrowthMonitor {
    rule: GrowthRule,
    points: VecDeque<Point>,
    state: AlertState,
    first_fired: Option<Duration>,
}

impl GrowthMonitor {
    /// A monitor for `rule`; its window is allocated here, once.
    pub fn new(rule: GrowthRule) -> GrowthMonitor {
        GrowthMonitor {
            rule,
            points: VecDeque::with_capacity(rule.capacity + 1),
            state: AlertState::Inactive,
            first_fired: None,
        }
    }

    /// The rule evaluated.
    pub fn rule(&self) -> &GrowthRule {
        &self.rule
    }

    /// Records `live_bytes` at time `now` (any clock, as long as it does not
    /// go back) and evaluates the rule. A sample earlier than the last one
    /// kept, or closer to it than `window / capacity`, is not kept and
    /// leaves the state as it was.
    pub fn record(&mut self, now: Duration, live_bytes: u64) -> AlertState {
        self.push(Point {
            at: now,
            live: live_bytes,
            resident: None,
        })
    }

    /// Samples this process at time `now`: live heap bytes from the
    /// counting allocator ([`process_totals`](crate::process_totals)), and
    /// resident bytes where the system tells them (see
    /// [`resident_bytes`]); then evaluates the rule.
    pub fn sample(&mut self, now: Duration) -> AlertState {
        let live = crate::process_totals().net_bytes().max(0) as u64;
        self.push(Point {
            at: now,
            live,
            resident: resident_bytes(),
        })
    }

    fn push(&mut self, p: Point) -> AlertState {
        let spacing = self.rule.window / self.rule.capacity as u32;
        if let Some(last) = self.points.back() {
            if p.at <= last.at || p.at - last.at < spacing {
                return self.state;
            }
        }
        while let Some(first) = self.points.front() {
            // Keep samples within the window, boundary included.
            if p.at - first.at > self.rule.window || self.points.len() >= self.rule.capacity {
                self.points.pop_front();
            } else {
                break;
            }
        }
        self.points.push_back(p);
        self.evaluate(p.at)
    }

    fn evaluate(&mut self, now: Duration) -> AlertState {
        let over = self.rate().is_some_and(|rate| rate > self.rule.threshold);
        self.state = match (over, self.state) {
            (false, _) => AlertState::Inactive,
            (true, AlertState::Inactive) => AlertState::Pending { since: now },
            (true, AlertState::Pending { since } | AlertState::Firing { since }) => {
                if now - since >= self.rule.for_duration {
                    AlertState::Firing { since }
                } else {
                    AlertState::Pending { since }
                }
            }
        };
        // A rule whose `for` is zero fires at once.
        if let AlertState::Pending { since } = self.state {
            if self.rule.for_duration.is_zero() {
                self.state = AlertState::Firing { since };
            }
        }
        if matches!(self.state, AlertState::Firing { .. }) && self.first_fired.is_none() {
            self.first_fired = Some(now);
        }
        self.state
    }

    /// The alert's state after the last sample.
    pub fn state(&self) -> AlertState {
        self.state
    }

    /// When the alert first fired, on the caller's clock.
    pub fn first_fired(&self) -> Option<Duration> {
        self.first_fired
    }

    /// Growth of live bytes over the window, in bytes per second (the
    /// least-squares slope, as `deriv()`); `None` with fewer than two
    /// samples.
    pub fn rate(&self) -> Option<f64> {
        slope(self.points.iter().map(|p| (p.at, p.live as f64)))
    }

    /// Growth of resident bytes over the window, in bytes per second;
    /// `None` unless at least two samples in the window have it.
    pub fn resident_rate(&self) -> Option<f64> {
        slope(
            self.points
                .iter()
                .filter_map(|p| p.resident.map(|r| (p.at, r as f64))),
        )
    }

    /// How many samples the window holds now (at most the rule's capacity).
    pub fn samples(&self) -> usize {
        self.points.len()
    }

    /// The last live bytes recorded, in bytes.
    pub fn live_bytes(&self) -> Option<u64> {
        self.points.back().map(|p| p.live)
    }

    /// How long until live bytes reach `limit_bytes` at the window's rate,
    /// from the last sample; `None` if the heap is not growing, and zero if
    /// it is already there.
    pub fn time_to_limit(&self, limit_bytes: u64) -> Option<Duration> {
        let last = self.points.back()?;
        let rate = self.rate().filter(|r| *r > 0.0)?;
        let left = limit_bytes.saturating_sub(last.live) as f64;
        Some(Duration::from_secs_f64(left / rate))
    }
}

/// Least-squares slope of `(time, value)` points, in value per second
/// (heapmeter's one slope, [`least_squares_slope`](crate::verdict::least_squares_slope)).
fn slope(points: impl Iterator<Item = (Duration, f64)> + Clone) -> Option<f64> {
    let t0 = points.clone().next()?.0;
    // NOTE: times relative to the first sample keep them precise.
    crate::verdict::least_squares_slope(points.map(|(at, v)| ((at - t0).as_secs_f64(), v)))
}

/// Resident set size of this process, in bytes: `/proc/self/statm`'s
/// second field times the page size, on Linux; `None` elsewhere or if it
/// cannot be read.
pub fn resident_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * page_size())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The kernel's page size, in bytes, from the auxiliary vector's
/// `AT_PAGESZ`, or 4096 if it cannot be read.
///
/// NOTE: pages are 4 KiB on most Linux machines but 16 or 64 KiB on some
/// arm64 and ppc64 kernels; the auxiliary vector tells without libc.
#[cfg(target_os = "linux")]
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    const WORD: usize = std::mem::size_of::<u64>();
    if std::mem::size_of::<usize>() != WORD {
        return 4096;
    }
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else {
        return 4096;
    };
    let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or([0; WORD]));
    auxv.chunks_exact(2 * WORD)
        .find(|p| word(&p[..WORD]) == AT_PAGESZ)
        .map_or(4096, |p| word(&p[WORD..]))
}
