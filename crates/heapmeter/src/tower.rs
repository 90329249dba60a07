//! A tower layer that measures every request (feature `tower`).
//!
//! [`AllocLayer`] wraps a service so that each request's work — the
//! service's `call` and every poll of the future it returns — is counted
//! with [`measure_future`](crate::measure_future)'s per-poll accounting and
//! recorded, by method and route, into a [`Metrics`] registry: a request
//! counter and histograms of allocations and bytes allocated. Each request
//! future also carries its method and route as a [`Label`](crate::Label), so the heap
//! sampler attributes what it allocates, and the registry's
//! `heapmeter_route_inuse_bytes` gauge says how much of the live heap each
//! route's requests allocated (see [the metrics](crate::prometheus)).
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//! #     heapmeter::CountingAlloc::new(std::alloc::System);
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
//! # }
//! use std::convert::Infallible;
//! use std::sync::Arc;
//! use heapmeter::{prometheus::Metrics, tower::AllocLayer};
//! use tower_layer::Layer;
//! use tower_service::Service;
//!
//! # struct Echo;
//! # impl Service<http::Request<String>> for Echo {
//! #     type Response = String;
//! #     type Error = Infallible;
//! #     type Future = std::future::Ready<Result<String, Infallible>>;
//! #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
//! #         std::task::Poll::Ready(Ok(()))
//! #     }
//! #     fn call(&mut self, req: http::Request<String>) -> Self::Future {
//! #         std::future::ready(Ok(req.into_body().repeat(2)))
//! #     }
//! # }
//! let metrics = Arc::new(Metrics::new());
//! // `Echo` answers a request's body twice over: one allocation per request.
//! let mut service = AllocLayer::new(Arc::clone(&metrics)).label("echo").layer(Echo);
//! let answer = block_on(service.call(http::Request::new("hi".to_string()))).unwrap();
//! assert_eq!(answer, "hihi");
//! assert!(metrics
//!     .render()
//!     .contains("heapmeter_request_allocations_sum{method=\"GET\",route=\"echo\"} 1.0"));
//! ```
//!
//! # Routes
//!
//! Each request is labelled with its HTTP method and a route:
//!
//! 1. the layer's [`route_fn`](AllocLayer::route_fn), when it has one and
//!    it names the request's route;
//! 2. else, with axum (feature `axum`), the route that matched
//!    (`MatchedPath`, such as `/users/{id}`), when
//!    `Router::layer(AllocLayer::new(metrics))` wraps the routes;
//! 3. else the layer's [`label`](AllocLayer::label) (default `"other"`):
//!    requests no route matched, and services outside axum.
//!
//! A route is a label: a pattern, never a raw path, or every id becomes a
//! time series of its own.
//!
//! # What a request's figures include
//!
//! The wrapped service's `call` and every poll of its future, on whichever
//! threads. That includes freeing the request, which the server built
//! before the layer saw it (headers, extensions, path parameters): so what
//! one request *retains* is not a per-request figure, and the layer does
//! not record one. What a route keeps shows in the live heap by route
//! (`heapmeter_route_inuse_bytes`), which counts the blocks a route's
//! requests allocated and that are still live, whoever frees the rest.
//! Not included: the response body's streaming after the future resolved
//! (an axum handler builds its body inside the future, so for most
//! handlers this is nothing), work on other tasks, and the layer's own
//! recording. A request whose future is dropped before it resolves (the
//! client went away) is not recorded. See
//! [`measure_future`](crate::measure_future) for the rest.
//!
//! # Panics
//!
//! Building an [`AllocLayer`] (like [`Metrics::new`]) panics when
//! [`CountingAlloc`](crate::CountingAlloc) is not the global allocator:
//! the figures would all be zero.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use std::sync::Arc;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::{count, MeasuredFuture};
use crate::prometheus::{Metrics, Route};

/// A function naming the route of a request from its method, URI and
/// extensions (see [`AllocLayer::route_fn`]).
type RouteFn =
    dyn Fn(&http::Method, &http::Uri, &http::Extensions) -> Option<Arc<str>> + Send + Sync;

