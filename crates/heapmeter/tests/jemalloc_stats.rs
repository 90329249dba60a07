//! `CountingAlloc<Jemalloc>` counts exactly, and jemalloc's statistics see
//! the same memory, rounded up to its size classes and pages.

use std::hint::black_box;

use heapmeter::jemalloc::{stats, Jemalloc};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<Jemalloc> = heapmeter::CountingAlloc::new(Jemalloc);

#[test]
fn counting_over_jemalloc_is_exact() {
    let ((), s) = heapmeter::measure(|| drop(black_box(vec![0u8; 100])));
    assert_eq!((s.allocs, s.deallocs, s.bytes_allocated), (1, 1, 100));
}

#[test]
fn jemalloc_sees_a_large_block() {
    let before = stats().expect("jemalloc statistics");
    let kept = black_box(vec![7u8; 8 << 20]);
    let during = stats().expect("jemalloc statistics");
    // Other tests run beside this one, so only lower bounds are exact.
    assert!(during.allocated >= before.allocated.saturating_sub(1 << 20) + (7 << 20));
    // The block was written, so its pages are resident whatever the other
    // tests do: a statistic read from the wrong counter would not be.
    assert!(during.resident >= 8 << 20, "{during:?}");
    assert!(during.active >= 8 << 20, "{during:?}");
    assert!(during.mapped >= during.active);
    assert!(during.metadata > 0);
    drop(kept);
}
