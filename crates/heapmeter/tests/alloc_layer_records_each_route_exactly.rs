//! An axum app behind `AllocLayer`, served over a real TCP socket on
//! 127.0.0.1: each route's histograms, labelled with the route's pattern
//! (axum's `MatchedPath`, not the raw path), hold exactly what its handler
//! allocated and kept, request by request, and the `/metrics` text that the
//! app serves passes `promtool check metrics`.
//!
//! Every handler is the same future type, so axum's own per-request work
//! (boxing the handler's future, building the response, freeing the
//! request that the server parsed before the layer saw it) costs the same
//! on every route: `/baseline` measures it, and the other routes must
//! exceed it by exactly their handler's allocations. Freeing the request
//! makes a request's net bytes slightly negative, and the retained-bytes
//! histogram records no less than zero, so every handler keeps 1 KiB more
//! than its pattern says: the differences then stay exact.

#[macro_use]
mod common;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::Router;
use common::http::Client;
use common::yield_now;
use heapmeter::prometheus::Metrics;
use heapmeter::tower::AllocLayer;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

const REQUESTS: usize = 40;

/// What the handlers keep, reserved up front so that keeping never
/// reallocates.
static LEAKED: Mutex<Vec<Box<[u8]>>> = Mutex::new(Vec::new());

#[derive(Clone, Copy)]
enum Kind {
    Baseline,
    /// 1000 bytes churned across a yield, then 24: 2 allocs, 1024 bytes.
    Churn,
    /// 512 bytes kept: 1 alloc, 512 bytes retained.
    Leak,
}

async fn handle(kind: Kind) -> &'static str {
    keep(1024);
    match kind {
        Kind::Baseline => {}
        Kind::Churn => {
            let big = black_box(vec![0u8; 1000]);
            yield_now().await;
            drop(big);
            drop(black_box(Vec::<u8>::with_capacity(24)));
        }
        Kind::Leak => keep(512),
    }
    "ok"
}

fn keep(bytes: usize) {
    let kept = black_box(vec![7u8; bytes]).into_boxed_slice();
    LEAKED.lock().expect("not poisoned").push(kept);
}

/// The figures of one histogram or counter line of the metrics text.
fn value(text: &str, metric: &str, route: &str) -> f64 {
    let key = format!("{metric}{{route=\"{route}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("{key:?} missing from:\n{text}"))
        .parse()
        .expect("a number")
}

fn serve(
    rt: &tokio::runtime::Runtime,
    app: Router,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("address");
    rt.spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .expect("server");
    });
    (addr, stop)
}

#[test]
fn each_route_records_exactly_its_handlers_allocations() {
    LEAKED.lock().unwrap().reserve_exact(5 * REQUESTS);
    let metrics = Arc::new(Metrics::new());
    let scrape = Arc::clone(&metrics);
    let app = Router::new()
        .route("/warmup/{id}", get(|| handle(Kind::Baseline)))
        .route("/baseline/{id}", get(|| handle(Kind::Baseline)))
        .route("/churn/{id}", get(|| handle(Kind::Churn)))
        .route("/leak/{id}", get(|| handle(Kind::Leak)))
        .layer(AllocLayer::new(Arc::clone(&metrics)))
        // Added after the layer: scrapes are not measured.
        .route("/metrics", get(move || async move { scrape.render() }));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, stop) = serve(&rt, app);
    let mut client = Client::connect(addr);
    // The first request pays one-time set-up (lazily built state in the
    // server): keep it out of the compared routes.
    assert_eq!(client.get("/warmup/0000"), (200, "ok".to_string()));
    for i in 0..REQUESTS {
        // Ids of one width: axum's copy of the path parameter is the same
        // size on every route.
        for route in ["/baseline", "/churn", "/leak"] {
            let path = format!("{route}/{i:04}");
            assert_eq!(client.get(&path), (200, "ok".to_string()), "{path}");
        }
    }
    let (code, text) = client.get("/metrics");
    assert_eq!(code, 200);
    let _ = stop.send(());
    drop(client);
    rt.shutdown_timeout(std::time::Duration::from_secs(5));

    let n = REQUESTS as f64;
    for route in ["/baseline/{id}", "/churn/{id}", "/leak/{id}"] {
        assert_eq!(
            value(&text, "heapmeter_requests_total", route),
            n,
            "{route}"
        );
        assert_eq!(
            value(&text, "heapmeter_request_allocations_count", route),
            n
        );
    }
    let sum = |metric: &str, route: &str| value(&text, &format!("{metric}_sum"), route);
    let extra = |metric: &str, route: &str| sum(metric, route) - sum(metric, "/baseline/{id}");
    assert_eq!(
        extra("heapmeter_request_allocations", "/churn/{id}"),
        2.0 * n
    );
    assert_eq!(
        extra("heapmeter_request_allocated_bytes", "/churn/{id}"),
        1024.0 * n
    );
    assert_eq!(
        extra("heapmeter_request_retained_bytes", "/churn/{id}"),
        0.0
    );
    assert_eq!(extra("heapmeter_request_allocations", "/leak/{id}"), n);
    assert_eq!(
        extra("heapmeter_request_allocated_bytes", "/leak/{id}"),
        512.0 * n
    );
    assert_eq!(
        extra("heapmeter_request_retained_bytes", "/leak/{id}"),
        512.0 * n
    );
    // Every request of a route cost the same: its whole count sits in one
    // bucket (the first bucket whose bound is at least the mean).
    for (route, metric) in ["/baseline/{id}", "/churn/{id}", "/leak/{id}"]
        .into_iter()
        .flat_map(|r| {
            [
                (r, "heapmeter_request_allocated_bytes"),
                (r, "heapmeter_request_retained_bytes"),
            ]
        })
    {
        let mean = sum(metric, route) / n;
        let prefix = format!("{metric}_bucket{{le=\"");
        let suffix = format!("\",route=\"{route}\"}} ");
        let buckets: Vec<(f64, f64)> = text
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .filter_map(|l| l.split_once(&suffix))
            .map(|(le, count)| (le.parse().unwrap_or(f64::INFINITY), count.parse().unwrap()))
            .collect();
        for (le, count) in buckets {
            assert_eq!(count, if le >= mean { n } else { 0.0 }, "{route} le={le}");
        }
    }
    assert_eq!(LEAKED.lock().unwrap().len(), 1 + 4 * REQUESTS);

    match common::promtool::check(&text) {
        None => skipped!(
            "SKIPPED: promtool not found (apt-get install prometheus); /metrics not linted"
        ),
        Some((ok, said)) => assert!(ok, "promtool check metrics failed:\n{said}\n{text}"),
    }
}
