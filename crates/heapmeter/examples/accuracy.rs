//! How close the sampled estimates come to the exact counters, per call
//! site, on a workload with known sites: many 64-byte blocks freed at once
//! (one site), 1 MiB blocks freed at once (another), 4 KiB blocks kept
//! (a third); 1.5 GB allocated in all. Five seeds at the default interval,
//! then one run at interval 1 on a tenth of the work.
//!
//! ```text
//! cargo run --release -p heapmeter --example accuracy
//! ```

use std::hint::black_box;

use heapmeter::{sampling, SampleType, Stats};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[inline(never)]
fn small_blocks(n: u64) {
    for _ in 0..n {
        drop(black_box(Vec::<u8>::with_capacity(64)));
    }
}

#[inline(never)]
fn large_blocks(n: u64) {
    for _ in 0..n {
        drop(black_box(Vec::<u8>::with_capacity(1 << 20)));
    }
}

#[inline(never)]
fn kept_blocks(n: u64, kept: &mut Vec<Vec<u8>>) {
    for _ in 0..n {
        kept.push(black_box(Vec::with_capacity(4096)));
    }
}

fn row(label: &str, estimate: f64, exact: u64) -> f64 {
    let err = (estimate / exact as f64 - 1.0) * 100.0;
    println!("| {label} | {exact} | {estimate:.0} | {err:+.2} % |");
    err
}

/// Runs the workload scaled by `scale` and prints estimate against exact
/// per site; returns the largest absolute error in percent.
fn run(interval: u64, seed: u64, scale: u64) -> f64 {
    let mut kept = Vec::with_capacity(65_536 / scale as usize);
    sampling::clear();
    let session = sampling::start_seeded(interval, seed).expect("installed");
    let ((), small): ((), Stats) = heapmeter::measure(|| small_blocks(8_000_000 / scale));
    let ((), large) = heapmeter::measure(|| large_blocks(1_024 / scale));
    let ((), keep) = heapmeter::measure(|| kept_blocks(65_536 / scale, &mut kept));
    drop(session);
    let p = sampling::profile();
    let total = small.bytes_allocated + large.bytes_allocated + keep.bytes_allocated;
    println!(
        "\ninterval {interval} B, seed {seed}: {total} bytes allocated, {} samples dropped\n",
        p.dropped
    );
    println!("| site, value | exact | estimate | error |\n|---|---:|---:|---:|");
    let alloc = SampleType::AllocSpace;
    let errors = [
        row(
            "64 B blocks, alloc_space",
            p.at_site("small_blocks", alloc),
            small.bytes_allocated,
        ),
        row(
            "1 MiB blocks, alloc_space",
            p.at_site("large_blocks", alloc),
            large.bytes_allocated,
        ),
        row(
            "4 KiB kept, alloc_space",
            p.at_site("kept_blocks", alloc),
            keep.bytes_allocated,
        ),
        row(
            "4 KiB kept, inuse_space",
            p.at_site("kept_blocks", SampleType::InuseSpace),
            keep.net_bytes() as u64,
        ),
        row(
            "64 B blocks, alloc_objects",
            p.at_site("small_blocks", SampleType::AllocObjects),
            small.allocs,
        ),
    ];
    drop(kept);
    errors.iter().fold(0.0f64, |m, e| m.max(e.abs()))
}

fn main() {
    let mut worst = 0.0f64;
    for seed in 1..=5 {
        worst = worst.max(run(sampling::DEFAULT_INTERVAL, seed, 1));
    }
    println!("\nlargest error at the default interval over 5 seeds: {worst:.2} %");
    let exact = run(1, 1, 10);
    println!("\nlargest error at interval 1: {exact:.2} %");
}
