//! With a fixed seed, the same single-threaded work takes the same samples:
//! two runs give the same profile, stack for stack.
//!
//! A plain `fn main` (`harness = false`): sampling is process-wide.

use std::hint::black_box;

use heapmeter::{sampling, Profile};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[inline(never)]
fn work(kept: &mut Vec<Vec<u8>>) {
    for i in 0..20_000usize {
        let v = black_box(vec![0u8; 16 + i % 2_000]);
        if i % 10 == 0 {
            kept.push(v);
        }
    }
}

/// (site, samples, allocated, in use) per stack, in a stable order.
fn summary(p: &Profile) -> Vec<(String, u64, u64, u64)> {
    let mut rows: Vec<_> = p
        .stacks
        .iter()
        .map(|s| {
            (
                s.site_name(),
                s.samples,
                s.alloc_space.round() as u64,
                s.inuse_space.round() as u64,
            )
        })
        .collect();
    rows.sort();
    rows
}

fn run() -> Vec<(String, u64, u64, u64)> {
    let mut kept = Vec::with_capacity(2_000);
    sampling::clear();
    let session = sampling::start_seeded(8 * 1024, 42).expect("installed");
    work(&mut kept);
    drop(session);
    let profile = sampling::profile();
    drop(kept);
    summary(&profile)
}

fn main() {
    let first = run();
    let second = run();
    let samples: u64 = first.iter().map(|r| r.1).sum();
    assert!(samples > 100, "{first:?}");
    assert_eq!(first, second);
    println!("fixed seed: {samples} samples, identical twice");
}
