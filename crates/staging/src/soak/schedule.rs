//! The open-loop scheduler of one target: request `i` is sent at
//! `start + i / rps` whatever happened to the ones before, and its latency
//! is measured from that scheduled time, so a slow service shows up as
//! latency instead of as a slower client (no coordinated omission). Beside
//! it, a scraper reads `/metrics` and `/proc/PID/status` every
//! `scrape_every`, and the fault steps run at their times.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::exposition::Figures;
use super::proc;
use super::sample::Sample;
use super::tally::{Ending, Tally};
use super::{FaultPlan, Progress, SoakConfig, Target, Update};
use crate::client::{HttpClient, HttpError};
use crate::{Result, StagingError};

/// What driving one target gave.
#[derive(Debug)]
pub(crate) struct Driven {
    pub tally: Tally,
    /// Latencies of the answered requests, sorted.
    pub latencies: Vec<Duration>,
    pub samples: Vec<Sample>,
    pub faults: Vec<(f64, String)>,
    pub max_in_flight: usize,
    /// From the start to the last answer (or give-up).
    pub elapsed: Duration,
}

/// Counters shared by the scheduler, its requests and its scraper.
#[derive(Debug, Default)]
struct Shared {
    in_flight: AtomicUsize,
    answered: AtomicU64,
}

/// Drives `target` open-loop as `config` says, from `start`, applying
/// `faults` on the way; `index` names it in progress updates.
pub(crate) async fn drive(
    index: usize,
    target: &Target,
    config: &SoakConfig,
    start: Instant,
    faults: FaultPlan,
) -> Result<Driven> {
    let client = HttpClient::new(target.addr, config.timeout);
    let period = Duration::from_secs_f64(1.0 / f64::from(config.rps.max(1)));
    let total = (config.duration.as_secs_f64() * f64::from(config.rps)).round() as u64;
    // NOTE: an in-process service shares this process, and live bytes are
    // process-wide: everything that grows with the number of requests is
    // allocated up front, so the soak's own heap stays flat.
    let mut latencies: Vec<Duration> = Vec::with_capacity(total as usize);
    let (tx, mut rx) = mpsc::channel::<(Ending, Duration)>(config.max_in_flight.max(1));
    let shared = Arc::new(Shared::default());
    let mut tally = Tally {
        scheduled: total,
        ..Tally::default()
    };
    let mut max_in_flight = 0usize;
    let progress = |finished: u64| {
        if let Some(p) = &config.progress {
            p(Update::Finished {
                target: index,
                finished,
                total,
            });
        }
    };

    tokio::time::sleep_until(start.into()).await;
    let (stop, stopped) = watch::channel(false);
    let scraper = tokio::spawn(scrape_until(
        Scraper {
            client: client.clone(),
            pid: target.pid,
            every: config.scrape_every,
            start,
            shared: shared.clone(),
            progress: config.progress.clone(),
            index,
        },
        config.duration,
        stopped,
    ));
    let fault_task = tokio::spawn(run_faults(faults, config.duration, start));

    let mut finished = 0u64;
    let mut i = 0u64;
    while i < total {
        // Collect what finished.
        while let Ok((ending, latency)) = rx.try_recv() {
            record(&mut tally, &mut latencies, ending, latency);
            finished += 1;
            progress(finished);
        }
        let due = start + period.mul_f64(i as f64);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
            continue;
        }
        let user_id = user_for(i, &config.risky_ids);
        let id = i;
        i += 1;
        if shared.in_flight.load(Ordering::Acquire) >= config.max_in_flight {
            tally.not_sent += 1;
            finished += 1;
            progress(finished);
            continue;
        }
        let now_in_flight = shared.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        max_in_flight = max_in_flight.max(now_in_flight);
        let (tx, client, shared) = (tx.clone(), client.clone(), shared.clone());
        tokio::spawn(async move {
            let body = format!(r#"{{"id":{id},"user_id":{user_id},"amount_cents":4200}}"#);
            let ending = match client.post_json("/payments", body.as_bytes()).await {
                Ok(r) => Ending::classify(r.status, &r.body),
                Err(HttpError::Timeout { .. }) => Ending::Timeout,
                Err(_) => Ending::Transport,
            };
            let latency = due.elapsed();
            if ending.answered() {
                shared.answered.fetch_add(1, Ordering::AcqRel);
            }
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            // The receiver lives until every request is in.
            let _ = tx.send((ending, latency)).await;
        });
    }
    drop(tx);
    while let Some((ending, latency)) = rx.recv().await {
        record(&mut tally, &mut latencies, ending, latency);
        finished += 1;
        progress(finished);
    }
    let elapsed = start.elapsed();
    let _ = stop.send(true);
    let mut samples = scraper.await.map_err(StagingError::Task)?;
    // One last scrape, after the last answer.
    samples.push(scrape(&client, target.pid, start, &shared).await);
    let faults = fault_task.await.map_err(StagingError::Task)??;
    latencies.sort_unstable();
    Ok(Driven {
        tally,
        latencies,
        samples,
        faults,
        max_in_flight,
        elapsed,
    })
}

