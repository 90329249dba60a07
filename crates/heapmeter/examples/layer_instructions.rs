//! The instructions `AllocLayer` adds to one request, counted by callgrind
//! (repeatable, whatever else the machine does): `REQUESTS` requests to a
//! route that answers a constant, driven through the axum router in this
//! process (no socket), with `LAYER=1` through the layer.
//!
//! ```text
//! cargo build --release -p heapmeter --features axum --example layer_instructions
//! for layer in 0 1; do for n in 20000 40000; do
//!   LAYER=$layer REQUESTS=$n valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/layer_instructions 2>&1 | grep Collected
//! done; done   # (I(2N) − I(N)) / N = instructions per request
//! ```
//!
//! What a request costs over a real socket (hyper's parsing, the system
//! calls) comes on top of these: `alloc_layer_load` measures throughput.

use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use heapmeter::prometheus::Metrics;
use heapmeter::tower::AllocLayer;
use tower_service::Service;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc = heapmeter::CountingAlloc::system();

fn main() {
    let layer = std::env::var("LAYER").unwrap_or_default();
    let n: u64 = std::env::var("REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let app = Router::new().route("/payments/{id}", get(|| async { "ok" }));
    // LAYER=1: AllocLayer; LAYER=noop: a layer that does nothing, for
    // what wrapping each route costs in axum by itself; else no layer.
    let mut app = match layer.as_str() {
        "1" => app.layer(AllocLayer::new(Arc::new(Metrics::new()))),
        "noop" => app.layer(tower_layer::layer_fn(|s| s)),
        _ => app,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for _ in 0..n {
            let req = http::Request::get("/payments/1234")
                .body(Body::empty())
                .expect("request");
            let resp = app.call(req).await.expect("infallible");
            black_box(resp);
        }
    });
}
