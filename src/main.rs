//! `heaplab`: replay, compare and profile the fraud-check memory incident.
//! Everything but the global allocator lives in the library (`heaplab::cli`).

use heaplab::alloc::ProfilingSwitch;
use heapmeter::CountingAlloc;

/// Counts every allocation (heapmeter's per-thread, exact counters) and
/// forwards it to the system allocator, or to dhat's once `heaplab profile`
/// turns the switch on (see `heaplab::alloc`). `reentrant`: dhat allocates
/// through the global allocator while it records a block, and those
/// allocations are its own, not the program's.
#[global_allocator]
static GLOBAL: CountingAlloc<ProfilingSwitch> = CountingAlloc::reentrant(ProfilingSwitch::new());

fn main() -> std::process::ExitCode {
    heaplab::cli::main()
}
