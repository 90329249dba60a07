//! `heaplab soak --svg FILE` writes live and resident bytes over the soak's
//! time as well-formed SVG, one line per soaked variant in each panel.

mod common;

/// Points in a polyline's `points` attribute.
fn points(node: roxmltree::Node<'_, '_>) -> usize {
    node.attribute("points")
        .map_or(0, |p| p.split_whitespace().count())
}

#[test]
fn soak_svg_is_well_formed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("soak.svg");
    let path_arg = path.to_str().expect("a UTF-8 temporary path");
    let stdout = common::heaplab([
        "soak",
        "--rps",
        "50",
        "--duration",
        "3s",
        "--compress",
        "30",
        "--svg",
        path_arg,
    ]);
    assert_eq!(stdout.matches("soak: ").count(), 3, "{stdout}");

    let svg = std::fs::read_to_string(&path).expect("the SVG was written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    for variant in ["naive", "retained_listener", "ttl_refresh"] {
        assert!(texts.contains(variant), "{variant} not in {texts}");
    }
    // NOTE: a legend's sample line has 2 points; a data line has one per
    // scrape (a 3 s soak scrapes at least 3 times).
    let lines = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "polyline" && points(*n) > 2)
        .count();
    assert_eq!(lines, 2 * 3, "a live and a resident line per variant");
}
