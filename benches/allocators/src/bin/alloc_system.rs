//! The baseline: `std::alloc::System` (glibc's malloc here).

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), None)
}
