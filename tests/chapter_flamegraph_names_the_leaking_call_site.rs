//! Chapter 8's flamegraph (`docs/retained-listener-flamegraph.svg`, drawn by
//! `cargo run --release --example where_is_it`) is not stale: the call site
//! where `heaplab profile` finds `retained_listener`'s bytes in use today
//! is a frame of the committed graph, under the variant's `is_risky`. Its
//! byte counts are sampled and its frames depend on the build, so the file
//! is checked by what it must show, not byte for byte.

use fraudcheck::Variant;
use heaplab::profile::{run_sampled, Format, ProfileConfig};
use heapmeter::SampleType;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[test]
fn the_committed_flamegraph_shows_the_site_the_sampler_finds_now() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let report = run_sampled(&ProfileConfig {
        variant: Variant::RetainedListener,
        requests: 2_000,
        users: 1_000,
        seed: 7,
        out: dir.path().join("leak.folded"),
        rate: heapmeter::sampling::DEFAULT_INTERVAL,
        format: Some(Format::Folded),
    })
    .expect("profiled");
    let top = report
        .profile
        .sites(SampleType::InuseSpace)
        .into_iter()
        .next()
        .expect("a sampled site");
    // A site reads `function (file:line)` when the build has line tables;
    // the flamegraph's frames are functions.
    let function = top.site.split(" (").next().expect("a function");

    let svg = std::fs::read_to_string("docs/retained-listener-flamegraph.svg").expect("committed");
    assert!(svg.contains("retained_listener: in-use bytes by call stack"));
    assert!(
        svg.contains(&format!("<title>{function} (")),
        "docs/retained-listener-flamegraph.svg does not show {function}: run scripts/figures"
    );
    assert!(svg.contains("retained_listener::RetainedListenerCheck"));
}
