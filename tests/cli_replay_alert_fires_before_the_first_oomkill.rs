//! The replay evaluates the post-mortem's growth alert on each pod's memory
//! (sampled every 15 s of virtual time): on the leak it fires ten minutes
//! after going over, well before the first OOMKill; on a fix it never
//! fires; and with a threshold above the leak's rate it stays silent.

mod common;

use serde_json::Value;

fn replay(alert_rate: &str) -> Vec<Value> {
    common::heaplab_json([
        "replay",
        "--json",
        "--variant",
        "retained_listener,shared_set",
        "--duration",
        "1h",
        "--rps",
        "10",
        "--users",
        "100",
        "--limit",
        "6MiB",
        "--baseline",
        "1MiB",
        "--alert-rate",
        alert_rate,
    ])
}

#[test]
fn the_alert_fires_on_the_leak_before_it_is_killed_and_never_on_the_fix() {
    let reports = replay("1KB");
    let leak = common::row(&reports, "retained_listener");
    // Over from the second sample (15 s), for 10 minutes: fires at 615 s.
    assert_eq!(leak["alert_s"].as_f64(), Some(615.0), "{}", leak["alert_s"]);
    let kill = leak["first_oom_kill_s"]
        .as_f64()
        .expect("the leak is killed");
    assert!(kill > 615.0, "killed at {kill} s");
    let before = leak["alert_before_oom_min"]
        .as_f64()
        .expect("both happened");
    assert!((before - (kill - 615.0) / 60.0).abs() < 1e-9, "{before}");

    let fix = common::row(&reports, "shared_set");
    assert!(fix["alert_s"].is_null(), "{}", fix["alert_s"]);
    assert!(fix["alert_before_oom_min"].is_null());
}

#[test]
fn a_threshold_above_the_leaks_rate_never_fires() {
    // The leak grows about 3 KB/s per pod here: 1 MB/s is far above it.
    let reports = replay("1MB");
    let leak = common::row(&reports, "retained_listener");
    assert!(leak["alert_s"].is_null(), "{}", leak["alert_s"]);
    assert!(leak["first_oom_kill_s"].as_f64().is_some());
}
