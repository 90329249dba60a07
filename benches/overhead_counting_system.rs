//! Profiler overhead with `heapmeter::CountingAlloc<std::alloc::System>` as the global allocator (see
//! `benches/common/overhead.rs` for the workloads).

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

fn main() {
    let mut c = overhead::config();
    overhead::benches(&mut c, "counting_system");
    c.final_summary();
}