fn record(tally: &mut Tally, latencies: &mut Vec<Duration>, ending: Ending, latency: Duration) {
    tally.count(ending);
    if ending.answered() {
        latencies.push(latency);
    }
}

/// What the scraper of one target needs.
struct Scraper {
    client: HttpClient,
    pid: Option<u32>,
    every: Duration,
    start: Instant,
    shared: Arc<Shared>,
    progress: Option<Progress>,
    index: usize,
}

/// Scrapes every `every` from `start` until told to stop.
async fn scrape_until(
    s: Scraper,
    duration: Duration,
    mut stopped: watch::Receiver<bool>,
) -> Vec<Sample> {
    // NOTE: room for the whole soak and its drain, allocated up front.
    let expected = (duration.as_secs_f64() / s.every.as_secs_f64()) as usize + 16;
    let mut samples = Vec::with_capacity(expected);
    let mut next = s.start;
    loop {
        let sample = scrape(&s.client, s.pid, s.start, &s.shared).await;
        if let Some(p) = &s.progress {
            p(Update::Scraped {
                target: s.index,
                sample: &sample,
            });
        }
        samples.push(sample);
        next += s.every;
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            _ = stopped.changed() => return samples,
        }
    }
}

/// One scrape: `/metrics` (if the target answers it) and `/proc/PID/status`
/// (if the soak has the pid), stamped with the time and the answers so far.
async fn scrape(client: &HttpClient, pid: Option<u32>, start: Instant, shared: &Shared) -> Sample {
    let figures = match client.get("/metrics").await {
        Ok(r) if r.status == 200 => Figures::read(&r.text()),
        _ => Figures::default(),
    };
    Sample {
        at_secs: start.elapsed().as_secs_f64(),
        answered: shared.answered.load(Ordering::Acquire),
        figures,
        resident: pid.and_then(|pid| proc::read(pid).ok()),
    }
}

/// Runs each fault step at its fraction of `duration` after `start`, each
/// on a blocking thread (starting and stopping servers blocks); returns
/// what ran and when.
async fn run_faults(
    mut faults: FaultPlan,
    duration: Duration,
    start: Instant,
) -> Result<Vec<(f64, String)>> {
    faults.sort_by(|a, b| a.at.total_cmp(&b.at));
    let mut log = Vec::with_capacity(faults.len());
    for step in faults {
        tokio::time::sleep_until((start + duration.mul_f64(step.at.clamp(0.0, 1.0))).into()).await;
        let at = start.elapsed().as_secs_f64();
        let (step, done) = tokio::task::spawn_blocking(move || {
            let mut step = step;
            let done = (step.action)();
            (step, done)
        })
        .await
        .map_err(StagingError::Blocking)?;
        done?;
        log.push((at, step.what));
    }
    Ok(log)
}

/// The user request `i` pays as: every tenth one of `risky` in turn (ids a
/// list holds: `"risky":true`), the others an id below the data's 12-digit
/// range, on no list.
pub(crate) fn user_for(i: u64, risky: &[u64]) -> u64 {
    if !risky.is_empty() && i.is_multiple_of(10) {
        return risky[(i / 10) as usize % risky.len()];
    }
    1 + i.wrapping_mul(2_654_435_761) % 99_999_999_999
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_in_ten_pays_as_a_risky_user_and_the_others_as_nobody() {
        let risky = fraudcheck::data::risky_user_ids(100, 7);
        let users: Vec<u64> = (0..1_000).map(|i| user_for(i, &risky)).collect();
        let on_list = users.iter().filter(|u| risky.contains(u)).count();
        assert_eq!(on_list, 100);
        assert!(users
            .iter()
            .filter(|u| !risky.contains(u))
            .all(|&u| u < 100_000_000_000));
        assert!((0..50)
            .map(|i| user_for(i, &[]))
            .all(|u| u < 100_000_000_000));
    }
}
