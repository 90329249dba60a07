//! Chapter 7's flamegraph (`docs/07-retained-listener.svg`, drawn by
//! `cargo run --release --example where_is_it`) is not stale: the call site
//! that heapmeter's sampler finds holding `retained_listener`'s bytes today
//! is a frame of the committed graph, under the variant's `is_risky`. Its
//! byte counts are sampled and its frames depend on the build, so the file
//! is checked by what it must show, not byte for byte.

use fraudcheck::{build, data, Env, Variant};
use heapmeter::{sampling, SampleType};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

#[test]
fn the_committed_flamegraph_shows_the_site_the_sampler_finds_now() {
    let env = Env::new(1_000, 7);
    let payments = data::payments(64, 8, &env.store.active_ids(), 0.1);
    let check = build(Variant::RetainedListener, &env);
    sampling::start_seeded(sampling::DEFAULT_INTERVAL, 7).expect("no other sampler");
    for i in 0..2_000 {
        check.is_risky(&payments[i % 64]).expect("request");
    }
    let profile = sampling::profile();
    sampling::stop();
    let top = profile
        .sites(SampleType::InuseSpace)
        .into_iter()
        .next()
        .expect("a sampled site");

    // A site reads `function (file:line)` when the build has line tables;
    // the flamegraph's frames are functions.
    let function = top.site.split(" (").next().expect("a function");

    let svg = std::fs::read_to_string("docs/07-retained-listener.svg").expect("committed");
    assert!(svg.contains("retained_listener: in-use bytes by call stack"));
    assert!(
        svg.contains(&format!("<title>{function} (")),
        "docs/07-retained-listener.svg does not show {function}: run scripts/figures"
    );
    assert!(svg.contains("retained_listener::RetainedListenerCheck"));
}
