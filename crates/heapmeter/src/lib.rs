//! Heap profiling for Rust programs and services: exact, thread-precise
//! allocation counts per call, per request and per test; allocation
//! budgets that `cargo test` holds; a detector that tells a leak from mere
//! churn; and sampled call-site profiles that `go tool pprof` reads,
//! served over HTTP for axum apps.
//!
//! Install the counting allocator once, in the binary or test crate:
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//!     heapmeter::CountingAlloc::new(std::alloc::System);
//!
//! // One thread's allocations while the closure runs, exactly.
//! let (sum, stats) = heapmeter::measure(|| (0..100u64).collect::<Vec<_>>().iter().sum::<u64>());
//! assert_eq!(sum, 4950);
//! assert_eq!(stats.allocs, 1);
//! assert_eq!(stats.bytes_allocated, 800);
//! assert_eq!(stats.net_bytes(), 0);
//!
//! // Mean per operation, and a budget that names what it exceeded.
//! let ids: std::collections::HashSet<u64> = (0..1000).collect();
//! let per = heapmeter::per_op(1_000, |i| ids.contains(&i));
//! heapmeter::Budget::new().max_allocs(0).max_bytes(0).check(&per).unwrap();
//!
//! // Leak, churn or clean?
//! let report = heapmeter::LeakDetector::new().run(|i| format!("request {i}"));
//! assert_eq!(report.verdict, heapmeter::Verdict::Churn);
//! ```
//!
//! | what | where |
//! |---|---|
//! | the allocator, wrapping any other (System, jemalloc, dhat) | [`CountingAlloc`] |
//! | one thread / the whole process while a closure runs | [`measure`], [`measure_process`] → [`Stats`] |
//! | one future over all its polls, on any thread | [`measure_future`] → [`MeasuredFuture`] |
//! | mean per operation after a warm-up | [`per_op`] → [`PerOp`] |
//! | limits for tests | [`Budget`], [`assert_budget!`] → [`OverBudget`] |
//! | leak, churn or clean | [`LeakDetector`] → [`LeakReport`], [`Verdict`] |
//! | where: sampled call-site heap profiles, pprof / DHAT / flamegraph | [`sampling`] → [`Profile`] |
//! | the heap-growth alert, on any clock | [`GrowthMonitor`], [`GrowthRule`] → [`AlertState`] |
//! | Prometheus metrics (feature `prometheus`) | `prometheus::Metrics` |
//! | per-request metrics for tower and axum (feature `tower`, `axum`) | `tower::AllocLayer` |
//! | `/debug/pprof/heap` and `/debug/pprof/allocs` for axum apps (feature `axum`) | `axum::pprof_routes` |
//! | allocator statistics (feature `jemalloc`) | `jemalloc` |
//! | allocations per iteration in criterion (feature `criterion`) | `criterion` |
//!
//! # Why per-thread counters
//!
//! `cargo test` runs tests on several threads at once. A counter shared by
//! the process sees every test's allocations, so budgets flake; it also
//! makes every allocation a contended atomic operation. heapmeter gives
//! each thread its own slot of counters, written only by that thread, and
//! sums the slots for the process-wide view. See [`CountingAlloc`] for the
//! rules (thread exit, memory freed on another thread, `realloc`).
//!
//! # Features
//!
//! - `jemalloc`: `heapmeter::jemalloc::stats()` reads jemalloc's allocated,
//!   active, resident, mapped, retained and metadata bytes (pair it with
//!   `CountingAlloc<tikv_jemallocator::Jemalloc>`).
//! - `criterion`: `heapmeter::criterion::{Allocs, BytesAllocated}`,
//!   criterion measurements that report allocations or bytes per iteration.
//! - `pprof`: `Profile::write_pprof`, pprof's gzipped `profile.proto`.
//! - `flamegraph`: `Profile::write_flamegraph`, an SVG through `inferno`.
//! - `prometheus`: `heapmeter::prometheus::Metrics`, a registry rendering
//!   process-wide heap counters, resident bytes and per-route request
//!   histograms in Prometheus' text format (with `jemalloc`, its figures too).
//! - `tower`: `heapmeter::tower::AllocLayer`, a layer that measures each
//!   request's future and records it per route (implies `prometheus`).
//! - `axum`: with `tower`, the route label is axum's `MatchedPath`; and
//!   `heapmeter::axum::pprof_routes()`, the heap profiles over HTTP
//!   (implies `pprof`).
//!
//! # In release builds
//!
//! Profiles name functions, files and lines from the binary's debug info.
//! `debug = "line-tables-only"` in `[profile.release]` is enough for files
//! and lines, inlined functions included, at a fraction of full debug
//! info's size; names then come from the symbol table where line tables
//! have none (Linux). See [`Frame`] for what each build shows.
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(feature = "axum")]
pub mod axum;
mod budget;
mod engine;
mod future;
mod growth;
mod leak;
#[cfg(feature = "pprof")]
mod pprof;
mod profile;
pub mod sampling;
mod scope;
mod stats;
mod symbolize;
pub mod verdict;

#[cfg(feature = "criterion")]
pub mod criterion;
#[cfg(feature = "jemalloc")]
pub mod jemalloc;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "tower")]
pub mod tower;

#[allow(deprecated)]
pub use budget::Scope;
pub use budget::{Budget, BudgetScope, Exceeded, Limit, Measured, OverBudget};
pub use engine::CountingAlloc;
pub use future::{measure_future, Label, MeasuredFuture};
pub use growth::{resident_bytes, AlertState, GrowthMonitor, GrowthRule};
pub use leak::{GrowingSite, LeakDetector, LeakReport, Sample, Verdict};
pub use profile::{Frame, Profile, ProfileStack, SampleType, SiteTotal};
pub use scope::{measure, measure_process, per_op, process_totals, PerOp};
pub use stats::{Bytes, Stats};

#[cfg(test)]
#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

#[cfg(test)]
mod tests;

// The crate's README, whose examples run as doctests.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
