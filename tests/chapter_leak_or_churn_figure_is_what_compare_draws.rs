//! Chapter 4's picture of a leak, churn and a fix is not stale: the
//! `heaplab compare … --svg` line of `scripts/figures` is run again with
//! `--svg` pointed at a scratch file, and the SVG must equal the one in
//! `docs/` byte for byte. `compare` counts allocations exactly, request by
//! request, so debug and release builds draw the same file; at 1,000 users
//! and 200 requests it takes seconds in a debug build.

mod common;

const SCRIPT: &str = include_str!("../scripts/figures");
const CHAPTER: &str = include_str!("../docs/04-leak-or-churn.md");

#[test]
fn the_leak_churn_fix_figure_is_what_compare_draws_now() {
    let lines: Vec<&str> = SCRIPT
        .lines()
        .filter_map(|l| l.strip_prefix("cargo run --release -- "))
        .filter(|l| l.starts_with("compare "))
        .collect();
    assert_eq!(lines.len(), 1, "scripts/figures draws one compare graph");
    let line = lines[0];
    let mut args: Vec<String> = line.split_whitespace().map(String::from).collect();
    let at = args.iter().position(|a| a == "--svg").expect("--svg FILE");
    let committed = args[at + 1].clone();
    let file = committed.strip_prefix("docs/").expect("a figure in docs/");
    assert!(
        CHAPTER.contains(&format!("]({file})")),
        "chapter 4 shows {file}"
    );
    // The chapter's transcript is the same command without --svg.
    let shown = format!("$ heaplab {}", args[..at].join(" "));
    assert!(CHAPTER.contains(&shown), "chapter 4 shows `{shown}`");

    let dir = tempfile::tempdir().expect("a scratch directory");
    let fresh = dir.path().join("fresh.svg");
    args[at + 1] = fresh.display().to_string();
    common::heaplab(&args);
    let want = std::fs::read(&committed).expect("the figure is committed");
    let got = std::fs::read(&fresh).expect("compare wrote its SVG");
    assert!(
        want == got,
        "{committed} is stale: run scripts/figures (it is what `heaplab {line}` draws now)"
    );
}
