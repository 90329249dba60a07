//! A tower layer that measures every request (feature `tower`).
//!
//! [`AllocLayer`] wraps a service so that each request's work — the
//! service's `call` and every poll of the future it returns — is counted
//! with [`measure_future`](crate::measure_future)'s per-poll accounting and
//! recorded, per route, into a [`Metrics`] registry: a request counter and
//! histograms of allocations, bytes allocated and bytes retained.
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
//! assert!(metrics.render().contains("heapmeter_request_allocations_sum{route=\"echo\"} 1.0"));
//! ```
//!
//! With axum (feature `axum`), `Router::layer(AllocLayer::new(metrics))`
//! labels each request with the route that matched (`MatchedPath`, such as
//! `/users/{id}`); requests that no route matched, and services outside
//! axum, take the layer's [`label`](AllocLayer::label) (default `"other"`).
//!
//! # What a request's figures include
//!
//! The wrapped service's `call` and every poll of its future, on whichever
//! threads. That includes freeing the request, which the server built
//! before the layer saw it (headers, extensions, path parameters): a
//! request that keeps nothing has a slightly *negative* net, which the
//! retained-bytes histogram records as zero. A handler that keeps `n` bytes
//! per request therefore shows up as `n` minus the request's own size, as
//! long as that is positive; compare a route with a baseline route to see
//! `n` itself (the crate's tests do). Not included: the response body's streaming after the future
//! resolved (an axum handler builds its body inside the future, so for most
//! handlers this is nothing), work on other tasks, and the layer's own
//! recording. A request whose future is dropped before it resolves (the
//! client went away) is not recorded. See
//! [`measure_future`](crate::measure_future) for the rest.

use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use std::sync::Arc;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::{count, MeasuredFuture};
use crate::prometheus::Metrics;

/// Measures each request of the service it wraps and records it per route
/// into a [`Metrics`] registry. See the [module](self) docs.
#[derive(Clone, Debug)]
pub struct AllocLayer {
    metrics: Arc<Metrics>,
    label: Arc<str>,
}

impl AllocLayer {
    /// A layer recording into `metrics`.
    ///
    /// # Panics
    ///
    /// If [`CountingAlloc`](crate::CountingAlloc) is not the global
    /// allocator (every figure would be zero), with how to install it.
    #[track_caller]
    pub fn new(metrics: Arc<Metrics>) -> AllocLayer {
        crate::install::require_installed();
        AllocLayer {
            metrics,
            label: Arc::from("other"),
        }
    }

    /// The `route` label of requests without a matched route (or of every
    /// request, outside axum). Use a fixed name, never a raw path.
    pub fn label(mut self, label: &str) -> AllocLayer {
        self.label = Arc::from(label);
        self
    }
}

impl<S> Layer<S> for AllocLayer {
    type Service = AllocService<S>;

    fn layer(&self, inner: S) -> AllocService<S> {
        AllocService {
            inner,
            metrics: Arc::clone(&self.metrics),
            label: Arc::clone(&self.label),
        }
    }
}

/// The service [`AllocLayer`] builds.
#[derive(Clone, Debug)]
pub struct AllocService<S> {
    inner: S,
    metrics: Arc<Metrics>,
    label: Arc<str>,
}

/// A request's route label, held until its future resolves. Cloning either
/// form is a reference-count increment, never an allocation.
#[derive(Clone, Debug)]
enum Route {
    Fixed(Arc<str>),
    #[cfg(feature = "axum")]
    Matched(axum::extract::MatchedPath),
}

impl Route {
    fn as_str(&self) -> &str {
        match self {
            Route::Fixed(label) => label,
            #[cfg(feature = "axum")]
            Route::Matched(path) => path.as_str(),
        }
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
        #[cfg(feature = "axum")]
        let route = match req.extensions().get::<axum::extract::MatchedPath>() {
            Some(path) => Route::Matched(path.clone()),
            None => Route::Fixed(Arc::clone(&self.label)),
        };
        #[cfg(not(feature = "axum"))]
        let route = Route::Fixed(Arc::clone(&self.label));
        // The request's work starts in `call`: count it as its first poll.
        let (future, called) = count(|| self.inner.call(req));
        ResponseFuture {
            inner: MeasuredFuture::starting_at(future, called),
            route,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

pin_project! {
    /// The response future of [`AllocService`]: the inner service's
    /// future, measured; records the request when it resolves.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: MeasuredFuture<F>,
        route: Route,
        metrics: Arc<Metrics>,
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let (output, stats) = ready!(this.inner.poll(cx));
        this.metrics.record(this.route.as_str(), &stats);
        Poll::Ready(output)
    }
}
