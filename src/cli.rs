//! The command line: flags, dispatch, output. `main.rs` only installs the
//! global allocator and calls [`main`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use fraudcheck::Variant;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::compare::{self, CompareConfig};
use crate::error::{Error, Result};
use crate::profile::{self, ProfileConfig};
use crate::render;
use crate::replay::{self, ReplayConfig, VariantReport};
use crate::units::{parse_duration, parse_size, thousands};

/// Replay, compare and profile the fraud-check memory incident with exact
/// allocation counts.
#[derive(Debug, Parser)]
#[command(name = "heaplab", version, propagate_version = true)]
#[command(
    after_help = "Variants: naive, parse_and_scan, retained_listener, shared_set, \
ttl_refresh, cache_set, bloom (the last four are the fixes)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay the incident's traffic in virtual time: pods, memory limit,
    /// OOMKills, the cache stampede.
    #[command(after_help = replay_after_help())]
    Replay(ReplayArgs),
    /// Compare the variants on a warm cache: allocations, bytes and
    /// retained bytes per request, leak verdict, time per request.
    #[command(after_help = compare_after_help())]
    Compare(CompareArgs),
    /// Run one variant under dhat's heap profiler and write dhat-heap.json.
    #[command(after_help = PROFILE_AFTER_HELP)]
    Profile(ProfileArgs),
}

const PROFILE_AFTER_HELP: &str = "\
Figures (dhat's HeapStats over the profiled requests):
  total      blocks and bytes allocated (dhat counts a realloc as a new block)
  at peak    blocks and bytes live when live bytes peaked
  at end     blocks and bytes still live at the end, with the check alive: a leak shows here

Open the file in dhat's viewer: https://nnethercote.github.io/dh_view/dh_view.html";

fn replay_after_help() -> String {
    format!(
        "Each request runs the variant's real code, measured by heapmeter; only the \
         clock is simulated, so hours take seconds. A pod's memory is --baseline plus \
         what its check object holds; a pod that passes --limit is OOMKilled and \
         restarted cold. The cache lives outside the pods and survives restarts.\n\n\
         Columns:\n{}",
        indent(render::REPLAY_LEGEND)
    )
}

