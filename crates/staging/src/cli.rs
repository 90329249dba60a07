//! The command-line arguments of `serve` and `soak`, and what they run.
//! The `heaplab` CLI flattens these structs into its subcommands; both
//! binaries print what these functions return.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, ValueEnum};
use fraudcheck::{FailPolicy, Variant};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::servers::{OwnPostgres, OwnRedis};
use crate::service::{bind, App, OnFailure, Running, ServiceConfig};
use crate::soak::{self, FaultPlan, FaultStep, SoakConfig, SoakReport, Target, Update};
use crate::units::positive_duration;
use crate::{Result, StagingError};

/// What a failing check is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailPolicyArg {
    /// Let the payment through: 200 {"risky":false,"degraded":reason}.
    Open,
    /// Hold the payment: 200 {"risky":true,"degraded":reason}.
    Closed,
    /// 503 {"error":reason}: the caller decides.
    Reject,
}

impl From<FailPolicyArg> for OnFailure {
    fn from(a: FailPolicyArg) -> OnFailure {
        match a {
            FailPolicyArg::Open => OnFailure::Decide(FailPolicy::Open),
            FailPolicyArg::Closed => OnFailure::Decide(FailPolicy::Closed),
            FailPolicyArg::Reject => OnFailure::Reject,
        }
    }
}

/// `serve`: one variant behind `POST /payments`, `/metrics`, `/healthz`.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// The variant answering payments
    #[arg(long, value_parser = parse_variant)]
    pub variant: Variant,
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Risky users in the store: fraudcheck's ids for N users, seed 7
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub users: usize,
    /// What a failing check is answered with
    #[arg(long, value_enum, default_value = "open")]
    pub fail_policy: FailPolicyArg,
    /// Largest accepted request body, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub max_body: usize,
    /// The cache on this Redis (e.g. redis://127.0.0.1:6379/) instead of
    /// the embedded one
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// The store on this PostgreSQL (e.g.
    /// postgres://heaplab:heaplab@127.0.0.1:5432/heaplab) instead of the
    /// embedded one
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Create and fill the risky_users table before serving (with
    /// --postgres): the same ids as the embedded store
    #[arg(long)]
    pub seed_db: bool,
    /// Sample the heap every BYTES allocated on average (0: off), so that
    /// /metrics serves the live heap by route
    /// (heapmeter_route_inuse_bytes)
    #[arg(long, value_name = "BYTES", default_value_t = heapmeter::sampling::DEFAULT_INTERVAL)]
    pub heap_sampling: u64,
}

/// Heap sampling at `interval` bytes for as long as the returned session
/// lives; `None` for 0 (off).
fn sample_heap(interval: u64) -> Result<Option<heapmeter::sampling::Session>> {
    if interval == 0 {
        return Ok(None);
    }
    Ok(Some(heapmeter::sampling::start(interval)?))
}

