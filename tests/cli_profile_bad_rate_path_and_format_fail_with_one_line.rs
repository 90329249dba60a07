//! `heaplab profile` refuses a zero or unreadable rate, a file it cannot
//! write, and a file name or format it cannot tell, with one `error:` line.

mod common;

use common::fails;

#[test]
fn bad_rate_path_and_format_fail_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let txt = dir.path().join("profile.txt");
    let txt = txt.to_str().expect("UTF-8");
    let base = ["profile", "--variant", "naive", "--requests", "10"];
    let with = |more: &[&'static str]| -> Vec<&str> { base.iter().chain(more).copied().collect() };

    fails(&with(&["--rate", "0"]), "greater than zero");
    fails(&with(&["--rate", "lots"]), "--rate");
    fails(
        &with(&["-o", "/nonexistent-dir/heap.pb.gz"]),
        "cannot write",
    );
    fails(&with(&["--format", "svg"]), "possible values");
    let mut unknown = with(&[]);
    unknown.extend(["-o", txt]);
    fails(&unknown, "cannot tell the profile format");
    fails(&with(&["--dhat", "--rate", "4KiB"]), "cannot be used with");
}
