//! A store that takes 20 s to answer, on 4 pods at 100 req/s: every request
//! that arrives while the key is missing queries it. Each pod has a pool of
//! connections to the store (10 by default), so the queries queue for them:
//! with 500 queries per pod in the first 20 s, the last one answers about
//! 16 minutes after it was asked. While they wait the requests hold nothing
//! of the check (`tests/a_request_holds_nothing_of_the_check_while_its_query_waits.rs`),
//! so counting them in flight (`--memory resident`) books the same memory
//! as `--memory live`: no pod is killed, even with a limit 8 MiB above the
//! baseline. `ttl_refresh` has one request in flight per pod, its refresh.

mod common;

use serde_json::Value;

fn replay(memory: &str, connections: &str) -> Vec<Value> {
    common::heaplab_json([
        "replay",
        "--json",
        "--variant",
        "naive,ttl_refresh",
        "--duration",
        "1m",
        "--store-latency",
        "20s",
        "--limit",
        "136MiB",
        "--memory",
        memory,
        "--store-connections",
        connections,
    ])
}

fn figure(r: &Value, field: &str) -> f64 {
    r[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} in {r}"))
}

#[test]
fn waiting_requests_queue_on_the_pool_and_hold_nothing() {
    let live = replay("live", "10");
    for r in &live {
        assert_eq!(r["memory"], "live");
        assert_eq!(r["store_connections"].as_u64(), Some(10));
        assert_eq!(figure(r, "restarts"), 0.0, "{}", r["variant"]);
        assert_eq!(figure(r, "peak_in_flight"), 0.0);
    }

    let resident = replay("resident", "10");
    let naive = common::row(&resident, "naive");
    let naive_live = common::row(&live, "naive");
    assert_eq!(naive["memory"], "resident");
    // The same requests, queries and bytes: only the counting differs.
    for field in [
        "requests",
        "store_queries",
        "bytes_per_request",
        "peak_pod_bytes",
        "restarts",
        "longest_request_s",
    ] {
        assert_eq!(naive[field], naive_live[field], "{field}");
    }
    assert_eq!(figure(naive, "restarts"), 0.0);
    assert_eq!(figure(naive, "lost_in_kills"), 0.0);
    // Every request of the first 20 s on a pod (25 a second) queries and
    // is still waiting when the first answer lands.
    assert_eq!(figure(naive, "peak_in_flight"), 500.0);
    // 500 queries on 10 connections, 20 s each: 50 rounds. The last
    // request asked at 19.96 s and was answered in the 50th round.
    let longest = figure(naive, "longest_request_s");
    assert!((980.0..981.0).contains(&longest), "{longest}");

    // A connection per request: each waits for the store alone.
    let unpooled = replay("resident", "500");
    let longest = figure(common::row(&unpooled, "naive"), "longest_request_s");
    assert!((20.0..20.01).contains(&longest), "{longest}");

    let fix = common::row(&resident, "ttl_refresh");
    assert_eq!(figure(fix, "restarts"), 0.0);
    assert_eq!(figure(fix, "peak_in_flight"), 1.0);
}
