//! fraudcheck's synchronous backend traits over the async clients.
//!
//! A check is blocking code; the service runs it inside
//! [`tokio::task::block_in_place`], where this adapter waits for the async
//! client with [`Handle::block_on`] while the runtime's other workers drive
//! the sockets. Every client error becomes `Unavailable`, so the checks'
//! fallbacks (the snapshot of `ttl_refresh`) and the fail policy apply.

use std::time::Duration;

use fraudcheck::{CacheBackend, CacheError, StoreBackend, StoreError};
use tokio::runtime::Handle;

use super::{PgStore, RedisCache};
use crate::StagingError;

/// [`RedisCache`] as a fraudcheck [`CacheBackend`].
#[derive(Debug)]
pub struct BlockingRedis {
    cache: RedisCache,
    handle: Handle,
}

impl BlockingRedis {
    /// Runs `cache`'s commands on the runtime of `handle`.
    pub fn new(cache: RedisCache, handle: Handle) -> BlockingRedis {
        BlockingRedis { cache, handle }
    }
}

fn cache_error(key: &str, e: StagingError) -> CacheError {
    if e.to_string().contains("WRONGTYPE") {
        CacheError::WrongType { key: key.into() }
    } else {
        CacheError::Unavailable
    }
}

impl CacheBackend for BlockingRedis {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.handle
            .block_on(self.cache.get(key))
            .map_err(|e| cache_error(key, e))
    }

    fn set_ex(&self, key: &str, ttl: Duration, value: &[u8]) -> Result<(), CacheError> {
        if ttl.as_secs() == 0 {
            return Err(CacheError::InvalidExpire);
        }
        self.handle
            .block_on(self.cache.set_ex(key, ttl, value))
            .map_err(|e| cache_error(key, e))
    }

    fn sismember(&self, key: &str, member: u64) -> Result<bool, CacheError> {
        self.handle
            .block_on(self.cache.sismember(key, member))
            .map_err(|e| cache_error(key, e))
    }

    fn replace_set(&self, key: &str, members: &[u64], ttl: Duration) -> Result<(), CacheError> {
        if ttl.as_secs() == 0 {
            return Err(CacheError::InvalidExpire);
        }
        self.handle
            .block_on(self.cache.replace_set(key, members, ttl))
            .map_err(|e| cache_error(key, e))
    }
}

/// [`PgStore`] as a fraudcheck [`StoreBackend`].
#[derive(Debug)]
pub struct BlockingPg {
    store: PgStore,
    handle: Handle,
}

impl BlockingPg {
    /// Runs `store`'s queries on the runtime of `handle`.
    pub fn new(store: PgStore, handle: Handle) -> BlockingPg {
        BlockingPg { store, handle }
    }
}

impl StoreBackend for BlockingPg {
    fn query_active(&self) -> Result<Vec<u64>, StoreError> {
        let mut ids = self
            .handle
            .block_on(self.store.query_active())
            .map_err(|_| StoreError::Unavailable)?;
        // NOTE: the trait asks for a stable order (the JSON written back to
        // the cache is then deterministic); the incident's query has no
        // ORDER BY, so sort here rather than change the query.
        ids.sort_unstable();
        Ok(ids)
    }
}
