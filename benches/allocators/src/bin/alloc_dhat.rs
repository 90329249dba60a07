//! dhat's heap profiler: `dhat::Alloc` with a `dhat::Profiler` running in
//! heap mode for the whole run. It records every allocation with its
//! backtrace (there is no sampling to configure). `testing()` only keeps it
//! from writing `dhat-heap.json` when it stops; the work per allocation is
//! the heap profiler's.

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| dhat::Profiler::builder().testing().build(), None)
}