/// Measures each request of the service it wraps and records it by method
/// and route into a [`Metrics`] registry. See the [module](self) docs.
///
/// PERF: its settings sit behind one `Arc`: axum applies a router's layers
/// to a route's handler for every request, and clones services, so a
/// layer or service clone is one reference-count increment.
#[derive(Clone)]
pub struct AllocLayer(Arc<Settings>);

#[derive(Clone)]
struct Settings {
    metrics: Arc<Metrics>,
    label: Arc<str>,
    route_fn: Option<Arc<RouteFn>>,
}

impl fmt::Debug for AllocLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllocLayer")
            .field("label", &self.0.label)
            .field("route_fn", &self.0.route_fn.is_some())
            .finish_non_exhaustive()
    }
}

impl AllocLayer {
    /// A layer recording into `metrics`.
    ///
    /// # Panics
    ///
    /// If [`CountingAlloc`](crate::CountingAlloc) is not the global
    /// allocator.
    #[track_caller]
    pub fn new(metrics: Arc<Metrics>) -> AllocLayer {
        crate::scope::assert_installed();
        AllocLayer(Arc::new(Settings {
            metrics,
            label: Arc::from("other"),
            route_fn: None,
        }))
    }

    /// The `route` label of requests without a route (no `route_fn` answer
    /// and no matched route: every request, outside axum). Use a fixed
    /// name, never a raw path.
    pub fn label(mut self, label: &str) -> AllocLayer {
        Arc::make_mut(&mut self.0).label = Arc::from(label);
        self
    }

    /// Names each request's route with `f` (from its method, URI and
    /// extensions) before anything else; where `f` answers `None`, the
    /// matched route or the [`label`](AllocLayer::label) applies. Return a
    /// pattern from a small set (keep the `Arc<str>`s and clone them: a
    /// clone allocates nothing), never the raw path.
    pub fn route_fn<F>(mut self, f: F) -> AllocLayer
    where
        F: Fn(&http::Method, &http::Uri, &http::Extensions) -> Option<Arc<str>>
            + Send
            + Sync
            + 'static,
    {
        Arc::make_mut(&mut self.0).route_fn = Some(Arc::new(f));
        self
    }
}

impl<S> Layer<S> for AllocLayer {
    type Service = AllocService<S>;

    fn layer(&self, inner: S) -> AllocService<S> {
        AllocService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`AllocLayer`] builds.
#[derive(Clone, Debug)]
pub struct AllocService<S> {
    inner: S,
    layer: AllocLayer,
}

impl<S> AllocService<S> {
    /// The route of a request: the layer's function, the matched route,
    /// or the layer's label, in that order.
    fn route<B>(&self, req: &http::Request<B>) -> Arc<Route> {
        let method = req.method().as_str();
        let layer = &self.layer.0;
        if let Some(route) = layer
            .route_fn
            .as_ref()
            .and_then(|f| f(req.method(), req.uri(), req.extensions()))
        {
            return layer.metrics.route(method, &route);
        }
        #[cfg(feature = "axum")]
        if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
            return layer.metrics.route(method, path.as_str());
        }
        layer.metrics.route(method, &layer.label)
    }
}

impl<S, B> Service<http::Request<B>> for AllocService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> ResponseFuture<S::Future> {
        let route = self.route(&req);
        let label = route.label();
        // The request's work starts in `call`: count it as its first poll.
        let (future, called) = count(label, || self.inner.call(req));
        ResponseFuture {
            inner: MeasuredFuture::starting_at(future, called, label),
            route,
        }
    }
}

pin_project! {
    /// The response future of [`AllocService`]: the inner service's
    /// future, measured and labelled; records the request when it
    /// resolves.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: MeasuredFuture<F>,
        route: Arc<Route>,
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let (output, stats) = ready!(this.inner.poll(cx));
        this.route.record(&stats);
        Poll::Ready(output)
    }
}
