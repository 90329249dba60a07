//! Runs every allocator binary of this package under callgrind (N and 2N
//! operations of each workload, so start-up cancels) and under criterion
//! (1 and 2 threads), and prints the table of `docs/BENCHMARKS.md` in
//! Markdown. `scripts/bench-allocators` builds the binaries and calls it;
//! `--help` says the options.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How a row's binary was built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    Release,
    /// Release with `-C force-frame-pointers=yes`, in a target directory of
    /// its own.
    FramePointers,
}

/// What a row's "one sample" columns mean.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sampler {
    /// Not a sampler: no column.
    No,
    /// A sampler whose interval the `sample` workload sets to every
    /// allocation: one sample = `sample` − `pair` of the same binary. A
    /// 1 MiB block is sampled with probability `p`.
    Interval { p: f64 },
    /// Records every allocation anyway (dhat): one "sample" = its `pair` −
    /// the `pair` of the allocator underneath.
    Always,
}

/// `1 − e^(−1 MiB / 512 KiB)`: a 1 MiB block's chance of being sampled at
/// a mean interval of 512 KiB (exponential countdowns: heapmeter, jemalloc,
/// pprof-alloc).
fn p_block_512k() -> f64 {
    1.0 - (-2.0f64).exp()
}

#[derive(Clone, Copy, Debug)]
struct Row {
    /// Criterion's group and the key of the results.
    id: &'static str,
    label: &'static str,
    bin: &'static str,
    build: Build,
    /// The allocator underneath, for the ratios beside it.
    base: &'static str,
    sampler: Sampler,
    /// Environment of the `sample` workload's runs.
    sample_env: &'static [(&'static str, &'static str)],
}

const fn row(id: &'static str, label: &'static str, bin: &'static str) -> Row {
    Row {
        id,
        label,
        bin,
        build: Build::Release,
        base: "system",
        sampler: Sampler::No,
        sample_env: &[],
    }
}

/// The table's rows, in its order. Which binary each runs and how it is
/// configured: `src/bin/alloc_*.rs`.
fn rows() -> Vec<Row> {
    let interval = Sampler::Interval { p: p_block_512k() };
    vec![
        row("system", "System", "alloc_system"),
        Row {
            build: Build::FramePointers,
            ..row("system_fp", "System, frame pointers", "alloc_system")
        },
        row("jemalloc", "jemalloc", "alloc_jemalloc"),
        row("stats_alloc", "stats_alloc", "alloc_stats_alloc"),
        row(
            "heapmeter_counting",
            "heapmeter counting",
            "alloc_heapmeter_counting",
        ),
        Row {
            base: "jemalloc",
            ..row(
                "heapmeter_counting_jemalloc",
                "heapmeter counting on jemalloc",
                "alloc_heapmeter_counting_jemalloc",
            )
        },
        row(
            "heaplab_binary",
            "heaplab binary's allocator (dhat switch off)",
            "alloc_heaplab_binary",
        ),
        row(
            "heapmeter_measure",
            "heapmeter in a `measure` scope",
            "alloc_heapmeter_measure",
        ),
        row(
            "heapmeter_future",
            "heapmeter in a polled `measure_future`",
            "alloc_heapmeter_future",
        ),
        Row {
            sampler: interval,
            ..row(
                "heapmeter_sampling",
                "heapmeter sampling 512 KiB",
                "alloc_heapmeter_sampling",
            )
        },
        Row {
            build: Build::FramePointers,
            base: "system_fp",
            sampler: interval,
            ..row(
                "heapmeter_sampling_fp",
                "heapmeter sampling 512 KiB, frame pointers",
                "alloc_heapmeter_sampling",
            )
        },
        Row {
            base: "jemalloc",
            sampler: interval,
            sample_env: &[(
                "_RJEM_MALLOC_CONF",
                "prof:true,prof_active:true,lg_prof_sample:0",
            )],
            ..row(
                "jemalloc_prof",
                "jemalloc's profiler 512 KiB",
                "alloc_jemalloc_prof",
            )
        },
        Row {
            // Blocks of 1 MiB and more always get a stack.
            sampler: Sampler::Interval { p: 1.0 },
            ..row("re_memory", "re_memory", "alloc_re_memory")
        },
        Row {
            build: Build::FramePointers,
            base: "system_fp",
            sampler: interval,
            sample_env: &[("PPROF_ALLOC_SAMPLE_RATE", "1")],
            ..row(
                "pprof_alloc",
                "pprof-alloc 512 KiB, frame pointers",
                "alloc_pprof_alloc",
            )
        },
        Row {
            sampler: Sampler::Always,
            ..row("dhat", "dhat", "alloc_dhat")
        },
    ]
}

