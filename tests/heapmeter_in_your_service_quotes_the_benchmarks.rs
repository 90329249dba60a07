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
        (allocator, "201.0 instructions a pair against System's 169.0 (1.19×)",
         "201.0 instructions for a 64-byte allocation and its free against the system allocator's 169.0 (1.19×)"),
        (allocator, "1.00× on the naive check and 1.00× on the request",
         "1.00× on requests that do real work (the incident's naive check, a request that builds a set)"),
        (allocator, "217.4 a pair (1.29×), 1.02× on the naive check, 1.02× on the request",
         "217.4 instructions for the same pair (1.29×), 1.02× on those requests"),
        (allocator, "A sample costs about 27,700 instructions",
         "each sample about 27,700 instructions"),
        (request, "| bare future | 1.42 ns | 6 |", "against a bare future's 6"),
        (request, "| inside `measure_future` | 8.73 ns | 60 |", "(60 against"),
        (request, "| added by the wrapper | +7.3 ns | +54 |", "adds 54 instructions to a poll"),
        (request, "hash lookup of the route and three histogram observations",
         "looks the route up and makes three histogram observations"),
        (request, "the layer's cost is below what this load can resolve",
         "its cost was below what the loaded machine could resolve"),
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
