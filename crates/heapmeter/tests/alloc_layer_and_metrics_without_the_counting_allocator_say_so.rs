//! A service whose global allocator is not `CountingAlloc` would serve
//! `/metrics` with zeros everywhere: building the Prometheus metrics, or
//! the tower layer on them, panics instead, with the message `measure`
//! gives (what is wrong and how to install the allocator), word for word.
//!
//! This file has no `#[global_allocator]`.

use std::any::Any;
use std::panic::catch_unwind;
use std::sync::Arc;

use heapmeter::prometheus::Metrics;
use heapmeter::tower::AllocLayer;

fn message(err: Box<dyn Any + Send>) -> String {
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn metrics_and_the_layer_panic_with_measure_s_message() {
    let measure =
        message(catch_unwind(|| heapmeter::measure(|| vec![0u8; 64])).expect_err("measure panics"));
    assert!(
        measure.contains("CountingAlloc is not the global allocator")
            && measure.contains("#[global_allocator]"),
        "{measure}"
    );
    let metrics = message(catch_unwind(Metrics::new).expect_err("Metrics::new panics"));
    assert_eq!(metrics, measure);
    let layer = message(
        catch_unwind(|| AllocLayer::new(Arc::new(Metrics::default())))
            .expect_err("building the layer panics"),
    );
    assert_eq!(layer, measure);
}
