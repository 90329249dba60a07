//! What can push a process doing the incident's work to a memory limit
//! without a retained reference? One experiment program per global
//! allocator (`pod_memory_system`, `pod_memory_jemalloc`), each in its own
//! process, sharing this module.
//!
//! Every run is bounded: it stops after `--seconds`, or as soon as the
//! process's resident memory passes `--cap-mib` (default 2,048 MiB), and
//! prints one Markdown table row:
//!
//! - **live**: bytes the program holds, exact, from heapmeter's counters
//!   (`process_totals().net_bytes()`; the peak from `measure_process`);
//! - **RSS**: resident memory from `/proc/self/statm` (what a pod's memory
//!   limit and the kernel's OOM killer see), sampled every 20 ms, and the
//!   kernel's own high-water mark `VmHWM` from `/proc/self/status`;
//! - **allocator resident**: jemalloc's `stats.resident` when the binary
//!   runs on jemalloc (`-` on glibc malloc).
//!
//! Modes:
//!
//! - `churn`: `--threads` workers run the naive check (GET → parse → build
//!   the set, drop it all) as fast as they can on one shared environment;
//! - `inflight`: requests arrive at `--rps` and each holds its set for
//!   `--hold-ms` (a slow store or downstream answering while the request
//!   still holds what it built), Little's law `L = λ·W`;
//! - `leak`: the `retained_listener` variant, a real leak, on one thread.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use fraudcheck::{build, data, id_set, Env, ListSource, Variant};

const MIB: f64 = (1u64 << 20) as f64;

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Naive checks as fast as `--threads` workers can run them.
    Churn,
    /// Requests at `--rps`, each holding its set for `--hold-ms`.
    Inflight,
    /// The retained_listener variant (a real leak) on one thread.
    Leak,
}

/// Command-line options shared by both binaries.
#[derive(Debug, Parser)]
#[command(about = "Resident memory against live bytes for the incident's work")]
pub struct Opts {
    /// Experiment to run.
    #[arg(value_enum)]
    pub mode: Mode,
    /// Risky users in the list.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Worker threads (churn).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Arrivals per second (inflight).
    #[arg(long, default_value_t = 25.0)]
    pub rps: f64,
    /// How long each request holds its set, in milliseconds (inflight).
    #[arg(long, default_value_t = 2_000)]
    pub hold_ms: u64,
    /// Wall-clock bound of the run, in seconds.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Stop as soon as resident memory passes this, in MiB.
    #[arg(long, default_value_t = 2_048)]
    pub cap_mib: u64,
    /// Print the table's header line before the row.
    #[arg(long)]
    pub header: bool,
}

/// What the binary's allocator can say about itself.
pub struct Allocator {
    /// Name printed in the table.
    pub name: &'static str,
    /// The allocator's own resident bytes, when it can tell.
    pub resident: fn() -> Option<u64>,
}

/// Peaks and samples, written by the sampler thread.
#[derive(Default)]
struct Watch {
    rss_peak: AtomicU64,
    alloc_resident_peak: AtomicU64,
    rss_mid: AtomicU64,
    capped: AtomicBool,
}

/// Runs the experiment the command line asks for and prints its row.
pub fn main(allocator: Allocator) {
    let opts = Opts::parse();
    if opts.header {
        println!("{}", header());
    }
    match run(&opts, &allocator) {
        Ok(row) => println!("{row}"),
        Err(e) => {
            eprintln!("pod_memory: {e}");
            std::process::exit(2);
        }
    }
}

/// The table's header and separator lines.
fn header() -> String {
    "| allocator | mode | users | threads | requests | live end / peak MiB | RSS start / mid / end MiB | RSS peak (VmHWM) MiB | allocator resident end / peak MiB | RSS growth ÷ live growth, at peak | stop |\n\
     |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        .to_string()
}

