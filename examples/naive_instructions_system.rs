//! Naive-check requests under `System` (see
//! `examples/naive_instructions/common.rs` for how to count instructions).

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

#[path = "naive_instructions/common.rs"]
mod common;

fn main() {
    common::run();
}
