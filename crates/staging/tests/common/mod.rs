//! Set-up shared by the staging tests.

/// Says that a test skipped, on the real standard error: the test harness
/// hides what `eprintln!` prints in a test that passes, and a skip must be
/// seen.
#[allow(unused_macros)] // only the tests that need a server or tool use it
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
