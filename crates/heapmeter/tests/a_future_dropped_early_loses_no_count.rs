//! A measured future dropped before it completes (a timeout, a `select!`
//! that another branch won, a client that went away): what it allocated,
//! and the frees its drop makes, are counted by the enclosing measurement.

mod common;

use std::hint::black_box;
use std::pin::pin;

use common::{block_on, poll_once, yield_now};
use heapmeter::{measure_future, Stats};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

async fn never_finishes() {
    let _held = black_box(vec![1u8; 400]);
    drop(black_box(vec![2u8; 100]));
    loop {
        yield_now().await;
    }
}

#[test]
fn the_enclosing_future_counts_the_dropped_ones_work_and_drop() {
    let (seen, outer) = block_on(measure_future(async {
        let seen = {
            let mut inner = pin!(measure_future(never_finishes()));
            assert!(poll_once(inner.as_mut()).is_pending());
            yield_now().await;
            assert!(poll_once(inner.as_mut()).is_pending());
            inner.stats()
            // dropped here, inside the outer future's poll: frees 400
        };
        yield_now().await;
        seen
    }));
    assert_eq!((seen.allocs, seen.deallocs, seen.net_bytes()), (2, 1, 400));
    assert_eq!(seen.peak_bytes, 500);
    // What the inner one saw, and then its drop: one free of 400 bytes.
    let mut drop_of_inner = Stats::default();
    drop_of_inner.deallocs = 1;
    drop_of_inner.bytes_deallocated = 400;
    assert_eq!(outer, seen + drop_of_inner);
    assert_eq!((outer.net_bytes(), outer.peak_bytes), (0, 500));
}
