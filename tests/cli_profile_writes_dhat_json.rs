//! `heaplab profile` runs a variant under dhat and writes a dhat JSON file
//! that dhat's viewer can open, with every block of every request in it.

mod common;

use serde_json::Value;

/// Profiles `requests` naive requests at 100 users; returns the blocks the
/// written profile records.
fn profiled_blocks(dir: &std::path::Path, requests: u64) -> u64 {
    let path = dir.join(format!("naive-{requests}.json"));
    let path_arg = path.to_str().expect("a UTF-8 temporary path");
    let stdout = common::heaplab([
        "profile",
        "--variant",
        "naive",
        "--requests",
        &requests.to_string(),
        "--users",
        "100",
        "--out",
        path_arg,
    ]);
    assert!(stdout.contains("dh_view.html"), "{stdout}");

    let json: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("profile written")).expect("JSON");
    for field in ["dhatFileVersion", "mode", "pps", "ftbl", "cmd", "pid"] {
        assert!(json.get(field).is_some(), "{field} missing");
    }
    assert_eq!(json["mode"], "rust-heap");
    let pps = json["pps"].as_array().expect("program points");
    let blocks: u64 = pps.iter().map(|pp| pp["tbk"].as_u64().unwrap_or(0)).sum();
    assert!(
        stdout.contains(&format!("total      {blocks} blocks")),
        "the printed total is not the file's {blocks} blocks: {stdout}"
    );
    blocks
}

#[test]
fn each_profiled_naive_request_adds_its_eight_blocks_to_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A warm naive request at 100 users: the reply body, the parsed ids and
    // the set's table (3 allocations), and the ids' Vec growing from 4 to
    // 128 (5 reallocations, each a new block for dhat).
    let fifty = profiled_blocks(dir.path(), 50);
    let hundred = profiled_blocks(dir.path(), 100);
    assert_eq!(hundred - fifty, 50 * 8);
}
