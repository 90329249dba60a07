//! heapmeter counting alone: `CountingAlloc<System>`, no scope open, no
//! sampling.

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), None)
}
