//! The cache on a real Redis, through the `redis` crate's connection
//! manager (one multiplexed connection, reconnected after a failure).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::{bounded, CALL_TIMEOUT};
use crate::{Result, StagingError};

/// A Redis client with the four commands the fraud check uses.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

fn err(e: impl std::fmt::Display) -> StagingError {
    StagingError::Redis(e.to_string())
}

impl RedisCache {
    /// Connects to `url` (`redis://127.0.0.1:6379/`), loopback only.
    pub async fn connect(url: &str) -> Result<RedisCache> {
        let client = redis::Client::open(url).map_err(err)?;
        let host = client.get_connection_info().addr.to_string();
        if !(host.contains("127.0.0.1") || host.contains("localhost") || host.contains("[::1]")) {
            return Err(StagingError::Config(format!(
                "{url}: staging talks to loopback servers only"
            )));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CALL_TIMEOUT)
            .set_response_timeout(CALL_TIMEOUT)
            // NOTE: one quick retry; a server that stays down is reported,
            // and the next command tries to reconnect again.
            .set_number_of_retries(1)
            .set_max_delay(100);
        let conn = bounded(
            StagingError::Redis,
            "connect",
            client.get_connection_manager_with_config(config),
        )
        .await?;
        Ok(RedisCache { conn })
    }

    /// `GET key`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut c = self.conn.clone();
        bounded(StagingError::Redis, "GET", c.get(key)).await
    }

    /// `SETEX key ttl value` (whole seconds, at least 1).
    pub async fn set_ex(&self, key: &str, ttl: Duration, value: &[u8]) -> Result<()> {
        let mut c = self.conn.clone();
        bounded(
            StagingError::Redis,
            "SETEX",
            c.set_ex(key, value, ttl.as_secs().max(1)),
        )
        .await
    }

    /// `SADD key members…`: how many were new.
    pub async fn sadd(&self, key: &str, members: &[u64]) -> Result<usize> {
        let mut c = self.conn.clone();
        bounded(StagingError::Redis, "SADD", c.sadd(key, members)).await
    }

    /// `SISMEMBER key member`.
    pub async fn sismember(&self, key: &str, member: u64) -> Result<bool> {
        let mut c = self.conn.clone();
        bounded(StagingError::Redis, "SISMEMBER", c.sismember(key, member)).await
    }

    /// Replaces `key` with the set of `members` expiring after `ttl`, as
    /// one atomic round trip: `MULTI; DEL; SADD; EXPIRE; EXEC` (with no
    /// members, only `DEL`).
    pub async fn replace_set(&self, key: &str, members: &[u64], ttl: Duration) -> Result<()> {
        let mut c = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic().del(key).ignore();
        if !members.is_empty() {
            pipe.sadd(key, members)
                .ignore()
                .expire(key, ttl.as_secs().max(1) as i64)
                .ignore();
        }
        bounded(
            StagingError::Redis,
            "MULTI/EXEC",
            pipe.query_async::<()>(&mut c),
        )
        .await
    }

    /// `DEL key`: whether it existed.
    pub async fn del(&self, key: &str) -> Result<bool> {
        let mut c = self.conn.clone();
        let n: usize = bounded(StagingError::Redis, "DEL", c.del(key)).await?;
        Ok(n > 0)
    }
}
