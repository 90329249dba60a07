//! heapmeter counting with every operation inside an open
//! `heapmeter::measure` scope: the loop of each thread runs in one scope,
//! so the figures are the cost per operation while a scope is open (one
//! scope's open and close are spread over the whole loop).

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn in_measure(run: &mut dyn FnMut()) {
    let ((), stats) = heapmeter::measure(run);
    std::hint::black_box(stats);
}

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), Some(in_measure))
}
