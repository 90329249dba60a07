#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();
#[path = "common/pairs.rs"]
mod pairs;
fn main() {
    let _s = std::env::var_os("SAMPLE")
        .is_some()
        .then(|| heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL).unwrap());
    let ((), s) = heapmeter::measure(pairs::run);
    assert!(s.allocs > 0 && s.peak_bytes == 64);
}
