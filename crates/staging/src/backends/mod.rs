//! Real backends: the cache on Redis, the risky-user store on PostgreSQL.
//!
//! Every call is bounded by a timeout, so a dead server is an error within
//! [`CALL_TIMEOUT`], never a hang; both clients reconnect on the next call
//! after their server comes back.

mod blocking;
mod postgres;
mod redis;

pub use self::blocking::{BlockingPg, BlockingRedis};
pub use self::postgres::PgStore;
pub use self::redis::RedisCache;

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

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

/// Awaits `f` for at most [`CALL_TIMEOUT`]; its error or the timeout becomes
/// the backend's error (`wrap`: [`StagingError::Redis`] or
/// [`StagingError::Postgres`]).
async fn bounded<T, E: Display>(
    wrap: fn(String) -> StagingError,
    what: &str,
    f: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(r) => r.map_err(|e| wrap(e.to_string())),
        Err(_) => Err(wrap(format!("{what}: no answer within {CALL_TIMEOUT:?}"))),
    }
}