fn run(opts: &Opts, allocator: &Allocator) -> Result<String, String> {
    if opts.users == 0 || opts.threads == 0 || opts.threads > 64 {
        return Err("--users must be > 0 and --threads in 1..=64".into());
    }
    let env = Env::new(opts.users, 7);
    let payments = data::payments(256, 8, &env.store.active_ids(), 0.1);
    // Warm the cache key once so every worker starts on cache hits.
    build(Variant::Naive, &env)
        .is_risky(&payments[0])
        .map_err(|e| e.to_string())?;

    let rss_start = heapmeter::resident_bytes().unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let watch = Arc::new(Watch::default());
    let live_start = heapmeter::process_totals().net_bytes();

    let started = Instant::now();
    let (kept, stats) = heapmeter::measure_process(|| {
        let sampler = spawn_sampler(opts, allocator, &stop, &watch);
        let deadline = Instant::now() + Duration::from_secs(opts.seconds);
        let work = Work {
            opts,
            env: &env,
            payments: &payments,
            stop: &stop,
            requests: &requests,
            deadline,
        };
        let kept = match opts.mode {
            Mode::Churn => {
                work.churn();
                Ok(None)
            }
            Mode::Inflight => work.inflight().map(|()| None),
            Mode::Leak => Ok(Some(work.leak())),
        };
        stop.store(true, SeqCst);
        let joined = sampler.join().map_err(|_| "sampler panicked".to_string());
        joined.and(kept)
    });
    let elapsed = started.elapsed();
    // NOTE: the leak's check (and all it retains) lives until the row is
    // taken, so "live end" shows what it kept.
    let kept = kept?;
    let rss_end = heapmeter::resident_bytes().unwrap_or(0);
    let live_end = heapmeter::process_totals().net_bytes();
    let live_peak = live_start + stats.peak_bytes as i64;
    let alloc_end = (allocator.resident)();
    let hwm = vm_hwm().unwrap_or(0);
    drop(kept);
    let rss_peak = watch.rss_peak.load(SeqCst).max(rss_end);

    let mib = |b: u64| format!("{:.1}", b as f64 / MIB);
    let mut row = String::new();
    let _ = write!(
        row,
        "| {} | {} | {} | {} | {} | {} / {} | {} / {} / {} | {} | {} | {:.1} | {} |",
        allocator.name,
        mode_label(opts),
        opts.users,
        if opts.mode == Mode::Churn {
            opts.threads
        } else {
            1
        },
        requests.load(SeqCst),
        mib(live_end.max(0) as u64),
        mib(live_peak.max(0) as u64),
        mib(rss_start),
        match watch.rss_mid.load(SeqCst) {
            0 => "-".to_string(), // stopped before half time
            mid => mib(mid),
        },
        mib(rss_end),
        mib(hwm.max(rss_peak)),
        alloc_end.map_or("-".to_string(), |end| format!(
            "{} / {}",
            mib(end),
            mib(watch.alloc_resident_peak.load(SeqCst).max(end))
        )),
        // NOTE: both above their start, so the binary, the store and the
        // cache (a baseline no request changes) do not dilute the ratio.
        hwm.max(rss_peak).saturating_sub(rss_start) as f64 / stats.peak_bytes.max(1) as f64,
        if watch.capped.load(SeqCst) {
            format!(
                "cap {} MiB after {:.1} s",
                opts.cap_mib,
                elapsed.as_secs_f64()
            )
        } else {
            format!("{} s", opts.seconds)
        },
    );
    Ok(row)
}

fn mode_label(opts: &Opts) -> String {
    match opts.mode {
        Mode::Churn => "churn".into(),
        Mode::Inflight => format!("inflight {} rps × {} ms", opts.rps, opts.hold_ms),
        Mode::Leak => "leak".into(),
    }
}

