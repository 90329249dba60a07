//! An axum app behind `AllocLayer`, served over a real TCP socket on
//! 127.0.0.1 by four worker threads, with heap sampling at every
//! allocation: each route's histograms, labelled with the method and the
//! route's pattern (axum's `MatchedPath`, not the raw path), hold exactly
//! what its handler allocated, request by request; its live heap
//! (`heapmeter_route_inuse_bytes`) is exactly what its handlers kept; and
//! the `/metrics` text that the app serves passes `promtool check metrics`.
//!
//! Every handler is the same future type, so axum's own per-request work
//! (boxing the handler's future, building the response, freeing the
//! request that the server parsed before the layer saw it) costs the same
//! on every route: `/baseline` measures it, and the other routes must
//! exceed it by exactly their handler's allocations. Every handler keeps
//! 1 KiB, so that the live heap of every route is nonzero.

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
use heapmeter::sampling;
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

/// The figures of one histogram, counter or gauge line of the metrics
/// text, for GET requests of `route`.
fn value(text: &str, metric: &str, route: &str) -> f64 {
    let key = format!("{metric}{{method=\"GET\",route=\"{route}\"}} ");
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
    // Every allocation sampled: the live heap by route is exact.
    let session = sampling::start(1).expect("CountingAlloc is installed");
    let metrics = Arc::new(Metrics::new());
    let scrape = Arc::clone(&metrics);
    let app = Router::new()
        .route("/warmup/{id}", get(|| handle(Kind::Churn)))
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
    // The first requests pay one-time set-up (lazily built state in the
    // server, the runtime's first deferred wakers): keep them out of the
    // compared routes.
    for i in 0..4 {
        assert_eq!(
            client.get(&format!("/warmup/{i:04}")),
            (200, "ok".to_string())
        );
    }
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
    let dropped = sampling::profile().dropped;
    drop(session);
    assert_eq!(dropped, 0, "every sample recorded");

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

    assert_eq!(extra("heapmeter_request_allocations", "/leak/{id}"), n);
    assert_eq!(
        extra("heapmeter_request_allocated_bytes", "/leak/{id}"),
        512.0 * n
    );
    // The live heap by route: exactly what the handlers kept. The churn
    // route's yield may grow a worker's list of deferred wakers (tokio
    // keeps it for the runtime's life) the first time a worker yields
    // after the warm-up: a few dozen bytes at most.
    let inuse = |route: &str| value(&text, "heapmeter_route_inuse_bytes", route);
    assert_eq!(inuse("/baseline/{id}"), 1024.0 * n);
    assert_eq!(inuse("/leak/{id}"), (1024.0 + 512.0) * n);
    let churn = inuse("/churn/{id}");
    assert!(
        (1024.0 * n..=1024.0 * n + 512.0).contains(&churn),
        "churn keeps {churn} B"
    );
    // Every request of a route cost the same: its whole count sits in one
    // bucket (the first bucket whose bound is at least the mean).
    for (route, metric) in ["/baseline/{id}", "/churn/{id}", "/leak/{id}"]
        .into_iter()
        .flat_map(|r| {
            [
                (r, "heapmeter_request_allocations"),
                (r, "heapmeter_request_allocated_bytes"),
            ]
        })
    {
        let mean = sum(metric, route) / n;
        let prefix = format!("{metric}_bucket{{le=\"");
        let suffix = format!("\",method=\"GET\",route=\"{route}\"}} ");
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
    assert_eq!(LEAKED.lock().unwrap().len(), 4 + 4 * REQUESTS);

    match common::promtool::check(&text) {
        None => skipped!(
            "SKIPPED: promtool not found (apt-get install prometheus); /metrics not linted"
        ),
        Some((ok, said)) => assert!(ok, "promtool check metrics failed:\n{said}\n{text}"),
    }
}
