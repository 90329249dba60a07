//! The "the doc contains the computed figure" check shared by the tests
//! that hold README.md and the chapters to what the code measures.

/// Fails unless `doc` (named `name` in the message) quotes `figure`, with
/// every run of whitespace in both taken as one space, so that a figure is
/// found wherever the prose wraps.
pub fn assert_quoted(name: &str, doc: &str, figure: &str, what: &str) {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat(doc).contains(&flat(figure)),
        "{name} should quote {what} as `{figure}`"
    );
}
