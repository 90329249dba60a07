//! The lines around the tables: titles, footers, and `profile`'s report.

use std::path::Path;
use std::time::Duration;

use heapmeter::Bytes;

use super::format::{count, human_duration};
use crate::compare::CompareConfig;
use crate::profile::{Format, ProfileConfig, ProfileReport, SampledReport, DH_VIEW};
use crate::replay::ReplayConfig;

/// One line describing the replay, for the table's title.
pub fn describe(config: &ReplayConfig) -> String {
    format!(
        "{} pods, {} req/s round robin, {} simulated ({} requests per variant), limit {} per pod \
         (baseline {}), {} risky users, TTL {}, store latency {} ({} connections per pod), growth alert over {} MB/s, \
         memory {}",
        config.pods,
        config.rps,
        human_duration(config.duration),
        count(config.requests()),
        Bytes(config.limit as f64),
        Bytes(config.baseline as f64),
        count(config.users as u64),
        human_duration(config.ttl),
        human_duration(config.store_latency),
        config.store_connections,
        config.alert_rate as f64 / 1e6,
        config.memory.name(),
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

/// What `profile` prints for the sampler: estimates beside the exact
/// counts, the top sites, and how to open the file.
pub fn sampled_report(config: &ProfileConfig, r: &SampledReport) -> String {
    use heapmeter::SampleType::{AllocSpace, InuseSpace};
    let p = &r.profile;
    let mut out = format!(
        "heaplab profile: {} requests of {} ({} risky users), sampled every {} on average\n\n",
        count(config.requests),
        config.variant,
        count(config.users as u64),
        Bytes(config.rate as f64)
    );
    out += &format!("{:<12}{:>14}{:>18}\n", "", "estimated", "exact (counters)");
    out += &format!(
        "{:<12}{:>14}{:>18}\n",
        "allocated",
        Bytes(p.alloc_space().round()).to_string(),
        Bytes(r.exact.bytes_allocated as f64).to_string()
    );
    out += &format!(
        "{:<12}{:>14}{:>18}\n",
        "in use",
        Bytes(p.inuse_space().round().max(0.0)).to_string(),
        Bytes(r.exact.net_bytes().max(0) as f64).to_string()
    );
    // The estimate against the exact live bytes since sampling started,
    // when the profile carries them.
    if let Some(line) = p.inuse_agreement() {
        out += &format!("{line}\n");
    }
    for (title, kind) in [("in use", InuseSpace), ("allocated", AllocSpace)] {
        out += &format!("\ntop sites by bytes {title}:\n");
        let sites = p.sites(kind);
        if sites.is_empty() {
            out += "  (none sampled)\n";
        }
        for site in sites.iter().take(5) {
            out += &format!(
                "  {:>10}  {}\n",
                Bytes(site.value.round()).to_string(),
                site.site
            );
        }
    }
    if r.errors > 0 {
        out += &format!("\nerrors     {} requests failed\n", count(r.errors));
    }
    let how = match r.format {
        Format::Pprof => "go tool pprof -top",
        Format::Dhat => "dhat's viewer (https://nnethercote.github.io/dh_view/dh_view.html):",
        Format::Folded => "any flamegraph tool:",
        Format::Flamegraph => "a browser:",
    };
    out += &format!(
        "\nprofile written to {}\nopen it with {how} {}\n",
        r.out.display(),
        r.out.display()
    );
    out
}
