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
//! Every request is measured by heapmeter's `AllocLayer` (its future's
//! allocations across its polls, per matched route) into the registry
//! `/metrics` renders.
//!
//! NOTE: the checks are synchronous (fraudcheck knows nothing of async). The
//! handler runs one inside [`tokio::task::block_in_place`], so the worker
//! thread hands its other tasks to the runtime while it checks, and the
//! check's allocations stay inside the request future's poll, where the
//! layer sees them. This needs the multi-thread runtime. What the layer
//! cannot see: work a backend client does on its own connection task
//! (reading a Redis reply), and, when `block_in_place` has to start a
//! replacement worker thread, that thread's set-up is counted to the request
//! that caused it.

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
use fraudcheck::{
    build, data, CacheBackend, CheckError, Config, Env, FailPolicy, FraudCheck, Payment,
    StoreBackend, Variant,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use heapmeter::tower::AllocLayer;

use crate::backends::{BlockingPg, BlockingRedis, PgStore, RedisCache};
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
    /// The cache on this Redis (`redis://127.0.0.1:6379/`) instead of the
    /// embedded one.
    pub redis: Option<String>,
    /// The store on this PostgreSQL instead of the embedded one.
    pub postgres: Option<String>,
    /// Create `risky_users` on the PostgreSQL and fill it with the `users`
    /// ids of `seed` before serving.
    pub seed_db: bool,
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
            redis: None,
            postgres: None,
            seed_db: false,
        }
    }

    /// The risky-user ids the store holds (embedded) or is seeded with.
    pub fn risky_ids(&self) -> Vec<u64> {
        data::risky_user_ids(self.users, self.seed)
    }

    /// "embedded cache and store", "Redis cache, embedded store", …
    pub fn backends(&self) -> String {
        if self.redis.is_none() && self.postgres.is_none() {
            return "embedded cache and store".into();
        }
        let cache = if self.redis.is_some() {
            "Redis cache"
        } else {
            "embedded cache"
        };
        let store = if self.postgres.is_some() {
            "PostgreSQL store"
        } else {
            "embedded store"
        };
        format!("{cache}, {store}")
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

fn config_for(on_failure: OnFailure) -> Config {
    let mut config = Config::default();
    if let OnFailure::Decide(policy) = on_failure {
        config.fail_policy = policy;
    }
    config
}

impl App {
    /// A check of `config.variant` over the embedded cache and store
    /// (`config.redis` and `config.postgres` are not read).
    pub fn embedded(config: &ServiceConfig) -> App {
        let env = Env::new(config.users, config.seed).with_config(config_for(config.on_failure));
        App {
            check: build(config.variant, &env),
            env,
            on_failure: config.on_failure,
            metrics: Metrics::new(),
        }
    }

    /// A check of `config.variant` over Redis and PostgreSQL where
    /// `config` names them, the embedded backends elsewhere; seeds the
    /// database first when `config.seed_db`. Must run on a multi-thread
    /// runtime (the checks block on the clients inside `block_in_place`).
    pub async fn connect(config: &ServiceConfig) -> Result<App> {
        let env = Env::new(config.users, config.seed).with_config(config_for(config.on_failure));
        let handle = tokio::runtime::Handle::current();
        let cache: Arc<dyn CacheBackend> = match &config.redis {
            Some(url) => {
                let redis = RedisCache::connect(url).await?;
                // NOTE: a list left in Redis by an earlier run (another
                // --users) would be served until it expires: start empty.
                redis.del(fraudcheck::CACHE_KEY).await?;
                redis.del(fraudcheck::CACHE_SET_KEY).await?;
                Arc::new(BlockingRedis::new(redis, handle.clone()))
            }
            None => env.cache.clone(),
        };
        let store: Arc<dyn StoreBackend> = match &config.postgres {
            Some(url) => {
                let pg = PgStore::connect(url).await?;
                if config.seed_db {
                    pg.seed(&config.risky_ids()).await?;
                }
                Arc::new(BlockingPg::new(pg, handle))
            }
            None if config.seed_db => {
                return Err(StagingError::Config(
                    "--seed-db needs --postgres URL".into(),
                ))
            }
            None => env.store.clone(),
        };
        let dyn_env = Env::with_backends(cache, store, env.clock.clone(), env.config.clone());
        Ok(App {
            check: build(config.variant, &dyn_env),
            env,
            on_failure: config.on_failure,
            metrics: Metrics::new(),
        })
    }

    /// The embedded environment: fault injection and contents of the
    /// embedded cache and store (the ones in use unless Redis or
    /// PostgreSQL were given).
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
        .layer(AllocLayer::new(app.metrics.heap()))
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
    let result = tokio::task::block_in_place(|| app.check.is_risky(&payment));
    app.metrics.record_duration(start.elapsed().as_secs_f64());
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

/// A service serving on a task of the current runtime, until [`stop`](Running::stop).
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Running {
    /// Binds a free port on 127.0.0.1 and serves `app` on a new task.
    pub async fn start(app: Arc<App>, max_body_bytes: usize) -> Result<Running> {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let bound = bind(listen, app, max_body_bytes).await?;
        let addr = bound.addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(bound.serve(async {
            let _ = stopped.await;
        }));
        Ok(Running { addr, stop, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, answers the requests in flight, and returns.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| StagingError::Soak(format!("the service task failed: {e}")))?
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
