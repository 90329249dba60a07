//! criterion's statistics survive measurements whose every sample is the
//! same exact count, and report that count.

use std::hint::black_box;
use std::path::Path;

use criterion::Criterion;
use heapmeter::criterion::{Allocs, BytesAllocated};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

fn quick<M: criterion::measurement::Measurement>(m: M, dir: &Path) -> Criterion<M> {
    Criterion::default()
        .with_measurement(m)
        .output_directory(dir)
        .sample_size(10)
        .nresamples(1_000)
        .warm_up_time(std::time::Duration::from_millis(50))
        .measurement_time(std::time::Duration::from_millis(200))
        .without_plots()
}

/// The mean point estimate criterion saved for a benchmark.
fn mean(dir: &Path, id: &str) -> f64 {
    let path = dir.join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path).expect("criterion wrote its estimates");
    let v: serde_json::Value = serde_json::from_str(&text).expect("estimates are JSON");
    v["mean"]["point_estimate"].as_f64().expect("a mean")
}

#[test]
fn identical_samples_keep_statistics_working() {
    let dir = std::env::temp_dir().join(format!("heapmeter-criterion-{}", std::process::id()));
    // Three allocations and 4 + 8 + 64 bytes per iteration, every time.
    let work = || {
        let a = black_box(Box::new(0u32));
        let b = black_box(vec![1u64]);
        let c = black_box(String::with_capacity(64));
        (a, b, c)
    };
    for round in 0..2 {
        // The second round compares against the first's baseline: a t-test
        // on two zero-spread samples must not break either.
        let mut c = quick(Allocs, &dir);
        c.bench_function("allocs", |b| b.iter(work));
        c.final_summary();
        let mut c = quick(BytesAllocated, &dir);
        c.bench_function("bytes", |b| b.iter(work));
        c.final_summary();
        assert_eq!(mean(&dir, "allocs"), 3.0, "round {round}");
        assert_eq!(mean(&dir, "bytes"), 76.0, "round {round}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
