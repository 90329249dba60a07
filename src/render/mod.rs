//! Everything the commands print or write: tables, terminal graphs, SVG,
//! JSON and the help text. The commands compute; this module only writes.

mod chart;
pub mod format;
pub mod help;
pub mod json;
mod svg;
mod table;
mod text;

pub use chart::memory_chart;
pub use help::{COMPARE_LEGEND, REPLAY_LEGEND};
pub use svg::{check_writable, write_compare_svg, write_soak_svg, write_svg};
pub use table::{compare_table, replay_table};
pub use text::{compare_title, describe, profile_report, replay_footer, sampled_report};
