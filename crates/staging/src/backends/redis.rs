//! The cache on a real Redis, through the `redis` crate's connection
//! manager (one multiplexed connection, reconnected after a failure).
//!
//! Each command is awaited by the request that sends it: the command is
//! encoded in the request's task and handed to the connection's driver
//! task, which writes it, reads the reply and hands the reply back (see the
//! crate docs for what heapmeter's per-request accounting sees of that).

use std::time::Duration;

use fraudcheck::{AsyncCacheBackend, CacheError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::{bounded, CALL_TIMEOUT};
use crate::{Result, StagingError};

/// A Redis client with the commands the fraud check uses.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

fn redis(what: &'static str) -> impl Fn(redis::RedisError) -> StagingError {
    move |source| StagingError::Redis { what, source }
}

impl RedisCache {
    /// Connects to `url` (`redis://127.0.0.1:6379/`), loopback only.
    pub async fn connect(url: &str) -> Result<RedisCache> {
        let client = redis::Client::open(url).map_err(redis("open"))?;
        let loopback = match &client.get_connection_info().addr {
            redis::ConnectionAddr::Tcp(host, _) => {
                host == "127.0.0.1" || host == "localhost" || host == "::1"
            }
            redis::ConnectionAddr::Unix(_) => true,
            _ => false,
        };
        if !loopback {
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
            "redis",
            "connect",
            redis("connect"),
            client.get_connection_manager_with_config(config),
        )
        .await?;
        Ok(RedisCache { conn })
    }

    /// `GET key`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut c = self.conn.clone();
        bounded("redis", "GET", redis("GET"), c.get(key)).await
    }

    /// `SETEX key ttl value` (whole seconds, at least 1).
    pub async fn set_ex(&self, key: &str, ttl: Duration, value: &[u8]) -> Result<()> {
        let mut c = self.conn.clone();
        let secs = ttl.as_secs().max(1);
        bounded("redis", "SETEX", redis("SETEX"), c.set_ex(key, value, secs)).await
    }

    /// `SADD key members…`: how many were new.
    pub async fn sadd(&self, key: &str, members: &[u64]) -> Result<usize> {
        let mut c = self.conn.clone();
        bounded("redis", "SADD", redis("SADD"), c.sadd(key, members)).await
    }

    /// `SISMEMBER key member`.
    pub async fn sismember(&self, key: &str, member: u64) -> Result<bool> {
        let mut c = self.conn.clone();
        bounded(
            "redis",
            "SISMEMBER",
            redis("SISMEMBER"),
            c.sismember(key, member),
        )
        .await
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
            "redis",
            "MULTI/EXEC",
            redis("MULTI/EXEC"),
            pipe.query_async::<()>(&mut c),
        )
        .await
    }

    /// `DEL key`: whether it existed.
    pub async fn del(&self, key: &str) -> Result<bool> {
        let mut c = self.conn.clone();
        let n: usize = bounded("redis", "DEL", redis("DEL"), c.del(key)).await?;
        Ok(n > 0)
    }
}

/// fraudcheck's error for a failed command on `key`: `WRONGTYPE` replies
/// keep their kind, everything else (refused, reset, timed out, any other
/// reply) is an unavailable cache.
///
/// NOTE: redis 0.32 has no `ErrorKind` of its own for `WRONGTYPE`: it is an
/// `ExtensionError` whose error code (the reply's first word, which the
/// protocol defines as the error's kind) is `WRONGTYPE`. That code is a
/// field of the client's error, not text read back from a message.
fn cache_error(key: &str, e: StagingError) -> CacheError {
    match e {
        StagingError::Redis { source, .. }
            if source.kind() == redis::ErrorKind::ExtensionError
                && source.code() == Some("WRONGTYPE") =>
        {
            CacheError::WrongType { key: key.into() }
        }
        _ => CacheError::Unavailable,
    }
}

impl AsyncCacheBackend for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        RedisCache::get(self, key)
            .await
            .map_err(|e| cache_error(key, e))
    }

    async fn set_ex(&self, key: &str, ttl: Duration, value: &[u8]) -> Result<(), CacheError> {
        if ttl.as_secs() == 0 {
            return Err(CacheError::InvalidExpire);
        }
        RedisCache::set_ex(self, key, ttl, value)
            .await
            .map_err(|e| cache_error(key, e))
    }

    async fn sismember(&self, key: &str, member: u64) -> Result<bool, CacheError> {
        RedisCache::sismember(self, key, member)
            .await
            .map_err(|e| cache_error(key, e))
    }

    async fn replace_set(
        &self,
        key: &str,
        members: &[u64],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        if ttl.as_secs() == 0 {
            return Err(CacheError::InvalidExpire);
        }
        RedisCache::replace_set(self, key, members, ttl)
            .await
            .map_err(|e| cache_error(key, e))
    }
}
