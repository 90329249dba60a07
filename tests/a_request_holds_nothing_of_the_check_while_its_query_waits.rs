//! `heaplab replay --memory resident` counts a request in flight while its
//! store query waits and books no bytes for it then. That is measured here,
//! not assumed: for every variant, a request that queries the store (the
//! cold start, and again after the TTL) has allocated nothing it still
//! holds at the moment its query starts to wait. The clock the store waits
//! on reads the process's live bytes when the wait begins; a plain `fn
//! main` (`harness = false`), so that this thread is the only one that
//! allocates and the process's live bytes are the request's.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fraudcheck::{build, Clock, Env, Payment, Variant};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

/// Virtual time whose `sleep` (the store's query) notes the live bytes of
/// the process when it begins.
#[derive(Debug, Default)]
struct Probe {
    nanos: AtomicU64,
    waits: AtomicU64,
    live_at_wait: AtomicI64,
}

impl Clock for Probe {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn sleep(&self, d: Duration) {
        // NOTE: no allocation here, so the figure is the caller's.
        self.live_at_wait
            .store(heapmeter::process_totals().net_bytes(), Ordering::SeqCst);
        self.waits.fetch_add(1, Ordering::SeqCst);
        self.nanos.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
}

/// Live bytes the request held when its query began to wait, if it
/// queried.
fn held_while_waiting(probe: &Probe, request: impl FnOnce()) -> Option<i64> {
    let waits = probe.waits.load(Ordering::SeqCst);
    let before = heapmeter::process_totals().net_bytes();
    request();
    (probe.waits.load(Ordering::SeqCst) > waits)
        .then(|| probe.live_at_wait.load(Ordering::SeqCst) - before)
}

fn main() {
    let payment = Payment {
        id: 1,
        user_id: 42,
        amount_cents: 100,
    };
    // NOTE: the refreshing variants read their snapshot through arc_swap,
    // which gives a thread a node of its own the first time it reads one
    // (192 B here, kept by the thread for its life, not by a request).
    // One request of a refreshing variant on a scratch environment takes
    // it before anything is measured; without it, whichever refreshing
    // variant runs first shows those 192 B.
    let scratch = Env::with_clock(10, 7, Arc::new(Probe::default()));
    build(Variant::TtlRefresh, &scratch)
        .is_risky(&payment)
        .expect("answers");

    for variant in Variant::ALL {
        let probe = Arc::new(Probe::default());
        let env = Env::with_clock(1_000, 7, probe.clone());
        env.store.set_latency(Duration::from_millis(200));
        let check = build(variant, &env);
        let mut queried = 0;
        // The cold start, then a request after the TTL (300 s): the key and
        // the refreshed sets have expired.
        for at in [0, 301] {
            probe.nanos.store(at * 1_000_000_000, Ordering::SeqCst);
            let held = held_while_waiting(&probe, || {
                std::hint::black_box(check.is_risky(&payment)).expect("answers");
            });
            if let Some(held) = held {
                assert_eq!(
                    held, 0,
                    "{variant} at {at} s: bytes held while its query waits"
                );
                queried += 1;
            }
        }
        // `shared_set` never refreshes: one query, at the cold start.
        let expected = if variant == Variant::SharedSet { 1 } else { 2 };
        assert_eq!(queried, expected, "{variant}: requests that queried");
        println!("{variant}: {queried} requests queried the store, each holding 0 bytes of the check while it waited");
    }
}
