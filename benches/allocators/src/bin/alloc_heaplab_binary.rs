//! The `heaplab` binary's own allocator: `CountingAlloc<ProfilingSwitch>`
//! built `reentrant`, with the switch off (what `replay` and `compare` pay
//! for `profile` being able to turn dhat on in the same binary). The switch
//! is the CLI's own source file, included as it is.

// NOTE: `turn_on` and `is_on` are what `heaplab profile` uses; this row
// measures the switch off, so they are never called here.
#[allow(dead_code)]
#[path = "../../../../src/alloc.rs"]
mod switch;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<switch::ProfilingSwitch> =
    heapmeter::CountingAlloc::reentrant(switch::ProfilingSwitch::new());

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), None)
}
