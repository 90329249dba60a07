//! The chapter "heapmeter in your service" says what each piece costs by
//! quoting the benchmarks (docs/BENCHMARKS.md) and the limits chapter. A
//! figure quoted there must be the one those pages give today, in the
//! section the chapter names: when the benchmarks are measured again, this
//! test says which quotes to update.

mod quoted;

use std::fs;

use quoted::assert_quoted;

const CHAPTER: &str = include_str!("../docs/09-heapmeter-in-your-service.md");
const CHAPTER_NAME: &str = "docs/09-heapmeter-in-your-service.md";
const BENCHMARKS: &str = include_str!("../docs/BENCHMARKS.md");

/// The text of the `## heading` section of `doc`, up to the next `## `.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("no section `## {heading}`"))
        + 1;
    let rest = &doc[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The limits chapter, whatever its number in the book.
fn limits() -> (String, String) {
    let path = fs::read_dir("docs")
        .expect("docs/")
        .map(|e| e.expect("an entry").path())
        .find(|p| p.to_string_lossy().ends_with("-limits.md"))
        .expect("a chapter docs/NN-limits.md");
    let text = fs::read_to_string(&path).expect("UTF-8");
    (path.display().to_string(), text)
}

#[test]
fn the_costs_quoted_are_the_benchmarks_figures() {
    // (section of BENCHMARKS.md, what it says, what the chapter says)
    let allocator = "What an allocator costs: heapmeter beside its peers";
    let request = "What following a request costs";
    let quotes = [
        (allocator, "183.0 instructions a pair against System's 169.0 (**1.08×**",
         "183.0 instructions for a 64-byte allocation and its free against the system allocator's 169.0 (1.08×)"),
        (allocator, "1.00× on the naive check and 1.00× on the request",
         "1.00× on requests that do real work (the incident's naive check, a request that builds a set)"),
        (allocator, "196.3 a pair (**1.16×**", "196.3 instructions for the same pair (1.16×)"),
        (allocator, "On the naive check **1.02×**", "1.02× on those requests"),
        (allocator, "**764** instructions a sample at interval 1", "764 instructions in a binary built with frame pointers"),
        (allocator, "26,570 instructions at interval 1", "26,570 without"),
        (request, "| bare future | 1.14 ns | 6 |", "against a bare future's 6"),
        (request, "| inside `measure_future` | 6.81 ns | 49 |", "(49 against"),
        (request, "| added by the wrapper | +5.67 ns | +43 |", "adds 43 instructions to a poll"),
        (request, "three metric updates", "makes three metric updates per request"),
        (request, "| `AllocLayer` | 9,507 | +2,352", "2,352 instructions a request"),
        (request, "the layer costs **1–4 % of throughput**", "1–4 % of throughput on a route that answers a constant"),
    ];
    for (heading, benchmarks, chapter) in quotes {
        assert_quoted(
            &format!("docs/BENCHMARKS.md, section `{heading}`,"),
            section(BENCHMARKS, heading),
            benchmarks,
            "the figure the chapter quotes",
        );
        assert_quoted(CHAPTER_NAME, CHAPTER, chapter, "the benchmarks' figure");
    }

    let (name, limits) = limits();
    let sampler = section(&limits, "What the sampling profiler misses");
    let figure = "at most 3,072 distinct stacks and 49,152 live sampled blocks";
    assert_quoted(&name, sampler, figure, "the sampler's tables");
    assert_quoted(
        CHAPTER_NAME,
        CHAPTER,
        "at most 3,072 stacks and 49,152 live samples",
        "the sampler's tables",
    );
}
