//! The `console` blocks of the chapters and the README are transcripts:
//! trycmd runs each `$ heaplab …` line and compares its output, so a figure
//! shown as printed by the command is the figure the command prints. Times
//! and other machine-dependent figures are written `[..]` in them.

#[test]
fn chapter_transcripts_match_the_cli() {
    // NOTE: trycmd runs the files on rayon's pool, in parallel by default.
    // One at a time, a soak's requests are not starved by a replay running
    // beside it, and the means it prints per request move least (chapter 6
    // says why they can move at all). Read at rayon's first use.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    trycmd::TestCases::new().case("docs/*.md").case("README.md");
}
