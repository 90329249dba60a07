//! The risky-user store against a real PostgreSQL on 127.0.0.1 (start one
//! with `scripts/ci-services`): `seed` creates and fills `risky_users`, the
//! incident's query reads back exactly the active ids. Without a server it
//! says SKIPPED and passes.

#[macro_use]
mod common;

use std::time::Duration;

use heaplab_staging::backends::{test_postgres_url, PgStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_then_select_active() {
    let url = test_postgres_url();
    let store = match PgStore::connect(&url).await {
        Ok(s) => s,
        Err(e) => {
            skipped!("SKIPPED: no postgres at {url} ({e}); run scripts/ci-services");
            return;
        }
    };
    let ids = fraudcheck::data::risky_user_ids(1000, 7);
    store.seed(&ids).await.unwrap();
    let mut got = store.query_active().await.unwrap();
    got.sort_unstable();
    let mut want = ids.clone();
    want.sort_unstable();
    assert_eq!(got, want);

    // Seeding again replaces the rows.
    store.seed(&ids[..10]).await.unwrap();
    assert_eq!(store.query_active().await.unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_is_an_error_not_a_hang() {
    let started = std::time::Instant::now();
    let e = PgStore::connect("postgres://heaplab:heaplab@127.0.0.1:1/heaplab")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("postgres: "), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
