//! Tables, terminal graphs and SVG for the reports.

use std::path::Path;

use heapmeter::Bytes;
use plotters::prelude::*;

use crate::compare::CompareRow;
use crate::error::{Error, Result};
use crate::replay::{Episodes, ReplayConfig, VariantReport};
use crate::units::{clock_time, thousands};

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

/// What each column of the replay table means (also in `replay --help`).
pub const REPLAY_LEGEND: &str = "\
requests      requests replayed for the variant (all pods)
allocs/req    heap allocations per request, mean (exact, counted by heapmeter)
bytes/req     bytes allocated per request, mean (freed or not)
peak/pod      highest memory of any pod: baseline + what the check holds + a request's peak
OOMKills      pods killed for passing the limit and restarted cold (= restarts)
first kill    virtual time (h:mm:ss) of the first OOMKill
queries       queries that reached the risky-user store
q/miss db     store queries per cache-miss episode as the database sees them: mean / max
q/miss pod    the same counted per pod: 1 means each pod asked once (single flight)
µs/req        wall time inside is_risky per request, median
core/pod      share of one core that is_risky takes at one pod's request rate";

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
                thousands(r.requests),
                format!("{:.2}", r.allocs_per_request),
                Bytes(r.bytes_per_request.round()).to_string(),
                Bytes(r.peak_pod_bytes as f64).to_string(),
                thousands(r.restarts),
                r.first_oom_kill_s.map_or("-".to_owned(), |s| {
                    clock_time(std::time::Duration::from_secs_f64(s))
                }),
                thousands(r.store_queries),
                episodes(&r.store_queries_per_expiry),
                episodes(&r.pod_queries_per_expiry),
                format!("{:.2}", r.cpu_us_per_request),
                format!("{:.3}%", r.core_share_per_pod * 100.0),
            ]
        })
        .collect();
    let mut out = format!("heaplab replay: {}\n\n", crate::replay::describe(config));
    out += &table(&header, &rows);
    let errors: u64 = reports.iter().map(|r| r.errors).sum();
    if errors > 0 {
        out += &format!("\n{errors} requests failed and were answered by the fail policy.\n");
    }
    out
}

/// What each column of the compare table means (also in `compare --help`).
pub const COMPARE_LEGEND: &str = "\
allocs/req    heap allocations per warm request, mean
bytes/req     bytes allocated per warm request, mean
retained/req  bytes still allocated after each request, mean (a leak keeps them)
verdict       leak: retained bytes keep growing; churn: allocates but keeps nothing; clean: no allocation
ns/req        wall time per warm request, median of timed batches";

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
                thousands(r.users as u64),
                format!("{:.2}", r.allocs_per_request),
                Bytes(r.bytes_per_request.round()).to_string(),
                Bytes(r.retained_bytes_per_request.round()).to_string(),
                r.verdict.to_owned(),
                thousands(r.ns_per_request.round() as u64),
            ]
        })
        .collect();
    table(&header, &cells)
}