fn compare_after_help() -> String {
    format!(
        "Each variant runs against a warm cache that never expires (only the first \
         request misses).\n\nColumns (and --json fields):\n{}\n\n--json prints exactly \
         an array of objects with the fields variant, users, allocs_per_request, \
         bytes_per_request, retained_bytes_per_request, verdict, ns_per_request.",
        indent(render::COMPARE_LEGEND)
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// Variants to replay (repeat the flag or give a comma list) [default:
    /// all seven]
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    variant: Vec<Variant>,
    /// Pods behind the round-robin balancer
    #[arg(long, value_name = "N", default_value = "4", value_parser = positive_u32, allow_hyphen_values = true)]
    pods: u32,
    /// Requests per second, all pods together
    #[arg(long, value_name = "N", default_value = "100", value_parser = positive_f64, allow_hyphen_values = true)]
    rps: f64,
    /// Simulated time (4h, 90m, 30s, 1h30m, or plain seconds)
    #[arg(long, value_name = "DURATION", default_value = "4h", value_parser = positive_duration, allow_hyphen_values = true)]
    duration: Duration,
    /// Memory limit per pod (1GiB, 512MiB, or bytes); a pod above it is
    /// OOMKilled
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = positive_size, allow_hyphen_values = true)]
    limit: u64,
    /// Risky users in the store (the cached JSON list is about 13 bytes per
    /// user)
    #[arg(long, value_name = "N", default_value = "1000", value_parser = positive_usize, allow_hyphen_values = true)]
    users: usize,
    /// Cache TTL: SETEX expiry and in-process refresh interval
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = positive_duration, allow_hyphen_values = true)]
    ttl: Duration,
    /// Time a store query takes on the virtual clock. While it runs the key
    /// stays missing, so every request that arrives in that window misses
    /// too: this is what makes the stampede visible (at 100 req/s, 200ms
    /// lets about 20 requests in; 0 hides it)
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = any_duration, allow_hyphen_values = true)]
    store_latency: Duration,
    /// Memory of the rest of the service per pod, not simulated (runtime,
    /// libraries, other caches)
    #[arg(long, value_name = "SIZE", default_value = "128MiB", value_parser = any_size, allow_hyphen_values = true)]
    baseline: u64,
    /// Seed of the risky-user ids and the payments
    #[arg(long, value_name = "N", default_value = "42")]
    seed: u64,
    /// Also write the memory graphs as SVG to FILE
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Print JSON (an array, one object per variant with the table's figures
    /// and the memory series) instead of the table and graphs
    #[arg(long)]
    json: bool,
    /// Worker threads; variants run in parallel [default: one per variant,
    /// the OS sharing the cores]
    #[arg(long, value_name = "N", value_parser = positive_usize, allow_hyphen_values = true)]
    threads: Option<usize>,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// Variants to compare (repeat the flag or give a comma list) [default:
    /// all seven]
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    variant: Vec<Variant>,
    /// Risky users in the store
    #[arg(long, value_name = "N", default_value = "10000", value_parser = positive_usize, allow_hyphen_values = true)]
    users: usize,
    /// Requests measured per variant for the per-request means
    #[arg(long, value_name = "N", default_value = "1000", value_parser = positive_u64, allow_hyphen_values = true)]
    requests: u64,
    /// Seed of the risky-user ids and the payments
    #[arg(long, value_name = "N", default_value = "42")]
    seed: u64,
    /// Print exactly a JSON array, one object per variant
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ProfileArgs {
    /// The variant to profile (naive, parse_and_scan, retained_listener,
    /// shared_set, ttl_refresh, cache_set, bloom)
    #[arg(long, value_name = "NAME")]
    variant: Variant,
    /// Requests to run under the profiler
    #[arg(long, value_name = "N", default_value = "1000", value_parser = positive_u64, allow_hyphen_values = true)]
    requests: u64,
    /// Risky users in the store
    #[arg(long, value_name = "N", default_value = "1000", value_parser = positive_usize, allow_hyphen_values = true)]
    users: usize,
    /// Seed of the risky-user ids and the payments
    #[arg(long, value_name = "N", default_value = "42")]
    seed: u64,
    /// The dhat profile to write
    #[arg(long, value_name = "FILE", default_value = "dhat-heap.json")]
    out: PathBuf,
}

fn positive<T>(s: &str) -> std::result::Result<T, String>
where
    T: std::str::FromStr + PartialOrd + Default,
{
    let t = s.trim();
    if t.starts_with('-') {
        return Err("must be greater than zero".into());
    }
    match t.parse::<T>() {
        Ok(v) if v > T::default() => Ok(v),
        Ok(_) => Err("must be greater than zero".into()),
        Err(_) => Err("not a number".into()),
    }
}

fn positive_u32(s: &str) -> std::result::Result<u32, String> {
    positive(s)
}

fn positive_u64(s: &str) -> std::result::Result<u64, String> {
    positive(s)
}

fn positive_usize(s: &str) -> std::result::Result<usize, String> {
    positive(s)
}

fn positive_f64(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = positive(s)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err("must be a finite number".into())
    }
}

fn any_duration(s: &str) -> std::result::Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn positive_duration(s: &str) -> std::result::Result<Duration, String> {
    match any_duration(s)? {
        d if d.is_zero() => Err("must be greater than zero".into()),
        d => Ok(d),
    }
}

fn any_size(s: &str) -> std::result::Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

fn positive_size(s: &str) -> std::result::Result<u64, String> {
    match any_size(s)? {
        0 => Err("must be greater than zero".into()),
        n => Ok(n),
    }
}

/// Parses the arguments, runs the command, prints errors as one line
/// prefixed `error:`; exit code 0 on success, 1 on a failed run, 2 on bad
/// usage.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// clap's own output for help and version; its errors reduced to their
/// first paragraph on one line (the usage and tips that follow are noise
/// next to the message).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
        _ => {}
    }
    let text = e.render().to_string();
    let first: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = first.join(" ");
    if line.starts_with("error:") {
        eprintln!("{line}");
    } else {
        eprintln!("error: {line}");
    }
    ExitCode::from(2)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Replay(args) => run_replay(args),
        Command::Compare(args) => run_compare(args),
        Command::Profile(args) => run_profile(args),
    }
}

/// The variants asked for, in the catalogue's order, each once; all if none.
fn selected(mut variants: Vec<Variant>) -> Vec<Variant> {
    if variants.is_empty() {
        return Variant::ALL.to_vec();
    }
    variants.sort_by_key(|v| Variant::ALL.iter().position(|a| a == v));
    variants.dedup();
    variants
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Stdout)
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{spinner} {msg} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// A replay report as `--json` prints it: the variant's figures and series,
/// with the settings needed to read them.
#[derive(Debug, Serialize)]
struct ReplayJson<'a> {
    #[serde(flatten)]
    report: &'a VariantReport,
    pods: u32,
    rps: f64,
    duration_s: f64,
    limit_bytes: u64,
    baseline_bytes: u64,
    users: usize,
    ttl_s: f64,
    store_latency_s: f64,
}