/// `soak`: an open-loop load at a fixed rate, bounded in time.
#[derive(Clone, Debug, Args)]
pub struct SoakArgs {
    /// The variant to soak; without it: naive, retained_listener and
    /// ttl_refresh, one after the other
    #[arg(long, value_parser = parse_variant, conflicts_with = "targets")]
    pub variant: Option<Variant>,
    /// Requests per second (per target)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub rps: u32,
    /// How long to send requests for, per variant (90s, 1.5m, 2m30s, 1h)
    #[arg(long, value_parser = positive_duration, default_value = "120s")]
    pub duration: Duration,
    /// Soak a running service at this loopback address instead of starting
    /// one (e.g. 127.0.0.1:8080)
    #[arg(long, value_name = "ADDR", conflicts_with = "targets")]
    pub url: Option<String>,
    /// Take the cache and the store away during the soak: the embedded ones
    /// down for the middle third; with --real, Redis killed at 25 % and
    /// restarted empty at 55 %, PostgreSQL stopped at 40 % and started at
    /// 75 % (both gone from 40 % to 55 %, no list anywhere until 75 %)
    #[arg(long, conflicts_with_all = ["targets", "url"])]
    pub faults: bool,
    /// Run the service over a redis-server and a PostgreSQL cluster the soak
    /// starts itself on loopback (Debian's packages), seeded with the users
    #[arg(long, conflicts_with_all = ["targets", "url"])]
    pub real: bool,
    /// Risky users: the service the soak starts holds fraudcheck's ids for
    /// N users (seed 7); one request in ten pays as one of them, as
    /// `serve --users N` and `--seed-db` hold them
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub users: usize,
    /// Divide the alert's 5m window and 10m hold by this
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub compress: u32,
    /// The services the soak starts sample their heap every BYTES
    /// allocated on average (0: off), as `serve` does
    #[arg(long, value_name = "BYTES", default_value_t = heapmeter::sampling::DEFAULT_INTERVAL)]
    pub heap_sampling: u64,
    /// Soak a running service that speaks POST /payments at this loopback
    /// URL, labelled NAME in the report; repeat it (each with its --pid) to
    /// soak several at once, on one time axis
    #[arg(long = "target", value_name = "[NAME=]URL", requires = "pids")]
    pub targets: Vec<String>,
    /// The process of each --target, in the same order: its resident
    /// memory is read from /proc/PID/status (VmRSS, VmHWM)
    #[arg(long = "pid", value_name = "PID", requires = "targets")]
    pub pids: Vec<u32>,
    /// A request not answered within this is counted as timed out
    #[arg(long, value_name = "DURATION", value_parser = positive_duration, default_value = "5s")]
    pub timeout: Duration,
    /// Requests in flight at most, per target; a request due beyond it is
    /// counted as not sent
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight: u64,
}

impl SoakArgs {
    /// The soak's configuration (without its progress hook).
    pub fn config(&self) -> SoakConfig {
        let mut config = SoakConfig::new(self.rps, self.duration);
        config.rule = crate::growth::compressed(self.compress);
        config.timeout = self.timeout;
        config.max_in_flight = usize::try_from(self.max_in_flight).unwrap_or(usize::MAX);
        config.risky_ids = soak::risky_ids(self.users);
        config
    }

    /// The `--target`s with their `--pid`s, in order.
    pub fn targets(&self) -> Result<Vec<Target>> {
        if self.targets.len() != self.pids.len() {
            return Err(StagingError::Config(format!(
                "each --target needs its --pid, in the same order: {} targets, {} pids",
                self.targets.len(),
                self.pids.len()
            )));
        }
        self.targets
            .iter()
            .zip(&self.pids)
            .map(|(t, &pid)| Target::parse(t, Some(pid)))
            .collect()
    }
}

fn parse_variant(s: &str) -> std::result::Result<Variant, String> {
    s.parse()
        .map_err(|e: fraudcheck::UnknownVariant| e.to_string())
}

/// The runtime `serve` and `soak` run on; the command's entry point enters
/// it once (`Runtime::block_on`: the process's main task, not a request).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| StagingError::io("starting the async runtime", e))
}

/// Runs `serve` until SIGINT or SIGTERM, then drains in-flight requests.
pub fn serve(args: &ServeArgs) -> Result<()> {
    let mut config = ServiceConfig::new(args.variant, args.users);
    config.on_failure = args.fail_policy.into();
    config.max_body_bytes = args.max_body;
    config.redis = args.redis.clone();
    config.postgres = args.postgres.clone();
    config.seed_db = args.seed_db;
    let _sampling = sample_heap(args.heap_sampling)?;
    runtime()?.block_on(async {
        let app = Arc::new(App::connect(&config).await?);
        let bound = bind(args.listen, app, config.max_body_bytes).await?;
        eprintln!(
            "heaplab serve: {} on http://{} ({}, {} users); Ctrl-C stops",
            args.variant.name(),
            bound.addr(),
            config.backends(),
            args.users
        );
        bound.serve(crate::service::shutdown_signal()).await?;
        eprintln!("heaplab serve: stopped, in-flight requests answered");
        Ok(())
    })
}

