//! Profiler overhead with `heapmeter::CountingAlloc::system()` as the global
//! allocator and heap sampling on at the default interval (512 KiB, as
//! Go's and jemalloc's profilers): what `heaplab profile` costs the work it
//! profiles (see `benches/common/overhead.rs` for the workloads).

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn main() {
    let _session =
        heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL).expect("installed");
    let mut c = overhead::config();
    overhead::benches(&mut c, "sampling_system");
    c.final_summary();
    let profile = heapmeter::sampling::profile();
    eprintln!(
        "sampling_system: {} stacks sampled, {} samples dropped",
        profile.stacks.len(),
        profile.dropped
    );
}
