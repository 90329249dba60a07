//! At a sampling interval of 1, the live heap by request label is exact:
//! what each labelled future allocated and is still live, whoever frees
//! the rest, whatever runs between its polls.
//!
//! A plain `fn main` (`harness = false`): sampling is process-wide.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use heapmeter::{measure_future, sampling, Label};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();

/// Polls `f` to completion, with `between` run between polls.
fn block_on<F: Future>(f: F, mut between: impl FnMut()) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        between();
    }
}

/// Yields once, so that the future is polled twice.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

fn bytes_of(label: Label) -> f64 {
    sampling::inuse_by_label()
        .iter()
        .find(|l| l.label == label)
        .map_or(0.0, |l| l.bytes)
}

fn main() {
    let leak = Label::new(&[("method", "GET"), ("route", "/items/{id}")]);
    let honest = Label::new(&[("method", "POST"), ("route", "/items/{id}")]);
    assert_ne!(leak, honest);
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(100);
    let mut outside: Vec<Vec<u8>> = Vec::with_capacity(100);

    let session = sampling::start(1).expect("CountingAlloc is installed");
    for i in 0..100 {
        // The leaking request keeps 1,077 bytes; it also churns, and frees
        // a buffer allocated before it (the request head, say).
        let head = black_box(vec![0u8; 300]);
        let (body, _) = block_on(
            measure_future(async move {
                drop(head);
                drop(black_box(vec![0u8; 4096]));
                yield_once().await;
                black_box(vec![i as u8; 1077])
            })
            .with_label(leak),
            // Work between polls is no request's.
            || outside.push(black_box(vec![0u8; 10])),
        );
        kept.push(body);
        // The honest request allocates and frees everything it makes, and
        // runs a nested unlabelled future that keeps nothing.
        block_on(
            measure_future(async {
                let scratch = black_box(vec![0u8; 2000]);
                measure_future(async { drop(black_box(vec![0u8; 64])) }).await;
                drop(scratch);
            })
            .with_label(honest),
            || {},
        );
    }
    let leaked = bytes_of(leak);
    let honest_bytes = bytes_of(honest);
    drop(session);
    assert_eq!(leaked, 100.0 * 1077.0, "the leaking route's live heap");
    assert_eq!(honest_bytes, 0.0, "the honest route keeps nothing");
    assert!(bytes_of(Label::NONE) >= 10.0 * outside.len() as f64);
    sampling::clear();
    println!("live heap by label: {leaked} B for {:?}", leak.pairs());
    drop((kept, outside));
}
