//! Prints the headline tables of the last `cargo bench` run from criterion's
//! saved estimates: time and allocations per request per variant, and the
//! fixed variants against a bare lookup. (What each allocator and profiler
//! costs is `scripts/bench-allocators`' table.)
//!
//! ```text
//! cargo bench
//! cargo run --release --example bench_table [CRITERION_DIR]
//! ```
//!
//! `CRITERION_DIR` defaults to `$CARGO_TARGET_DIR/criterion` or
//! `target/criterion`. Every figure is criterion's median of one run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Median per benchmark, keyed by criterion's full id (`group/function/...`).
type Medians = BTreeMap<String, f64>;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| PathBuf::from("target"), PathBuf::from);
            target.join("criterion")
        });
    let mut medians = Medians::new();
    if let Err(e) = collect(&dir, &mut medians) {
        eprintln!(
            "error: cannot read criterion results in {}: {e}",
            dir.display()
        );
        eprintln!("run `cargo bench` first");
        std::process::exit(1);
    }
    if medians.is_empty() {
        eprintln!(
            "error: no criterion results in {}; run `cargo bench` first",
            dir.display()
        );
        std::process::exit(1);
    }
    let mut out = String::new();
    requests(&medians, &mut out);
    floor(&medians, &mut out);
    print!("{out}");
}

/// Walks `dir` for `new/benchmark.json` + `new/estimates.json` pairs.
fn collect(dir: &Path, medians: &mut Medians) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let bench = path.join("new").join("benchmark.json");
        let estimates = path.join("new").join("estimates.json");
        if let (Ok(b), Ok(e)) = (
            std::fs::read_to_string(&bench),
            std::fs::read_to_string(&estimates),
        ) {
            let b: serde_json::Value = serde_json::from_str(&b).map_err(std::io::Error::other)?;
            let e: serde_json::Value = serde_json::from_str(&e).map_err(std::io::Error::other)?;
            if let (Some(id), Some(median)) = (
                b["full_id"].as_str(),
                e["median"]["point_estimate"].as_f64(),
            ) {
                medians.insert(id.to_string(), median);
            }
        } else {
            collect(&path, medians)?;
        }
    }
    Ok(())
}

fn time(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.1} µs", n / 1e3),
        n => format!("{:.2} ms", n / 1e6),
    }
}

/// The fixed variants' names, from the catalogue.
fn fixes() -> impl Iterator<Item = &'static str> {
    fraudcheck::Variant::ALL
        .into_iter()
        .filter(|v| v.is_fix())
        .map(|v| v.name())
}

const USERS: [u32; 3] = [1_000, 10_000, 100_000];

fn requests(m: &Medians, out: &mut String) {
    let _ = writeln!(
        out,
        "\n## Per request (median time; allocations and bytes are exact; \
         – : the fixes allocate nothing, which criterion cannot measure, \
         see tests/fixed_variants_allocate_nothing.rs)\n"
    );
    let _ = writeln!(out, "| variant | users | time | allocs | bytes |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for v in fraudcheck::Variant::names() {
        for u in USERS {
            let t = m
                .get(&format!("request/{v}/{u}"))
                .map_or("–".into(), |&ns| time(ns));
            let a = m
                .get(&format!("allocs/{v}/{u}"))
                .map_or("–".into(), |a| format!("{a:.0}"));
            let b = m
                .get(&format!("bytes/{v}/{u}"))
                .map_or("–".into(), |b| format!("{b:.0}"));
            let _ = writeln!(out, "| {v} | {u} | {t} | {a} | {b} |");
        }
    }
}

fn floor(m: &Medians, out: &mut String) {
    let _ = writeln!(out, "\n## Fixed variants against a bare `HashSet::contains` (median; ratio to the bare IdSet lookup)\n");
    let mut head = "| users | bare IdSet | bare std HashSet |".to_string();
    let mut rule = "|---:|---:|---:|".to_string();
    for f in fixes() {
        let _ = write!(head, " {f} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    for u in USERS {
        let Some(&bare) = m.get(&format!("floor/bare_idset/{u}")) else {
            continue;
        };
        let std_set = m
            .get(&format!("floor/bare_std_hashset/{u}"))
            .copied()
            .unwrap_or(f64::NAN);
        let mut row = format!(
            "| {u} | {} | {} ({:.2}×) |",
            time(bare),
            time(std_set),
            std_set / bare
        );
        for f in fixes() {
            match m.get(&format!("floor/{f}/{u}")) {
                Some(&t) => {
                    let _ = write!(row, " {} ({:.2}×) |", time(t), t / bare);
                }
                None => row.push_str(" – |"),
            }
        }
        let _ = writeln!(out, "{row}");
    }
}
