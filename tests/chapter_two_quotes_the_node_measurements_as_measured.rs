//! Chapter 2 rests its stalled-store and GC conclusions on the real
//! services' measurements in `docs/BENCHMARKS.md` (the Node service beside
//! the Rust one, `scripts/node-vs-rust`) and on the Node reference
//! (`reference/README.md`), and shows the JavaScript fix from
//! `reference/node-incident.js`. Each figure it quotes must be the
//! source's, and the fix must be the reference's code, line for line: when
//! a source is measured again, this test says which quote to update.

mod quoted;

const CHAPTER: &str = include_str!("../docs/02-what-killed-the-pods.md");
const BENCHMARKS: &str = include_str!("../docs/BENCHMARKS.md");
const REFERENCE: &str = include_str!("../reference/README.md");
const SCRIPT: &str = include_str!("../reference/node-incident.js");

/// Figures of the Node service and the stalled store: what each is, how
/// BENCHMARKS.md writes it, and the chapter's words around it (which must
/// hold the figure itself).
const QUOTES: [(&str, &str, &str); 12] = [
    (
        "live heap per waiting Node request",
        "7.4–9.1 KB",
        "held 7.4–9.1 KB of live heap",
    ),
    (
        "Node's resident memory in a 10,000-user stall",
        "2.6–2.7 GiB",
        "to 2.6–2.7 GiB resident",
    ),
    (
        "Node's live heap in the burst",
        "1.65–1.69 GiB",
        "found 1.65–1.69 GiB live",
    ),
    (
        "Node's resident memory at 100,000 users",
        "4.2 GiB",
        "(4.2 GiB resident in both stalls)",
    ),
    (
        "payments Rust lost at 100,000 users",
        "1,721–2,033",
        "it lost 1,721–2,033 payments",
    ),
    (
        "Rust's peak at 10,000 users",
        "65 MiB",
        "peak RSS 65 MiB at 10,000 users",
    ),
    (
        "Rust's peak at 100,000 users",
        "194–275 MiB",
        "194–275 MiB at 100,000",
    ),
    (
        "Node's time in GC at 100,000 users",
        "24.8 %",
        "GC 24.8 % of the time",
    ),
    (
        "Node's GCs at 100,000 users",
        "518 minor, 46 full GCs",
        "(518 minor, 46 full GCs in 20 s)",
    ),
    (
        "Node's post-GC heap at 100,000 users",
        "10.5–23.6 MiB",
        "post-GC heap 10.5–23.6 MiB",
    ),
    (
        "Node's saturation throughput at 10,000 users",
        "363 at 10,000",
        "363 requests a second at 10,000 users",
    ),
    (
        "Node's time in GC at 10,000 users",
        "1.3 % of the time",
        "GC 1.3 % of the time",
    ),
];

#[test]
fn chapter_two_quotes_the_node_service_as_benchmarks_measured_it() {
    for (what, figure, words) in QUOTES {
        quoted::assert_quoted("docs/BENCHMARKS.md", BENCHMARKS, figure, what);
        let number = figure.split_once(" at ").map_or(figure, |(n, _)| n);
        assert!(words.contains(number), "`{words}` does not hold {number}");
        quoted::assert_quoted("chapter 2", CHAPTER, words, what);
    }
    // Node's throughput at 100,000 users, in both.
    quoted::assert_quoted(
        "docs/BENCHMARKS.md",
        BENCHMARKS,
        "363 at 10,000 and 27 at 100,000",
        "Node's saturation throughput",
    );
    quoted::assert_quoted(
        "chapter 2",
        CHAPTER,
        "and 27 at 100,000",
        "Node's saturation throughput at 100,000 users",
    );
}

#[test]
fn chapter_two_quotes_the_reference_in_flight_figure() {
    let figure = "1,689 B";
    quoted::assert_quoted(
        "reference/README.md",
        REFERENCE,
        figure,
        "live heap per in-flight request",
    );
    quoted::assert_quoted(
        "docs/BENCHMARKS.md",
        BENCHMARKS,
        figure,
        "live heap per in-flight request",
    );
    quoted::assert_quoted(
        "chapter 2",
        CHAPTER,
        &format!("**{figure}**"),
        "live heap per in-flight request",
    );
}

/// Lines of `text` with their indentation and trailing blanks removed, blank
/// lines left out.
fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_javascript_fix_is_the_reference_code_that_was_measured() {
    let section = CHAPTER
        .split("**Q3. The JavaScript fix.**")
        .nth(1)
        .and_then(|rest| rest.split("**Q4.").next())
        .expect("chapter 2 has the Node reader's Q3");
    let blocks: Vec<&str> = section
        .split("```javascript\n")
        .skip(1)
        .map(|b| b.split("```").next().expect("a closed block"))
        .collect();
    assert_eq!(blocks.len(), 2, "the fix's two blocks");
    let script = code_lines(SCRIPT);
    for block in blocks {
        let quote = code_lines(block);
        assert!(
            script.windows(quote.len()).any(|w| w == quote.as_slice()),
            "reference/node-incident.js does not hold, line for line:\n{block}"
        );
    }
}
