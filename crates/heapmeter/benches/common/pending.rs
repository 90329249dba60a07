//! The future whose polls the per-poll cost is measured on (shared by the
//! `measured_future` bench and the `poll_cost` example).

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Never ready; a little work per poll so the optimiser cannot fold the
/// poll away.
pub struct Pending(pub u64);

impl Future for Pending {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
        self.0 = black_box(self.0).wrapping_add(1);
        Poll::Pending
    }
}
