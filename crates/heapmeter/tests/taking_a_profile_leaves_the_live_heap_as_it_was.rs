//! Taking a profile symbolises its stacks, which reads the binary's debug
//! info into the heap (tens of megabytes with line tables): a profiler that
//! kept it would raise the very live bytes it reports, and a heap-growth
//! alert would fire from taking a profile. With nothing else running, the
//! live heap after the first profile (and after the next ones) is within
//! 1 MiB of what it was before.

use std::hint::black_box;

use heapmeter::{process_totals, sampling, SampleType};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

const MIB: i64 = 1 << 20;

#[inline(never)]
fn kept_blocks() -> Vec<Vec<u8>> {
    (0..64).map(|i| black_box(vec![i as u8; 4096])).collect()
}

fn main() {
    let session = sampling::start_seeded(16 * 1024, 7).expect("CountingAlloc is installed");
    let kept = kept_blocks();
    let live_before = process_totals().net_bytes();
    let mut peaks = Vec::new();
    for round in 1..=3 {
        let ((), during) = heapmeter::measure(|| {
            let profile = sampling::profile();
            assert!(
                profile.total(SampleType::InuseSpace) > 0.0,
                "round {round}: the kept blocks are sampled"
            );
            let sites: Vec<String> = profile.stacks.iter().map(|s| s.site_name()).collect();
            assert!(
                sites.iter().any(|s| s.contains("kept_blocks")),
                "round {round}: the stacks are symbolised: {sites:#?}"
            );
        });
        let live_after = process_totals().net_bytes();
        let moved = live_after - live_before;
        println!(
            "profile {round}: live bytes {live_before} before, {live_after} after ({moved:+} B); \
             {} B at the peak of symbolising",
            during.peak_bytes
        );
        assert!(
            moved.abs() < MIB,
            "profile {round} left {moved:+} bytes of live heap (at most 1 MiB either way)"
        );
        peaks.push(during.peak_bytes);
    }
    drop(session);
    drop(kept);
    // The debug info was read (a profile symbolises through it): what is
    // freed is not nothing.
    assert!(peaks[0] > 1 << 16, "symbolising allocates: {peaks:?}");
}
