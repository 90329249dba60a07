//! The service's backends: the cache on Redis or embedded, the risky-user
//! store on PostgreSQL or embedded, chosen at start-up ([`ServiceCache`],
//! [`ServiceStore`]) and awaited by every request.
//!
//! Every call to a real server is bounded by a timeout, so a dead server is
//! an error within [`CALL_TIMEOUT`], never a hang; both clients reconnect on
//! the next call after their server comes back.

mod postgres;
mod redis;

pub use self::postgres::PgStore;
pub use self::redis::RedisCache;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use fraudcheck::{
    AsyncCacheBackend, AsyncStoreBackend, Cache, CacheBackend, CacheError, RiskyUserStore,
    StoreBackend, StoreError,
};

use crate::{Result, StagingError};

/// Longest any single backend call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// The Redis URL the real-backend tests use: `HEAPLAB_REDIS_URL`, else
/// `redis://127.0.0.1:6379/` (what `scripts/ci-services` starts).
pub fn test_redis_url() -> String {
    std::env::var("HEAPLAB_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

/// The PostgreSQL URL the real-backend tests use: `HEAPLAB_POSTGRES_URL`,
/// else the role and database `scripts/ci-services` creates.
pub fn test_postgres_url() -> String {
    std::env::var("HEAPLAB_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://heaplab:heaplab@127.0.0.1:5432/heaplab".into())
}

/// Awaits `f` for at most [`CALL_TIMEOUT`]: its error becomes `wrap(e)`,
/// the timeout [`StagingError::Timeout`].
async fn bounded<T, E>(
    backend: &'static str,
    what: &'static str,
    wrap: impl Fn(E) -> StagingError,
    f: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(r) => r.map_err(wrap),
        Err(_) => Err(StagingError::Timeout {
            backend,
            what,
            after: CALL_TIMEOUT,
        }),
    }
}

/// The service's cache: a real Redis, or the embedded one.
///
/// An enum, not a trait object: fraudcheck's async backends return unboxed
/// futures, and matching keeps them so (no allocation to dispatch a call).
///
/// PERF: a call to a real server boxes its client's future (one allocation
/// beside the client's own), so that the request's future does not carry
/// the client's state inline when the embedded backend is in use: axum
/// boxes each request's future whole, and inline, tokio-postgres's query
/// alone made it about 5 KB in a debug build, against 0.4 KB boxed.
#[derive(Debug, Clone)]
pub enum ServiceCache {
    /// fraudcheck's embedded cache (its calls complete at once).
    Embedded(Arc<Cache>),
    /// A Redis server.
    Redis(RedisCache),
}

impl AsyncCacheBackend for ServiceCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match self {
            ServiceCache::Embedded(c) => CacheBackend::get(&**c, key),
            ServiceCache::Redis(r) => Box::pin(AsyncCacheBackend::get(r, key)).await,
        }
    }

    async fn set_ex(&self, key: &str, ttl: Duration, value: &[u8]) -> Result<(), CacheError> {
        match self {
            ServiceCache::Embedded(c) => CacheBackend::set_ex(&**c, key, ttl, value),
            ServiceCache::Redis(r) => Box::pin(AsyncCacheBackend::set_ex(r, key, ttl, value)).await,
        }
    }

    async fn sismember(&self, key: &str, member: u64) -> Result<bool, CacheError> {
        match self {
            ServiceCache::Embedded(c) => CacheBackend::sismember(&**c, key, member),
            ServiceCache::Redis(r) => Box::pin(AsyncCacheBackend::sismember(r, key, member)).await,
        }
    }

    async fn replace_set(
        &self,
        key: &str,
        members: &[u64],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        match self {
            ServiceCache::Embedded(c) => CacheBackend::replace_set(&**c, key, members, ttl),
            ServiceCache::Redis(r) => {
                Box::pin(AsyncCacheBackend::replace_set(r, key, members, ttl)).await
            }
        }
    }
}

/// The service's risky-user store: a real PostgreSQL, or the embedded one.
#[derive(Debug)]
pub enum ServiceStore {
    /// fraudcheck's embedded store, its latency awaited on the runtime's
    /// timer (see [`ServiceStore::embedded`]).
    Embedded(Arc<RiskyUserStore>),
    /// A PostgreSQL server (boxed: its client is large, and the enum is
    /// built once).
    Postgres(Box<PgStore>),
}

impl ServiceStore {
    /// The embedded `store`, whose [`latency`](RiskyUserStore::latency) a
    /// query awaits on tokio's timer before it answers: a slow embedded
    /// store holds requests in flight, as a slow database does, without
    /// holding a worker thread.
    ///
    /// NOTE: the store itself spends its latency on its own clock; give it
    /// a [`ManualClock`](fraudcheck::ManualClock), as
    /// [`App`](crate::service::App) does, so that its clock only advances
    /// (the wait is this future's, not a thread's sleep).
    pub fn embedded(store: Arc<RiskyUserStore>) -> ServiceStore {
        ServiceStore::Embedded(store)
    }
}

impl AsyncStoreBackend for ServiceStore {
    async fn query_active(&self) -> Result<Vec<u64>, StoreError> {
        match self {
            ServiceStore::Embedded(store) => {
                let latency = store.latency();
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                StoreBackend::query_active(&**store)
            }
            ServiceStore::Postgres(pg) => Box::pin(AsyncStoreBackend::query_active(&**pg)).await,
        }
    }
}
