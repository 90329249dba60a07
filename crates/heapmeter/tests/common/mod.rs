//! Pieces the tests share: the async helpers, promtool, and the eight-thread stress.

#![allow(dead_code, unused_imports)] // each test file uses its own subset

pub mod http;
pub mod promtool;
mod stress;

pub use stress::stress;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives the worker back once, waking the task at once so that it goes to
/// the back of the run queue, where an idle worker may steal it.
///
/// NOTE: not `tokio::task::yield_now`: that one hands the waker to a
/// per-worker `Vec<Waker>` that the runtime grows now and then, *during*
/// the yielding future's poll, so `measure_future` rightly counts that
/// growth against whichever future happened to cause it. The counts here
/// must be the futures' own, so the yield must allocate nothing.
pub fn yield_now() -> impl Future<Output = ()> {
    YieldNow(false)
}

struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Polls `fut` once with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(std::task::Waker::noop()))
}

/// Runs `fut` to completion on the calling thread, polling it again at once
/// whenever it is pending (the futures here wake themselves): no runtime,
/// so nothing but the future allocates.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = poll_once(fut.as_mut()) {
            return v;
        }
    }
}

/// Says that a test skipped, on the real standard error: the test harness
/// hides what `eprintln!` prints in a test that passes, and a skip must be
/// seen.
#[allow(unused_macros)] // only the tests that need a server or tool use it
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
