//! A profile's in-use total agrees with the exact live bytes allocated
//! since sampling started (`sampling::live_bytes_since_start`): to the
//! byte when every allocation is sampled, within sampling error at a
//! larger interval, with churn, growth and frees along the way.
//!
//! A plain `fn main` (`harness = false`): sampling and the live bytes are
//! process-wide, and no harness thread allocates beside the work.

use std::hint::black_box;

use heapmeter::sampling;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();

/// Keeps `n` blocks of 64 to 1,063 bytes in a vector grown by push (so
/// the vector itself is reallocated), churning a block per kept one.
fn keep(n: usize) -> Vec<Vec<u8>> {
    let mut kept = Vec::new();
    for i in 0..n {
        drop(black_box(vec![0u8; 4096]));
        kept.push(black_box(vec![i as u8; 64 + i * 7 % 1000]));
    }
    kept
}

/// The profile's in-use estimate and the exact figure, read together.
fn both() -> (f64, i64) {
    // NOTE: read before the profile: building it allocates (paused, and
    // freed before it returns).
    let exact = sampling::live_bytes_since_start();
    (sampling::profile().inuse_space(), exact)
}

fn main() {
    // The first profile sets up what symbolising keeps for the process's
    // life (made while sampling is paused, so never sampled): take it
    // before the sessions measured below, and see that it is small.
    let kept = {
        let _session = sampling::start(1).expect("CountingAlloc is installed");
        let block = black_box(vec![0u8; 100]);
        drop(sampling::profile());
        drop(block);
        sampling::live_bytes_since_start()
    };
    // NOTE: printed once sampling is off: stdout's buffer, allocated by the
    // first print, is then no sample that outlives its session.
    println!("the first profile keeps {kept} B");
    assert!(
        (0..1 << 20).contains(&kept),
        "the first profile keeps {kept} B"
    );

    // Every allocation sampled: the same figure, to the byte.
    let session = sampling::start(1).expect("CountingAlloc is installed");
    let mut kept = keep(2_000);
    let (estimate, exact) = both();
    assert!(exact > 1_000_000, "{exact}");
    assert_eq!(
        estimate,
        exact as f64,
        "interval 1, {} blocks kept",
        kept.len()
    );
    // Half of them freed: both fall by the same bytes.
    kept.truncate(1_000);
    kept.shrink_to_fit();
    let (estimate, exact) = both();
    assert_eq!(estimate, exact as f64, "interval 1, after frees");
    drop(kept);
    drop(session);

    // At 16 KiB, a fixed seed: about 11 MB kept is about 700 samples, a
    // standard error near 4 %; 15 % is more than three of them.
    let session = sampling::start_seeded(16 * 1024, 7).expect("no session running");
    let kept = keep(20_000);
    let (estimate, exact) = both();
    let ratio = estimate / exact as f64;
    println!("interval 16 KiB: estimated {estimate:.0} B in use, exact {exact} B live since start ({:.1} %)", 100.0 * ratio);
    assert!((0.85..=1.15).contains(&ratio), "{estimate} against {exact}");
    drop(kept);
    drop(session);
}
