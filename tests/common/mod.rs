//! Set-up shared by the top-level tests: a warm environment per variant.

#![allow(dead_code)] // each test file uses a part of it

pub mod pprof;

use fraudcheck::{build, data, Env, FraudCheck, Payment, Variant};

/// The seed every test uses, so figures are reproducible.
pub const SEED: u64 = 2024;

/// A variant over `users` risky users, warmed by one request, and payments
/// of which about a tenth are by risky users.
pub fn warm(variant: Variant, users: usize) -> (Env, Box<dyn FraudCheck>, Vec<Payment>) {
    let env = Env::new(users, SEED);
    let check = build(variant, &env);
    let payments = data::payments(512, SEED + 1, &env.store.active_ids(), 0.1);
    check.is_risky(&payments[0]).expect("warm-up request");
    (env, check, payments)
}

/// The `i`-th payment, cycling.
pub fn nth(payments: &[Payment], i: u64) -> &Payment {
    &payments[i as usize % payments.len()]
}

/// Runs the `heaplab` binary with `args` and returns what it printed on
/// standard output; fails the test, showing standard error, unless it
/// exits successfully.
pub fn heaplab<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = assert_cmd::cargo::cargo_bin_cmd!("heaplab")
        .args(args)
        .output()
        .expect("heaplab runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// [`heaplab`] with `--json` output: the array it printed, one object per
/// variant.
pub fn heaplab_json<I, S>(args: I) -> Vec<serde_json::Value>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let stdout = heaplab(args);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is exactly JSON");
    value.as_array().expect("a JSON array").clone()
}

/// The object of `variant` in such an array.
pub fn row<'a>(rows: &'a [serde_json::Value], variant: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["variant"] == variant)
        .unwrap_or_else(|| panic!("{variant} missing"))
}

/// Runs `heaplab` with `args` and checks that it fails with one `error:`
/// line on stderr that contains `expect`: no panic, no backtrace, nothing
/// on stdout.
pub fn fails(args: &[&str], expect: &str) {
    let out = assert_cmd::cargo::cargo_bin_cmd!("heaplab")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("heaplab runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        out.status.code().is_some(),
        "{args:?} was killed by a signal"
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("backtrace"), "{args:?}: {stderr}");
    assert!(
        stderr.contains(expect),
        "{args:?}: expected `{expect}` in {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
}

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
