//! The crate's one error type.

use std::io;

/// What can go wrong starting the service, talking to a backend or running a
/// soak. Every variant renders as one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StagingError {
    /// Binding, accepting or talking over a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Redis refused, timed out or answered something unexpected.
    #[error("redis: {0}")]
    Redis(String),
    /// PostgreSQL refused, timed out or answered something unexpected.
    #[error("postgres: {0}")]
    Postgres(String),
    /// A flag or URL that cannot be used.
    #[error("{0}")]
    Config(String),
    /// The service under soak answered in a way the soak cannot read.
    #[error("soak: {0}")]
    Soak(String),
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
