//! Profiler overhead with `std::alloc::System` as the global allocator (see
//! `benches/common/overhead.rs` for the workloads).

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

fn main() {
    let mut c = overhead::config();
    overhead::benches(&mut c, "system");
    c.final_summary();
}