/// The highest pod's memory over time as a terminal line graph in the style
/// of a Grafana panel, with the limit drawn as a dotted line.
///
/// `width` columns of data (each the maximum of the series points it
/// covers) and `height` rows.
pub fn memory_chart(
    config: &ReplayConfig,
    report: &VariantReport,
    width: usize,
    height: usize,
) -> String {
    let width = width.max(8);
    let height = height.max(3);
    let points = &report.series;
    let mut title = format!(
        "{}: highest pod memory (limit {} ┄┄)",
        report.variant,
        Bytes(config.limit as f64)
    );
    if report.restarts > 0 {
        title += &format!(", {} OOMKills", thousands(report.restarts));
    }
    let mut out = title + "\n";
    if points.is_empty() {
        return out;
    }
    // One value per column: the maximum of the points it covers.
    let cols: Vec<u64> = (0..width)
        .map(|c| {
            let a = c * points.len() / width;
            let b = ((c + 1) * points.len() / width)
                .max(a + 1)
                .min(points.len());
            points[a..b]
                .iter()
                .map(|p| p.max_pod_bytes)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let top = cols.iter().copied().max().unwrap_or(0).max(config.limit) as f64;
    let row_of = |v: u64| -> usize {
        ((v as f64 / top) * (height - 1) as f64)
            .round()
            .clamp(0.0, (height - 1) as f64) as usize
    };
    // grid[row][col], row 0 at the bottom.
    let mut grid = vec![vec![' '; width]; height];
    let limit_row = row_of(config.limit);
    for cell in grid[limit_row].iter_mut() {
        *cell = '┄';
    }
    grid[row_of(cols[0])][0] = '─';
    for x in 1..width {
        let (y0, y1) = (row_of(cols[x - 1]), row_of(cols[x]));
        if y0 == y1 {
            grid[y1][x] = '─';
            continue;
        }
        let (lo, hi) = (y0.min(y1), y0.max(y1));
        for row in grid.iter_mut().take(hi).skip(lo + 1) {
            row[x] = '│';
        }
        if y1 > y0 {
            grid[y0][x] = '╯';
            grid[y1][x] = '╭';
        } else {
            grid[y0][x] = '╮';
            grid[y1][x] = '╰';
        }
    }
    let labels: Vec<String> = (0..height)
        .map(|r| Bytes(top * r as f64 / (height - 1) as f64).to_string())
        .collect();
    let lw = labels.iter().map(|l| l.len()).max().unwrap_or(0);
    for r in (0..height).rev() {
        let label = if r % 2 == 0 || r == height - 1 {
            labels[r].as_str()
        } else {
            ""
        };
        out += &format!("{label:>lw$} ┤");
        out.extend(grid[r].iter());
        out += "\n";
    }
    // X axis: ticks at each quarter of the run, labelled with its time
    // (the column nearest to it).
    let ticks = 4;
    let mut axis = format!("{:>lw$} └", "");
    let mut tick_cols = Vec::new();
    for t in 0..=ticks {
        tick_cols.push((t * (width - 1) + ticks / 2) / ticks);
    }
    for x in 0..width {
        axis.push(if tick_cols.contains(&x) { '┬' } else { '─' });
    }
    out += &axis;
    out += "\n";
    let total = config.duration;
    let mut labels_line = " ".repeat(lw + 1);
    for (k, &x) in tick_cols.iter().enumerate() {
        let t = total.mul_f64(k as f64 / ticks as f64);
        let label = clock_time(t);
        // Centred under its tick; the first one starts at the axis.
        let start = if x == 0 {
            lw + 1
        } else {
            (lw + 2 + x).saturating_sub(label.len() / 2)
        };
        let have = labels_line.chars().count();
        if start > have {
            labels_line += &" ".repeat(start - have);
            labels_line += &label;
        } else if x == 0 || start == have {
            labels_line.truncate(start.min(labels_line.len()));
            labels_line += &label;
        }
    }
    out += labels_line.trim_end();
    out += "\n";
    out
}

/// Writes the memory graphs of every report as one SVG: a panel per
/// variant, a line per pod (the highest memory it reached in each slice of
/// time) and the limit.
pub fn write_svg(path: &Path, config: &ReplayConfig, reports: &[VariantReport]) -> Result<()> {
    // plotters reports a missing directory only when it finishes; check
    // first for a clear message.
    std::fs::File::create(path).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })?;
    let plot_err = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let panel_h = 240u32;
    let n = reports.len().max(1);
    let root = SVGBackend::new(path, (960, panel_h * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(&e))?;
    let panels = root.split_evenly((n, 1));
    let hours = config.duration.as_secs_f64() / 3600.0;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    for (area, report) in panels.iter().zip(reports) {
        let top = report
            .series
            .iter()
            .map(|p| p.max_pod_bytes)
            .max()
            .unwrap_or(0)
            .max(config.limit);
        let y_max = mib(top) * 1.1;
        let caption = format!(
            "{}: memory per pod (MiB), limit {}, {} OOMKills",
            report.variant,
            Bytes(config.limit as f64),
            report.restarts
        );
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..hours, 0.0..y_max)
            .map_err(|e| plot_err(&e))?;
        chart
            .configure_mesh()
            .x_desc("hours")
            .y_desc("MiB")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| plot_err(&e))?;
        let pods = report.restarts_per_pod.len();
        for pod in 0..pods {
            // Pods of one variant overlap under round robin: one colour.
            let color = RGBColor(31, 119, 180).mix(0.8);
            let series = chart
                .draw_series(LineSeries::new(
                    report
                        .series
                        .iter()
                        .map(|p| (p.t_s / 3600.0, mib(p.pod_peak_bytes[pod]))),
                    color.stroke_width(1),
                ))
                .map_err(|e| plot_err(&e))?;
            if pod == 0 {
                series
                    .label(format!("each of the {pods} pods"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            }
        }
        let limit = mib(config.limit);
        chart
            .draw_series(LineSeries::new(
                [(0.0, limit), (hours, limit)],
                RED.stroke_width(2),
            ))
            .map_err(|e| plot_err(&e))?
            .label("limit")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_err(&e))?;
    }
    root.present().map_err(|e| plot_err(&e))?;
    Ok(())
}
