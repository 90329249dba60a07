//! `heaplab replay --svg FILE` writes the memory graphs as well-formed SVG.

mod common;

#[test]
fn replay_svg_is_well_formed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("memory.svg");
    let path_arg = path.to_str().expect("a UTF-8 temporary path");
    let stdout = common::heaplab([
        "replay",
        "--variant",
        "retained_listener,ttl_refresh",
        "--duration",
        "10m",
        "--rps",
        "10",
        "--users",
        "100",
        "--limit",
        "2MiB",
        "--baseline",
        "1MiB",
        "--svg",
        path_arg,
    ]);
    assert!(stdout.contains("retained_listener"), "{stdout}");

    let svg = std::fs::read_to_string(&path).expect("the SVG was written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let texts: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    assert!(texts.contains("retained_listener"), "{texts}");
    assert!(texts.contains("ttl_refresh"), "{texts}");
    let lines = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "polyline")
        .count();
    assert!(lines >= 2, "{lines} polylines");
}
