//! The replay's clock: virtual time, and each pod's pool of connections to
//! the store.
//!
//! The store is the only thing in a check that waits: it calls
//! [`Clock::sleep`] with its latency. Here that sleep is a query on one of
//! the current pod's connections: it starts when the connection that frees
//! first is free (at once, unless all of them are busy), holds it for the
//! latency, and answers when it ends. A pod's requests are replayed in
//! arrival order, so the queue is first come, first served, as a
//! connection pool's is.
//!
//! ```text
//!   pod p, 2 connections, latency L      request arrives   query starts      answer = end
//!   conn 0 ─[ a ]────[ c ]──             a: t              t                 t + L
//!   conn 1 ───[ b ]────────             b: t + 1          t + 1             t + 1 + L
//!                                       c: t + 2          t + L (conn 0)    t + 2L
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use fraudcheck::Clock;

/// Virtual time, set to each request's arrival, and the pods' connection
/// pools, which queue the store queries.
#[derive(Debug)]
pub(crate) struct PoolClock {
    nanos: AtomicU64,
    /// The pod whose request is being replayed.
    pod: AtomicUsize,
    /// When each connection of each pod is next free.
    free_at: Mutex<Vec<Vec<Duration>>>,
    /// When the current request's last query answered, in nanoseconds;
    /// [`NONE`] before its first.
    answered: AtomicU64,
}

impl PoolClock {
    /// A clock at zero, and `connections` idle connections for each of
    /// `pods` pods.
    pub(crate) fn new(pods: usize, connections: usize) -> PoolClock {
        PoolClock {
            nanos: AtomicU64::new(0),
            pod: AtomicUsize::new(0),
            free_at: Mutex::new(vec![vec![Duration::ZERO; connections.max(1)]; pods]),
            answered: AtomicU64::new(NONE),
        }
    }

    /// The request of pod `pod` that arrives at `t` begins: the clock is
    /// set (back) to `t`.
    pub(crate) fn begin(&self, pod: usize, t: Duration) {
        self.set(t);
        self.pod.store(pod, Ordering::SeqCst);
        self.answered.store(NONE, Ordering::SeqCst);
    }

    /// When the current request's last store query answered; `None` if it
    /// made none.
    pub(crate) fn answered(&self) -> Option<Duration> {
        match self.answered.load(Ordering::SeqCst) {
            NONE => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// Pod `pod` was OOMKilled and restarted: its new process opens new
    /// connections, idle from `t`.
    pub(crate) fn reset_pod(&self, pod: usize, t: Duration) {
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        for c in &mut free_at[pod] {
            *c = t;
        }
    }

    fn set(&self, t: Duration) {
        self.nanos.store(nanos(t), Ordering::SeqCst);
    }
}

impl Clock for PoolClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    /// A store query of `latency` on the current pod's first free
    /// connection: the clock moves to its answer.
    fn sleep(&self, latency: Duration) {
        let now = self.now();
        let end = {
            let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
            let pool = &mut free_at[self.pod.load(Ordering::SeqCst)];
            let first = pool
                .iter_mut()
                .min()
                .expect("a pool has at least one connection");
            let end = now.max(*first) + latency;
            *first = end;
            end
        };
        self.set(end);
        self.answered.store(nanos(end), Ordering::SeqCst);
    }
}

/// `answered` before the request's first query.
const NONE: u64 = u64::MAX;

/// A duration as whole nanoseconds, saturating below [`NONE`].
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).map_or(NONE - 1, |n| n.min(NONE - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// The query of a request of `pod` arriving at `t`: (answer, clock after).
    fn query(
        clock: &PoolClock,
        pod: usize,
        t: Duration,
        latency: Duration,
    ) -> (Duration, Duration) {
        clock.begin(pod, t);
        assert_eq!(clock.answered(), None);
        clock.sleep(latency);
        (clock.answered().expect("answered"), clock.now())
    }

    #[test]
    fn a_query_waits_for_the_connection_that_frees_first() {
        let clock = PoolClock::new(1, 2);
        let l = 100 * MS;
        assert_eq!(query(&clock, 0, Duration::ZERO, l).0, 100 * MS);
        assert_eq!(query(&clock, 0, 10 * MS, l).0, 110 * MS);
        // Both busy: the third waits for the first to free at 100 ms.
        assert_eq!(query(&clock, 0, 20 * MS, l), (200 * MS, 200 * MS));
        // A free connection serves at once.
        assert_eq!(query(&clock, 0, 500 * MS, l).0, 600 * MS);
    }

    #[test]
    fn each_pod_has_its_own_pool_and_a_restart_empties_it() {
        let clock = PoolClock::new(2, 1);
        let l = 100 * MS;
        assert_eq!(query(&clock, 0, Duration::ZERO, l).0, 100 * MS);
        assert_eq!(query(&clock, 1, Duration::ZERO, l).0, 100 * MS);
        assert_eq!(query(&clock, 0, Duration::ZERO, l).0, 200 * MS);
        clock.reset_pod(0, 50 * MS);
        assert_eq!(query(&clock, 0, 50 * MS, l).0, 150 * MS);
    }
}
