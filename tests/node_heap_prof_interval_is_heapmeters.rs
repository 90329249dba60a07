//! Chapter 2 tells the Node.js reader that V8's sampling heap profiler
//! (`node --heap-prof`) samples once per 512 KiB allocated on average, the
//! interval heapmeter's sampler uses by default: `node --help` gives the
//! default, and it must be heapmeter's. Skipped, loudly, where `node` is
//! missing.

#[macro_use]
mod common;

use std::process::Command;

const CHAPTER: &str = include_str!("../docs/02-what-killed-the-pods.md");

#[test]
fn node_heap_prof_samples_every_512_kib_as_heapmeter_does() {
    assert_eq!(heapmeter::sampling::DEFAULT_INTERVAL, 512 * 1024);
    assert!(
        CHAPTER.contains("default `512 * 1024`"),
        "chapter 2 quotes the default"
    );
    let Ok(out) = Command::new("node").arg("--help").output() else {
        skipped!("SKIPPED: node is not installed; --heap-prof-interval's default was not checked");
        return;
    };
    assert!(out.status.success(), "node --help fails");
    let help = String::from_utf8_lossy(&out.stdout);
    // The option's paragraph: from its name to the next option.
    // Its continuation lines are indented deeper than the option's name
    // (one of them starts with `--heap-prof.`).
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--heap-prof-interval"));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("node --help has no --heap-prof-interval:\n{help}"));
    let indent = |l: &str| l.len() - l.trim_start().len();
    let rest = lines.take_while(|l| indent(l) > indent(first));
    let paragraph = std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join(" ");
    let flat = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("(default: 512 * 1024)"), "{flat}");
}
