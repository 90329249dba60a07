//! The Redis cache against a real redis-server on 127.0.0.1 (start one with
//! `scripts/ci-services`): GET/SETEX/SADD/SISMEMBER/DEL round trips, and
//! the TTL set by SETEX. Without a server it says SKIPPED and passes.

#[macro_use]
mod common;

use std::time::Duration;

use heaplab_staging::backends::{test_redis_url, RedisCache};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_round_trip() {
    let url = test_redis_url();
    let cache = match RedisCache::connect(&url).await {
        Ok(c) => c,
        Err(e) => {
            skipped!("SKIPPED: no redis-server at {url} ({e}); run scripts/ci-services");
            return;
        }
    };
    let key = format!("heaplab:test:{}", std::process::id());
    let set_key = format!("{key}:set");
    cache.del(&key).await.unwrap();
    cache.del(&set_key).await.unwrap();

    assert_eq!(cache.get(&key).await.unwrap(), None);
    cache
        .set_ex(&key, Duration::from_secs(300), b"[1,2,3]")
        .await
        .unwrap();
    assert_eq!(
        cache.get(&key).await.unwrap().as_deref(),
        Some(&b"[1,2,3]"[..])
    );

    assert_eq!(cache.sadd(&set_key, &[5, 7, 7]).await.unwrap(), 2);
    assert!(cache.sismember(&set_key, 7).await.unwrap());
    assert!(!cache.sismember(&set_key, 6).await.unwrap());

    assert!(cache.del(&key).await.unwrap());
    assert!(cache.del(&set_key).await.unwrap());
    assert_eq!(cache.get(&key).await.unwrap(), None);

    cache
        .set_ex(&key, Duration::from_secs(1), b"x")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(cache.get(&key).await.unwrap(), None, "SETEX 1 expires");
}

/// A `WRONGTYPE` reply keeps its kind through fraudcheck's async face: a
/// `GET` on a set is `CacheError::WrongType`, a dead server `Unavailable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrongtype_reply_is_a_wrong_type_error() {
    use fraudcheck::{AsyncCacheBackend, CacheError};
    let url = test_redis_url();
    let cache = match RedisCache::connect(&url).await {
        Ok(c) => c,
        Err(e) => {
            skipped!("SKIPPED: no redis-server at {url} ({e}); run scripts/ci-services");
            return;
        }
    };
    let key = format!("heaplab:test:wrongtype:{}", std::process::id());
    cache.del(&key).await.unwrap();
    cache.sadd(&key, &[1, 2]).await.unwrap();
    assert_eq!(
        AsyncCacheBackend::get(&cache, &key).await,
        Err(CacheError::WrongType { key: key.clone() })
    );
    let e = cache.get(&key).await.unwrap_err();
    assert!(
        matches!(&e, heaplab_staging::StagingError::Redis { what: "GET", .. }),
        "{e:?}"
    );
    assert!(
        std::error::Error::source(&e).is_some(),
        "keeps the client's error"
    );
    cache
        .set_ex(&key, Duration::from_secs(60), b"[]")
        .await
        .unwrap();
    assert_eq!(
        AsyncCacheBackend::sismember(&cache, &key, 1).await,
        Err(CacheError::WrongType { key: key.clone() })
    );
    cache.del(&key).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_is_an_error_not_a_hang() {
    // Port 1 on loopback: nothing listens there.
    let started = std::time::Instant::now();
    let e = RedisCache::connect("redis://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("redis: "), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let e = RedisCache::connect("redis://10.1.2.3:6379/")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "redis://10.1.2.3:6379/: staging talks to loopback servers only"
    );
}
