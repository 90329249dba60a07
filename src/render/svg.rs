//! The memory graphs as an SVG file (plotters).

use std::path::Path;

use heapmeter::Bytes;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use heaplab_staging::soak::{HeapMetric, Sample, SoakReport};

use crate::compare::CompareSeries;
use crate::error::{Error, Result};
use crate::replay::{ReplayConfig, VariantReport};

/// Fails with a one-line error when `path` cannot be written (creating it
/// empty): called before minutes of work, and before plotters, which
/// reports a missing directory only when it finishes.
pub fn check_writable(path: &Path) -> Result<()> {
    std::fs::File::create(path)
        .map(drop)
        .map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })
}

/// Writes the memory graphs of every report as one SVG: a panel per
/// variant, a line per pod (the highest memory it reached in each slice of
/// time) and the limit.
pub fn write_svg(path: &Path, config: &ReplayConfig, reports: &[VariantReport]) -> Result<()> {
    check_writable(path)?;
    let plot_err = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let panel_h = 240u32;
    let n = reports.len().max(1);
    let root = SVGBackend::new(path, (960, panel_h * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(&e))?;
    let panels = root.split_evenly((n, 1));
    // Minutes on the time axis for replays under 3 hours, hours above.
    let (unit_s, unit) = match config.duration.as_secs() {
        s if s < 3 * 3600 => (60.0, "minutes"),
        _ => (3600.0, "hours"),
    };
    let end = config.duration.as_secs_f64() / unit_s;
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
        let mut chart = mib_chart(area, caption, unit, end, y_max).map_err(|e| plot_err(&e))?;
        let pods = report.restarts_per_pod.len();
        for pod in 0..pods {
            // Pods of one variant overlap under round robin: one colour.
            let color = RGBColor(31, 119, 180).mix(0.8);
            let series = chart
                .draw_series(LineSeries::new(
                    report
                        .series
                        .iter()
                        .map(|p| (p.t_s / unit_s, mib(p.pod_peak_bytes[pod]))),
                    color.stroke_width(1),
                ))
                .map_err(|e| plot_err(&e))?;
            if pod == 0 {
                series
                    .label(format!("each of the {pods} pods"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            }
        }
        if let Some(at) = report.alert_s {
            // The growth alert's firing time, as a vertical line.
            let h = at / unit_s;
            chart
                .draw_series(LineSeries::new(
                    [(h, 0.0), (h, y_max)],
                    AMBER.stroke_width(2),
                ))
                .map_err(|e| plot_err(&e))?
                .label(format!(
                    "growth alert fires ({})",
                    super::format::clock_time(std::time::Duration::from_secs_f64(at))
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], AMBER));
        }
        let limit = mib(config.limit);
        chart
            .draw_series(LineSeries::new(
                [(0.0, limit), (end, limit)],
                RED.stroke_width(2),
            ))
            .map_err(|e| plot_err(&e))?
            .label("limit")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight).map_err(|e| plot_err(&e))?;
    }
    root.present().map_err(|e| plot_err(&e))?;
    Ok(())
}

/// The growth alert's colour.
const AMBER: RGBColor = RGBColor(230, 140, 0);

/// A chart of MiB over time or requests, as the SVGs draw them.
type TimeChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The series' legend, framed, at `pos`.
fn draw_legend<'a, 'b: 'a>(
    chart: &mut TimeChart<'a, 'b>,
    pos: SeriesLabelPosition,
) -> std::result::Result<(), DrawingAreaErrorKind<std::io::Error>> {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}

/// A chart of MiB against `x_desc` on `area`, captioned, from 0 to
/// `x_max` and `y_max`, with its axes drawn: the frame every SVG here
/// shares.
fn mib_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: String,
    x_desc: &str,
    x_max: f64,
    y_max: f64,
) -> std::result::Result<TimeChart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("MiB")
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(chart)
}

/// One figure of a scrape, in bytes, if it has it.
type Figure = fn(&SoakReport, &Sample) -> Option<f64>;

