//! Telling a leak from churn: retained bytes measured over phases of ops.

use core::fmt;
use std::hint::black_box;
use std::time::Duration;

use crate::engine::table::{self, RawSnapshot};
use crate::profile::Profile;
use crate::sampling;
use crate::verdict::VerdictRule;
use crate::{measure, Stats};

/// What a [`LeakDetector`] concludes about an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Retained bytes keep growing with the number of ops.
    Leak,
    /// Each op allocates, but in steady state retains nothing.
    Churn,
    /// No allocation per op in steady state.
    Clean,
}

impl Verdict {
    /// `"leak"`, `"churn"` or `"clean"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Leak => "leak",
            Verdict::Churn => "churn",
            Verdict::Clean => "clean",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Runs an operation many times and judges whether it leaks.
///
/// The run is a warm-up followed by phases that double the number of ops
/// done so far: with the defaults, 1,000 warm-up ops, then phases of
/// 1,000, 2,000, 4,000, 8,000, 16,000 and 32,000 ops (64,000 in all; about
/// 0.1 s for a 1 µs op). The bytes the calling thread retains are sampled
/// after the warm-up and after each phase.
///
/// Why doubling phases: collections grow by doubling, so a leak into a
/// `Vec` or a map retains memory in steps. A phase as long as everything
/// before it spans one doubling of such a collection, so every phase of a
/// leak shows growth, while a cache that fills to a bound stops showing it.
///
/// The verdict looks only at the last `window` phases (3 by default, the
/// last 7/8 of the ops), where caches have had time to fill:
///
/// - **Leak** when the Theil–Sen slope of retained bytes over ops (the
///   median of the slopes between every pair of samples in the window) is
///   at least `min_leak` bytes per op *and* the last phase still grew by at
///   least that rate: growth that stopped (a plateau) is not a leak.
/// - otherwise **Churn** when the window made at least one allocation per
///   thousand ops,
/// - otherwise **Clean**.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// use heapmeter::{LeakDetector, Verdict};
///
/// let mut kept = Vec::new();
/// let report = LeakDetector::new().run(|i| kept.push(Box::new([i; 2]))); // 16 B per op
/// assert_eq!(report.verdict, Verdict::Leak);
/// assert!((report.retained_bytes_per_op - 24.0).abs() < 2.0); // box + its slot in `kept`
///
/// let report = LeakDetector::new().run(|i| vec![i; 1000]);
/// assert_eq!(report.verdict, Verdict::Churn);
/// assert_eq!(report.allocated_bytes_per_op, 8000.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakDetector {
    warmup: u64,
    phases: u32,
    window: u32,
    min_leak: f64,
    by_site: bool,
}

impl Default for LeakDetector {
    fn default() -> Self {
        LeakDetector::new()
    }
}

impl LeakDetector {
    /// 1,000 warm-up ops, 6 phases, a window of 3, a leak from 1 B/op.
    pub const fn new() -> LeakDetector {
        LeakDetector {
            warmup: 1_000,
            phases: 6,
            window: 3,
            min_leak: 1.0,
            by_site: false,
        }
    }

    /// Also find the call sites whose live bytes keep growing
    /// ([`LeakReport::sites`]), from the heap sampler's in-use profile taken
    /// after the warm-up and after each phase. If sampling is off, it is
    /// switched on at [`sampling::DEFAULT_INTERVAL`] for the run and off
    /// again after it. Sites are estimates: a leak needs a few sampled
    /// blocks per phase to show (about 512 KiB retained per phase at the
    /// default interval).
    pub const fn by_site(mut self, on: bool) -> LeakDetector {
        self.by_site = on;
        self
    }

    /// Ops run before the first sample (at least 1); the first phase is
    /// this long too. Make it long enough for caches to fill.
    pub const fn warmup(mut self, ops: u64) -> LeakDetector {
        self.warmup = if ops == 0 { 1 } else { ops };
        self
    }

    /// Number of doubling phases after the warm-up (at least 2). The run
    /// makes `warmup · 2^phases` ops in all.
    pub const fn phases(mut self, n: u32) -> LeakDetector {
        self.phases = if n < 2 { 2 } else { n };
        self
    }

    /// How many of the last phases the verdict looks at (at least 2, at
    /// most `phases`).
    pub const fn window(mut self, n: u32) -> LeakDetector {
        self.window = if n < 2 { 2 } else { n };
        self
    }

    /// The smallest growth, in bytes per op, that counts as a leak.
    pub const fn min_leak_bytes_per_op(mut self, bytes: f64) -> LeakDetector {
        self.min_leak = bytes;
        self
    }

    /// Total number of ops a run makes: `warmup · 2^phases`.
    pub const fn total_ops(&self) -> u64 {
        self.warmup.saturating_mul(1 << self.phases)
    }

