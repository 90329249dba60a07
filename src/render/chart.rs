//! The memory graph drawn in the terminal.

use heapmeter::Bytes;

use std::time::Duration;

use super::format::{clock_time, count};
use crate::replay::{MemoryModel, ReplayConfig, VariantReport};

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
        title += &format!(", {} OOMKills", count(report.restarts));
    }
    if config.memory == MemoryModel::Resident {
        title += &format!(
            "; requests in flight on a pod: at most {}, {} lost in OOMKills; the longest took {}",
            count(report.peak_in_flight),
            count(report.lost_in_kills),
            clock_time(Duration::from_secs_f64(report.longest_request_s))
        );
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
