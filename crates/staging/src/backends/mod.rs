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

use std::time::Duration;

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
