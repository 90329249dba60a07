//! `--json` output, through serde.

use serde::Serialize;

use crate::compare::CompareRow;
use crate::replay::{ReplayConfig, VariantReport};

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
    store_connections: u32,
}

/// The replay's reports as a pretty JSON array, one object per variant,
/// with a final newline.
pub fn replay(config: &ReplayConfig, reports: &[VariantReport]) -> serde_json::Result<String> {
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
            store_connections: config.store_connections,
        })
        .collect();
    pretty(&json)
}

/// The compare rows as a pretty JSON array, with a final newline.
pub fn compare(rows: &[CompareRow]) -> serde_json::Result<String> {
    pretty(rows)
}

fn pretty(value: &(impl Serialize + ?Sized)) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(|text| text + "\n")
}
