//! What `measure_future` adds to one poll: the same never-ready future
//! polled bare and inside a `MeasuredFuture`, one poll per iteration.
//!
//! `cargo bench -p heapmeter --bench measured_future`

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// A future that is never ready and does a little work per poll, so the
/// optimiser cannot fold the poll away.
struct Pending(u64);

impl Future for Pending {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
        self.0 = black_box(self.0).wrapping_add(1);
        Poll::Pending
    }
}

fn per_poll(c: &mut Criterion) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut group = c.benchmark_group("poll");
    group.bench_function("bare", |b| {
        let mut fut = pin!(Pending(0));
        b.iter(|| black_box(fut.as_mut().poll(&mut cx)).is_pending());
    });
    group.bench_function("measured", |b| {
        let mut fut = pin!(heapmeter::measure_future(Pending(0)));
        b.iter(|| black_box(fut.as_mut().poll(&mut cx)).is_pending());
    });
    group.finish();
}

criterion_group!(benches, per_poll);
criterion_main!(benches);
