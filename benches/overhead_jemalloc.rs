//! Profiler overhead with `tikv_jemallocator::Jemalloc` as the global allocator (see
//! `benches/common/overhead.rs` for the workloads).

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let mut c = overhead::config();
    overhead::benches(&mut c, "jemalloc");
    c.final_summary();
}
