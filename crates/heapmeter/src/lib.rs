//! heapmeter (work in progress)
mod alloc;
mod scope;
mod stats;

pub use alloc::CountingAlloc;
pub use scope::{measure, measure_process, per_op, process_totals, PerOp};
pub use stats::{Bytes, Stats};
