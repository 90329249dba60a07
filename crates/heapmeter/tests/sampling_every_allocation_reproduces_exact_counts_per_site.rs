//! At an interval of 1 every allocation is sampled with weight 1: the
//! profile's estimates per call site equal what the exact counters measured
//! at that site, allocated and in use alike.
//!
//! A plain `fn main` (`harness = false`): sampling is process-wide, and a
//! test harness would allocate beside the work.

use std::hint::black_box;

use heapmeter::{sampling, SampleType, Stats};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

/// 1,000 small boxes, half of them kept.
#[allow(clippy::vec_box)] // the boxes are the allocations under test
#[inline(never)]
fn small_boxes(kept: &mut Vec<Box<[u64; 6]>>) {
    for i in 0..1_000u64 {
        let b = black_box(Box::new([i; 6]));
        if i % 2 == 0 {
            kept.push(b);
        }
    }
}

/// A vector grown by pushing (one allocation and reallocations), kept.
#[inline(never)]
fn grown_vec() -> Vec<u32> {
    let mut v = Vec::new();
    for i in 0..10_000 {
        v.push(black_box(i));
    }
    v
}

/// Three 1 MiB blocks, all freed.
#[inline(never)]
fn big_blocks() {
    for _ in 0..3 {
        drop(black_box(vec![1u8; 1 << 20]));
    }
}

fn check(profile: &heapmeter::Profile, site: &str, exact: &Stats) {
    let alloc_objects = profile.at_site(site, SampleType::AllocObjects);
    let alloc_space = profile.at_site(site, SampleType::AllocSpace);
    let inuse_space = profile.at_site(site, SampleType::InuseSpace);
    let inuse_objects = profile.at_site(site, SampleType::InuseObjects);
    assert_eq!(alloc_objects, exact.allocs as f64, "{site}: {exact}");
    assert_eq!(alloc_space, exact.bytes_allocated as f64, "{site}: {exact}");
    assert_eq!(inuse_space, exact.net_bytes() as f64, "{site}: {exact}");
    assert_eq!(
        inuse_objects,
        (exact.allocs - exact.deallocs) as f64,
        "{site}: {exact}"
    );
}

fn main() {
    let mut kept = Vec::with_capacity(1_000);
    let session = sampling::start(1).expect("CountingAlloc is installed");
    let ((), small) = heapmeter::measure(|| small_boxes(&mut kept));
    let (grown, vec) = heapmeter::measure(grown_vec);
    let ((), big) = heapmeter::measure(big_blocks);
    let profile = sampling::profile();
    drop(session);

    assert_eq!(profile.interval, 1);
    assert_eq!(profile.dropped, 0);
    check(&profile, "small_boxes", &small);
    check(&profile, "grown_vec", &vec);
    check(&profile, "big_blocks", &big);
    assert_eq!(small.allocs, 1_000);
    assert_eq!(vec.allocs, 1);
    assert!(vec.reallocs > 5, "{vec}");
    assert_eq!(big.net_bytes(), 0);

    drop((kept, grown));
    println!("interval 1: profile per site equals the exact counters");
}
