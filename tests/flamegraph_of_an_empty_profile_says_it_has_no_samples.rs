//! A profile with no samples (sampling never started, or nothing sampled
//! yet) still draws a flamegraph: a well-formed SVG that says there is
//! nothing to draw, where inferno alone fails with "No stack counts found".

use heapmeter::{sampling, CountingAlloc, SampleType};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();

#[test]
fn an_empty_profile_draws_a_frame_that_says_so() {
    sampling::clear();
    let profile = sampling::profile();
    assert!(profile.stacks.is_empty());
    let mut svg = Vec::new();
    profile
        .write_flamegraph(
            &mut svg,
            SampleType::InuseSpace,
            "kvstore: in-use bytes <empty>",
        )
        .expect("an empty profile draws");
    let text = String::from_utf8(svg).expect("UTF-8");
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let words: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        words
            .iter()
            .any(|t| t.contains("No samples of inuse_space")),
        "{words:?}"
    );
    assert!(
        words.contains(&"kvstore: in-use bytes <empty>"),
        "the title, escaped: {words:?}"
    );
}
