//! `N` 64-byte alloc + free pairs under `CountingAlloc<System>`. Instructions
//! per pair, against `pairs_system`:
//!
//! ```text
//! cargo build --release -p heapmeter --examples
//! for ex in pairs_system pairs_counting; do for n in 1000000 2000000; do
//!   PAIRS=$n valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/$ex 2>&1 | grep 'Collected'
//! done; done   # (I(2M) − I(1M)) / 1M = instructions per pair
//! ```

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[path = "common/pairs.rs"]
mod pairs;

fn main() {
    pairs::run();
}