/// The workloads, as the binaries name them.
const WORKLOADS: [&str; 5] = ["pair", "block", "naive", "request", "sample"];
const TIMED: [&str; 4] = ["pair", "block", "naive", "request"];

fn workload_label(w: &str) -> &'static str {
    match w {
        "pair" => "64 B pair",
        "block" => "1 MiB block",
        "naive" => "naive check, 1k users",
        "request" => "request",
        _ => "sample",
    }
}

/// Operations per callgrind run (the second run makes twice as many): each
/// run of the cheapest allocators executes about 10^8 instructions of the
/// workload, enough for the sampled rows (a sample per 8,192 pairs) to
/// average over about a hundred samples of pairs and thousands of blocks.
fn standard_operations(workload: &str) -> u64 {
    match workload {
        "pair" => 1_000_000,
        "block" => 20_000,
        "naive" => 1_000,
        "request" => 2_000,
        _ => 5_000,
    }
}

/// dhat records every allocation, about 100 times the cost of a pair.
const DHAT_PAIRS: u64 = 20_000;

fn operations(row: &Row, workload: &str, quick: bool) -> u64 {
    let n = match (row.sampler, workload) {
        (Sampler::Always, "pair") => DHAT_PAIRS,
        _ => standard_operations(workload),
    };
    if quick {
        n / 10
    } else {
        n
    }
}

const USAGE: &str = "\
usage: bench-allocators --bins DIR --fp-bins DIR [--work DIR] [--quick] [--no-criterion]
                        [--jobs N] [--rows ID,ID,...]

Runs every allocator binary of benches/allocators under callgrind and
criterion and prints the table in Markdown. scripts/bench-allocators builds
the binaries and calls this; run that instead.

  --bins DIR      the release binaries (target/release)
  --fp-bins DIR   the same built with -C force-frame-pointers=yes
  --work DIR      criterion's results and the logs (default: target/bench-allocators)
  --quick         a tenth of the operations under callgrind, shorter criterion runs
  --no-criterion  instructions only
  --jobs N        callgrind runs at once (default 2; counts do not depend on load)
  --rows IDS      only these rows, with System and the allocators underneath them";

#[derive(Debug)]
struct Options {
    bins: PathBuf,
    fp_bins: PathBuf,
    work: PathBuf,
    quick: bool,
    criterion: bool,
    jobs: usize,
    rows: Option<Vec<String>>,
    args: Vec<String>,
}

fn options() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        bins: PathBuf::new(),
        fp_bins: PathBuf::new(),
        work: PathBuf::from("target/bench-allocators"),
        quick: false,
        criterion: true,
        jobs: 2,
        rows: None,
        args: args.clone(),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--bins" => o.bins = value("--bins")?.into(),
            "--fp-bins" => o.fp_bins = value("--fp-bins")?.into(),
            "--work" => o.work = value("--work")?.into(),
            "--quick" => o.quick = true,
            "--no-criterion" => o.criterion = false,
            "--jobs" => {
                let v = value("--jobs")?;
                o.jobs = v
                    .parse()
                    .ok()
                    .filter(|&j| j > 0)
                    .ok_or(format!("--jobs: a positive number, not {v:?}"))?;
            }
            "--rows" => {
                let v = value("--rows")?;
                o.rows = Some(v.split(',').map(str::to_string).collect());
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.bins.as_os_str().is_empty() || o.fp_bins.as_os_str().is_empty() {
        return Err("--bins and --fp-bins are required".into());
    }
    Ok(o)
}