    /// Runs `op(0)`, `op(1)`, … on the calling thread and judges the
    /// bytes it retains. The value each op returns is dropped right away.
    ///
    /// # Panics
    ///
    /// As [`measure`]; panics of `op` propagate.
    pub fn run<R>(&self, mut op: impl FnMut(u64) -> R) -> LeakReport {
        let window = self.window.min(self.phases) as usize;
        // Sampling runs for the detector only if it was off: the session,
        // if any, ends with the run.
        let _session = (self.by_site && sampling::interval().is_none())
            .then(|| sampling::start(sampling::DEFAULT_INTERVAL).ok())
            .flatten();
        let mut snapshots = Vec::with_capacity(self.phases as usize + 1);
        let mut samples = Vec::with_capacity(self.phases as usize + 1);
        let mut totals = Sample::default();
        let mut next = 0u64;
        let mut phase_len = self.warmup;
        for _ in 0..=self.phases {
            let start = next;
            let ((), s) = measure(|| {
                for i in start..start + phase_len {
                    drop(black_box(op(i)));
                }
            });
            next = start + phase_len;
            totals = Sample {
                ops: next,
                retained_bytes: totals.retained_bytes + s.net_bytes(),
                allocs: totals.allocs + s.allocs + s.reallocs,
                bytes_allocated: totals.bytes_allocated + s.bytes_allocated,
            };
            samples.push(totals);
            if self.by_site {
                snapshots.push(table::snapshot(true));
            }
            // Each phase is as long as all the ops before it.
            phase_len = next;
        }
        let mut report = LeakReport::judge(samples, window, self.min_leak);
        if self.by_site {
            report.sites = sampling::paused(|| {
                growing_sites(&snapshots, &report.samples, window, self.min_leak)
            });
        }
        report
    }
}

/// The call sites whose estimated live bytes grew by at least `min_leak`
/// bytes per op over the judged window (Theil–Sen) and in its last phase,
/// largest first.
fn growing_sites(
    snapshots: &[RawSnapshot],
    samples: &[Sample],
    window: usize,
    min_leak: f64,
) -> Vec<GrowingSite> {
    let judged = snapshots.len() - window - 1;
    // In-use bytes of every stack at every sample point (summed over the
    // labels a stack was sampled under).
    let mut series: std::collections::HashMap<&[usize], Vec<f64>> = Default::default();
    for (k, snap) in snapshots.iter().enumerate() {
        for s in &snap.stacks {
            series
                .entry(&s.frames[..])
                .or_insert_with(|| vec![0.0; snapshots.len()])[k] += s.inuse_space;
        }
    }
    let Some(last) = snapshots.last() else {
        return Vec::new();
    };
    // Symbolise the stacks once, then sum the series by site.
    let mut seen = std::collections::HashSet::new();
    let raw = RawSnapshot {
        stacks: last
            .stacks
            .iter()
            .filter(|s| seen.insert(&s.frames[..]))
            .cloned()
            .collect(),
        live_samples: last.live_samples,
        dropped: last.dropped,
    };
    let profile = Profile::from_raw(raw.clone(), 0, Stats::default());
    let mut by_site: Vec<(String, Vec<f64>)> = Vec::new();
    for (stack, raw_stack) in profile.stacks.iter().zip(&raw.stacks) {
        let values = &series[&raw_stack.frames[..]];
        let name = stack.site_name();
        match by_site.iter_mut().find(|(n, _)| *n == name) {
            Some((_, sum)) => sum.iter_mut().zip(values).for_each(|(a, b)| *a += b),
            None => by_site.push((name, values.clone())),
        }
    }
    let mut sites: Vec<GrowingSite> = by_site
        .into_iter()
        .filter_map(|(site, values)| {
            let points: Vec<Sample> = samples[judged..]
                .iter()
                .zip(&values[judged..])
                .map(|(s, &v)| Sample {
                    retained_bytes: v as i64,
                    ..*s
                })
                .collect();
            let slope = theil_sen(&points);
            let (a, b) = (points[points.len() - 2], points[points.len() - 1]);
            let last_growth = (b.retained_bytes - a.retained_bytes) as f64 / (b.ops - a.ops) as f64;
            VerdictRule::new()
                .min_leak_bytes_per_op(min_leak)
                .grows(slope, last_growth)
                .then_some(GrowingSite {
                    site,
                    bytes_per_op: slope,
                })
        })
        .collect();
    sites.sort_by(|a, b| b.bytes_per_op.total_cmp(&a.bytes_per_op));
    sites
}

/// A call site whose live bytes keep growing, from [`LeakReport::sites`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GrowingSite {
    /// The call site (see [`ProfileStack::site`](crate::ProfileStack::site)).
    pub site: String,
    /// Estimated growth of its live bytes, in bytes per op (Theil–Sen over
    /// the judged window).
    pub bytes_per_op: f64,
}

