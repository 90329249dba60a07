//! The post-mortem's rule, `rate(heap[5m]) > 1 MB/s for 10m`, on a virtual
//! clock sampled every 15 s (Prometheus' default scrape interval): a leak
//! of 2 MB/s fires exactly 10 minutes after the rule first goes over; 8 MB/s
//! of churn (a sawtooth), a cache that fills then stops, and a flat heap
//! never fire. The monitor's memory stays bounded over a long run.

use std::time::Duration;

use heapmeter::{AlertState, GrowthMonitor, GrowthRule};

const STEP: u64 = 15;
const MB: u64 = 1_000_000;
const BASE: u64 = 200 * MB;

/// Feeds `heap(t)` every 15 s for `secs` seconds; returns the monitor.
fn run(secs: u64, heap: impl Fn(u64) -> u64) -> GrowthMonitor {
    let mut monitor = GrowthMonitor::new(GrowthRule::default());
    for t in (0..=secs).step_by(STEP as usize) {
        monitor.record(Duration::from_secs(t), heap(t));
    }
    monitor
}

#[test]
fn a_two_mb_per_second_leak_fires_ten_minutes_after_going_over() {
    let monitor = run(3600, |t| BASE + 2 * MB * t);
    // One sample gives no rate; the second (t = 15 s) is over; the first
    // sample at least 600 s later is t = 615 s.
    assert_eq!(monitor.first_fired(), Some(Duration::from_secs(615)));
    assert_eq!(
        monitor.state(),
        AlertState::Firing {
            since: Duration::from_secs(15)
        }
    );
    let rate = monitor.rate().expect("rate");
    assert!((rate - 2e6).abs() < 1.0, "{rate}");
    // At 1 h the heap is 7.4 GB: 1 GiB-limited pods would be long dead,
    // and a 10 GB limit is (10 - 7.4) GB / 2 MB/s = 1300 s away.
    let left = monitor.time_to_limit(10_000 * MB).expect("growing");
    assert_eq!(left.as_secs_f64().round(), 1300.0);
}

#[test]
fn a_leak_just_under_the_threshold_never_fires() {
    let monitor = run(3600, |t| BASE + MB * t * 99 / 100);
    assert_eq!(monitor.first_fired(), None);
}

#[test]
fn eight_mb_per_second_of_churn_never_fires() {
    // Rises 8 MB/s, collected back to the base every 20 s.
    let monitor = run(3600, |t| BASE + 8 * MB * (t % 20));
    assert_eq!(monitor.first_fired(), None, "rate {:?}", monitor.rate());
    // Also with a collection period that does not divide the window.
    let monitor = run(3600, |t| BASE + 8 * MB * (t % 47));
    assert_eq!(monitor.first_fired(), None, "rate {:?}", monitor.rate());
}

#[test]
fn a_cache_that_fills_then_stops_never_fires() {
    // Fills 600 MB at 5 MB/s for two minutes, then stays full.
    let monitor = run(3600, |t| BASE + 5 * MB * t.min(120));
    assert_eq!(monitor.first_fired(), None);
    assert_eq!(monitor.state(), AlertState::Inactive);
    assert_eq!(monitor.time_to_limit(2_000 * MB), None, "not growing");
}

#[test]
#[cfg(target_os = "linux")]
fn resident_bytes_are_read_from_proc() {
    let rss = heapmeter::resident_bytes().expect("/proc/self/statm");
    // A test process maps at least its own code: more than a page, less
    // than the machine.
    assert!(rss > 4096 && rss < 1 << 40, "{rss}");
}

#[test]
fn a_flat_heap_never_fires() {
    let monitor = run(3600, |_| BASE);
    assert_eq!(monitor.first_fired(), None);
    assert_eq!(monitor.rate(), Some(0.0));
}

#[test]
fn a_short_rule_fires_on_a_fast_leak_and_resolves_when_it_stops() {
    let rule = GrowthRule::default()
        .window(Duration::from_secs(60))
        .for_duration(Duration::from_secs(120));
    let mut monitor = GrowthMonitor::new(rule);
    let mut states = Vec::new();
    for t in (0..=900).step_by(STEP as usize) {
        // Leaks 3 MB/s for 5 minutes, then stops.
        states.push(monitor.record(Duration::from_secs(t), BASE + 3 * MB * t.min(300)));
    }
    assert_eq!(monitor.first_fired(), Some(Duration::from_secs(135)));
    assert_eq!(
        monitor.state(),
        AlertState::Inactive,
        "resolved after the leak stopped"
    );
    assert!(states.contains(&AlertState::Pending {
        since: Duration::from_secs(15)
    }));
}

#[test]
fn the_window_stays_bounded_however_often_it_is_sampled() {
    let rule = GrowthRule::default().capacity(64);
    let mut monitor = GrowthMonitor::new(rule);
    // One sample per millisecond for an hour: 3.6 million samples.
    for ms in 0..3_600_000u64 {
        monitor.record(Duration::from_millis(ms), BASE + 2 * ms);
    }
    let rate = monitor.rate().expect("rate");
    assert!((rate - 2000.0).abs() < 1e-6, "{rate}");
    assert_eq!(monitor.samples(), 64);
}
