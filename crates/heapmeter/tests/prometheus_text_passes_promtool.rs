//! The metrics text names every contracted metric, holds exactly what was
//! recorded, and passes `promtool check metrics` (skipped, loudly, when
//! promtool is not installed).

#[macro_use]
mod common;

use heapmeter::prometheus::Metrics;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[test]
fn metrics_text_holds_what_was_recorded_and_passes_promtool() {
    let metrics = Metrics::new();
    let kept: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let (v, stats) = heapmeter::measure(|| {
                drop(std::hint::black_box(vec![0u8; 1000]));
                std::hint::black_box(vec![1u8; 100 * (i + 1)])
            });
            metrics.record("POST", "/payments", &stats);
            v
        })
        .collect();
    let ((), freeing) = heapmeter::measure(|| drop(std::hint::black_box(vec![0u8; 10])));
    metrics.record("GET", "/healthz", &freeing);
    let text = metrics.render();

    for name in [
        "heapmeter_live_bytes",
        "heapmeter_allocations_total",
        "heapmeter_deallocations_total",
        "heapmeter_allocated_bytes_total",
        "heapmeter_deallocated_bytes_total",
        "process_resident_memory_bytes",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} missing from:\n{text}"
        );
    }
    for line in [
        "heapmeter_requests_total{method=\"POST\",route=\"/payments\"} 3",
        "heapmeter_request_allocations_count{method=\"POST\",route=\"/payments\"} 3",
        "heapmeter_request_allocations_sum{method=\"POST\",route=\"/payments\"} 6.0",
        // 3 × 1000 churned + 100 + 200 + 300 kept.
        "heapmeter_request_allocated_bytes_sum{method=\"POST\",route=\"/payments\"} 3600.0",
        "heapmeter_requests_total{method=\"GET\",route=\"/healthz\"} 1",
        // Sampling is off: the interval reads 0, the live heap by route is
        // not reported.
        "heapmeter_sampling_interval_bytes 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("heapmeter_route_inuse_bytes"), "{text}");
    assert!(
        !text.contains("heapmeter_request_retained"),
        "no floored retained-bytes figure: {text}"
    );
    drop(kept);

    match common::promtool::check(&text) {
        None => {
            skipped!("SKIPPED: promtool not found (apt-get install prometheus); text not linted")
        }
        Some((ok, said)) => assert!(ok, "promtool check metrics failed:\n{said}\n{text}"),
    }
}
