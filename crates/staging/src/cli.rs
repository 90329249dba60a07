//! The command-line arguments of `serve` and `soak`, and what they run.
//! The `heaplab` CLI flattens these structs into its subcommands.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use fraudcheck::{FailPolicy, Variant};

use std::sync::Mutex;

use crate::servers::{OwnPostgres, OwnRedis};
use crate::service::{bind, App, OnFailure, Running, ServiceConfig};
use crate::soak::{self, FaultPlan, FaultStep, SoakConfig, SoakReport};
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
    /// Risky users in the store
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
    /// Create and fill the risky_users table before serving (with --postgres)
    #[arg(long)]
    pub seed_db: bool,
}

/// `soak`: an open-loop load at a fixed rate, bounded in time.
#[derive(Clone, Debug, Args)]
pub struct SoakArgs {
    /// The variant to soak; without it: naive, retained_listener and
    /// ttl_refresh, one after the other
    #[arg(long, value_parser = parse_variant)]
    pub variant: Option<Variant>,
    /// Requests per second
    #[arg(long, default_value_t = 100)]
    pub rps: u32,
    /// How long to send requests for, per variant (90s, 3m, 2m30s)
    #[arg(long, value_parser = parse_duration, default_value = "120s")]
    pub duration: Duration,
    /// Soak a running service at this loopback address instead of starting
    /// one (e.g. 127.0.0.1:8080)
    #[arg(long, value_name = "ADDR")]
    pub url: Option<String>,
    /// Take the cache and the store away during the soak: the embedded ones
    /// down for the middle third; with --real, Redis killed at 25 % and
    /// restarted empty at 55 %, PostgreSQL stopped at 40 % and started at
    /// 75 % (both gone from 40 % to 55 %, no list anywhere until 75 %)
    #[arg(long)]
    pub faults: bool,
    /// Run the service over a redis-server and a PostgreSQL cluster the soak
    /// starts itself on loopback (Debian's packages), seeded with the users
    #[arg(long)]
    pub real: bool,
    /// Risky users in the store of the service the soak starts
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub users: usize,
    /// Divide the alert's 5m window and 10m hold by this
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub compress: u32,
}

fn parse_variant(s: &str) -> std::result::Result<Variant, String> {
    s.parse()
        .map_err(|e: fraudcheck::UnknownVariant| e.to_string())
}

/// Parses `90`, `90s`, `3m`, `2m30s`, `1h`.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("invalid duration `{s}`: expected e.g. 90s, 3m, 2m30s");
    let mut total = 0u64;
    let mut digits = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
    }
    if !digits.is_empty() {
        total += digits.parse::<u64>().map_err(|_| bad())?;
    }
    if total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
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

/// Runs `soak` and returns one report per variant soaked.
pub fn soak(args: &SoakArgs) -> Result<Vec<SoakReport>> {
    let rt = runtime()?;
    let mut config = SoakConfig::new(args.rps, args.duration);
    config.rule = crate::growth::compressed(args.compress);
    if let Some(url) = &args.url {
        if args.faults {
            return Err(StagingError::Config(
                "--faults needs the soak to start the service (drop --url): it only faults what it started".into(),
            ));
        }
        let addr = parse_url(url)?;
        let report = rt.block_on(soak::run(
            addr,
            "a running service".to_string(),
            &config,
            Vec::new(),
        ))?;
        println!("{report}\n");
        return Ok(vec![report]);
    }
    let variants = match args.variant {
        Some(v) => vec![v],
        None => vec![
            Variant::Naive,
            Variant::RetainedListener,
            Variant::TtlRefresh,
        ],
    };
    let mut reports = Vec::new();
    for v in variants {
        let report = rt.block_on(soak_in_process(v, args, &config))?;
        println!("{report}\n");
        reports.push(report);
    }
    Ok(reports)
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
    let addr = running.addr();
    let mut config = config.clone();
    config.risky_ids = service.risky_ids().into_iter().take(100).collect();
    let faults = match (&servers, args.faults) {
        (_, false) => Vec::new(),
        (None, true) => embedded_faults(&app),
        (Some((redis, pg)), true) => real_faults(redis, pg),
    };
    let label = format!(
        "{} (in-process, {}, {} users)",
        variant.name(),
        service.backends(),
        args.users
    );
    let report = soak::run(addr, label, &config, faults).await;
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

fn parse_url(url: &str) -> Result<SocketAddr> {
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    hostport.parse().map_err(|_| {
        StagingError::Config(format!(
            "--url {url}: expected a loopback address such as http://127.0.0.1:8080"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("3x").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(parse_url("http://example.com").is_err());
    }
}
