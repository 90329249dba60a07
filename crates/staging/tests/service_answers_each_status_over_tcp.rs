//! Every status the service can give, over a real TCP connection on
//! 127.0.0.1: 200 (risky and not), 400 (bad JSON, missing field, wrong
//! type), 413, 415, 404, a failing cache answered by the fail policy (200
//! degraded, or 503), `/healthz` and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use fraudcheck::{FailPolicy, Variant};
use heaplab_staging::client::HttpClient;
use heaplab_staging::service::{App, OnFailure, Running, ServiceConfig};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

struct Started {
    client: HttpClient,
    app: Arc<App>,
    server: Running,
}

async fn start(variant: Variant, on_failure: OnFailure) -> Started {
    let mut config = ServiceConfig::new(variant, 100);
    config.on_failure = on_failure;
    let app = Arc::new(App::embedded(&config));
    let server = Running::start(app.clone(), config.max_body_bytes)
        .await
        .unwrap();
    let client = HttpClient::new(server.addr(), Duration::from_secs(5));
    Started {
        client,
        app,
        server,
    }
}

impl Started {
    async fn stop(self) {
        self.server.stop().await.unwrap();
    }
}

fn payment(user_id: u64) -> Vec<u8> {
    format!(r#"{{"id":1,"user_id":{user_id},"amount_cents":4200}}"#).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_has_a_json_body() {
    let s = start(Variant::Naive, OnFailure::default()).await;
    let risky = s.app.env().store.active_ids()[0];

    let r = s
        .client
        .post_json("/payments", &payment(risky))
        .await
        .unwrap();
    assert_eq!((r.status, r.text()), (200, r#"{"risky":true}"#.to_string()));
    let r = s.client.post_json("/payments", &payment(1)).await.unwrap();
    assert_eq!(
        (r.status, r.text()),
        (200, r#"{"risky":false}"#.to_string())
    );

    for bad in [
        &b"{not json"[..],
        br#"{"id":1,"amount_cents":5}"#,
        br#"{"id":1,"user_id":"seven","amount_cents":5}"#,
        br#"{"id":-1,"user_id":2,"amount_cents":5}"#,
    ] {
        let r = s.client.post_json("/payments", bad).await.unwrap();
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(bad));
        assert!(r.text().starts_with(r#"{"error":"#), "{}", r.text());
    }

    let big = format!(
        r#"{{"id":1,"user_id":2,"amount_cents":3,"pad":"{}"}}"#,
        "x".repeat(8192)
    );
    let r = s
        .client
        .post_json("/payments", big.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().starts_with(r#"{"error":"#), "{}", r.text());

    let r = s
        .client
        .request("POST", "/payments", Some("text/plain"), &payment(1))
        .await
        .unwrap();
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(r.text().starts_with(r#"{"error":"#), "{}", r.text());

    let r = s.client.get("/nope").await.unwrap();
    assert_eq!(
        (r.status, r.text()),
        (404, r#"{"error":"no such route"}"#.to_string())
    );

    // Cache and store go down: naive cannot load its list and fails open.
    s.app.env().cache.fail_next(u32::MAX);
    s.app.env().store.fail_next(u32::MAX);
    let r = s
        .client
        .post_json("/payments", &payment(risky))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"risky":false,"degraded":"store: risky-user store unavailable"}"#
    );

    let r = s.client.get("/healthz").await.unwrap();
    assert_eq!(
        (r.status, r.text()),
        (200, r#"{"status":"ok","variant":"naive"}"#.to_string())
    );

    let r = s.client.get("/metrics").await.unwrap();
    assert_eq!(r.status, 200);
    let text = r.text();
    for name in [
        "heapmeter_live_bytes ",
        "heapmeter_allocations_total ",
        "process_resident_memory_bytes ",
        "heapmeter_request_allocations_count{method=\"POST\",route=\"/payments\"} 9",
        "heapmeter_request_allocations_count{method=\"GET\",route=\"/healthz\"} 1",
        "heaplab_payments_total{outcome=\"rejected\"} 6",
        "heaplab_payments_total{outcome=\"failed_open\"} 1",
    ] {
        assert!(text.contains(name), "missing {name:?} in\n{text}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_policy_holds_and_reject_answers_503() {
    let s = start(Variant::Naive, OnFailure::Decide(FailPolicy::Closed)).await;
    s.app.env().cache.fail_next(u32::MAX);
    s.app.env().store.fail_next(u32::MAX);
    let r = s.client.post_json("/payments", &payment(1)).await.unwrap();
    assert_eq!(
        (r.status, r.text()),
        (
            200,
            r#"{"risky":true,"degraded":"store: risky-user store unavailable"}"#.to_string()
        )
    );
    s.stop().await;

    let s = start(Variant::Naive, OnFailure::Reject).await;
    s.app.env().cache.fail_next(u32::MAX);
    s.app.env().store.fail_next(u32::MAX);
    let r = s.client.post_json("/payments", &payment(1)).await.unwrap();
    assert_eq!(
        (r.status, r.text()),
        (
            503,
            r#"{"error":"store: risky-user store unavailable"}"#.to_string()
        )
    );
    s.stop().await;
}
