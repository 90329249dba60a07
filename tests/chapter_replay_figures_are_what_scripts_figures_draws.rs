//! The replay's graphs in the chapters are not stale: each `heaplab replay`
//! line of `scripts/figures` is run again with `--svg` pointed at a
//! scratch file, and the SVG must equal the one in `docs/` byte for byte.
//! The replay runs in virtual time on exact allocation counts, so debug and
//! release builds draw the same file; the runs take about a minute in a
//! release build and several in a debug one, so this test runs under
//! `cargo test --release` (as CI does).

mod common;

const SCRIPT: &str = include_str!("../scripts/figures");
const PREFIX: &str = "cargo run --release -- ";

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes in a debug build: `cargo test --release` runs it"
)]
fn every_replay_graph_in_docs_is_what_its_command_draws_now() {
    let lines: Vec<&str> = SCRIPT
        .lines()
        .filter_map(|l| l.strip_prefix(PREFIX))
        .filter(|l| l.starts_with("replay "))
        .collect();
    assert_eq!(lines.len(), 2, "scripts/figures draws two replay graphs");
    let dir = tempfile::tempdir().expect("a scratch directory");
    for line in lines {
        let mut args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let at = args.iter().position(|a| a == "--svg").expect("--svg FILE");
        let committed = args[at + 1].clone();
        let fresh = dir.path().join("fresh.svg");
        args[at + 1] = fresh.display().to_string();
        common::heaplab(&args);
        let want = std::fs::read(&committed).expect("the figure is committed");
        let got = std::fs::read(&fresh).expect("the replay wrote its SVG");
        assert!(
            want == got,
            "{committed} is stale: run scripts/figures (it is what `heaplab {line}` draws now)"
        );
    }
}
