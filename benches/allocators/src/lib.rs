//! The workloads and the command line of every allocator binary in this
//! package. Each `src/bin/alloc_*.rs` installs one global allocator and
//! calls [`main`]; only the allocator, its start-up (a profiler's session)
//! and the scope the loop runs in differ from row to row.
//!
//! NOTE: a library, not a file each binary includes with `#[path]`: compiled
//! once, the workloads are the same machine code in every binary. Included
//! into each, they were not: LLVM inlined SipHash into the `HashSet` of
//! one binary and called it out of line in another, 75,000 instructions a
//! request apart with no allocator involved.
//!
//! ```text
//! alloc_NAME count WORKLOAD N              # N operations after a warm-up: run it under callgrind
//! alloc_NAME time CRITERION_DIR GROUP [--quick]   # criterion medians, 1 and 2 threads
//! ```
//!
//! `scripts/bench-allocators` runs both for every binary and prints the
//! table (see `docs/BENCHMARKS.md`).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::Criterion;
use fraudcheck::{build, data, Env, FraudCheck, ManualClock, Payment, Variant};

/// What the profiler of a binary samples during a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Its configuration for the table: 512 KiB for the samplers.
    Table,
    /// Every allocation (interval 1), for the `sample` workload: the
    /// difference with `pair` is the cost of one sample.
    EveryAllocation,
}

/// One of the measured operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One 64-byte allocation and its free.
    Pair,
    /// One 1 MiB allocation and its free: sampled with probability
    /// `1 − e^(−2)` = 86 % at a 512 KiB interval, so it prices a sample.
    Block,
    /// One warm request of the incident's naive check at 1,000 users.
    Naive,
    /// A request-shaped operation: a `Vec<u64>` of 1,000 built by push, a
    /// `HashSet` collected from it, 10 lookups.
    Request,
    /// `Pair` with the profiler sampling every allocation.
    Sample,
}

impl Workload {
    /// Every workload, in the table's order.
    pub const ALL: [Workload; 5] = [
        Workload::Pair,
        Workload::Block,
        Workload::Naive,
        Workload::Request,
        Workload::Sample,
    ];

    /// The workloads criterion times (`sample` is priced in instructions
    /// only).
    pub const TIMED: [Workload; 4] = [
        Workload::Pair,
        Workload::Block,
        Workload::Naive,
        Workload::Request,
    ];

    /// The name on the command line and in criterion's ids.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Pair => "pair",
            Workload::Block => "block",
            Workload::Naive => "naive",
            Workload::Request => "request",
            Workload::Sample => "sample",
        }
    }

    fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    fn sampling(self) -> Sampling {
        match self {
            Workload::Sample => Sampling::EveryAllocation,
            _ => Sampling::Table,
        }
    }
}

/// A scope of heapmeter's that the measured loop runs in (`measure`, a
/// polled `measure_future`), in the binaries that test them; called once
/// per loop, never per operation.
pub type Scope = fn(&mut dyn FnMut());

/// No scope: the loop runs as it is.
fn bare(run: &mut dyn FnMut()) {
    run();
}

/// One operation of a workload; `i` is the iteration number.
type Op = Box<dyn Fn(u64) + Sync>;

fn pair(_: u64) {
    // NOTE: not `Box::new([0u8; 64])`: under `System` LLVM turns that into
    // `calloc`, another path through glibc than the `malloc` every other
    // allocator gets.
    drop(black_box(Vec::<u8>::with_capacity(64)));
}

fn block(_: u64) {
    drop(black_box(Vec::<u8>::with_capacity(1 << 20)));
}

/// std's SipHash-1-3 with fixed keys: the same work in every process, so
/// the instruction count of a request repeats to the instruction.
type FixedState = BuildHasherDefault<DefaultHasher>;

