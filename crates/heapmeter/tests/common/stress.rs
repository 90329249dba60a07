//! The eight-thread stress shared by the process-wide tests.

use std::hint::black_box;
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;

/// A small deterministic generator, so the stress is reproducible.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Eight threads allocate random sizes, grow and shrink blocks, free blocks
/// that other threads allocated, and exit.
#[inline(never)]
pub fn stress() {
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
                                v.resize(size, 1); // a growing or shrinking realloc
                                v.shrink_to_fit();
                            }
                        }
                        2 => drop(mine.pop()),
                        // Hand a buffer to whichever thread takes it next.
                        3 => tx.send(vec![2; size]).expect("receiver alive"),
                        _ => {
                            let taken = rx.lock().expect("no panics").try_recv();
                            drop(black_box(taken)); // freed away from its allocator
                        }
                    }
                }
                // `mine` is freed as the thread exits.
            })
        })
        .collect();
    drop(tx);
    for h in handles {
        h.join().expect("stress thread");
    }
    // Buffers no thread took are freed here, on the main thread.
    let rx = Arc::try_unwrap(rx).expect("threads joined");
    let left = rx.into_inner().expect("no panics").into_iter().count();
    black_box(left);
}
