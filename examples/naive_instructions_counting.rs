//! Naive-check requests under `CountingAlloc::system()` (see
//! `examples/naive_instructions/common.rs` for how to count instructions).

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[path = "naive_instructions/common.rs"]
mod common;

fn main() {
    common::run();
}
