//! The command line's arguments (clap), and the configuration each
//! command's arguments stand for.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use fraudcheck::Variant;

use super::values::{
    any_duration, any_size, memory_model, positive_duration, positive_f64, positive_size,
    positive_u32, positive_u64, positive_usize, variant,
};
use crate::compare::CompareConfig;
use crate::profile::{Format, ProfileConfig};
use crate::render::help;
use crate::replay::{MemoryModel, ReplayConfig};

/// Replay, compare and profile the fraud-check memory incident with exact
/// allocation counts.
#[derive(Debug, Parser)]
#[command(name = "heaplab", version, propagate_version = true)]
#[command(after_help = help::variants())]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay the incident's traffic in virtual time: pods, memory limit,
    /// OOMKills, the cache stampede.
    #[command(after_help = help::replay())]
    Replay(ReplayArgs),
    /// Compare the variants on a warm cache: allocations, bytes and
    /// retained bytes per request, leak verdict, time per request.
    #[command(after_help = help::compare())]
    Compare(CompareArgs),
    /// Run one variant under heapmeter's sampling heap profiler and write
    /// its profile (pprof, DHAT JSON, folded stacks, flamegraph); --dhat
    /// runs dhat's instead.
    #[command(after_help = help::PROFILE_LEGEND)]
    Profile(ProfileArgs),
    /// Serve one variant over HTTP on loopback: POST /payments, GET
    /// /metrics, GET /healthz.
    Serve(heaplab_staging::cli::ServeArgs),
    /// Drive the service open-loop at a fixed rate over loopback, scrape
    /// /metrics, and report latency, heap growth, the growth alert and the
    /// leak verdict; --target URL --pid PID (repeatable) soaks running
    /// services of any language at once instead.
    Soak(SoakCommand),
}

#[derive(Debug, Args)]
pub(crate) struct SoakCommand {
    #[command(flatten)]
    pub(crate) soak: heaplab_staging::cli::SoakArgs,
    /// Also write the heap and resident bytes over the soak's time as SVG
    /// to FILE, one line per variant or target on one time axis, the growth
    /// alert's firing marked
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<PathBuf>,
    /// Print JSON (an array, one object per variant or target, every figure
    /// and every scrape) instead of the text reports
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// Variants to replay, repeated or comma-separated [default: all]
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = variant,
          help = help::variant_flag("Variants to replay, repeated or comma-separated [default: all]"))]
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
    /// Growth per second of a pod's memory above which the growth alert
    /// goes pending; it fires after 10 minutes over (the post-mortem's rule:
    /// deriv(memory[5m]) > 1MB/s for 10m)
    #[arg(long, value_name = "SIZE", default_value = "1MB", value_parser = positive_size, allow_hyphen_values = true)]
    alert_rate: u64,
    /// What a pod's memory counts: `live`, the bytes its check holds,
    /// requests served one at a time; `resident`, also the working sets of
    /// the requests in flight while the store answers (each request that
    /// waits holds its set until it ends)
    #[arg(long, value_name = "MODEL", default_value = "live", value_parser = memory_model)]
    memory: MemoryModel,
    /// Seed of the risky-user ids and the payments
    #[arg(long, value_name = "N", default_value = "42")]
    seed: u64,
    /// Also write the memory graphs as SVG to FILE
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<PathBuf>,
    /// Print JSON (an array, one object per variant with the table's figures
    /// and the memory series) instead of the table and graphs
    #[arg(long)]
    pub(crate) json: bool,
    /// Worker threads; variants run in parallel [default: one per variant,
    /// the OS sharing the cores]
    #[arg(long, value_name = "N", value_parser = positive_usize, allow_hyphen_values = true)]
    threads: Option<usize>,
}

impl ReplayArgs {
    /// The replay these arguments ask for.
    pub(crate) fn config(&self) -> ReplayConfig {
        ReplayConfig {
            variants: selected(&self.variant),
            pods: self.pods,
            rps: self.rps,
            duration: self.duration,
            limit: self.limit,
            users: self.users,
            ttl: self.ttl,
            store_latency: self.store_latency,
            baseline: self.baseline,
            alert_rate: self.alert_rate,
            seed: self.seed,
            threads: self.threads.unwrap_or(0),
            memory: self.memory,
            ..ReplayConfig::default()
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// Variants to compare, repeated or comma-separated [default: all]
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = variant,
          help = help::variant_flag("Variants to compare, repeated or comma-separated [default: all]"))]
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
    pub(crate) json: bool,
}

impl CompareArgs {
    /// The comparison these arguments ask for.
    pub(crate) fn config(&self) -> CompareConfig {
        CompareConfig {
            variants: selected(&self.variant),
            users: self.users,
            requests: self.requests,
            seed: self.seed,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ProfileArgs {
    /// The variant to profile
    #[arg(long, value_name = "NAME", value_parser = variant,
          help = help::variant_flag("The variant to profile"))]
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
    /// Mean sampling interval (512KiB, 4KiB, or bytes; 1 samples every
    /// allocation)
    #[arg(long, value_name = "BYTES", default_value = "512KiB", value_parser = positive_size, allow_hyphen_values = true)]
    rate: u64,
    /// The profile to write [default: heap.pb.gz, or dhat-heap.json with --dhat]
    #[arg(short = 'o', long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The sampler's output format [default: from the file's extension:
    /// .pb.gz, .json, .folded, .svg]
    #[arg(long, value_name = "FORMAT")]
    format: Option<Format>,
    /// Run under dhat's profiler instead (every allocation, slow), as a
    /// cross-check
    #[arg(long, conflicts_with_all = ["rate", "format"])]
    dhat: bool,
}

impl ProfileArgs {
    /// The profile these arguments ask for.
    pub(crate) fn config(&self) -> ProfileConfig {
        let default = if self.dhat {
            "dhat-heap.json"
        } else {
            "heap.pb.gz"
        };
        ProfileConfig {
            variant: self.variant,
            requests: self.requests,
            users: self.users,
            seed: self.seed,
            out: self.out.clone().unwrap_or_else(|| default.into()),
            rate: self.rate,
            format: self.format,
        }
    }

    /// Whether dhat profiles instead of the sampler.
    pub(crate) fn dhat(&self) -> bool {
        self.dhat
    }
}

/// The variants asked for, in the catalogue's order, each once; all if none.
fn selected(asked: &[Variant]) -> Vec<Variant> {
    Variant::ALL
        .into_iter()
        .filter(|v| asked.is_empty() || asked.contains(v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn variants_come_in_catalogue_order_once_each_and_all_when_none_is_named() {
        let v = Variant::ALL;
        assert_eq!(selected(&[v[2], v[0], v[2]]), vec![v[0], v[2]]);
        assert_eq!(selected(&[]), v.to_vec());
    }

    #[test]
    fn the_default_replay_is_the_incident() {
        let cli = Cli::try_parse_from(["heaplab", "replay"]).expect("parses");
        let Command::Replay(args) = cli.command else {
            panic!("not a replay: {cli:?}");
        };
        assert_eq!(args.config(), ReplayConfig::default());
    }
}
