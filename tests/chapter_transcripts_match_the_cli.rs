//! The `console` blocks of the chapters and the README are transcripts:
//! trycmd runs each `$ heaplab …` line and compares its output, so a figure
//! shown as printed by the command is the figure the command prints. Times
//! and other machine-dependent figures are written `[..]` in them.

#[test]
fn chapter_transcripts_match_the_cli() {
    trycmd::TestCases::new().case("docs/*.md").case("README.md");
}
