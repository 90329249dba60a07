//! `stats_alloc`: four shared atomic counters (allocations, deallocations,
//! reallocations and their bytes) around `System`, installed as its README
//! shows (`&INSTRUMENTED_SYSTEM`).

#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), None)
}
