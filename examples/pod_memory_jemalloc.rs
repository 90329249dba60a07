//! Resident memory against live bytes on jemalloc: see
//! `examples/pod_memory/mod.rs` and the chapter "What killed the pods".
//!
//! ```text
//! cargo run --release --example pod_memory_jemalloc -- churn --users 100000 --threads 4
//! cargo run --release --example pod_memory_jemalloc -- inflight --users 100000 --rps 25 --hold-ms 2000
//! ```

mod pod_memory;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<tikv_jemallocator::Jemalloc> =
    heapmeter::CountingAlloc::new(tikv_jemallocator::Jemalloc);

fn main() {
    pod_memory::main(pod_memory::Allocator {
        name: "jemalloc",
        resident: || heapmeter::jemalloc::stats().ok().map(|s| s.resident),
    });
}