impl fmt::Display for GrowingSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+.1} B/op  {}", self.bytes_per_op, self.site)
    }
}

/// The running totals after the warm-up or a phase, since the run began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Ops done so far.
    pub ops: u64,
    /// Bytes retained so far, in bytes (allocated minus freed).
    pub retained_bytes: i64,
    /// Allocations and reallocations so far.
    pub allocs: u64,
    /// Bytes allocated so far, in bytes.
    pub bytes_allocated: u64,
}

/// What a [`LeakDetector`] run found.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LeakReport {
    /// The conclusion.
    pub verdict: Verdict,
    /// Growth of retained bytes, in bytes per op: the Theil–Sen slope over
    /// the judged window (may be slightly negative, or positive but below
    /// the leak threshold, for a clean op).
    pub retained_bytes_per_op: f64,
    /// Bytes allocated per op in the judged window, in bytes.
    pub allocated_bytes_per_op: f64,
    /// Allocations (and reallocations) per op in the judged window.
    pub allocs_per_op: f64,
    /// Ops run in all, warm-up included.
    pub ops: u64,
    /// Totals after the warm-up and after each phase.
    pub samples: Vec<Sample>,
    /// With [`LeakDetector::by_site`]: the call sites whose live bytes keep
    /// growing, largest growth first (empty otherwise).
    pub sites: Vec<GrowingSite>,
}

impl LeakReport {
    fn judge(samples: Vec<Sample>, window: usize, min_leak: f64) -> LeakReport {
        let judged = &samples[samples.len() - window - 1..];
        let first = judged[0];
        let last = judged[judged.len() - 1];
        let ops = (last.ops - first.ops) as f64;
        let slope = theil_sen(judged);
        let before_last = judged[judged.len() - 2];
        let last_growth = (last.retained_bytes - before_last.retained_bytes) as f64
            / (last.ops - before_last.ops) as f64;
        let allocs_per_op = (last.allocs - first.allocs) as f64 / ops;
        let verdict = VerdictRule::new().min_leak_bytes_per_op(min_leak).verdict(
            slope,
            last_growth,
            allocs_per_op,
        );
        LeakReport {
            verdict,
            retained_bytes_per_op: slope,
            allocated_bytes_per_op: (last.bytes_allocated - first.bytes_allocated) as f64 / ops,
            allocs_per_op,
            ops: last.ops,
            samples,
            sites: Vec::new(),
        }
    }

    /// How long until retained bytes reach `limit_bytes` at `ops_per_sec`
    /// ops per second, starting from nothing retained: the "OOMKilled in
    /// 11 minutes" answer. `None` unless the verdict is [`Verdict::Leak`]
    /// (or for a rate or limit that is not a positive finite number).
    ///
    /// ```
    /// # #[global_allocator]
    /// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    /// #     heapmeter::CountingAlloc::new(std::alloc::System);
    /// let mut kept: Vec<Box<[u8; 1000]>> = Vec::new();
    /// let report = heapmeter::LeakDetector::new()
    ///     .warmup(100)
    ///     .run(|_| kept.push(Box::new([0; 1000])));
    /// // About 1 KB per op at 25 ops per second: 1 GiB lasts about 12 hours.
    /// let ttl = report.time_to_limit(25.0, 1 << 30).unwrap();
    /// assert!((11..13).contains(&(ttl.as_secs() / 3600)));
    /// ```
    pub fn time_to_limit(&self, ops_per_sec: f64, limit_bytes: u64) -> Option<Duration> {
        if self.verdict != Verdict::Leak || self.retained_bytes_per_op <= 0.0 {
            return None;
        }
        let secs = limit_bytes as f64 / (self.retained_bytes_per_op * ops_per_sec);
        Duration::try_from_secs_f64(secs).ok()
    }
}

/// Median of the slopes between every pair of samples.
fn theil_sen(samples: &[Sample]) -> f64 {
    let mut slopes = Vec::with_capacity(samples.len() * samples.len() / 2);
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            slopes.push((b.retained_bytes - a.retained_bytes) as f64 / (b.ops - a.ops) as f64);
        }
    }
    slopes.sort_by(f64::total_cmp);
    let n = slopes.len();
    if n % 2 == 1 {
        slopes[n / 2]
    } else {
        (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0
    }
}

/// One line: `leak: +24.0 B/op retained, 40.0 B/op allocated, 1.00 allocs/op (64000 ops)`.
impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:+.1} B/op retained, {:.1} B/op allocated, {:.2} allocs/op ({} ops)",
            self.verdict,
            self.retained_bytes_per_op,
            self.allocated_bytes_per_op,
            self.allocs_per_op,
            self.ops
        )
    }
}
