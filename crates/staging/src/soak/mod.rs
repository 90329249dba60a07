//! `heaplab soak`: an open-loop load at a fixed rate over loopback, bounded
//! in time, that scrapes the target's `/metrics` (and `/proc/PID/status`
//! when it has the pid) and judges its heap.
//!
//! The parts, each in its module:
//!
//! - the open-loop **scheduler** (`schedule`): request `i` is sent at
//!   `start + i / rps` whatever happened to the ones before, and timed from
//!   that schedule; a scraper and the fault steps run beside it;
//! - the **tally** ([`Tally`]): every scheduled request ends in exactly one
//!   bucket (`sent = answered + failed + timed out`, and the ones not sent
//!   because too many were in flight), nothing is dropped silently;
//! - the **Prometheus text** a target serves ([`exposition`]), and its
//!   resident memory from **`/proc`** ([`proc`]);
//! - the **statistics** ([`stats`]): percentiles, means per request, the
//!   growth alert, and the heap's growth per request judged by heapmeter's
//!   leak verdict ([`heapmeter::verdict`]);
//! - the **report** ([`SoakReport`]), which the library returns and the
//!   command line prints (as text, or as JSON with [`json`]).
//!
//! # Targets
//!
//! [`run`] soaks one service, the one `heaplab soak` starts in-process or
//! one at `--url`. [`run_all`] soaks several running services at once, each
//! at the same rate, from one start: one time axis, as `heaplab soak
//! --target URL --pid PID` (repeated) does for services in any language
//! that speak the payments API (`POST /payments
//! {"id","user_id","amount_cents"}` → `200 {"risky": bool}`). Of a
//! target's `/metrics` the soak reads what it serves of heapmeter's series
//! and of prom-client's Node.js ones ([`exposition`] lists them), and says
//! which in the report.
//!
//! # The users the soak pays as
//!
//! One request in ten pays as a risky user, the others as ids on no list
//! ([`SoakConfig::risky_ids`]). The risky ids are
//! `fraudcheck::data::risky_user_ids(users, 7)` for `--users N`
//! ([`risky_ids`]): exactly the ids `heaplab serve --users N` holds in its
//! embedded store and writes to PostgreSQL with `--seed-db` (seed 7,
//! [`SERVICE_SEED`]). A target seeded
//! otherwise answers `"risky": false` to every request; the report's count
//! of risky answers shows it.

pub mod exposition;
pub mod proc;
mod report;
mod sample;
mod schedule;
pub mod stats;
mod tally;

pub use report::{json, SoakReport};
pub use sample::{HeapMetric, Sample};
pub use stats::Growth;
pub use tally::Tally;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use heapmeter::GrowthRule;

use crate::client::HttpClient;
use crate::service::SERVICE_SEED;
use crate::{Result, StagingError};

/// Where a soak is at, for a progress display (the library draws none).
#[derive(Debug)]
#[non_exhaustive]
pub enum Update<'a> {
    /// Target `target` has `finished` of its `total` requests (answered,
    /// failed, timed out or not sent).
    Finished {
        /// The target's index.
        target: usize,
        /// Requests ended so far.
        finished: u64,
        /// Requests scheduled.
        total: u64,
    },
    /// Target `target` was scraped.
    Scraped {
        /// The target's index.
        target: usize,
        /// What the scrape read.
        sample: &'a Sample,
    },
}

