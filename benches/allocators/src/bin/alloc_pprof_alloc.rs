//! pprof-alloc's wrapper sampler around `System`: one sample per 512 KiB on
//! average (`DEFAULT_PPROF_SAMPLE_RATE`, Go's rate), stacks by its
//! frame-pointer walk (its default `frame-pointer` feature), so it is built
//! with `-C force-frame-pointers=yes` as its README asks
//! (`scripts/bench-allocators` does). The rate comes from
//! `PPROF_ALLOC_SAMPLE_RATE` when set, which is how the `sample` workload
//! gets every allocation (`1`); the wrapper's coarse counters
//! (`with_stats`) stay off: this row is its profiler alone.

use bench_allocators::Sampling;

#[global_allocator]
static GLOBAL: pprof_alloc::PprofAlloc = pprof_alloc::PprofAlloc::new()
    .with_pprof_sample_rate_from_env(pprof_alloc::DEFAULT_PPROF_SAMPLE_RATE);

/// pprof-alloc reads its rate once, at the process's first allocation:
/// only the environment can set it, so the binary checks that it was set
/// as the workload needs.
fn start(sampling: Sampling) {
    let rate = std::env::var("PPROF_ALLOC_SAMPLE_RATE").ok();
    let expected = match sampling {
        Sampling::Table => None,
        Sampling::EveryAllocation => Some("1"),
    };
    assert_eq!(
        rate.as_deref(),
        expected,
        "PPROF_ALLOC_SAMPLE_RATE must be unset for the table's rows and 1 for `sample`"
    );
    assert_eq!(
        pprof_alloc::capture_mode(),
        pprof_alloc::CaptureMode::FramePointer,
        "pprof-alloc without its frame-pointer walk"
    );
}

fn main() -> std::process::ExitCode {
    bench_allocators::main(start, None)
}
