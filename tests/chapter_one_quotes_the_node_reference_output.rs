//! Chapter 1's Node.js byte figures are the expected output of
//! `reference/node-incident.js alloc` as `reference/README.md` gives it
//! (which `tests/node_reference_alloc_figures_reproduce.rs` compares with
//! what Node 20 prints): the bytes a request allocates, the set a leak keeps,
//! and the garbage rate at the incident's 100 requests a second.

mod quoted;

const CHAPTER: &str = include_str!("../docs/01-the-incident.md");
const REFERENCE: &str = include_str!("../reference/README.md");

/// The `alloc n=…` line of the reference's expected output.
fn alloc_output(n: u64) -> serde_json::Value {
    REFERENCE
        .lines()
        .filter(|l| l.starts_with("{\"n\":"))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON line"))
        .find(|v| v["n"] == n)
        .unwrap_or_else(|| panic!("reference/README.md gives no output for n={n}"))
}

fn field(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

fn assert_quoted(figure: &str, what: &str) {
    quoted::assert_quoted("chapter 1", CHAPTER, figure, what);
}

#[test]
fn chapter_one_quotes_the_node_reference_output() {
    let (small, large) = (alloc_output(1_000), alloc_output(10_000));
    let kb = |b: u64| format!("{:.1} KB", b as f64 / 1e3);
    assert_quoted(
        &format!(
            "| bytes allocated per request | {} | {} |",
            kb(field(&small, "allocNaiveB")),
            kb(field(&large, "allocNaiveB"))
        ),
        "the bytes a naive request allocates",
    );

    let set = field(&small, "retainedSetB");
    assert_quoted(
        &format!(
            "the set is {},{:03} B (`alloc n=1000`)",
            set / 1000,
            set % 1000
        ),
        "the bytes one held set keeps",
    );

    // 100 requests a second, in MB and in the reference's MiB.
    let per_second = field(&large, "allocNaiveB") as f64 * 100.0;
    let mib = large["naiveAllocMBps_at100rps"].as_f64().expect("a rate");
    assert_eq!(
        format!("{:.2}", per_second / f64::from(1 << 20)),
        format!("{mib:.2}")
    );
    assert_quoted(
        &format!(
            "{:.0} MB ({mib:.0} MiB) of garbage a second",
            per_second / 1e6
        ),
        "the garbage rate at 10,000 users",
    );
}
