//! The loop of the `naive_instructions_*` examples: `REQUESTS` (default
//! 1,000) warm requests of the naive check at 1,000 risky users, so that an
//! instruction count under callgrind, differenced between two values of
//! `REQUESTS`, is the cost of one request under each global allocator:
//!
//! ```text
//! cargo build --release --examples
//! for ex in naive_instructions_system naive_instructions_counting naive_instructions_sampling; do
//!   for n in 1000 2000; do
//!     REQUESTS=$n valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!       target/release/examples/$ex 2>&1 | grep Collected
//!   done
//! done
//! ```

use std::hint::black_box;

use fraudcheck::{build, data, Env, Variant};

pub fn run() {
    let requests: usize = std::env::var("REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let env = Env::new(1_000, 7);
    let check = build(Variant::Naive, &env);
    let payments = data::payments(1_024, 11, &env.store.active_ids(), 0.1);
    check.is_risky(&payments[0]).expect("warm-up");
    for i in 0..requests {
        black_box(
            check
                .is_risky(black_box(&payments[i % payments.len()]))
                .expect("request"),
        );
    }
}
