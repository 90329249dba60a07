//! `heaplab profile` samples by default: for `retained_listener` it prints
//! the set each request builds as the top site by bytes in use, and writes
//! the profile in the format its file name asks for (pprof for `.pb.gz`,
//! DHAT's JSON for `.json`, folded stacks, a flamegraph SVG).

mod common;

fn profile(out: &std::path::Path) -> String {
    common::heaplab([
        "profile",
        "--variant",
        "retained_listener",
        "--requests",
        "300",
        "--users",
        "200",
        "--rate",
        "16KiB",
        "--seed",
        "5",
        "-o",
        out.to_str().expect("a UTF-8 temporary path"),
    ])
}

#[test]
fn names_the_set_and_writes_each_format() {
    let dir = tempfile::tempdir().expect("temp dir");

    let pprof = dir.path().join("leak.pb.gz");
    let stdout = profile(&pprof);
    let top = stdout
        .lines()
        .skip_while(|l| !l.starts_with("top sites by bytes in use"))
        .nth(1)
        .unwrap_or_default();
    assert!(top.contains("id_set"), "{stdout}");
    assert!(stdout.contains("exact (counters)"), "{stdout}");
    let bytes = std::fs::read(&pprof).expect("pprof written");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip");

    let json = dir.path().join("leak.json");
    profile(&json);
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("written")).expect("JSON");
    assert_eq!(value["mode"], "rust-heap");
    assert!(!value["pps"].as_array().expect("program points").is_empty());

    let folded = dir.path().join("leak.folded");
    profile(&folded);
    let text = std::fs::read_to_string(&folded).expect("written");
    assert!(text.lines().any(|l| l.contains("id_set")), "{text}");
    // The variant's own frame names its type, not just `::is_risky`.
    assert!(
        text.lines()
            .any(|l| l.contains("RetainedListenerCheck_as_FraudCheck>::is_risky")),
        "{text}"
    );

    let svg = dir.path().join("leak.svg");
    profile(&svg);
    let text = std::fs::read_to_string(&svg).expect("written");
    // inferno's SVG starts with a DOCTYPE.
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(&text, options).expect("well-formed SVG");
    assert!(text.contains("id_set"));
}
