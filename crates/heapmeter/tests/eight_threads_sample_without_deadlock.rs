//! Eight threads allocate, grow, shrink and free blocks, some freed by
//! other threads, with sampling on at a small interval: nothing deadlocks,
//! the live samples of the work return to zero once everything is freed,
//! and the exact counters still balance.
//!
//! A plain `fn main` (`harness = false`): process-wide figures.

use std::hint::black_box;
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;

use heapmeter::{sampling, SampleType};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[inline(never)]
fn stress() {
    let barrier = Arc::new(Barrier::new(8));
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let rx = Arc::new(Mutex::new(rx));
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let (tx, rx, barrier) = (tx.clone(), Arc::clone(&rx), Arc::clone(&barrier));
            thread::spawn(move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15 ^ (t + 1);
                let mut mine: Vec<Vec<u8>> = Vec::new();
                barrier.wait();
                for _ in 0..5_000 {
                    let r = xorshift(&mut rng);
                    let size = (r >> 8) as usize % 9_000;
                    match r % 5 {
                        0 => mine.push(vec![0; size]),
                        1 => {
                            if let Some(v) = mine.last_mut() {
                                v.resize(size, 1);
                                v.shrink_to_fit();
                            }
                        }
                        2 => drop(mine.pop()),
                        3 => tx.send(vec![2; size]).expect("receiver alive"),
                        _ => {
                            let taken = rx.lock().expect("no panics").try_recv();
                            drop(black_box(taken));
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
    for h in handles {
        h.join().expect("stress thread");
    }
    let rx = Arc::try_unwrap(rx).expect("threads joined");
    black_box(rx.into_inner().expect("no panics").into_iter().count());
}

fn main() {
    stress(); // one-time allocations of thread and channel machinery
    sampling::clear();
    sampling::start_seeded(4 * 1024, 1).expect("installed");
    let ((), inside) = heapmeter::measure_process(stress);
    sampling::stop();
    let profile = sampling::profile();

    let sampled: u64 = profile.stacks.iter().map(|s| s.samples).sum();
    assert!(sampled > 1_000, "only {sampled} samples");
    // Everything the work allocated is freed: its in-use estimate is zero.
    let live_in_work: f64 = profile
        .stacks
        .iter()
        .filter(|s| s.frames.iter().any(|f| f.function.contains("stress")))
        .map(|s| s.value(SampleType::InuseSpace))
        .sum();
    assert_eq!(live_in_work, 0.0);
    assert_eq!(profile.dropped, 0);
    // The counters still balance exactly.
    assert_eq!(inside.net_bytes(), 0, "{inside}");
    assert_eq!(inside.allocs, inside.deallocs, "{inside}");
    println!(
        "8 threads: {sampled} samples, {} live samples left, counters balance ({inside})",
        profile.live_samples
    );
}
