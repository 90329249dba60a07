//! 128 measured futures run at once on a 4-worker tokio runtime, each with
//! its own allocation pattern spread over yield points so that they move
//! between workers, each keeping a known part of what it allocates. Every
//! future's `Stats` equal its pattern's exactly, while unmeasured tasks and
//! a plain thread allocate and free at the same time.
//!
//! Halfway through, every future waits at a gate that a plain thread opens
//! once all have arrived: woken from outside the runtime, they are handed
//! out again through the runtime's shared queue, so many resume on another
//! worker than the one they paused on.

mod common;

use std::cell::Cell;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::sync::Notify;

use common::yield_now;
use heapmeter::Stats;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

const FUTURES: u64 = 128;
const WORKERS: usize = 4;

static NEXT_WORKER: AtomicU32 = AtomicU32::new(0);
thread_local! {
    /// Which runtime thread this is, as a bit (reading it never allocates).
    static WORKER_BIT: Cell<u32> = const { Cell::new(0) };
}

/// The pattern of future `i`: per round, a churn block, a vector that grows
/// by one realloc, and one kept block.
struct Pattern {
    rounds: u64,
    churn: u64,
    grow: u64,
    keep: u64,
}

impl Pattern {
    fn of(i: u64) -> Pattern {
        Pattern {
            rounds: 3 + i % 5,
            churn: 1000 + 7 * i,
            grow: 64 * (i % 7 + 1),
            keep: 8 * (i + 1),
        }
    }

    fn keep_of(&self, round: u64) -> u64 {
        self.keep + round
    }

    /// What `work` must report, derived from the pattern alone.
    fn expected(&self) -> Stats {
        let mut s = Stats::default();
        let list = 16 * self.rounds; // Vec<Box<[u8]>>::with_capacity(rounds)
        let mut net = list;
        let mut peak = list;
        let mut allocated = list;
        let mut freed = 0;
        for r in 0..self.rounds {
            peak = peak.max(net + self.churn).max(net + 2 * self.grow);
            net += self.keep_of(r);
            peak = peak.max(net);
            allocated += self.churn + 2 * self.grow + self.keep_of(r);
            freed += self.churn + 2 * self.grow;
        }
        s.allocs = 1 + 3 * self.rounds;
        s.reallocs = self.rounds;
        s.deallocs = 2 * self.rounds;
        s.bytes_allocated = allocated;
        s.bytes_deallocated = freed;
        s.peak_bytes = peak;
        s
    }
}

/// Where every future waits halfway, and how many have arrived there.
struct Gate {
    open: Notify,
    arrived: AtomicU64,
}

/// Future `i`'s work; returns what it keeps and the workers it ran on.
async fn work(i: u64, gate: Arc<Gate>) -> (Vec<Box<[u8]>>, u32) {
    let p = Pattern::of(i);
    let mut workers = WORKER_BIT.with(Cell::get);
    let mut kept: Vec<Box<[u8]>> = Vec::with_capacity(p.rounds as usize);
    for r in 0..p.rounds {
        drop(black_box(vec![1u8; p.churn as usize]));
        yield_now().await;
        workers |= WORKER_BIT.with(Cell::get);
        let mut v: Vec<u8> = black_box(Vec::with_capacity(p.grow as usize));
        v.reserve_exact(2 * p.grow as usize); // one growing realloc
        drop(black_box(v));
        yield_now().await;
        workers |= WORKER_BIT.with(Cell::get);
        kept.push(black_box(vec![2u8; p.keep_of(r) as usize]).into_boxed_slice());
        if r == 1 {
            let mut opened = pin!(gate.open.notified());
            opened.as_mut().enable(); // registered before it is counted
            gate.arrived.fetch_add(1, Relaxed);
            opened.await;
            workers |= WORKER_BIT.with(Cell::get);
        }
    }
    drop(gate); // the test keeps a reference too: this frees nothing
    (kept, workers)
}

#[test]
fn every_future_counts_exactly_its_own_allocations() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .on_thread_start(|| {
            let n = NEXT_WORKER.fetch_add(1, Relaxed);
            WORKER_BIT.with(|b| b.set(1 << (n % 32)));
        })
        .build()
        .expect("runtime");
    // NOTE: which futures move is up to the scheduler (on a loaded machine
    // one worker may drain the whole queue); every run checks exactness,
    // and runs repeat until one has seen futures move between workers.
    for run in 1..=20 {
        let migrated = run_once(&rt);
        eprintln!("run {run}: {migrated} of {FUTURES} futures were polled on more than one worker");
        if migrated > 0 {
            return;
        }
    }
    panic!("in 20 runs no future moved between workers");
}

/// One run of the scenario; returns how many futures moved between workers.
fn run_once(rt: &tokio::runtime::Runtime) -> usize {
    let stop = Arc::new(AtomicBool::new(false));

    // A plain thread and unmeasured tasks allocate all along.
    let noise = Arc::new(AtomicU64::new(0));
    let noisy_thread = {
        let (stop, noise) = (Arc::clone(&stop), Arc::clone(&noise));
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                drop(black_box(vec![0u8; 3000]));
                noise.fetch_add(1, Relaxed);
            }
        })
    };
    while noise.load(Relaxed) == 0 {
        std::thread::yield_now(); // the plain thread is allocating
    }
    let noisy_tasks: Vec<_> = (0..8)
        .map(|t| {
            let stop = Arc::clone(&stop);
            rt.spawn(async move {
                let mut held = Vec::new();
                while !stop.load(Relaxed) {
                    held.push(black_box(vec![t as u8; 500]));
                    if held.len() > 50 {
                        held.clear();
                    }
                    yield_now().await;
                }
            })
        })
        .collect();

    let gate = Arc::new(Gate {
        open: Notify::new(),
        arrived: AtomicU64::new(0),
    });
    let gatekeeper = {
        let gate = Arc::clone(&gate);
        std::thread::spawn(move || {
            while gate.arrived.load(Relaxed) < FUTURES {
                std::thread::yield_now();
            }
            gate.open.notify_waiters();
        })
    };

    let results = rt.block_on(async {
        let handles: Vec<_> = (0..FUTURES)
            .map(|i| tokio::spawn(heapmeter::measure_future(work(i, Arc::clone(&gate)))))
            .collect();
        let mut results = Vec::with_capacity(handles.len());
        for h in handles {
            results.push(h.await.expect("measured task"));
        }
        results
    });
    stop.store(true, Relaxed);
    gatekeeper.join().expect("gatekeeper");
    for t in noisy_tasks {
        rt.block_on(t).expect("noisy task");
    }
    noisy_thread.join().expect("noisy thread");

    let mut migrated = 0;
    for (i, ((kept, workers), stats)) in results.into_iter().enumerate() {
        let p = Pattern::of(i as u64);
        assert_eq!(stats, p.expected(), "future {i}");
        let kept_bytes: usize = kept.iter().map(|b| b.len()).sum();
        assert_eq!(
            stats.net_bytes(),
            (16 * p.rounds) as i64 + kept_bytes as i64
        );
        migrated += usize::from(workers.count_ones() > 1);
    }
    migrated
}