/// A hook the soak calls as it goes (from its tasks).
pub type Progress = Arc<dyn Fn(Update<'_>) + Send + Sync>;

/// How to run a soak.
#[derive(Clone)]
pub struct SoakConfig {
    /// Requests per second, scheduled at even intervals, per target.
    pub rps: u32,
    /// How long requests are scheduled for.
    pub duration: Duration,
    /// Time between two scrapes of `/metrics` (and `/proc`).
    pub scrape_every: Duration,
    /// A request not answered within this is counted as timed out.
    pub timeout: Duration,
    /// Requests in flight at most, per target; a request scheduled beyond
    /// it is counted as not sent.
    pub max_in_flight: usize,
    /// The growth alert to evaluate on the heap (see [`crate::growth`]).
    pub rule: GrowthRule,
    /// Every tenth request pays as one of these users in turn (known risky
    /// ids, to see `"risky":true` answers); the others pay as ids no list
    /// holds. See the module docs.
    pub risky_ids: Vec<u64>,
    /// Called as the soak goes, if set.
    pub progress: Option<Progress>,
}

impl fmt::Debug for SoakConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoakConfig")
            .field("rps", &self.rps)
            .field("duration", &self.duration)
            .field("scrape_every", &self.scrape_every)
            .field("timeout", &self.timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("rule", &self.rule)
            .field("risky_ids", &self.risky_ids.len())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl SoakConfig {
    /// `rps` for `duration`, scraping every second, 5 s timeout, 1,024 in
    /// flight, the post-mortem's rule compressed 10 times, no risky users,
    /// no progress hook.
    pub fn new(rps: u32, duration: Duration) -> SoakConfig {
        SoakConfig {
            rps: rps.max(1),
            duration,
            scrape_every: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            max_in_flight: 1024,
            rule: crate::growth::compressed(10),
            risky_ids: Vec::new(),
            progress: None,
        }
    }
}

/// The risky ids a soak of `users` pays as: the first 100 of the ones the
/// service holds for `users` (see the module docs).
pub fn risky_ids(users: usize) -> Vec<u64> {
    let mut ids = fraudcheck::data::risky_user_ids(users, SERVICE_SEED);
    ids.truncate(100);
    ids
}

/// A service to soak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its name in the report.
    pub label: String,
    /// Where it listens (loopback).
    pub addr: SocketAddr,
    /// Its process, whose `/proc/PID/status` the soak reads.
    pub pid: Option<u32>,
}

impl Target {
    /// A target from `[NAME=]URL` (`http://127.0.0.1:8080`, `127.0.0.1:8080`,
    /// `localhost:8080`), labelled NAME, or its URL without one.
    pub fn parse(spec: &str, pid: Option<u32>) -> Result<Target> {
        let (label, url) = match spec.split_once('=') {
            Some((name, url)) if !name.is_empty() && !name.contains('/') => (name.to_string(), url),
            _ => (String::new(), spec),
        };
        let addr = parse_url(url)?;
        let label = if label.is_empty() {
            format!("http://{addr}")
        } else {
            label
        };
        Ok(Target { label, addr, pid })
    }
}

/// `http://127.0.0.1:8080/`, `127.0.0.1:8080` or `localhost:8080` → the
/// loopback address; anything else is refused in one line.
pub fn parse_url(url: &str) -> Result<SocketAddr> {
    let hostport = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let addr: Option<SocketAddr> = match hostport.strip_prefix("localhost:") {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
        None => hostport.parse().ok(),
    };
    match addr {
        Some(a) if a.ip().is_loopback() => Ok(a),
        _ => Err(StagingError::Config(format!(
            "{url}: expected a loopback address such as http://127.0.0.1:8080 (the soak targets loopback only)"
        ))),
    }
}

/// A mutable hook the soak calls at fixed points, e.g. to inject faults.
pub type FaultPlan = Vec<FaultStep>;

/// One fault action at a fraction of the soak's duration.
pub struct FaultStep {
    /// When, as a fraction of the duration (0..1).
    pub at: f64,
    /// What it does, for the report (e.g. "redis down").
    pub what: String,
    /// The action (run on a blocking thread: it may start or stop servers).
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

/// Checks that `target` can be soaked: loopback, answering HTTP (a
/// `/healthz` that answers 200, or none: 404), and its pid readable in
/// `/proc`.
async fn check(target: &Target, config: &SoakConfig) -> Result<()> {
    if !target.addr.ip().is_loopback() {
        return Err(StagingError::Config(format!(
            "{}: the soak targets loopback only (127.0.0.1 or [::1])",
            target.addr
        )));
    }
    let health = HttpClient::new(target.addr, config.timeout)
        .get("/healthz")
        .await?;
    if !matches!(health.status, 200 | 404) {
        return Err(StagingError::Unhealthy {
            url: format!("http://{}", target.addr),
            status: health.status,
            body: health.text(),
        });
    }
    if let Some(pid) = target.pid {
        proc::read(pid).map_err(|source| StagingError::Proc { pid, source })?;
    }
    Ok(())
}

/// Soaks `target` as `config` says, applying `faults` on the way.
pub async fn run(target: Target, config: &SoakConfig, faults: FaultPlan) -> Result<SoakReport> {
    check(&target, config).await?;
    let start = Instant::now();
    let driven = schedule::drive(0, &target, config, start, faults).await?;
    Ok(SoakReport::new(target, config, driven))
}

/// Soaks every target at once, each at `config`'s rate, from one start
/// (one time axis); the reports come in the targets' order.
pub async fn run_all(targets: Vec<Target>, config: &SoakConfig) -> Result<Vec<SoakReport>> {
    for t in &targets {
        check(t, config).await?;
    }
    // NOTE: a common start a little ahead, so that every target's first
    // request is scheduled at the same instant.
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(targets.len());
    for (i, target) in targets.into_iter().enumerate() {
        let config = config.clone();
        tasks.push(tokio::spawn(async move {
            let driven = schedule::drive(i, &target, &config, start, Vec::new()).await?;
            Ok::<_, StagingError>(SoakReport::new(target, &config, driven))
        }));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await.map_err(StagingError::Task)??);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_and_without_a_name() {
        let t = Target::parse("node=http://127.0.0.1:3000/", Some(7)).unwrap();
        assert_eq!(
            t,
            Target {
                label: "node".into(),
                addr: "127.0.0.1:3000".parse().unwrap(),
                pid: Some(7)
            }
        );
        let t = Target::parse("localhost:8080", None).unwrap();
        assert_eq!(
            (t.label.as_str(), t.addr.port()),
            ("http://127.0.0.1:8080", 8080)
        );
        for bad in [
            "http://example.com:80",
            "10.0.0.1:80",
            "rust=",
            "=127.0.0.1:1",
        ] {
            assert!(Target::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_risky_ids_are_the_services() {
        let ids = risky_ids(1_000);
        assert_eq!(ids.len(), 100);
        assert_eq!(
            ids[..],
            crate::service::ServiceConfig::new(fraudcheck::Variant::Naive, 1_000).risky_ids()
                [..100]
        );
        assert_eq!(risky_ids(5).len(), 5);
    }
}
