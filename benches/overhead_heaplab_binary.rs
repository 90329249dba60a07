//! Profiler overhead with the `heaplab` binary's own global allocator,
//! `CountingAlloc<ProfilingSwitch>` with the switch off (see
//! `heaplab::alloc`): what `replay` and `compare` pay for `profile` being
//! able to turn dhat on in the same binary. Compare with `counting_system`.

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<heaplab::alloc::ProfilingSwitch> =
    heapmeter::CountingAlloc::reentrant(heaplab::alloc::ProfilingSwitch::new());

fn main() {
    let mut c = overhead::config();
    overhead::benches(&mut c, "heaplab_binary");
    c.final_summary();
}
