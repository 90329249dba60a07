//! Holds the `overhead_jemalloc_profiling` bench (see `Cargo.toml`).
