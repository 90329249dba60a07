//! An outer measured future includes its inner ones, sequential or
//! interleaved, and a `measure` around the whole includes them all.

mod common;

use std::hint::black_box;
use std::task::Poll;

use common::{block_on, yield_now};
use heapmeter::{measure, measure_future, Stats};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// Keeps `keep` bytes, and churns `churn` bytes across a yield.
async fn step(keep: usize, churn: usize) -> Vec<u8> {
    let kept = black_box(vec![1u8; keep]);
    yield_now().await;
    drop(black_box(vec![2u8; churn]));
    kept
}

#[test]
fn outer_equals_its_own_work_followed_by_each_inner_future() {
    let ((own, a, b), outer) = block_on(measure_future(async {
        let own = black_box(vec![0u8; 100]);
        let a = measure_future(step(200, 1000)).await;
        yield_now().await;
        let b = measure_future(step(30, 50)).await;
        (own, a, b)
    }));
    let ((_, a), (_, b)) = (a, b);
    assert_eq!((a.allocs, a.deallocs, a.bytes_allocated), (2, 1, 1200));
    assert_eq!((a.net_bytes(), a.peak_bytes), (200, 1200));
    assert_eq!((b.net_bytes(), b.peak_bytes), (30, 80));
    let own_part = measure(|| black_box(vec![0u8; 100])).1;
    assert_eq!(outer, own_part + a + b);
    assert_eq!(outer.peak_bytes, 100 + 1200);
    drop(own);
}

#[test]
fn outer_includes_inner_futures_polled_in_turn() {
    let ((x, y), outer) = block_on(measure_future(async {
        // Polled alternately inside the outer future's polls.
        let mut left = std::pin::pin!(measure_future(step(64, 512)));
        let mut right = std::pin::pin!(measure_future(step(16, 256)));
        let (mut x, mut y) = (None, None);
        while x.is_none() || y.is_none() {
            if x.is_none() {
                if let Poll::Ready(v) = common::poll_once(left.as_mut()) {
                    x = Some(v);
                }
            }
            if y.is_none() {
                if let Poll::Ready(v) = common::poll_once(right.as_mut()) {
                    y = Some(v);
                }
            }
            yield_now().await;
        }
        (x.unwrap(), y.unwrap())
    }));
    let ((_, x), (_, y)) = (x, y);
    assert_eq!(
        (x.bytes_allocated, x.net_bytes(), x.peak_bytes),
        (576, 64, 576)
    );
    assert_eq!(
        (y.bytes_allocated, y.net_bytes(), y.peak_bytes),
        (272, 16, 272)
    );
    // Counts add whatever the interleaving; the outer peak saw both kept
    // blocks live while the larger churn ran.
    let counts = |s: Stats| (s.allocs, s.deallocs, s.bytes_allocated, s.bytes_deallocated);
    assert_eq!(counts(outer), counts(x + y));
    assert_eq!(outer.peak_bytes, 64 + 16 + 512);
}

#[test]
fn measure_around_block_on_includes_the_measured_future() {
    let ((kept, inner), whole) = measure(|| block_on(measure_future(step(40, 400))));
    assert_eq!(whole, inner);
    assert_eq!(
        (inner.allocs, inner.net_bytes(), inner.peak_bytes),
        (2, 40, 440)
    );
    drop(kept);
}
