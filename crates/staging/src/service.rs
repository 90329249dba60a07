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
//! down, stale set) is answered as [`OnFailure`] says: the check's own
//! decision (`check.decide`, by the [`FailPolicy`] it was built with: `200`
//! with a `degraded` reason), or `503` with the reason. Never a hang: every
//! check runs to an answer, and the backends time out.
//!
//! The handler awaits the check, and the check awaits Redis and PostgreSQL
//! (fraudcheck's async face over [`ServiceCache`] and [`ServiceStore`]): a
//! request waiting on a backend is a future that waits, holding what it has
//! fetched, while the worker threads serve the others. Nothing blocks a
//! worker thread in a request's path.
//!
//! # What heapmeter's `AllocLayer` sees of a request
//!
//! Every request is measured by heapmeter's `AllocLayer` (its future's
//! allocations across its polls, per matched route, with
//! `heapmeter::measure_future`) into the registry `/metrics` renders. The
//! request's future is now the whole check: the body's JSON, the check's
//! own work (the parsed list and the set `naive` builds, the listener
//! `retained_listener` keeps), the commands the clients encode and the
//! channels they hand them over by, the response; across every `.await`,
//! on whichever worker thread polls it.
//!
//! What stays outside: the clients' connection tasks. The `redis`
//! connection manager's driver and `tokio-postgres`'s `Connection` are
//! tasks of their own, spawned at connect time: they write the commands,
//! read the replies from the socket and build the reply values (a `GET`'s
//! body, the rows of the `SELECT`). Those bytes are allocated on the
//! connection task and handed to the request, which frees them: counted as
//! the request's deallocations but not its allocations, so a request over
//! Redis can show fewer bytes allocated than it uses, and its retained
//! bytes go below zero by what it received. The embedded backends run in
//! the request's own future and have no such task. Memory the server
//! allocates before the layer sees the request (hyper's buffers) is outside
//! too, as heapmeter's `tower` module says.

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
    data, AnyCheck, AsyncFraudCheck, Cache, Clock, CoarseClock, Config, Env, FailPolicy,
    ManualClock, Payment, RiskyUserStore, Variant,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use heapmeter::tower::AllocLayer;

use crate::backends::{PgStore, RedisCache, ServiceCache, ServiceStore};
use crate::metrics::{Metrics, Outcome};
use crate::{Result, StagingError};

/// What the service answers when a check fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Answer the check's decision (`check.decide`), by this fail policy
    /// (the check's [`Config::fail_policy`]): `200` with `"degraded"` set.
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

/// The seed of the risky-user ids a service holds (embedded) and seeds
/// PostgreSQL with (`--seed-db`): `fraudcheck::data::risky_user_ids(users,
/// SERVICE_SEED)`. A soak pays as the same ids.
pub const SERVICE_SEED: u64 = 7;

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
    /// A variant over `users` risky users, seed [`SERVICE_SEED`], failing
    /// open, 4 KiB bodies.
    pub fn new(variant: Variant, users: usize) -> ServiceConfig {
        ServiceConfig {
            variant,
            users,
            seed: SERVICE_SEED,
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
    check: AnyCheck<ServiceCache, ServiceStore>,
    env: Env,
    on_failure: OnFailure,
    metrics: Metrics,
}

/// The embedded cache and store of `config`'s users, and the check's
/// config: its fail policy is the one [`OnFailure::Decide`] names (with
/// [`OnFailure::Reject`] the decision is never answered).
fn embedded_env(config: &ServiceConfig) -> Env {
    let clock: Arc<dyn Clock> = Arc::new(CoarseClock::new());
    let mut check_config = Config::default();
    if let OnFailure::Decide(policy) = config.on_failure {
        check_config.fail_policy = policy;
    }
    // NOTE: the store's own clock only counts its latency, which the
    // service awaits on tokio's timer instead (see `ServiceStore::embedded`).
    let store = RiskyUserStore::new(Arc::new(ManualClock::new()), config.risky_ids());
    Env::with_backends(
        Arc::new(Cache::new(clock.clone())),
        Arc::new(store),
        clock,
        check_config,
    )
}

impl App {
    /// A check of `config.variant` over the embedded cache and store
    /// (`config.redis` and `config.postgres` are not read).
    pub fn embedded(config: &ServiceConfig) -> App {
        let env = embedded_env(config);
        let cache = ServiceCache::Embedded(env.cache.clone());
        let store = ServiceStore::embedded(env.store.clone());
        App::over(config, env, cache, store)
    }

    fn over(config: &ServiceConfig, env: Env, cache: ServiceCache, store: ServiceStore) -> App {
        let backends = Env::with_backends(
            Arc::new(cache),
            Arc::new(store),
            env.clock.clone(),
            env.config.clone(),
        );
        App {
            check: AnyCheck::new(config.variant, &backends),
            env,
            on_failure: config.on_failure,
            metrics: Metrics::new(),
        }
    }

    /// A check of `config.variant` over Redis and PostgreSQL where
    /// `config` names them, the embedded backends elsewhere; seeds the
    /// database first when `config.seed_db`.
    pub async fn connect(config: &ServiceConfig) -> Result<App> {
        let env = embedded_env(config);
        let cache = match &config.redis {
            Some(url) => {
                let redis = RedisCache::connect(url).await?;
                // NOTE: a list left in Redis by an earlier run (another
                // --users) would be served until it expires: start empty.
                redis.del(fraudcheck::CACHE_KEY).await?;
                redis.del(fraudcheck::CACHE_SET_KEY).await?;
                ServiceCache::Redis(redis)
            }
            None => ServiceCache::Embedded(env.cache.clone()),
        };
        let store = match &config.postgres {
            Some(url) => {
                let pg = PgStore::connect(url).await?;
                if config.seed_db {
                    pg.seed(&config.risky_ids()).await?;
                }
                ServiceStore::Postgres(Box::new(pg))
            }
            None if config.seed_db => {
                return Err(StagingError::Config(
                    "--seed-db needs --postgres URL".into(),
                ))
            }
            None => ServiceStore::embedded(env.store.clone()),
        };
        Ok(App::over(config, env, cache, store))
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

    /// The check's decision for `payment`: its answer, or its fail policy's
    /// when it failed.
    pub async fn decide(&self, payment: &Payment) -> fraudcheck::Decision {
        self.check.decide(payment).await
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
    let decision = app.check.decide(&payment).await;
    app.metrics.record_duration(start.elapsed().as_secs_f64());
    let risky = decision.risky;
    match (decision.failure, app.on_failure) {
        (None, _) => {
            app.metrics.record_outcome(Outcome::Checked);
            Json(Decision {
                risky,
                degraded: None,
            })
            .into_response()
        }
        (Some(e), OnFailure::Reject) => {
            app.metrics.record_outcome(Outcome::Unavailable);
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        (Some(e), OnFailure::Decide(_)) => {
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
        self.task.await.map_err(StagingError::Task)?
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