/// Runs `soak` and returns one report per variant or target soaked, with a
/// progress bar per soak on a terminal's stderr.
pub fn soak(args: &SoakArgs) -> Result<Vec<SoakReport>> {
    let rt = runtime()?;
    let mut config = args.config();
    if !args.targets.is_empty() {
        let targets = args.targets()?;
        let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
        config.progress = progress(&labels, &config);
        return rt.block_on(soak::run_all(targets, &config));
    }
    if let Some(url) = &args.url {
        let target = Target {
            label: "a running service".into(),
            addr: soak::parse_url(url)?,
            pid: None,
        };
        config.progress = progress(std::slice::from_ref(&target.label), &config);
        return Ok(vec![rt.block_on(soak::run(target, &config, Vec::new()))?]);
    }
    let variants = match args.variant {
        Some(v) => vec![v],
        None => vec![
            Variant::Naive,
            Variant::RetainedListener,
            Variant::TtlRefresh,
        ],
    };
    // The services the soak starts sample their heap, as `serve` does.
    let _sampling = sample_heap(args.heap_sampling)?;
    let mut reports = Vec::new();
    for v in variants {
        let mut config = config.clone();
        config.progress = progress(&[v.name().to_string()], &config);
        reports.push(rt.block_on(soak_in_process(v, args, &config))?);
    }
    Ok(reports)
}

/// One progress bar per soak on stderr when it is a terminal: requests
/// ended, and the heap and resident memory of the last scrape.
fn progress(labels: &[String], config: &SoakConfig) -> Option<soak::Progress> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total = (config.duration.as_secs_f64() * f64::from(config.rps)).round() as u64;
    let style = ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} ended · {msg}",
    )
    .ok()?;
    let multi = MultiProgress::new();
    let bars: Vec<ProgressBar> = labels
        .iter()
        .map(|label| {
            let bar = multi.add(ProgressBar::new(total));
            bar.set_style(style.clone());
            bar.set_prefix(label.clone());
            bar
        })
        .collect();
    let bars = Mutex::new(bars);
    Some(Arc::new(move |update: Update<'_>| {
        let bars = bars.lock().unwrap_or_else(|p| p.into_inner());
        match update {
            Update::Finished {
                target, finished, ..
            } => {
                if let Some(bar) = bars.get(target) {
                    bar.set_position(finished);
                    if finished >= total {
                        bar.finish_and_clear();
                    }
                }
            }
            Update::Scraped { target, sample } => {
                if let Some(bar) = bars.get(target) {
                    let mib = |b: Option<f64>| match b {
                        Some(b) => format!("{:.1} MiB", b / 1048576.0),
                        None => "-".into(),
                    };
                    let heap = sample
                        .figures
                        .live_bytes
                        .or(sample.figures.v8_heap_used_bytes);
                    bar.set_message(format!(
                        "heap {}, resident {}",
                        mib(heap),
                        mib(sample.resident_bytes())
                    ));
                }
            }
        }
    }))
}

/// Starts `variant` on 127.0.0.1 (a free port), soaks it, stops it.
pub async fn soak_in_process(
    variant: Variant,
    args: &SoakArgs,
    config: &SoakConfig,
) -> Result<SoakReport> {
    let mut service = ServiceConfig::new(variant, args.users);
    let servers = if args.real {
        // Starting servers blocks: on a blocking thread.
        let (redis, pg) = tokio::task::spawn_blocking(|| -> Result<_> {
            Ok((OwnRedis::start()?, OwnPostgres::start()?))
        })
        .await
        .map_err(StagingError::Blocking)??;
        service.redis = Some(redis.url());
        service.postgres = Some(pg.url());
        service.seed_db = true;
        Some((Arc::new(Mutex::new(redis)), Arc::new(Mutex::new(pg))))
    } else {
        None
    };
    let app = Arc::new(App::connect(&service).await?);
    let running = Running::start(app.clone(), service.max_body_bytes).await?;
    let target = Target {
        label: format!(
            "{} (in-process, {}, {} users)",
            variant.name(),
            service.backends(),
            args.users
        ),
        addr: running.addr(),
        pid: None,
    };
    let faults = match (&servers, args.faults) {
        (_, false) => Vec::new(),
        (None, true) => embedded_faults(&app),
        (Some((redis, pg)), true) => real_faults(redis, pg),
    };
    let report = soak::run(target, config, faults).await;
    running.stop().await?;
    // The servers, if any, stop here, after the service.
    drop(servers);
    report
}

