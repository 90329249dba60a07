//! Naive-check requests under `CountingAlloc::system()` with sampling on at 512 KiB (see
//! `examples/naive_instructions/common.rs` for how to count instructions).

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[path = "naive_instructions/common.rs"]
mod common;

fn main() {
    let _session =
        heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL).expect("installed");
    common::run();
}