/// Samples resident memory every 20 ms; stops the run at the cap.
fn spawn_sampler(
    opts: &Opts,
    allocator: &Allocator,
    stop: &Arc<AtomicBool>,
    watch: &Arc<Watch>,
) -> std::thread::JoinHandle<()> {
    let (stop, watch) = (stop.clone(), watch.clone());
    let cap = opts.cap_mib << 20;
    let half = Instant::now() + Duration::from_secs(opts.seconds) / 2;
    let alloc_resident = allocator.resident;
    std::thread::spawn(move || {
        let mut mid_taken = false;
        while !stop.load(SeqCst) {
            let rss = heapmeter::resident_bytes().unwrap_or(0);
            watch.rss_peak.fetch_max(rss, SeqCst);
            if let Some(r) = alloc_resident() {
                watch.alloc_resident_peak.fetch_max(r, SeqCst);
            }
            if !mid_taken && Instant::now() >= half {
                watch.rss_mid.store(rss, SeqCst);
                mid_taken = true;
            }
            if rss > cap {
                watch.capped.store(true, SeqCst);
                stop.store(true, SeqCst);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

/// What every mode works with.
struct Work<'a> {
    opts: &'a Opts,
    env: &'a Env,
    payments: &'a [fraudcheck::Payment],
    /// Set by the sampler at the cap, or at the end.
    stop: &'a AtomicBool,
    /// Requests completed.
    requests: &'a AtomicU64,
    deadline: Instant,
}

impl Work<'_> {
    /// Whether the run should go on.
    fn running(&self) -> bool {
        !self.stop.load(Relaxed) && Instant::now() < self.deadline
    }

    /// The `i`-th payment, cycling.
    fn payment(&self, i: usize) -> &fraudcheck::Payment {
        &self.payments[i % self.payments.len()]
    }

    fn churn(&self) {
        let check = build(Variant::Naive, self.env);
        std::thread::scope(|s| {
            for t in 0..self.opts.threads {
                let check = &check;
                s.spawn(move || {
                    let mut i = t;
                    while self.running() {
                        let _ = std::hint::black_box(check.is_risky(self.payment(i)));
                        self.requests.fetch_add(1, Relaxed);
                        i += 1;
                    }
                });
            }
        });
    }

    /// Requests arrive at `--rps`; each does the naive check's work (the same
    /// two calls as `NaiveCheck::is_risky`) and keeps its parsed ids and its set
    /// for `--hold-ms` before dropping them.
    fn inflight(&self) -> Result<(), String> {
        let opts = self.opts;
        let expected = opts.rps * opts.hold_ms as f64 / 1_000.0;
        // NOTE: enough workers that an arrival never waits for one; a pool
        // instead of a thread per request keeps glibc's arenas per thread fixed.
        let workers = (expected * 1.5).ceil() as usize + 2;
        if opts.rps.is_nan() || opts.rps <= 0.0 || workers > 200 {
            return Err(format!(
                "--rps × --hold-ms gives {expected:.0} requests in flight: keep it in 1..=130"
            ));
        }
        let hold = Duration::from_millis(opts.hold_ms);
        let list = ListSource::new(self.env);
        let (tx, rx) = mpsc::channel::<usize>();
        let rx = Mutex::new(rx);
        std::thread::scope(|s| {
            for _ in 0..workers {
                let (rx, list) = (&rx, &list);
                s.spawn(move || loop {
                    let next = rx.lock().map(|r| r.recv());
                    let Ok(Ok(i)) = next else { return };
                    if let Ok(loaded) = list.load() {
                        let ids = loaded.ids;
                        let set = id_set(&ids);
                        std::hint::black_box(set.contains(&self.payment(i).user_id));
                        // The request still holds `ids` and `set` while it waits.
                        sleep_unless(self.stop, hold);
                        drop((ids, set));
                    }
                    self.requests.fetch_add(1, Relaxed);
                });
            }
            let start = Instant::now();
            let mut sent = 0usize;
            while self.running() {
                let due = (start.elapsed().as_secs_f64() * opts.rps) as usize;
                while sent < due {
                    let _ = tx.send(sent);
                    sent += 1;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            drop(tx);
        });
        Ok(())
    }

    /// Runs the leaking variant; returns the check, which owns what leaked.
    fn leak(&self) -> Box<dyn fraudcheck::FraudCheck> {
        let check = build(Variant::RetainedListener, self.env);
        let mut i = 0;
        while self.running() {
            let _ = std::hint::black_box(check.is_risky(self.payment(i)));
            self.requests.fetch_add(1, Relaxed);
            i += 1;
        }
        check
    }
}

/// Sleeps `d` in short steps, returning early when the run is stopped.
fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Relaxed) {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(10)));
    }
}

/// The kernel's high-water mark of resident memory (`VmHWM`), in bytes.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
