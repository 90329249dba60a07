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

/// (episodes, mean queries per episode, most queries in one episode).
fn episodes(reports: &[Value], variant: &str, key: &str) -> (u64, f64, u64) {
    let e = field(reports, variant, key);
    (
        e["episodes"].as_u64().expect("episodes"),
        e["mean"].as_f64().expect("mean"),
        e["max"].as_u64().expect("max"),
    )
}

// 20 minutes with a 2-minute TTL: 10 expiries, the cold start included.
// 200 ms of store latency at 50 req/s: 10 requests arrive before the
// value is written back.

#[test]
fn one_naive_pod_queries_once_per_request_in_the_window_and_ttl_refresh_once_per_expiry() {
    let one = replay("1");
    assert_eq!(
        episodes(&one, "naive", "store_queries_per_expiry"),
        (10, 10.0, 10)
    );
    assert_eq!(field(&one, "naive", "store_queries"), 100);
    assert_eq!(
        episodes(&one, "ttl_refresh", "store_queries_per_expiry"),
        (10, 1.0, 1)
    );
    assert_eq!(field(&one, "ttl_refresh", "store_queries"), 10);
}

#[test]
fn four_pods_share_the_naive_stampede_while_each_ttl_refresh_pod_asks_once() {
    let four = replay("4");
    // The database sees the same 10 queries per expiry, now spread over the
    // pods round robin: 3, 3, 2 and 2.
    assert_eq!(
        episodes(&four, "naive", "store_queries_per_expiry"),
        (10, 10.0, 10)
    );
    assert_eq!(
        episodes(&four, "naive", "pod_queries_per_expiry"),
        (40, 2.5, 3)
    );
    // Each pod refreshes on its own, once per expiry: at most one query per
    // pod reaches the database in an episode.
    let (_, mean, max) = episodes(&four, "ttl_refresh", "pod_queries_per_expiry");
    assert_eq!((mean, max), (1.0, 1));
    let (_, _, db_max) = episodes(&four, "ttl_refresh", "store_queries_per_expiry");
    assert_eq!(db_max, 4);
}
