//! What `measure_future` adds to one poll: the same never-ready future
//! polled bare and inside a `MeasuredFuture`, one poll per iteration.
//!
//! `cargo bench -p heapmeter --bench measured_future`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Waker};

use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[path = "common/pending.rs"]
mod pending;
use pending::Pending;

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
