//! The crate's one error type.

use std::io;
use std::time::Duration;

use crate::client::HttpError;

/// What can go wrong starting the service, talking to a backend or running a
/// soak. Every variant renders as one line; the ones caused by a library
/// keep its error as their `source`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StagingError {
    /// Binding, accepting or talking over a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Redis refused or answered with an error.
    #[error("redis: {what}: {source}")]
    Redis {
        /// The command, e.g. `GET`.
        what: &'static str,
        /// The client's error (its kind says which).
        #[source]
        source: redis::RedisError,
    },
    /// PostgreSQL refused or answered with an error.
    #[error("postgres: {what}: {source}")]
    Postgres {
        /// The statement, e.g. `SELECT`.
        what: &'static str,
        /// The client's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A backend did not answer in time.
    #[error("{backend}: {what}: no answer within {after:?}")]
    Timeout {
        /// `redis` or `postgres`.
        backend: &'static str,
        /// The command.
        what: &'static str,
        /// The time allowed.
        after: Duration,
    },
    /// A flag or URL that cannot be used.
    #[error("{0}")]
    Config(String),
    /// The heap sampler could not start.
    #[error("heap sampling: {0}")]
    Sampling(#[from] heapmeter::sampling::SamplingError),
    /// An HTTP exchange with the service under soak failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The service under soak is not healthy: its `/healthz` answered this.
    #[error("{url}/healthz answered {status}: {body}")]
    Unhealthy {
        /// The service.
        url: String,
        /// The status it answered.
        status: u16,
        /// The body it answered.
        body: String,
    },
    /// A target's process could not be read in `/proc`.
    #[error("--pid {pid}: cannot read /proc/{pid}/status: {source}")]
    Proc {
        /// The process id.
        pid: u32,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A task of the service or of the soak ended abnormally.
    #[error("a task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Starting or stopping a server (a soak's own, or its fault steps)
    /// ran on a blocking thread that could not finish.
    #[error("starting or stopping a server failed: {0}")]
    Blocking(#[source] tokio::task::JoinError),
}

impl StagingError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> StagingError {
        StagingError::Io {
            context: context.into(),
            source,
        }
    }
}

/// `Result` with [`StagingError`].
pub type Result<T, E = StagingError> = std::result::Result<T, E>;