fn step(at: f64, what: &str, action: impl FnMut() -> Result<()> + Send + 'static) -> FaultStep {
    FaultStep {
        at,
        what: what.into(),
        action: Box::new(action),
    }
}

fn embedded_faults(app: &Arc<App>) -> FaultPlan {
    let (down, up) = (app.clone(), app.clone());
    vec![
        step(1.0 / 3.0, "embedded cache and store down", move || {
            down.env().cache.fault().down();
            down.env().store.fault().down();
            Ok(())
        }),
        step(2.0 / 3.0, "embedded cache and store up", move || {
            up.env().cache.fault().up();
            up.env().store.fault().up();
            Ok(())
        }),
    ]
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Only the servers this soak started: Redis crashes; while it is down
/// PostgreSQL stops too; Redis comes back empty, then PostgreSQL.
fn real_faults(redis: &Shared<OwnRedis>, pg: &Shared<OwnPostgres>) -> FaultPlan {
    let (r1, r2, p1, p2) = (redis.clone(), redis.clone(), pg.clone(), pg.clone());
    vec![
        step(0.25, "redis-server killed (SIGKILL)", move || {
            lock(&r1).kill();
            Ok(())
        }),
        step(0.4, "postgres stopped (pg_ctl stop -m fast)", move || {
            lock(&p1).stop()
        }),
        step(0.55, "redis-server restarted (empty)", move || {
            lock(&r2).restart()
        }),
        step(0.75, "postgres started", move || lock(&p2).start_again()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        soak: SoakArgs,
    }

    fn parse(args: &[&str]) -> std::result::Result<SoakArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("soak").chain(args.iter().copied())).map(|c| c.soak)
    }

    #[test]
    fn targets_come_with_their_pids_in_order() {
        let a = parse(&[
            "--target",
            "rust=127.0.0.1:8080",
            "--pid",
            "10",
            "--target",
            "http://127.0.0.1:3000",
            "--pid",
            "20",
            "--duration",
            "1.5m",
        ])
        .unwrap();
        assert_eq!(a.duration, Duration::from_secs(90));
        let t = a.targets().unwrap();
        assert_eq!((t[0].label.as_str(), t[0].pid), ("rust", Some(10)));
        assert_eq!(
            (t[1].label.as_str(), t[1].pid),
            ("http://127.0.0.1:3000", Some(20))
        );
        let a = parse(&[
            "--target",
            "127.0.0.1:1",
            "--pid",
            "1",
            "--target",
            "127.0.0.1:2",
            "--pid",
            "2",
            "--pid",
            "3",
        ])
        .unwrap();
        assert_eq!(
            a.targets().unwrap_err().to_string(),
            "each --target needs its --pid, in the same order: 2 targets, 3 pids"
        );
        assert!(
            parse(&["--target", "127.0.0.1:1"]).is_err(),
            "--pid is required"
        );
        assert!(parse(&[
            "--target",
            "127.0.0.1:1",
            "--pid",
            "1",
            "--variant",
            "naive"
        ])
        .is_err());
        assert!(parse(&["--rps", "0"]).is_err());
    }

    #[test]
    fn the_soak_pays_as_the_services_risky_users() {
        let a = parse(&["--users", "10000"]).unwrap();
        let service = ServiceConfig::new(Variant::Naive, 10_000).risky_ids();
        assert_eq!(a.config().risky_ids[..], service[..100]);
    }
}
