//! The service's `/metrics`, fetched over TCP after a few payments of each
//! outcome, passes `promtool check metrics` (Debian's `prometheus`
//! package). Without promtool it says SKIPPED and passes.

#[macro_use]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fraudcheck::Variant;
use heaplab_staging::client::HttpClient;
use heaplab_staging::service::{App, Running, ServiceConfig};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool() {
    let config = ServiceConfig::new(Variant::TtlRefresh, 100);
    let app = Arc::new(App::embedded(&config));
    let server = Running::start(app, config.max_body_bytes).await.unwrap();
    let client = HttpClient::new(server.addr(), Duration::from_secs(5));
    for body in [&br#"{"id":1,"user_id":2,"amount_cents":3}"#[..], b"{"] {
        client.post_json("/payments", body).await.unwrap();
    }
    let text = client.get("/metrics").await.unwrap().text();
    server.stop().await.unwrap();
    for series in [
        "heapmeter_request_allocations_count{method=\"POST\",route=\"/payments\"} 2",
        "heaplab_payments_total{outcome=\"checked\"} 1",
        "heaplab_payments_total{outcome=\"rejected\"} 1",
        "heaplab_payment_duration_seconds_count 1",
    ] {
        assert!(text.contains(series), "no {series:?} in\n{text}");
    }

    let Ok(mut promtool) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        skipped!("SKIPPED: promtool not found (apt-get install prometheus)");
        return;
    };
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
