//! heapmeter counting with every operation inside a polled
//! `heapmeter::measure_future`: each thread's loop is the body of one
//! future, polled once with a no-op waker (it completes in that poll), as a
//! request future is polled by its runtime. The figures are the cost per
//! operation inside a poll of a measured future.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn in_measure_future(run: &mut dyn FnMut()) {
    let mut future = pin!(heapmeter::measure_future(async { run() }));
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(((), stats)) => {
            std::hint::black_box(stats);
        }
        Poll::Pending => unreachable!("the loop's future never waits"),
    }
}

fn main() -> std::process::ExitCode {
    bench_allocators::main(|_| (), Some(in_measure_future))
}
