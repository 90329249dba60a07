//! SIGINT/SIGTERM stop the service gracefully: a request already in flight
//! (here, one waiting on a slow store) is answered before `serve` returns,
//! and no new connection is accepted afterwards.

use std::sync::Arc;
use std::time::Duration;

use fraudcheck::Variant;
use heaplab_staging::client::HttpClient;
use heaplab_staging::service::{bind, App, ServiceConfig};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_request_is_answered_after_shutdown_starts() {
    let config = ServiceConfig::new(Variant::Naive, 100);
    let app = Arc::new(App::embedded(&config));
    // The first request misses the cache and waits this long on the store.
    app.env().store.set_latency(Duration::from_millis(500));
    let bound = bind("127.0.0.1:0".parse().unwrap(), app, config.max_body_bytes)
        .await
        .unwrap();
    let addr = bound.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));

    let request = tokio::spawn(async move {
        let client = HttpClient::new(addr, Duration::from_secs(5));
        client
            .post_json("/payments", br#"{"id":1,"user_id":2,"amount_cents":3}"#)
            .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.send(()).unwrap();

    let answer = request.await.unwrap().unwrap();
    assert_eq!(
        (answer.status, answer.text()),
        (200, r#"{"risky":false}"#.to_string())
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns once drained")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
