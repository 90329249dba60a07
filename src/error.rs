//! The errors the command line reports: one line each, never a panic.

use std::path::PathBuf;

/// Why a `heaplab` command could not run. Each message is one line, meant
/// to follow `error: ` on stderr.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A figure that must be positive was zero.
    #[error("{what} must be greater than zero")]
    Zero {
        /// The flag, e.g. `--pods`.
        what: &'static str,
    },
    /// A profile file whose format the extension does not tell.
    #[error("cannot tell the profile format of `{}`: name it .pb.gz, .json, .svg or .folded, or give --format pprof|dhat|folded|flamegraph", path.display())]
    ProfileFormat {
        /// The file.
        path: PathBuf,
    },
    /// `serve` or `soak` failed (a socket, a backend, the service).
    #[error(transparent)]
    Staging(#[from] heaplab_staging::StagingError),
    /// The pod's memory limit is not above the memory the rest of the
    /// service already uses.
    #[error("--limit {limit} is not above --baseline {baseline}: a pod would be OOMKilled before its first request")]
    LimitBelowBaseline {
        /// The limit, formatted.
        limit: String,
        /// The baseline, formatted.
        baseline: String,
    },
    /// An output file that cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Drawing the SVG failed.
    #[error("cannot draw {}: {reason}", path.display())]
    Plot {
        /// The file.
        path: PathBuf,
        /// plotters' message.
        reason: String,
    },
    /// A fraud check failed in a way the measurement cannot go on from.
    #[error("{variant}: {source}")]
    Check {
        /// The variant's name.
        variant: &'static str,
        /// The check's error.
        source: fraudcheck::CheckError,
    },
    /// The heap sampler could not start.
    #[error("cannot sample the heap: {0}")]
    Sampling(#[from] heapmeter::sampling::SamplingError),
    /// Writing to stdout failed (a closed pipe, say).
    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] std::io::Error),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