/// One colour per soaked variant or target, in the order soaked.
const SOAK_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Writes the soaks' memory as one SVG: a panel of the heap (heapmeter's
/// live bytes, or V8's heap for a Node.js target) and one of resident
/// bytes over the soak's time (one axis: targets soaked together share it),
/// a line per variant or target, and a dot where the growth alert fired.
pub fn write_soak_svg(path: &Path, reports: &[SoakReport]) -> Result<()> {
    check_writable(path)?;
    let plot_err = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mib = |b: f64| b / (1024.0 * 1024.0);
    let secs = reports
        .iter()
        .flat_map(|r| r.samples.last())
        .map(|s| s.at_secs)
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(&e))?;
    let panels = root.split_evenly((2, 1));
    let mut heaps: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.heap.map(HeapMetric::name))
        .collect();
    heaps.dedup();
    let heap_title = format!("heap ({})", heaps.join(", "));
    let panel_of: [(&str, Figure); 2] = [
        (&heap_title, |r, s| r.heap.and_then(|h| h.of(s))),
        (
            "resident bytes (VmRSS, or process_resident_memory_bytes)",
            |_, s| s.resident_bytes(),
        ),
    ];
    for (area, (what, value)) in panels.iter().zip(panel_of) {
        let top = reports
            .iter()
            .flat_map(|r| r.samples.iter().filter_map(move |s| value(r, s)))
            .map(mib)
            .fold(1.0, f64::max);
        let caption = match reports.first() {
            Some(r) => format!("soak at {} req/s: {what}, MiB", r.rps),
            None => format!("soak: {what}, MiB"),
        };
        let mut chart =
            mib_chart(area, caption, "seconds", secs, top * 1.1).map_err(|e| plot_err(&e))?;
        for (i, report) in reports.iter().enumerate() {
            let color = SOAK_COLORS[i % SOAK_COLORS.len()];
            // NOTE: the label's head is the variant; the rest (backends,
            // users) is the same for every line.
            let name = report.label.split(" (").next().unwrap_or(&report.label);
            chart
                .draw_series(LineSeries::new(
                    report
                        .samples
                        .iter()
                        .filter_map(|s| value(report, s).map(|v| (s.at_secs, mib(v)))),
                    color.stroke_width(2),
                ))
                .map_err(|e| plot_err(&e))?
                .label(name.to_string())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            let Some((at, rate)) = report.firing else {
                continue;
            };
            // The alert fires at a scrape: mark that scrape on the line.
            let Some((t, v)) = report
                .samples
                .iter()
                .filter(|s| s.at_secs >= at)
                .find_map(|s| value(report, s).map(|v| (s.at_secs, v)))
            else {
                continue;
            };
            chart
                .draw_series([Circle::new((t, mib(v)), 6, AMBER.filled())])
                .map_err(|e| plot_err(&e))?
                .label(format!(
                    "{name}: growth alert fires at {at:.0}s ({:.2} MB/s)",
                    rate / 1e6
                ))
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, AMBER.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft).map_err(|e| plot_err(&e))?;
    }
    root.present().map_err(|e| plot_err(&e))?;
    Ok(())
}

/// Writes `compare --svg`: bytes allocated (top) and bytes left live
/// (bottom) by each variant's warm requests, one line per variant on one
/// scale, so that a leak, churn and a fix look like what they are.
pub fn write_compare_svg(path: &Path, users: usize, series: &[CompareSeries]) -> Result<()> {
    check_writable(path)?;
    let plot_err = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mib = |b: f64| b / (1024.0 * 1024.0);
    let requests = series
        .iter()
        .map(|s| s.allocated.len() - 1)
        .max()
        .unwrap_or(1) as f64;
    let top = series
        .iter()
        .flat_map(|s| s.allocated.iter())
        .map(|&b| mib(b as f64))
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(&e))?;
    let panels = root.split_evenly((2, 1));
    type Values = fn(&CompareSeries) -> Vec<f64>;
    let panel_of: [(&str, Values); 2] = [
        ("bytes allocated", |s| {
            s.allocated.iter().map(|&b| b as f64).collect()
        }),
        ("bytes still live (allocated, not freed)", |s| {
            s.live.iter().map(|&b| b as f64).collect()
        }),
    ];
    for (area, (what, values)) in panels.iter().zip(panel_of) {
        let caption = format!("{what} by the first warm requests, MiB ({users} risky users)");
        let mut chart =
            mib_chart(area, caption, "requests", requests, top * 1.1).map_err(|e| plot_err(&e))?;
        for (i, s) in series.iter().enumerate() {
            let color = SOAK_COLORS[i % SOAK_COLORS.len()];
            // NOTE: a leak and churn allocate alike: each line is drawn
            // narrower than the one before, over it, so both show.
            let width = 2 + 3 * (series.len() - 1 - i) as u32;
            chart
                .draw_series(LineSeries::new(
                    values(s)
                        .into_iter()
                        .enumerate()
                        .map(|(k, v)| (k as f64, mib(v))),
                    color.stroke_width(width),
                ))
                .map_err(|e| plot_err(&e))?
                .label(format!("{} ({})", s.variant, s.verdict))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft).map_err(|e| plot_err(&e))?;
    }
    root.present().map_err(|e| plot_err(&e))?;
    Ok(())
}
