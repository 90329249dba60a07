//! `heaplab soak` starts the service in-process on loopback, drives it for
//! a bounded time and prints a report where every scheduled request is
//! accounted for; `heaplab serve` refuses to listen beyond loopback.

mod common;

#[test]
fn a_two_second_soak_reports_every_request() {
    let out = common::heaplab([
        "soak",
        "--variant",
        "ttl_refresh",
        "--rps",
        "50",
        "--duration",
        "2s",
    ]);
    assert!(out.starts_with("soak: ttl_refresh (in-process, embedded cache and store, 1000 users) at 50 req/s for 2s"), "{out}");
    assert!(
        out.contains("requests     100 scheduled = 100 decided (100 checked, 10 risky; 0 by the fail policy) + 0 failed"),
        "{out}"
    );
    assert!(!out.contains("NOT ALL ACCOUNTED FOR"), "{out}");
    assert!(
        out.contains("growth alert not fired: deriv(heapmeter_live_bytes[30s]) > 1000000 for 60s"),
        "{out}"
    );
    assert!(
        out.contains("leak verdict none: too short to judge"),
        "{out}"
    );
}

#[test]
fn serve_listens_on_loopback_only() {
    let out = assert_cmd::cargo::cargo_bin_cmd!("heaplab")
        .args(["serve", "--variant", "naive", "--listen", "10.0.0.1:8080"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --listen 10.0.0.1:8080: the staging service listens on loopback only (127.0.0.1 or [::1])\n"
    );
}
