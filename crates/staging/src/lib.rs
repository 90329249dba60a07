//! The fraud check as a real service, and the soak that catches its leak.
//!
//! - [`service`]: `heaplab serve`, an axum service answering
//!   `POST /payments` with one fraudcheck variant, with `/metrics` and
//!   `/healthz`; each request awaits the check, and the check awaits Redis
//!   and PostgreSQL ([`backends`]). The service module says what heapmeter's
//!   per-request accounting sees of a request, and what stays outside.
//! - [`metrics`]: its Prometheus text.
//! - [`soak`]: `heaplab soak`, an open-loop load at a fixed rate over
//!   loopback, bounded in time, that scrapes `/metrics` (and
//!   `/proc/PID/status`) and judges growth: of the service it starts, or
//!   of any running service that speaks the payments API, several at once.
//! - [`units`]: the one duration grammar (and byte-size grammar) of every
//!   command.
//!
//! This crate sits beside the `heaplab` CLI: heapmeter and fraudcheck never
//! depend on it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod backends;
pub mod cli;
pub mod client;
mod error;
pub mod growth;
pub mod metrics;
pub mod servers;
pub mod service;
pub mod soak;
pub mod units;

pub use error::{Result, StagingError};
