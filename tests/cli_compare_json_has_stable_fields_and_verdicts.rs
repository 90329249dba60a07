//! `heaplab compare --json` prints exactly an array of objects with the
//! stable field set, and the leak detector tells the leak, the churn and the
//! fixes apart.

mod common;

use std::collections::BTreeSet;

use fraudcheck::Variant;

#[test]
fn compare_json_has_the_stable_fields_and_tells_leak_churn_and_clean_apart() {
    let rows = common::heaplab_json(["compare", "--json", "--users", "1000", "--requests", "100"]);
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["variant"].as_str().unwrap())
        .collect();
    assert_eq!(names, Variant::names().collect::<Vec<_>>());

    let expected: BTreeSet<&str> = [
        "variant",
        "users",
        "allocs_per_request",
        "bytes_per_request",
        "retained_bytes_per_request",
        "verdict",
        "ns_per_request",
    ]
    .into();
    for row in &rows {
        let obj = row.as_object().expect("objects");
        let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys, expected, "{row}");
        assert_eq!(obj["users"].as_u64(), Some(1000));
        for number in [
            "allocs_per_request",
            "bytes_per_request",
            "retained_bytes_per_request",
            "ns_per_request",
        ] {
            assert!(obj[number].is_number(), "{number} in {row}");
        }
        assert!(obj["ns_per_request"].as_f64().unwrap() > 0.0);
    }

    let verdict = |name: &str| {
        rows.iter()
            .find(|r| r["variant"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["verdict"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(verdict("retained_listener"), "leak");
    assert_eq!(verdict("naive"), "churn");
    assert_eq!(verdict("parse_and_scan"), "churn");
    for fix in Variant::ALL.iter().filter(|v| v.is_fix()).map(|v| v.name()) {
        assert_eq!(verdict(fix), "clean", "{fix}");
        let row = rows.iter().find(|r| r["variant"] == fix).unwrap();
        assert_eq!(row["allocs_per_request"].as_f64(), Some(0.0), "{fix}");
    }
    let leak = rows
        .iter()
        .find(|r| r["variant"] == "retained_listener")
        .unwrap();
    assert!(leak["retained_bytes_per_request"].as_f64().unwrap() > 1000.0);
}
