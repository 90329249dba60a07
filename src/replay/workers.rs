//! The worker pool: jobs taken in a given order by a fixed number of scoped
//! threads, results returned in the jobs' own order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Runs `job(i)` for every `i` in `order` on `threads` threads (at least
/// one, at most one per job) and returns the results indexed by `i`.
///
/// # Panics
///
/// If `order` is not a permutation of `0..order.len()`, or a job panics.
pub(crate) fn run_all<T: Send>(
    order: &[usize],
    threads: usize,
    job: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let threads = threads.min(order.len()).max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..order.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let out = job(i);
                    results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(out);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_whatever_the_running_order() {
        for threads in [1, 2, 8] {
            assert_eq!(run_all(&[2, 0, 1], threads, |i| i * 10), vec![0, 10, 20]);
        }
    }
}
