//! The memory graphs as an SVG file (plotters).

use std::path::Path;

use heapmeter::Bytes;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::replay::{ReplayConfig, VariantReport};

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
        if let Some(at) = report.alert_s {
            // The growth alert's firing time, as a vertical line.
            let h = at / 3600.0;
            let amber = RGBColor(230, 140, 0);
            chart
                .draw_series(LineSeries::new(
                    [(h, 0.0), (h, y_max)],
                    amber.stroke_width(2),
                ))
                .map_err(|e| plot_err(&e))?
                .label(format!(
                    "growth alert fires ({})",
                    super::format::clock_time(std::time::Duration::from_secs_f64(at))
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], amber));
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
