//! A measured future whose poll panics: the panic propagates, and the
//! enclosing measured future still counts exactly what the panicking one
//! allocated and freed, with an exact peak.

mod common;

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::pin;

use common::{block_on, yield_now};
use heapmeter::{measure, measure_future};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// A zero-sized panic payload: boxing it allocates nothing, and
/// `resume_unwind` runs no panic hook, so the unwinding's own allocation
/// (the exception object) is the same every time.
struct Boom;

async fn allocate_then_panic() -> Vec<u8> {
    let held = black_box(vec![1u8; 300]);
    yield_now().await;
    drop(black_box(vec![2u8; 50]));
    if black_box(true) {
        resume_unwind(Box::new(Boom));
    }
    held
}

#[test]
fn the_enclosing_future_counts_the_panicking_polls() {
    // What unwinding itself allocates and frees, measured the same way.
    let ((), unwind) = measure(|| {
        let caught = catch_unwind(|| resume_unwind(Box::new(Boom)));
        assert!(black_box(caught).is_err());
    });

    let (caught, outer) = block_on(measure_future(async {
        let mut inner = pin!(measure_future(allocate_then_panic()));
        poll_fn(
            |cx| match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
                Ok(p) => p.map(|_| false),
                Err(payload) => std::task::Poll::Ready(payload.is::<Boom>()),
            },
        )
        .await
    }));
    assert!(caught, "the inner future's panic reached the outer one");

    // 300 held, 50 churned, 300 freed while unwinding, plus the unwinding's
    // own exception object.
    assert_eq!(outer.allocs, 2 + unwind.allocs, "{outer}");
    assert_eq!(outer.deallocs, 2 + unwind.deallocs, "{outer}");
    assert_eq!(outer.bytes_allocated, 350 + unwind.bytes_allocated);
    assert_eq!(outer.net_bytes(), 0, "{outer}");
    assert_eq!(
        outer.peak_bytes,
        350.max(300 + unwind.peak_bytes),
        "{outer}"
    );

    // The thread's peak windows closed: a new scope starts clean.
    let ((), after) = measure(|| drop(black_box(vec![0u8; 64])));
    assert_eq!(after.peak_bytes, 64);
}