fn request(_: u64) {
    let mut ids = Vec::new();
    for k in 0..1_000u64 {
        ids.push(black_box(k.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    }
    let set: HashSet<u64, FixedState> = ids.iter().copied().collect();
    let mut hits = 0u32;
    for k in 0..10u64 {
        // Five ids in the set, five not.
        let id = if k % 2 == 0 { ids[k as usize * 97] } else { k };
        hits += u32::from(set.contains(&black_box(id)));
    }
    black_box(hits);
}

/// The naive check and what it needs, kept alive together.
struct Naive {
    _env: Env,
    check: Box<dyn FraudCheck>,
    payments: Vec<Payment>,
}

impl Naive {
    fn new() -> Naive {
        // NOTE: a manual clock, not `Env::new`'s coarse one: that one ticks
        // on a thread of its own every millisecond, which callgrind would
        // count in proportion to the run's (slow) wall time. Standing still,
        // the cached list never expires: every request is a warm one.
        let env = Env::with_clock(1_000, 7, Arc::new(ManualClock::new()));
        let check = build(Variant::Naive, &env);
        let payments = data::payments(1_024, 11, &env.store.active_ids(), 0.1);
        Naive {
            _env: env,
            check,
            payments,
        }
    }

    fn request(&self, i: u64) {
        let p = &self.payments[i as usize % self.payments.len()];
        black_box(self.check.is_risky(black_box(p)).expect("naive check"));
    }
}

fn prepare(workload: Workload) -> Op {
    match workload {
        Workload::Pair | Workload::Sample => Box::new(pair),
        Workload::Block => Box::new(block),
        Workload::Request => Box::new(request),
        Workload::Naive => {
            let naive = Naive::new();
            Box::new(move |i| naive.request(i))
        }
    }
}

/// Operations run before the measured loop: the naive check's first
/// request fills the cache, and every allocator reaches its steady state.
const WARM_UP: u64 = 64;

fn count(workload: Workload, n: u64, scope: Scope) {
    let op = prepare(workload);
    for i in 0..WARM_UP {
        op(i);
    }
    scope(&mut || {
        for i in WARM_UP..WARM_UP + n {
            op(i);
        }
    });
}

/// Runs `iters` operations on each of `threads` threads at once, each
/// thread's loop inside `scope`, and returns the wall time from the first
/// thread's start to the last one's end: with 2 threads, a contended
/// allocator shows up as a longer time per operation.
///
/// NOTE: each thread reads the clock itself once the start line opens; a
/// start read by the spawning thread raced the workers on a loaded machine.
fn run_threads(threads: usize, iters: u64, op: &(dyn Fn(u64) + Sync), scope: Scope) -> Duration {
    let start_line = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start_line.wait();
                    let start = Instant::now();
                    scope(&mut || {
                        for i in 0..iters {
                            op(i);
                        }
                    });
                    (start, Instant::now())
                })
            })
            .collect();
        let spans: Vec<(Instant, Instant)> = handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect();
        let start = spans.iter().map(|s| s.0).min().expect("one thread");
        let end = spans.iter().map(|s| s.1).max().expect("one thread");
        end - start
    })
}

/// Criterion's settings: the full run, or `--quick` (about a quarter of the
/// time, wider intervals).
fn criterion(dir: &Path, quick: bool) -> Criterion {
    let (samples, warm_up, measure) = if quick {
        (10, Duration::from_millis(200), Duration::from_millis(600))
    } else {
        (20, Duration::from_millis(500), Duration::from_secs(2))
    };
    Criterion::default()
        .output_directory(dir)
        .sample_size(samples)
        .warm_up_time(warm_up)
        .measurement_time(measure)
        .without_plots()
}

fn time(dir: &Path, group: &str, quick: bool, scope: Scope) {
    let mut c = criterion(dir, quick);
    let mut g = c.benchmark_group(group);
    for workload in Workload::TIMED {
        let op = prepare(workload);
        op(0); // the naive check's first request fills the cache
        for threads in [1, 2] {
            g.bench_function(format!("{}-{threads}t", workload.name()), |b| {
                b.iter_custom(|iters| run_threads(threads, iters, &*op, scope))
            });
        }
    }
    g.finish();
    c.final_summary();
}

const USAGE: &str =
    "usage: alloc_NAME count WORKLOAD N | alloc_NAME time CRITERION_DIR GROUP [--quick]
  WORKLOAD: pair, block, naive, request or sample
  (scripts/bench-allocators runs these for every allocator and prints the table)";

/// The command line of an allocator binary. `start` sets up its profiler
/// and returns what must live for the whole run (a profiler's session
/// guard; `()` for plain allocators); `scope` is the scope the loop runs
/// in, if any.
pub fn main<S>(start: impl FnOnce(Sampling) -> S, scope: Option<Scope>) -> ExitCode {
    let scope = scope.unwrap_or(bare);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["count", workload, n] => {
            let Some(workload) = Workload::parse(workload) else {
                eprintln!("error: unknown workload {workload:?}\n{USAGE}");
                return ExitCode::from(2);
            };
            let Ok(n) = n.parse::<u64>() else {
                eprintln!("error: N must be a whole number, not {n:?}\n{USAGE}");
                return ExitCode::from(2);
            };
            let _session = start(workload.sampling());
            count(workload, n, scope);
            ExitCode::SUCCESS
        }
        ["time", dir, group, rest @ ..] if rest.iter().all(|a| *a == "--quick") => {
            let _session = start(Sampling::Table);
            time(Path::new(dir), group, !rest.is_empty(), scope);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
