//! `naive` and `ttl_refresh` answer over a real Redis and a real PostgreSQL
//! (seeded with `seed_db`), over TCP on 127.0.0.1, with the same answers as
//! on the embedded backends; naive leaves its `SETEX` list in Redis. Start
//! the servers with `scripts/ci-services`; without them this says SKIPPED
//! and passes.

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::Duration;

use fraudcheck::Variant;
use heaplab_staging::backends::{test_postgres_url, test_redis_url, PgStore, RedisCache};
use heaplab_staging::client::HttpClient;
use heaplab_staging::service::{App, Running, ServiceConfig};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_real_backends() {
    let (redis_url, pg_url) = (test_redis_url(), test_postgres_url());
    let redis = match RedisCache::connect(&redis_url).await {
        Ok(r) => r,
        Err(e) => {
            return skipped!(
                "SKIPPED: no redis-server at {redis_url} ({e}); run scripts/ci-services"
            )
        }
    };
    if let Err(e) = PgStore::connect(&pg_url).await {
        return skipped!("SKIPPED: no postgres at {pg_url} ({e}); run scripts/ci-services");
    }
    for variant in [Variant::Naive, Variant::TtlRefresh] {
        let mut config = ServiceConfig::new(variant, 200);
        config.redis = Some(redis_url.clone());
        config.postgres = Some(pg_url.clone());
        config.seed_db = true;
        let risky = config.risky_ids()[17];
        let app = Arc::new(App::connect(&config).await.unwrap());
        let server = Running::start(app, config.max_body_bytes).await.unwrap();
        let client = HttpClient::new(server.addr(), Duration::from_secs(5));
        for (user, want) in [(risky, true), (5, false), (risky, true)] {
            let body = format!(r#"{{"id":1,"user_id":{user},"amount_cents":3}}"#);
            let r = client
                .post_json("/payments", body.as_bytes())
                .await
                .unwrap();
            assert_eq!(
                (r.status, r.text()),
                (200, format!(r#"{{"risky":{want}}}"#)),
                "{variant:?}"
            );
        }
        let cached = redis.get(fraudcheck::CACHE_KEY).await.unwrap().unwrap();
        let ids: Vec<u64> = serde_json::from_slice(&cached).unwrap();
        assert_eq!(ids.len(), 200, "{variant:?}");
        server.stop().await.unwrap();
    }
}
