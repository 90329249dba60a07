//! A target that is not heapmeter's (a stand-in for the Node.js service:
//! prom-client's V8 series on `/metrics`, no `/healthz`) is soaked with
//! what it serves: V8's heap followed and its growth per request measured,
//! GC time read, no allocation counts and so no verdict; its resident
//! memory from `/proc`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use heaplab_staging::soak::{self, HeapMetric, SoakConfig, Target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v8_figures_are_read_and_the_heap_slope_measured() {
    // Every payment leaves 1,000 bytes on the "V8 heap".
    let paid = Arc::new(AtomicU64::new(0));
    let (p, m) = (paid.clone(), paid.clone());
    let app = Router::new()
        .route(
            "/payments",
            post(move || {
                p.fetch_add(1, Ordering::SeqCst);
                async { r#"{"risky":false}"# }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let n = m.load(Ordering::SeqCst);
                async move {
                    format!(
                        "# TYPE nodejs_heap_size_used_bytes gauge\n\
                         nodejs_heap_size_used_bytes {}\n\
                         nodejs_heap_size_total_bytes 67108864\n\
                         nodejs_gc_duration_seconds_sum{{kind=\"minor\"}} 0.5\n\
                         nodejs_gc_duration_seconds_sum{{kind=\"major\"}} 0.25\n",
                        5_000_000 + 1_000 * n
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = SoakConfig::new(50, Duration::from_secs(3));
    config.scrape_every = Duration::from_millis(100);
    let target = Target::parse(&format!("node=http://{addr}"), Some(std::process::id())).unwrap();
    let mut reports = soak::run_all(vec![target], &config).await.unwrap();
    server.abort();
    let r = reports.pop().unwrap();

    assert!(r.tally.accounted(), "{:?}", r.tally);
    assert_eq!(r.tally.checked, 150, "{:?}", r.tally);
    assert_eq!(r.heap, Some(HeapMetric::V8Used));
    assert_eq!(
        r.served,
        [
            "nodejs_heap_size_used_bytes",
            "nodejs_heap_size_total_bytes",
            "nodejs_gc_duration_seconds"
        ]
    );
    assert_eq!(r.samples.last().unwrap().figures.gc_seconds, Some(0.75));
    let growth = r.growth.expect("enough scrapes to judge");
    assert_eq!(growth.verdict, None, "no allocation counts, no verdict");
    assert!(
        (growth.bytes_per_request - 1_000.0).abs() < 100.0,
        "{growth:?}"
    );
    assert!(r.peak_rss_bytes().unwrap() > 1 << 20);
    let text = r.to_string();
    assert!(text.contains("  V8 heap    "), "{text}");
    assert!(
        text.contains("  heap growth  V8's used heap grow "),
        "{text}"
    );
    assert!(!text.contains("per request  "), "{text}");
}
