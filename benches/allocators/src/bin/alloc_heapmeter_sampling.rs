//! heapmeter with sampling armed: `CountingAlloc<System>` and
//! `heapmeter::sampling::start(DEFAULT_INTERVAL)` (512 KiB) for the whole
//! run; interval 1 (every allocation) for the `sample` workload.
//! `scripts/bench-allocators` runs it twice: as built, and built with
//! `-C force-frame-pointers=yes`.

use bench_allocators::Sampling;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

/// Returns what `sampling::start` returns: `bench_allocators::main` keeps it in a
/// `let _session` for the whole run, so a session guard that stops
/// sampling when dropped lives exactly as long as the measurement.
fn start(sampling: Sampling) -> impl Sized {
    let interval = match sampling {
        Sampling::Table => heapmeter::sampling::DEFAULT_INTERVAL,
        Sampling::EveryAllocation => 1,
    };
    heapmeter::sampling::start(interval).expect("CountingAlloc is the global allocator")
}

fn main() -> std::process::ExitCode {
    bench_allocators::main(start, None)
}
