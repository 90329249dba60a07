//! `N` 64-byte alloc + free pairs under `CountingAlloc<System>` with
//! sampling on at the default interval (512 KiB): the armed path, which
//! samples about once per 8,000 pairs. Run as `pairs_counting.rs` says.

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[path = "common/pairs.rs"]
mod pairs;

fn main() {
    let _session =
        heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL).expect("installed");
    pairs::run();
}
