//! The cache stampede: when the key expires, every naive request that
//! arrives before the store answers queries it, while ttl_refresh asks
//! exactly once per expiry.

mod common;

use serde_json::Value;

fn replay(pods: &str) -> Vec<Value> {
    common::heaplab_json([
        "replay",
        "--json",
        "--variant",
        "naive,ttl_refresh",
        "--pods",
        pods,
        "--duration",
        "20m",
        "--rps",
        "50",
        "--users",
        "50",
        "--ttl",
        "2m",
        "--store-latency",
        "200ms",
    ])
}

fn field<'a>(reports: &'a [Value], variant: &str, key: &str) -> &'a Value {
    &common::row(reports, variant)[key]
}

#[test]
fn stampede_counts_queries_per_expiry() {
    // One pod: what the database sees is what the pod does.
    let one = replay("1");
    let naive = field(&one, "naive", "store_queries_per_expiry");
    // 200 ms of latency at 50 req/s: about 10 requests miss per expiry.
    assert!(naive["mean"].as_f64().unwrap() > 1.0, "{naive}");
    assert!(naive["max"].as_u64().unwrap() >= 5, "{naive}");
    assert!(naive["episodes"].as_u64().unwrap() >= 5, "{naive}");
    let ttl = field(&one, "ttl_refresh", "store_queries_per_expiry");
    assert_eq!(ttl["mean"].as_f64(), Some(1.0), "{ttl}");
    assert_eq!(ttl["max"].as_u64(), Some(1), "{ttl}");
    assert!(ttl["episodes"].as_u64().unwrap() >= 5, "{ttl}");

    // Four pods: each ttl_refresh pod still refreshes once per expiry.
    let four = replay("4");
    let per_pod = field(&four, "ttl_refresh", "pod_queries_per_expiry");
    assert_eq!(per_pod["max"].as_u64(), Some(1), "{per_pod}");
    let db = field(&four, "ttl_refresh", "store_queries_per_expiry");
    assert!(db["max"].as_u64().unwrap() <= 4, "{db}");
    let naive_db = field(&four, "naive", "store_queries_per_expiry");
    assert!(naive_db["mean"].as_f64().unwrap() > 4.0, "{naive_db}");
}
