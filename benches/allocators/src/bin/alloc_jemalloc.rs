//! `tikv_jemallocator::Jemalloc`, jemalloc built without its profiler.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    bench_allocators::main(
        |_| {
            // NOTE: cargo unifies features: built in the same invocation as
            // `alloc_jemalloc_prof`, this jemalloc would have its profiler
            // compiled in (and its checks on the hot path). Refuse to run.
            // SAFETY: `config.prof` is a read-only bool in every jemalloc.
            let prof = unsafe { tikv_jemalloc_ctl::raw::read::<bool>(b"config.prof\0") };
            assert_eq!(
                prof,
                Ok(false),
                "alloc_jemalloc was built with the jemalloc-profiling feature: \
                 build it in a cargo invocation of its own (scripts/bench-allocators does)"
            );
        },
        None,
    )
}
