//! A store that takes 20 s to answer, on 4 pods at 100 req/s: every request
//! that arrives while the key is missing queries it and waits. With
//! `--memory live` (each request served in an instant) the naive check's
//! pods stay at their baseline; with `--memory resident` the waiting
//! requests hold their working sets together, `λ·W` of them per pod, and
//! the pods are OOMKilled with requests in flight — evenly, since the
//! traffic is round robin. `ttl_refresh` has one request in flight per pod
//! (its refresh) and is never killed.

mod common;

use serde_json::Value;

fn replay(memory: &str) -> Vec<Value> {
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
    ])
}

fn per_pod(r: &Value) -> Vec<u64> {
    r["restarts_per_pod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

#[test]
fn only_the_requests_in_flight_take_the_naive_pods_to_their_limit() {
    let live = replay("live");
    for r in &live {
        assert_eq!(r["memory"], "live");
        assert_eq!(r["restarts"].as_u64(), Some(0), "{}", r["variant"]);
        assert_eq!(r["peak_in_flight"].as_u64(), Some(0));
        assert_eq!(r["lost_in_kills"].as_u64(), Some(0));
    }

    let resident = replay("resident");
    let naive = common::row(&resident, "naive");
    assert_eq!(naive["memory"], "resident");
    let kills = per_pod(naive);
    assert!(kills[0] > 0, "{kills:?}");
    assert!(kills.iter().all(|&k| k == kills[0]), "{kills:?}");
    // Little's law bounds the requests in flight on one pod: 25 a second
    // for 20 s each, at most (a kill empties the pod earlier).
    let in_flight = naive["peak_in_flight"].as_u64().unwrap();
    assert!(in_flight > 100 && in_flight <= 500, "{in_flight}");
    assert!(naive["lost_in_kills"].as_u64().unwrap() >= in_flight);
    // The same requests and the same store queries as when live: only the
    // accounting of the pods differs.
    let naive_live = common::row(&live, "naive");
    for field in ["requests", "store_queries", "bytes_per_request"] {
        assert_eq!(naive[field], naive_live[field], "{field}");
    }

    let fix = common::row(&resident, "ttl_refresh");
    assert_eq!(fix["restarts"].as_u64(), Some(0));
    assert_eq!(fix["peak_in_flight"].as_u64(), Some(1));
}
