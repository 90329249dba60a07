//! The lines around the tables: titles, footers, and `profile`'s report.

use std::path::Path;
use std::time::Duration;

use heapmeter::Bytes;

use super::format::{count, human_duration};
use crate::compare::CompareConfig;
use crate::profile::{ProfileConfig, ProfileReport, DH_VIEW};
use crate::replay::ReplayConfig;

/// One line describing the replay, for the table's title.
pub fn describe(config: &ReplayConfig) -> String {
    format!(
        "{} pods, {} req/s round robin, {} simulated ({} requests per variant), limit {} per pod \
         (baseline {}), {} risky users, TTL {}, store latency {}, growth alert over {} MB/s",
        config.pods,
        config.rps,
        human_duration(config.duration),
        count(config.requests()),
        Bytes(config.limit as f64),
        Bytes(config.baseline as f64),
        count(config.users as u64),
        human_duration(config.ttl),
        human_duration(config.store_latency),
        config.alert_rate as f64 / 1e6,
    )
}

/// The replay's last line: requests, wall time, and the SVG if any.
pub fn replay_footer(requests: u64, wall: Duration, svg: Option<&Path>) -> String {
    let mut out = format!(
        "{} requests replayed in {:.1} s wall time",
        count(requests),
        wall.as_secs_f64()
    );
    if let Some(path) = svg {
        out += &format!("; graphs written to {}", path.display());
    }
    out + "\n"
}

/// The compare table's title.
pub fn compare_title(config: &CompareConfig) -> String {
    format!(
        "heaplab compare: {} risky users, {} requests per variant, warm cache\n\n",
        count(config.users as u64),
        count(config.requests)
    )
}

/// What `profile` prints: dhat's totals, per request where it helps.
pub fn profile_report(config: &ProfileConfig, r: &ProfileReport) -> String {
    let b = |n: u64| Bytes(n as f64);
    let per = |n: u64| n as f64 / config.requests as f64;
    let mut out = format!(
        "heaplab profile: {} requests of {} ({} risky users) under dhat\n\n",
        count(config.requests),
        config.variant,
        count(config.users as u64)
    );
    out += &format!(
        "total      {} blocks, {} ({:.2} blocks, {} per request)\n",
        count(r.total_blocks),
        b(r.total_bytes),
        per(r.total_blocks),
        Bytes(per(r.total_bytes).round())
    );
    out += &format!(
        "at peak    {} blocks, {}\n",
        count(r.max_blocks as u64),
        b(r.max_bytes as u64)
    );
    out += &format!(
        "at end     {} blocks, {} still allocated (the check is alive: a leak shows here)\n",
        count(r.curr_blocks as u64),
        b(r.curr_bytes as u64)
    );
    if r.errors > 0 {
        out += &format!("errors     {} requests failed\n", count(r.errors));
    }
    out += &format!(
        "\nprofile written to {}\nopen it in dhat's viewer: {} (Load… the file)\n",
        r.out.display(),
        DH_VIEW
    );
    out
}
