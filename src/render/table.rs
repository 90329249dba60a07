//! The plain-text tables of `replay` and `compare`.

use heapmeter::Bytes;

use super::format::{clock_time, count};
use super::text::describe;
use crate::compare::CompareRow;
use crate::replay::{Episodes, ReplayConfig, VariantReport};

/// A plain-text table: the first column left-aligned, the others right.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                out += cell;
                out += &" ".repeat(pad);
            } else {
                out += "  ";
                out += &" ".repeat(pad);
                out += cell;
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = line(&header);
    let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    out += &"─".repeat(total);
    out += "\n";
    for r in rows {
        out += &line(r);
    }
    out
}

fn episodes(e: &Episodes) -> String {
    if e.episodes == 0 {
        "-".to_owned()
    } else {
        format!("{:.1} / {}", e.mean, e.max)
    }
}

/// When the growth alert fired, and how long before the first OOMKill.
fn alert(r: &VariantReport) -> String {
    let Some(at) = r.alert_s else {
        return "-".to_owned();
    };
    let at = clock_time(std::time::Duration::from_secs_f64(at));
    match r.alert_before_oom_min {
        Some(m) if m >= 0.0 => format!("{at} ({m:.1} min before OOM)"),
        Some(m) => format!("{at} ({:.1} min after OOM)", -m),
        None => at,
    }
}

/// The replay's summary table, one row per variant.
pub fn replay_table(config: &ReplayConfig, reports: &[VariantReport]) -> String {
    let header = [
        "variant",
        "requests",
        "allocs/req",
        "bytes/req",
        "peak/pod",
        "OOMKills",
        "first kill",
        "alert",
        "queries",
        "q/miss db",
        "q/miss pod",
        "µs/req",
        "core/pod",
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.variant.to_owned(),
                count(r.requests),
                format!("{:.2}", r.allocs_per_request),
                Bytes(r.bytes_per_request.round()).to_string(),
                Bytes(r.peak_pod_bytes as f64).to_string(),
                count(r.restarts),
                r.first_oom_kill_s.map_or("-".to_owned(), |s| {
                    clock_time(std::time::Duration::from_secs_f64(s))
                }),
                alert(r),
                count(r.store_queries),
                episodes(&r.store_queries_per_expiry),
                episodes(&r.pod_queries_per_expiry),
                format!("{:.2}", r.cpu_us_per_request),
                format!("{:.3}%", r.core_share_per_pod * 100.0),
            ]
        })
        .collect();
    let mut out = format!("heaplab replay: {}\n\n", describe(config));
    out += &table(&header, &rows);
    let errors: u64 = reports.iter().map(|r| r.errors).sum();
    if let (true, Some(first)) = (errors > 0, reports.first()) {
        out += &format!(
            "\n{} requests failed and were decided by the fail policy ({}).\n",
            count(errors),
            first.fail_policy
        );
    }
    out
}

/// The compare table, one row per variant.
pub fn compare_table(rows: &[CompareRow]) -> String {
    let header = [
        "variant",
        "users",
        "allocs/req",
        "bytes/req",
        "retained/req",
        "verdict",
        "ns/req",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.variant.to_owned(),
                count(r.users as u64),
                format!("{:.2}", r.allocs_per_request),
                Bytes(r.bytes_per_request.round()).to_string(),
                Bytes(r.retained_bytes_per_request.round()).to_string(),
                r.verdict.to_owned(),
                count(r.ns_per_request.round() as u64),
            ]
        })
        .collect();
    table(&header, &cells)
}
