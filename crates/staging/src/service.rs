//! `heaplab serve`: one fraud-check variant behind an HTTP API.
//!
//! ```text
//! POST /payments {"id","user_id","amount_cents"} → 200 {"risky": bool}
//! GET  /metrics                                  → Prometheus text
//! GET  /healthz                                  → 200 {"status":"ok","variant":…}
//! ```
//!
//! Malformed bodies get `400` (bad JSON, missing fields, wrong types), `413`
//! (body over [`ServiceConfig::max_body_bytes`]) or `415` (not JSON), each
//! with a JSON body `{"error": "…"}`. A check that fails (cache or store
//! down, stale set) is answered by the service's [`OnFailure`] policy: a
//! decision taken by fraudcheck's [`FailPolicy`] (`200` with a `degraded`
//! reason), or `503` with the reason. Never a hang: every check runs to an
//! answer, and the backends time out.
//!
//! NOTE: the checks are synchronous (fraudcheck knows nothing of async). The
//! handler runs one inside [`tokio::task::block_in_place`], so the worker
//! thread hands its other tasks to the runtime while it checks, and the
//! check's allocations stay on the request's own thread, where a per-request
//! measurement (heapmeter's `measure` here; `measure_future` around the
//! whole request) sees them. This needs the multi-thread runtime.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fraudcheck::{build, CheckError, Env, FailPolicy, FraudCheck, Payment, Variant};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::metrics::{Metrics, Outcome};
use crate::{Result, StagingError};

/// What the service answers when a check fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Decide with fraudcheck's fail policy: `200` with `"degraded"` set.
    Decide(FailPolicy),
    /// Answer `503` with the reason; the caller decides.
    Reject,
}

impl Default for OnFailure {
    /// fraudcheck's documented default: fail open.
    fn default() -> Self {
        OnFailure::Decide(FailPolicy::default())
    }
}

/// How to run the service.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// The variant answering payments.
    pub variant: Variant,
    /// Risky users in the store.
    pub users: usize,
    /// Seed of the risky-user ids.
    pub seed: u64,
    /// What to answer when a check fails.
    pub on_failure: OnFailure,
    /// Largest accepted request body, in bytes (default 4 KiB).
    pub max_body_bytes: usize,
}

impl ServiceConfig {
    /// A variant over `users` risky users, seed 7, failing open, 4 KiB bodies.
    pub fn new(variant: Variant, users: usize) -> ServiceConfig {
        ServiceConfig {
            variant,
            users,
            seed: 7,
            on_failure: OnFailure::default(),
            max_body_bytes: 4096,
        }
    }
}

/// The running state shared by every request.
#[derive(Debug)]
pub struct App {
    check: Box<dyn FraudCheck>,
    env: Env,
    on_failure: OnFailure,
    metrics: Metrics,
}

impl App {
    /// A check of `config.variant` over the embedded cache and store.
    pub fn embedded(config: &ServiceConfig) -> App {
        let env = Env::new(config.users, config.seed);
        App {
            check: build(config.variant, &env),
            env,
            on_failure: config.on_failure,
            metrics: Metrics::new(),
        }
    }

    /// The environment the check runs on (fault injection, store contents).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The variant's name.
    pub fn variant(&self) -> &'static str {
        self.check.name()
    }
}

/// A payment as it arrives over HTTP.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    id: u64,
    user_id: u64,
    amount_cents: u64,
}

#[derive(Serialize)]
struct Decision {
    risky: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded: Option<String>,
}

/// The service's routes over `app`; bodies over `max_body_bytes` get `413`.
pub fn router(app: Arc<App>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/payments", post(payments))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(app)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, Json(body)).into_response()
}

async fn payments(
    State(app): State<Arc<App>>,
    body: Result<Json<PaymentBody>, JsonRejection>,
) -> Response {
    let start = Instant::now();
    let p = match body {
        Ok(Json(p)) => p,
        Err(rejection) => {
            app.metrics.record_outcome(Outcome::Rejected);
            // NOTE: axum answers missing fields and wrong types with 422; a
            // payment that does not parse is a bad request like bad JSON.
            let status = match rejection.status() {
                s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
                _ => StatusCode::BAD_REQUEST,
            };
            return error(status, rejection.body_text());
        }
    };
    let payment = Payment {
        id: p.id,
        user_id: p.user_id,
        amount_cents: p.amount_cents,
    };
    let (result, stats) =
        tokio::task::block_in_place(|| heapmeter::measure(|| app.check.is_risky(&payment)));
    app.metrics
        .record_check(&stats, start.elapsed().as_secs_f64());
    match result {
        Ok(risky) => {
            app.metrics.record_outcome(Outcome::Checked);
            Json(Decision {
                risky,
                degraded: None,
            })
            .into_response()
        }
        Err(e) => failed(&app, &e),
    }
}

fn failed(app: &App, e: &CheckError) -> Response {
    match app.on_failure {
        OnFailure::Decide(policy) => {
            let risky = policy.decide(Err(e.clone()));
            app.metrics.record_outcome(if risky {
                Outcome::FailedClosed
            } else {
                Outcome::FailedOpen
            });
            Json(Decision {
                risky,
                degraded: Some(e.to_string()),
            })
            .into_response()
        }
        OnFailure::Reject => {
            app.metrics.record_outcome(Outcome::Unavailable);
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::METRICS_CONTENT_TYPE)],
        app.metrics.render(),
    )
        .into_response()
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    Json(serde_json::json!({ "status": "ok", "variant": app.variant() })).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route")
}

/// A bound service: its address and the future that serves it.
#[derive(Debug)]
pub struct Bound {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
}

impl Bound {
    /// The address it listens on (the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves, then stops accepting and waits for
    /// the requests in flight to be answered.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| StagingError::io("serving", e))
    }
}

/// Binds `listen` (loopback addresses only) and routes to `app`.
pub async fn bind(listen: SocketAddr, app: Arc<App>, max_body_bytes: usize) -> Result<Bound> {
    if !listen.ip().is_loopback() {
        return Err(StagingError::Config(format!(
            "--listen {listen}: the staging service listens on loopback only (127.0.0.1 or [::1])"
        )));
    }
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| StagingError::io(format!("binding {listen}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StagingError::io("reading the bound address", e))?;
    Ok(Bound {
        listener,
        router: router(app, max_body_bytes),
        addr,
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let int = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = int => {}
        () = term => {}
    }
}
