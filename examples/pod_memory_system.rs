//! Resident memory against live bytes on glibc's malloc (`System`): see
//! `examples/pod_memory/mod.rs` and the chapter "What killed the pods".
//!
//! ```text
//! cargo run --release --example pod_memory_system -- churn --users 100000 --threads 4
//! MALLOC_ARENA_MAX=1 cargo run --release --example pod_memory_system -- churn --threads 16
//! cargo run --release --example pod_memory_system -- inflight --users 100000 --rps 25 --hold-ms 2000
//! cargo run --release --example pod_memory_system -- leak --users 10000 --cap-mib 1024
//! ```

mod pod_memory;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

fn main() {
    pod_memory::main(pod_memory::Allocator {
        name: "glibc malloc",
        // NOTE: glibc has no cheap, thread-safe "resident" figure of its
        // own (mallinfo2 walks every arena under its locks): RSS stands.
        resident: || None,
    });
}
