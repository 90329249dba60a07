//! heaplab: the fraud-check memory incident replayed, compared and profiled
//! with exact allocation counts.
//!
//! The command-line tool (`heaplab replay`, `compare`, `profile`) is a thin
//! layer over this library; the chapters in [`chapters`] teach what it
//! shows.
//!
//! | module | concern |
//! |---|---|
//! | [`cli`] | the command line: arguments, value parsers, dispatch, exit codes |
//! | [`workload`] | the payments every command sends |
//! | [`replay`] | the incident replayed pod by pod in virtual time |
//! | [`compare`] | the variants side by side on a warm cache |
//! | [`profile`] | one variant under dhat's heap profiler |
//! | [`render`] | every table, graph, SVG, JSON and help text |
//! | [`units`] | reading durations and byte sizes |
//! | [`error`] | the errors, one line each |
//! | [`alloc`] | the binary's global allocator switch |
#![doc(test(attr(deny(warnings))))]

pub mod chapters;

pub mod alloc;
pub mod cli;
pub mod compare;
pub mod error;
pub mod profile;
pub mod render;
pub mod replay;
pub mod units;
pub mod workload;