fn binary(o: &Options, row: &Row) -> PathBuf {
    match row.build {
        Build::Release => o.bins.join(row.bin),
        Build::FramePointers => o.fp_bins.join(row.bin),
    }
}

/// One callgrind run to make.
#[derive(Debug)]
struct Task {
    row: usize,
    workload: &'static str,
    n: u64,
}

/// Environment variables that would change a row's configuration: removed
/// from every run, set where a row needs them.
const CONFIG_ENV: [&str; 2] = ["PPROF_ALLOC_SAMPLE_RATE", "_RJEM_MALLOC_CONF"];

/// One callgrind run: the instructions of the whole process, or why it
/// failed.
fn callgrind(bin: &Path, row: &Row, workload: &str, n: u64) -> Result<u64, String> {
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(bin)
        .args(["count", workload, &n.to_string()])
        .stdin(Stdio::null());
    for var in CONFIG_ENV {
        cmd.env_remove(var);
    }
    if workload == "sample" {
        cmd.envs(row.sample_env.iter().copied());
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(format!(
            "{} {workload} {n}: {} ({})",
            bin.display(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, v)| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{} {workload} {n}: no 'Collected' line", bin.display()))
}

/// Total instructions of each callgrind run by (row index, workload, N).
type Counts = BTreeMap<(usize, &'static str, u64), Result<u64, String>>;

/// Instructions per operation by (row id, workload).
type Instructions = BTreeMap<(&'static str, &'static str), Result<f64, String>>;

fn run_callgrind(o: &Options, rows: &[Row]) -> Instructions {
    let mut tasks = VecDeque::new();
    for (i, row) in rows.iter().enumerate() {
        for w in WORKLOADS {
            if w == "sample" && !matches!(row.sampler, Sampler::Interval { .. }) {
                continue;
            }
            let n = operations(row, w, o.quick);
            tasks.push_back(Task {
                row: i,
                workload: w,
                n,
            });
            tasks.push_back(Task {
                row: i,
                workload: w,
                n: 2 * n,
            });
        }
    }
    let total = tasks.len();
    let queue = Mutex::new(tasks);
    let done: Mutex<Counts> = Mutex::new(Counts::new());
    std::thread::scope(|s| {
        for _ in 0..o.jobs {
            s.spawn(|| loop {
                let Some(task) = queue.lock().expect("queue").pop_front() else {
                    break;
                };
                let row = &rows[task.row];
                let started = Instant::now();
                let result = callgrind(&binary(o, row), row, task.workload, task.n);
                let mut done = done.lock().expect("results");
                match &result {
                    Ok(i) => eprintln!(
                        "[{}/{total}] callgrind {} {} {}: {i} instructions ({:.1} s)",
                        done.len() + 1,
                        row.id,
                        task.workload,
                        task.n,
                        started.elapsed().as_secs_f64()
                    ),
                    Err(e) => eprintln!("[{}/{total}] FAILED: {e}", done.len() + 1),
                }
                done.insert((task.row, task.workload, task.n), result);
            });
        }
    });
    let done = done.into_inner().expect("results");
    let mut out = Instructions::new();
    for (i, row) in rows.iter().enumerate() {
        for w in WORKLOADS {
            let n = operations(row, w, o.quick);
            let (Some(one), Some(two)) = (done.get(&(i, w, n)), done.get(&(i, w, 2 * n))) else {
                continue;
            };
            let per_op = match (one, two) {
                (Ok(a), Ok(b)) => Ok((*b as f64 - *a as f64) / n as f64),
                (Err(e), _) | (_, Err(e)) => Err(e.clone()),
            };
            out.insert((row.id, w), per_op);
        }
    }
    out
}

/// Median nanoseconds per operation and thread by (row id, workload, threads).
type Times = BTreeMap<(&'static str, &'static str, u32), Result<f64, String>>;

fn run_criterion(o: &Options, rows: &[Row]) -> Times {
    let dir = o.work.join("criterion");
    let logs = o.work.join("logs");
    let mut out = Times::new();
    if let Err(e) = std::fs::create_dir_all(&logs) {
        for row in rows {
            for w in TIMED {
                for t in [1, 2] {
                    out.insert((row.id, w, t), Err(format!("{}: {e}", logs.display())));
                }
            }
        }
        return out;
    }
    for (i, row) in rows.iter().enumerate() {
        let started = Instant::now();
        // NOTE: no stale figure: the row's previous results go first.
        let group = dir.join(row.id);
        let _ = std::fs::remove_dir_all(&group);
        let log = logs.join(format!("{}.criterion.log", row.id));
        let status = std::fs::File::create(&log)
            .and_then(|f| {
                let mut cmd = Command::new(binary(o, row));
                cmd.arg("time").arg(&dir).arg(row.id);
                if o.quick {
                    cmd.arg("--quick");
                }
                for var in CONFIG_ENV {
                    cmd.env_remove(var);
                }
                cmd.stdin(Stdio::null())
                    .stdout(f.try_clone()?)
                    .stderr(f)
                    .status()
            })
            .map_err(|e| format!("{}: {e}", row.id));
        let failed = match status {
            Ok(s) if s.success() => None,
            Ok(s) => Some(format!("{}: {s}, see {}", row.id, log.display())),
            Err(e) => Some(e),
        };
        for w in TIMED {
            for t in [1u32, 2] {
                let median = match &failed {
                    Some(e) => Err(e.clone()),
                    None => median(&group.join(format!("{w}-{t}t"))),
                };
                out.insert((row.id, w, t), median);
            }
        }
        match &failed {
            None => eprintln!(
                "[{}/{}] criterion {} ({:.0} s)",
                i + 1,
                rows.len(),
                row.id,
                started.elapsed().as_secs_f64()
            ),
            Some(e) => eprintln!("[{}/{}] criterion FAILED: {e}", i + 1, rows.len()),
        }
    }
    out
}

/// Criterion's median of one benchmark, in nanoseconds.
fn median(bench: &Path) -> Result<f64, String> {
    let path = bench.join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median", path.display()))
}

/// 153.0, 22,323: one decimal under 1,000, thousands separated above.
fn instructions(x: f64) -> String {
    if x.abs() < 1_000.0 {
        return format!("{x:.1}");
    }
    let sign = if x < 0.0 { "-" } else { "" };
    format!("{sign}{}", thousands(x.abs().round() as u64))
}

/// 1,000,000.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 1.21, 90.8, 128: three significant figures or so.
fn ratio(x: f64) -> String {
    match x.abs() {
        r if r < 10.0 => format!("{x:.2}"),
        r if r < 100.0 => format!("{x:.1}"),
        _ => format!("{x:.0}"),
    }
}

fn time(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n => format!("{:.2} ms", n / 1e6),
    }
}

/// The "one sample" cells of a row: from interval 1, and from 1 MiB blocks.
fn sample_cost(row: &Row, ins: &Instructions) -> (Option<f64>, Option<f64>) {
    let get = |id: &str, w: &str| ins.get(&(id, w)).and_then(|r| r.as_ref().ok()).copied();
    match row.sampler {
        Sampler::No => (None, None),
        Sampler::Interval { p } => {
            let every = get(row.id, "sample").zip(get(row.id, "pair"));
            let block = get(row.id, "block").zip(get(row.base, "block"));
            (
                every.map(|(s, pair)| s - pair),
                block.map(|(b, base)| (b - base) / p),
            )
        }
        Sampler::Always => {
            let pair = get(row.id, "pair").zip(get(row.base, "pair"));
            let block = get(row.id, "block").zip(get(row.base, "block"));
            (pair.map(|(a, b)| a - b), block.map(|(a, b)| a - b))
        }
    }
}

/// A Markdown table's head: the `left` columns aligned left, the `right`
/// ones right.
fn table_head(md: &mut String, left: &[&str], right: &[String]) {
    let mut head = String::from("|");
    let mut rule = String::from("|");
    for c in left {
        let _ = write!(head, " {c} |");
        rule.push_str("---|");
    }
    for c in right {
        let _ = write!(head, " {c} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(md, "{head}\n{rule}");
}

fn report(o: &Options, rows: &[Row], ins: &Instructions, times: &Times, start: &Machine) -> String {
    let mut md = String::new();
    let end = Machine::now();
    let mut command = "scripts/bench-allocators".to_string();
    let mut args = o.args.iter();
    while let Some(a) = args.next() {
        if matches!(a.as_str(), "--bins" | "--fp-bins" | "--work") {
            args.next();
        } else {
            command.push(' ');
            command.push_str(a);
        }
    }
    let _ = writeln!(
        md,
        "Measured {} on {} ({} CPUs), {}; load average {} when it started, {} when it ended.\n\
         Command: `{command}`.\n",
        start.date, start.cpu, start.cpus, start.rustc, start.load, end.load,
    );

    // Instructions.
    let _ = writeln!(
        md,
        "Instructions per operation (callgrind, 1 thread; (I(2N) − I(N)) / N):\n"
    );
    let mut columns: Vec<String> = TIMED
        .iter()
        .flat_map(|w| [workload_label(w).to_string(), "×System".into()])
        .collect();
    columns.push("one sample (interval 1)".into());
    columns.push("one sample (from 1 MiB)".into());
    table_head(&mut md, &["allocator"], &columns);
    let get = |id: &'static str, w: &'static str| ins.get(&(id, w));
    for row in rows {
        let mut line = format!("| {} |", row.label);
        for w in TIMED {
            match (get(row.id, w), get("system", w)) {
                (Some(Ok(x)), Some(Ok(sys))) => {
                    let _ = write!(line, " {} | {} |", instructions(*x), ratio(x / sys));
                }
                (Some(Ok(x)), _) => {
                    let _ = write!(line, " {} | – |", instructions(*x));
                }
                (Some(Err(_)), _) => line.push_str(" failed | – |"),
                (None, _) => line.push_str(" – | – |"),
            }
        }
        let (every, block) = sample_cost(row, ins);
        for cell in [every, block] {
            match cell {
                Some(x) => {
                    let _ = write!(line, " {} |", instructions(x));
                }
                None => line.push_str(" – |"),
            }
        }
        let _ = writeln!(md, "{line}");
    }

    // Beside the allocator underneath.
    let based: Vec<&Row> = rows.iter().filter(|r| r.base != "system").collect();
    if !based.is_empty() {
        let _ = writeln!(
            md,
            "\nThe same instructions against the allocator underneath:\n"
        );
        let columns: Vec<String> = TIMED.iter().map(|w| workload_label(w).into()).collect();
        table_head(&mut md, &["allocator", "underneath"], &columns);
        for row in based {
            let base = rows.iter().find(|r| r.id == row.base);
            let mut line = format!("| {} | {} |", row.label, base.map_or(row.base, |b| b.label));
            for w in TIMED {
                match (get(row.id, w), get(row.base, w)) {
                    (Some(Ok(x)), Some(Ok(b))) => {
                        let _ = write!(line, " {}× |", ratio(x / b));
                    }
                    _ => line.push_str(" – |"),
                }
            }
            let _ = writeln!(md, "{line}");
        }
    }

    let scale = if o.quick { 10 } else { 1 };
    let ops: Vec<String> = WORKLOADS
        .iter()
        .map(|w| format!("{w} {}", thousands(standard_operations(w) / scale)))
        .collect();
    let _ = writeln!(
        md,
        "\nN per workload: {}; dhat's pairs {}.",
        ops.join(", "),
        thousands(DHAT_PAIRS / scale)
    );

    if !o.criterion {
        return md;
    }
    let _ = writeln!(
        md,
        "\nTime per operation and thread (criterion medians, one run; ratio to System at the same thread count):\n"
    );
    let columns: Vec<String> = TIMED
        .iter()
        .flat_map(|w| [1, 2].map(|t| format!("{}, {t} thr", workload_label(w))))
        .collect();
    table_head(&mut md, &["allocator"], &columns);
    for row in rows {
        let mut line = format!("| {} |", row.label);
        for w in TIMED {
            for t in [1u32, 2] {
                match (times.get(&(row.id, w, t)), times.get(&("system", w, t))) {
                    (Some(Ok(x)), Some(Ok(sys))) => {
                        let _ = write!(line, " {} ({}×) |", time(*x), ratio(x / sys));
                    }
                    (Some(Ok(x)), _) => {
                        let _ = write!(line, " {} |", time(*x));
                    }
                    (Some(Err(_)), _) => line.push_str(" failed |"),
                    (None, _) => line.push_str(" – |"),
                }
            }
        }
        let _ = writeln!(md, "{line}");
    }
    md
}

/// What the table says about the machine.
#[derive(Debug)]
struct Machine {
    date: String,
    cpu: String,
    cpus: usize,
    rustc: String,
    load: String,
}

impl Machine {
    fn now() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_string())
            })
            .unwrap_or_else(|| "an unknown CPU".into());
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_string))
            .unwrap_or_else(|| "?".into());
        let rustc = Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "rustc ?".into());
        Machine {
            date: utc_now(),
            cpu,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            rustc,
            load,
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC`, from the system clock (days to a civil date as
/// in Howard Hinnant's `civil_from_days`).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let all = rows();
    let rows: Vec<Row> = match &o.rows {
        None => all,
        Some(ids) => {
            if let Some(bad) = ids.iter().find(|id| !all.iter().any(|r| r.id == *id)) {
                let known: Vec<&str> = all.iter().map(|r| r.id).collect();
                eprintln!(
                    "error: unknown row {bad:?}; the rows are {}",
                    known.join(", ")
                );
                return ExitCode::from(2);
            }
            // System and the allocators underneath the chosen rows: the
            // ratios need them.
            let chosen: Vec<&Row> = all
                .iter()
                .filter(|r| ids.contains(&r.id.to_string()))
                .collect();
            let keep =
                |r: &Row| r.id == "system" || chosen.iter().any(|c| c.id == r.id || c.base == r.id);
            all.iter().filter(|r| keep(r)).copied().collect()
        }
    };
    let missing: Vec<String> = rows
        .iter()
        .map(|r| binary(&o, r))
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "error: not built: {} (scripts/bench-allocators builds them)",
            missing.join(", ")
        );
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let machine = Machine::now();
    let ins = run_callgrind(&o, &rows);
    let times = if o.criterion {
        run_criterion(&o, &rows)
    } else {
        Times::new()
    };
    print!("{}", report(&o, &rows, &ins, &times, &machine));
    let elapsed = started.elapsed().as_secs();
    println!("\nThe runs took {} min {} s.", elapsed / 60, elapsed % 60);
    let failures: Vec<&String> = ins
        .values()
        .filter_map(|r| r.as_ref().err())
        .chain(times.values().filter_map(|r| r.as_ref().err()))
        .collect();
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: {} measurement(s) failed:", failures.len());
        for f in failures {
            eprintln!("  {f}");
        }
        ExitCode::FAILURE
    }
}
