//! heapmeter counting around jemalloc: `CountingAlloc<Jemalloc>` (compare
//! it with the `jemalloc` row).

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<tikv_jemallocator::Jemalloc> =
    heapmeter::CountingAlloc::new(tikv_jemallocator::Jemalloc);

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), None)
}
