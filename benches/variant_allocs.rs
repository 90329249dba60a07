//! Allocations (`allocs/<variant>/<users>`) and bytes allocated
//! (`bytes/<variant>/<users>`) per request of every fraudcheck variant,
//! through heapmeter's criterion measurements. The counts are exact and
//! deterministic, so every sample is the same number; criterion's baselines
//! (`--save-baseline`, `--baseline`) then report any change in them exactly,
//! and flag it as a regression above criterion's noise threshold (1 % by
//! default). The fixed variants are not here: they allocate nothing, and
//! criterion cannot analyse a measurement of zero nor save it as a baseline
//! (budget tests hold them to it instead; docs/BENCHMARKS.md has what
//! criterion does then).
//!
//! ```text
//! cargo bench --bench variant_allocs
//! ```

#[path = "common/variants.rs"]
mod variants;

use std::time::Duration;

use criterion::measurement::Measurement;
use criterion::{criterion_group, criterion_main, Criterion};
use fraudcheck::Variant;
use heapmeter::criterion::{Allocs, BytesAllocated};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

fn per_request<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(500));
    for users in variants::USERS {
        // NOTE: the fixes allocate nothing per request, and criterion
        // rejects a measurement of zero ("took zero time per iteration").
        // Their zero is asserted exactly by tests/fixed_variants_allocate_nothing.rs.
        for variant in Variant::ALL.into_iter().filter(|v| !v.is_fix()) {
            variants::bench_request(&mut group, format!("{variant}/{users}"), variant, users);
        }
    }
    group.finish();
}

fn allocs(c: &mut Criterion<Allocs>) {
    per_request(c, "allocs");
}

fn bytes(c: &mut Criterion<BytesAllocated>) {
    per_request(c, "bytes");
}

criterion_group! {
    name = alloc_counts;
    config = Criterion::default().with_measurement(Allocs);
    targets = allocs
}
criterion_group! {
    name = byte_counts;
    config = Criterion::default().with_measurement(BytesAllocated);
    targets = bytes
}
criterion_main!(alloc_counts, byte_counts);
