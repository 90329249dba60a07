//! `heaplab profile` runs a variant under dhat and writes a dhat JSON file
//! that dhat's viewer can open.

mod common;

use serde_json::Value;

#[test]
fn profile_writes_dhat_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("naive.json");
    let path_arg = path.to_str().expect("a UTF-8 temporary path");
    let stdout = common::heaplab([
        "profile",
        "--variant",
        "naive",
        "--requests",
        "50",
        "--users",
        "100",
        "--out",
        path_arg,
    ]);
    assert!(stdout.contains("dh_view.html"), "{stdout}");
    assert!(stdout.contains("blocks"), "{stdout}");

    let json: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("profile written")).expect("JSON");
    for field in ["dhatFileVersion", "mode", "pps", "ftbl", "cmd", "pid"] {
        assert!(json.get(field).is_some(), "{field} missing");
    }
    assert_eq!(json["mode"], "rust-heap");
    // Three blocks per naive request (body, parsed ids, set table), at
    // least, were recorded with their call stacks.
    let pps = json["pps"].as_array().expect("program points");
    let blocks: u64 = pps.iter().map(|pp| pp["tbk"].as_u64().unwrap_or(0)).sum();
    assert!(blocks >= 150, "{blocks} blocks");
}
