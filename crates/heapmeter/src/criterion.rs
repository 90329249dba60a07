//! criterion measurements that report allocations, or bytes allocated, per
//! iteration instead of time (feature `criterion`).
//!
//! criterion runs the measured routine on the calling thread, so the counts
//! are the routine's own, even with other threads busy. Counts are exact:
//! when every iteration allocates the same, every sample is identical, and
//! criterion's statistics still work (zero spread, the exact mean; this is
//! tested).
//!
//! NOTE: criterion rejects a measurement of **zero** ("took zero time per
//! iteration") and skips its analysis. A routine that allocates nothing
//! belongs in a budget test ([`Budget`](crate::Budget) with `max_allocs(0)`),
//! which says so exactly.
//!
//! ```no_run
//! use criterion::Criterion;
//! use heapmeter::criterion::Allocs;
//!
//! #[global_allocator]
//! static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//!     heapmeter::CountingAlloc::new(std::alloc::System);
//!
//! fn bench(c: &mut Criterion<Allocs>) {
//!     c.bench_function("to_string", |b| b.iter(|| 42u64.to_string()));
//! }
//!
//! // In a bench target with `harness = false`; `criterion_group!` takes the
//! // same `config = Criterion::default().with_measurement(Allocs)`.
//! fn main() {
//!     let mut c = Criterion::default().with_measurement(Allocs).configure_from_args();
//!     bench(&mut c);
//!     c.final_summary();
//! }
//! ```

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

use crate::scope::thread_totals;
use crate::Stats;

/// Allocations (`alloc` and `alloc_zeroed` calls) per iteration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Allocs;

/// Bytes allocated per iteration (a growing `realloc` adds its growth).
#[derive(Clone, Copy, Debug, Default)]
pub struct BytesAllocated;

/// A criterion measurement of one field of the calling thread's [`Stats`]:
/// the difference between its totals at the start and at the end.
macro_rules! stats_measurement {
    ($ty:ty, $field:ident, $formatter:expr) => {
        impl Measurement for $ty {
            type Intermediate = Stats;
            type Value = u64;

            fn start(&self) -> Stats {
                thread_totals()
            }
            fn end(&self, start: Stats) -> u64 {
                thread_totals().since(&start).$field
            }
            fn add(&self, a: &u64, b: &u64) -> u64 {
                a + b
            }
            fn zero(&self) -> u64 {
                0
            }
            fn to_f64(&self, v: &u64) -> f64 {
                *v as f64
            }
            fn formatter(&self) -> &dyn ValueFormatter {
                &$formatter
            }
        }
    };
}

stats_measurement!(Allocs, allocs, CountFormatter);
stats_measurement!(BytesAllocated, bytes_allocated, BytesFormatter);

/// Plain counts: `allocs`, with no scaling (they are small and exact).
struct CountFormatter;

impl ValueFormatter for CountFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "allocs"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        per_element(t, values, "allocs/elem", "allocs/byte")
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "allocs"
    }
}

/// Bytes with a binary unit chosen from the typical value.
struct BytesFormatter;

impl ValueFormatter for BytesFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = match typical.abs() {
            t if t < 1024.0 => (1.0, "B"),
            t if t < 1024.0 * 1024.0 => (1024.0, "KiB"),
            t if t < 1024.0 * 1024.0 * 1024.0 => (1024.0 * 1024.0, "MiB"),
            _ => (1024.0 * 1024.0 * 1024.0, "GiB"),
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        per_element(t, values, "B/elem", "B/byte")
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "B"
    }
}

/// Divides per-iteration values by the throughput's elements or bytes.
fn per_element(
    t: &Throughput,
    values: &mut [f64],
    elem: &'static str,
    byte: &'static str,
) -> &'static str {
    let (n, unit) = match *t {
        Throughput::Elements(n) => (n, elem),
        Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n, byte),
    };
    values.iter_mut().for_each(|v| *v /= n.max(1) as f64);
    unit
}
