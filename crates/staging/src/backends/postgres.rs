//! The risky-user store on a real PostgreSQL, through `tokio-postgres`.
//!
//! The query is awaited by the request that needs it; the connection's
//! own task (spawned at connect) writes it and reads the rows.

use fraudcheck::{AsyncStoreBackend, StoreError};
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use super::bounded;
use crate::{Result, StagingError};

/// The incident's query.
pub const ACTIVE_QUERY: &str = "SELECT user_id FROM risky_users WHERE active = true";

/// A PostgreSQL client that reconnects on the next call after the server
/// closed its connection (a restart, a failover).
#[derive(Debug)]
pub struct PgStore {
    url: String,
    client: Mutex<Option<Client>>,
}

fn postgres(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StagingError {
    move |source| StagingError::Postgres { what, source }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@127.0.0.1:5432/db`),
    /// loopback only.
    pub async fn connect(url: &str) -> Result<PgStore> {
        let config: tokio_postgres::Config = url.parse().map_err(postgres("parse URL"))?;
        let loopback = config.get_hosts().iter().all(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => {
                h == "127.0.0.1" || h == "localhost" || h == "::1"
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => true,
        });
        if !loopback {
            return Err(StagingError::Config(format!(
                "{url}: staging talks to loopback servers only"
            )));
        }
        let store = PgStore {
            url: url.to_string(),
            client: Mutex::new(None),
        };
        store.with_client(|c| async { Ok((c, ())) }).await?;
        Ok(store)
    }

    async fn open(&self) -> Result<Client> {
        let (client, connection) = bounded(
            "postgres",
            "connect",
            postgres("connect"),
            tokio_postgres::connect(&self.url, NoTls),
        )
        .await?;
        // The connection task ends when the server or the client goes away.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    async fn with_client<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<Output = Result<(Client, T)>>,
    {
        let mut slot = self.client.lock().await;
        let client = match slot.take() {
            Some(c) if !c.is_closed() => c,
            _ => self.open().await?,
        };
        let (client, out) = f(client).await?;
        *slot = Some(client);
        Ok(out)
    }

    /// `SELECT user_id FROM risky_users WHERE active = true`.
    pub async fn query_active(&self) -> Result<Vec<u64>> {
        self.with_client(|c| async move {
            let rows = bounded(
                "postgres",
                "SELECT",
                postgres("SELECT"),
                c.query(ACTIVE_QUERY, &[]),
            )
            .await?;
            let ids = rows
                .iter()
                .map(|r| r.try_get::<_, i64>(0).map(|id| id as u64))
                .collect::<std::result::Result<Vec<u64>, _>>()
                .map_err(postgres("SELECT user_id"))?;
            Ok((c, ids))
        })
        .await
    }

    /// Creates `risky_users` if missing and makes its rows exactly `ids`,
    /// all active, in one transaction.
    pub async fn seed(&self, ids: &[u64]) -> Result<()> {
        let ids: Vec<i64> = ids
            .iter()
            .map(|&id| {
                i64::try_from(id).map_err(|_| {
                    StagingError::Config(format!("user id {id} does not fit a BIGINT"))
                })
            })
            .collect::<Result<_>>()?;
        self.with_client(|mut c| async move {
            let tx = bounded("postgres", "BEGIN", postgres("BEGIN"), c.transaction()).await?;
            bounded(
                "postgres",
                "CREATE TABLE",
                postgres("CREATE TABLE"),
                tx.batch_execute(
                    "CREATE TABLE IF NOT EXISTS risky_users (
                         user_id BIGINT PRIMARY KEY,
                         active BOOLEAN NOT NULL DEFAULT true);
                     TRUNCATE risky_users;",
                ),
            )
            .await?;
            bounded(
                "postgres",
                "INSERT",
                postgres("INSERT"),
                tx.execute(
                    "INSERT INTO risky_users (user_id, active) SELECT unnest($1::bigint[]), true",
                    &[&ids],
                ),
            )
            .await?;
            bounded("postgres", "COMMIT", postgres("COMMIT"), tx.commit()).await?;
            Ok((c, ()))
        })
        .await
    }
}

impl AsyncStoreBackend for PgStore {
    async fn query_active(&self) -> Result<Vec<u64>, StoreError> {
        let mut ids = PgStore::query_active(self)
            .await
            .map_err(|_| StoreError::Unavailable)?;
        // NOTE: the trait asks for a stable order (the JSON written back
        // to the cache is then deterministic); the incident's query has
        // no ORDER BY, so sort here rather than change the query.
        ids.sort_unstable();
        Ok(ids)
    }
}
