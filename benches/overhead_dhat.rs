//! Profiler overhead with `dhat::Alloc` as the global allocator and dhat's
//! heap profiler running (see `benches/common/overhead.rs` for the
//! workloads). The profiler runs in testing mode so that it writes no file.

#[path = "common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut c = overhead::config();
    overhead::benches(&mut c, "dhat");
    c.final_summary();
}
