//! A short replay with a small limit: `retained_listener` is OOMKilled and
//! restarted again and again, while every fix runs with zero restarts and
//! flat memory.

mod common;

use fraudcheck::Variant;
use serde_json::Value;

#[test]
fn the_leak_is_oomkilled_on_every_pod_while_the_fixes_stay_flat() {
    let reports = common::heaplab_json([
        "replay",
        "--json",
        "--duration",
        "30m",
        "--rps",
        "10",
        "--users",
        "100",
        "--limit",
        "2MiB",
        "--baseline",
        "1MiB",
    ]);
    assert_eq!(reports.len(), Variant::ALL.len());
    let get = |name: &str| common::row(&reports, name);

    let leak = get("retained_listener");
    // Round robin: every pod leaks at the same rate, so every pod is
    // killed, and as often as the others.
    let per_pod: Vec<u64> = leak["restarts_per_pod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    assert_eq!(per_pod.len(), 4);
    assert!(per_pod[0] > 0, "{per_pod:?}");
    assert!(per_pod.iter().all(|&r| r == per_pod[0]), "{per_pod:?}");
    assert_eq!(leak["restarts"].as_u64(), Some(per_pod.iter().sum()));
    assert!(leak["first_oom_kill_s"].as_f64().unwrap() > 0.0);
    assert!(leak["freed_on_kill_bytes"].as_u64().unwrap() > 0);
    let limit = leak["limit_bytes"].as_u64().unwrap();
    assert!(leak["peak_pod_bytes"].as_u64().unwrap() > limit);
    // After each kill the pod starts over: it ends below the limit.
    for end in leak["end_pod_bytes"].as_array().unwrap() {
        assert!(end.as_u64().unwrap() <= limit);
    }

    for name in Variant::names().filter(|&n| n != "retained_listener") {
        let r = get(name);
        assert_eq!(r["restarts"].as_u64(), Some(0), "{name}");
        assert!(r["first_oom_kill_s"].is_null(), "{name}");
    }
    for name in Variant::ALL.iter().filter(|v| v.is_fix()).map(|v| v.name()) {
        let r = get(name);
        let series = r["series"].as_array().unwrap();
        assert!(series.len() > 10, "{name}");
        let total = |p: &Value| p["total_bytes"].as_u64().unwrap() as i64;
        let max_pod = |p: &Value| p["max_pod_bytes"].as_u64().unwrap() as i64;
        // Flat: after the first slice (the cold start) the pods hold the
        // same memory at the end of every slice, within one cached value
        // (the cache's value is written and freed by whichever pod missed).
        let settled = total(&series[1]);
        for p in &series[1..] {
            assert!(
                (total(p) - settled).abs() <= 16 << 10,
                "{name}: {settled} then {p}"
            );
        }
        // Peaks rise only by what one refresh holds for a moment.
        let settled_pod = max_pod(&series[1]);
        let highest = series[1..].iter().map(max_pod).max().unwrap();
        assert!(
            highest - settled_pod <= 16 << 10,
            "{name}: {settled_pod} then up to {highest}"
        );
        assert_eq!(
            r["allocs_per_request"].as_f64().map(|a| a < 0.01),
            Some(true),
            "{name}"
        );
    }
}
