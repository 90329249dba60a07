//! The replay's graphs in the chapters are not stale: each `heaplab replay`
//! line of `scripts/figures` is run again with `--svg` pointed at a
//! scratch file, and the SVG must equal the one in `docs/` byte for byte;
//! chapter 2, which shows them, must quote the rows and the graph titles
//! the command prints (the two timing columns left out).
//! The replay runs in virtual time on exact allocation counts, so debug and
//! release builds draw the same file; the runs take about a minute in a
//! release build and several in a debug one, so this test runs under
//! `cargo test --release` (as CI does).

mod common;

const SCRIPT: &str = include_str!("../scripts/figures");
const PREFIX: &str = "cargo run --release -- ";
const CHAPTER: &str = include_str!("../docs/02-what-killed-the-pods.md");

/// The lines of the replay's table and graph titles that chapter 2 quotes:
/// each variant's row without its last two columns (times), and each
/// graph's title.
fn quoted_lines(stdout: &str) -> Vec<String> {
    let variants: Vec<&str> = fraudcheck::Variant::names().collect();
    let mut out = Vec::new();
    for line in stdout.lines() {
        let first = line.split([' ', ':']).next().unwrap_or("");
        if !variants.contains(&first) {
            continue;
        }
        if line.contains("highest pod memory") {
            out.push(line.to_string());
        } else {
            let mut row = line.trim_end();
            for _ in 0..2 {
                row = row[..row.rfind(' ').expect("columns")].trim_end();
            }
            out.push(row.to_string());
        }
    }
    out
}

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
    assert_eq!(lines.len(), 1, "scripts/figures draws one replay graph");
    let dir = tempfile::tempdir().expect("a scratch directory");
    for line in lines {
        let mut args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let at = args.iter().position(|a| a == "--svg").expect("--svg FILE");
        let committed = args[at + 1].clone();
        let fresh = dir.path().join("fresh.svg");
        args[at + 1] = fresh.display().to_string();
        let stdout = common::heaplab(&args);
        let quoted = quoted_lines(&stdout);
        assert!(quoted.len() >= 4, "rows and titles in {stdout}");
        for quote in quoted {
            assert!(
                CHAPTER.contains(&quote),
                "chapter 2 does not quote `{quote}`, printed by `heaplab {line}`"
            );
        }
        let want = std::fs::read(&committed).expect("the figure is committed");
        let got = std::fs::read(&fresh).expect("the replay wrote its SVG");
        assert!(
            want == got,
            "{committed} is stale: run scripts/figures (it is what `heaplab {line}` draws now)"
        );
    }
}
