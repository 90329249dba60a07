//! Profiler overhead with `heapmeter::CountingAlloc<tikv_jemallocator::Jemalloc>` as the global allocator (see
//! `benches/common/overhead.rs` for the workloads).

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<tikv_jemallocator::Jemalloc> =
    heapmeter::CountingAlloc::new(tikv_jemallocator::Jemalloc);

fn main() {
    let mut c = overhead::config();
    overhead::benches(&mut c, "counting_jemalloc");
    c.final_summary();
}
