//! heaplab: the fraud-check memory incident replayed, compared and profiled
//! with exact allocation counts.
//!
//! The command-line tool (`heaplab replay`, `compare`, `profile`) is a thin
//! layer over this library; the chapters in [`chapters`] teach what it
//! shows.
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
