//! Polls one never-ready future N times, bare or inside `measure_future`:
//! run both under callgrind and divide the difference in instructions by N
//! for what the wrapper adds to a poll, a figure that machine load does not
//! move.
//!
//! ```text
//! cargo build --release -p heapmeter --example poll_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/poll_cost bare 1000000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/poll_cost measured 1000000
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// Never ready; a little work per poll so the poll is not folded away.
struct Pending(u64);

impl Future for Pending {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
        self.0 = black_box(self.0).wrapping_add(1);
        Poll::Pending
    }
}

fn run<F: Future>(fut: F, n: u64) {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..n {
        black_box(fut.as_mut().poll(&mut cx).is_pending());
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "measured".into());
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    match mode.as_str() {
        "bare" => run(Pending(0), n),
        "measured" => run(heapmeter::measure_future(Pending(0)), n),
        other => {
            eprintln!("poll_cost: unknown mode {other:?}; use bare or measured");
            std::process::exit(2);
        }
    }
}