fn run_replay(args: ReplayArgs) -> Result<()> {
    let config = ReplayConfig {
        variants: selected(args.variant),
        pods: args.pods,
        rps: args.rps,
        duration: args.duration,
        limit: args.limit,
        users: args.users,
        ttl: args.ttl,
        store_latency: args.store_latency,
        baseline: args.baseline,
        seed: args.seed,
        threads: args.threads.unwrap_or(0),
    };
    config.validate()?;
    if let Some(path) = &args.svg {
        // Fail before minutes of work, not after.
        std::fs::File::create(path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    let total = config.requests() * config.variants.len() as u64;
    let bar = progress_bar(total, "replaying");
    let started = Instant::now();
    let reports = replay::run(&config, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    let wall = started.elapsed();
    if let Some(path) = &args.svg {
        render::write_svg(path, &config, &reports)?;
    }
    if args.json {
        let json: Vec<ReplayJson<'_>> = reports
            .iter()
            .map(|report| ReplayJson {
                report,
                pods: config.pods,
                rps: config.rps,
                duration_s: config.duration.as_secs_f64(),
                limit_bytes: config.limit,
                baseline_bytes: config.baseline,
                users: config.users,
                ttl_s: config.ttl.as_secs_f64(),
                store_latency_s: config.store_latency.as_secs_f64(),
            })
            .collect();
        let text = serde_json::to_string_pretty(&json).map_err(|e| Error::Stdout(e.into()))?;
        return print(&(text + "\n"));
    }
    let mut out = render::replay_table(&config, &reports);
    out += "\n";
    for report in &reports {
        out += &render::memory_chart(&config, report, 64, 9);
        out += "\n";
    }
    out += &format!(
        "{} requests replayed in {:.1} s wall time",
        thousands(total),
        wall.as_secs_f64()
    );
    if let Some(path) = &args.svg {
        out += &format!("; graphs written to {}", path.display());
    }
    out += "\n";
    print(&out)
}

fn run_compare(args: CompareArgs) -> Result<()> {
    let config = CompareConfig {
        variants: selected(args.variant),
        users: args.users,
        requests: args.requests,
        seed: args.seed,
    };
    let bar = progress_bar(config.variants.len() as u64, "comparing");
    let rows = compare::run(&config, &|v| {
        bar.set_message(format!("comparing {v}"));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    if args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| Error::Stdout(e.into()))?;
        return print(&(text + "\n"));
    }
    let mut out = format!(
        "heaplab compare: {} risky users, {} requests per variant, warm cache\n\n",
        thousands(config.users as u64),
        thousands(config.requests)
    );
    out += &render::compare_table(&rows);
    print(&out)
}

fn run_profile(args: ProfileArgs) -> Result<()> {
    let config = ProfileConfig {
        variant: args.variant,
        requests: args.requests,
        users: args.users,
        seed: args.seed,
        out: args.out,
    };
    let r = profile::run(&config)?;
    let b = |n: u64| heapmeter::Bytes(n as f64);
    let per = |n: u64| n as f64 / config.requests as f64;
    let mut out = format!(
        "heaplab profile: {} requests of {} ({} risky users) under dhat\n\n",
        thousands(config.requests),
        config.variant,
        thousands(config.users as u64)
    );
    out += &format!(
        "total      {} blocks, {} ({:.2} blocks, {} per request)\n",
        thousands(r.total_blocks),
        b(r.total_bytes),
        per(r.total_blocks),
        heapmeter::Bytes(per(r.total_bytes).round())
    );
    out += &format!(
        "at peak    {} blocks, {}\n",
        thousands(r.max_blocks as u64),
        b(r.max_bytes as u64)
    );
    out += &format!(
        "at end     {} blocks, {} still allocated (the check is alive: a leak shows here)\n",
        thousands(r.curr_blocks as u64),
        b(r.curr_bytes as u64)
    );
    if r.errors > 0 {
        out += &format!("errors     {} requests failed\n", thousands(r.errors));
    }
    out += &format!(
        "\nprofile written to {}\nopen it in dhat's viewer: {} (Load… the file)\n",
        r.out.display(),
        profile::DH_VIEW
    );
    print(&out)
}
