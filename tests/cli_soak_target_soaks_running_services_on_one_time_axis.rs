//! `heaplab soak --target NAME=URL --pid PID`, repeated, soaks running
//! services (here two `heaplab serve`, as any service speaking the payments
//! API) at once from one start: every request accounted for per target,
//! their resident memory read from `/proc/PID/status`, the `/metrics`
//! series they serve named, the risky users the services hold hit, and the
//! JSON, the text and the SVG say so.

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `heaplab serve` child, killed when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(variant: &str) -> Served {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(assert_cmd::cargo::cargo_bin!("heaplab"))
        .args(["serve", "--variant", variant, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stderr(Stdio::null())
        .spawn()
        .expect("heaplab serve starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{variant} never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    Served {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

#[test]
fn two_services_soaked_together() {
    let (naive, fixed) = (serve("naive"), serve("ttl_refresh"));
    let dir = tempfile::tempdir().expect("temp dir");
    let svg = dir.path().join("targets.svg");
    let pid = |s: &Served| s.child.id().to_string();
    let naive_target = format!("naive={}", naive.url);
    let fixed_target = format!("fixed={}", fixed.url);
    let args = [
        "soak",
        "--target",
        &naive_target,
        "--pid",
        &pid(&naive),
        "--target",
        &fixed_target,
        "--pid",
        &pid(&fixed),
        "--rps",
        "50",
        "--duration",
        "2s",
        "--json",
        "--svg",
        svg.to_str().expect("a UTF-8 path"),
    ];
    let reports = common::heaplab_json(args);
    assert_eq!(reports.len(), 2);
    for (r, (label, served)) in reports.iter().zip([("naive", &naive), ("fixed", &fixed)]) {
        assert_eq!(r["label"], label);
        assert_eq!(r["url"], served.url);
        assert_eq!(r["pid"], served.child.id());
        let q = &r["requests"];
        assert_eq!(q["scheduled"], 100, "{r}");
        assert_eq!(q["accounted"], true, "{r}");
        assert_eq!(q["answered"], 100, "{r}");
        assert_eq!(q["checked"], 100, "{r}");
        // One in ten pays as a user the service holds (its --users, 1000).
        assert_eq!(q["risky"], 10, "{r}");
        assert!(r["max_in_flight"].as_u64().unwrap() >= 1);
        assert!(r["throughput_rps"].as_f64().unwrap() > 10.0);
        assert!(r["peak_rss_bytes"].as_u64().unwrap() > 1 << 20, "{r}");
        let served: Vec<&str> = r["metrics_served"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for name in ["heapmeter_live_bytes", "process_resident_memory_bytes"] {
            assert!(served.contains(&name), "{served:?}");
        }
        assert_eq!(r["heap_metric"], "heapmeter_live_bytes");
        let samples = r["samples"].as_array().unwrap();
        assert!(samples.len() >= 3, "{r}");
        // One time axis: both soaks are scraped from the same start.
        assert!(samples[0]["at_s"].as_f64().unwrap() < 0.5, "{r}");
        assert!(samples.iter().all(|s| s["rss_bytes"].as_u64().unwrap() > 0));
    }
    // naive rebuilds its list per request (3 allocations); ttl_refresh does
    // not. NOTE: means over 100 requests whose first, cold, loads the list
    // on either service, so the difference is 3 only to a few hundredths.
    let per = |r: &serde_json::Value| r["per_request"]["allocations"].as_f64().unwrap();
    let more = per(&reports[0]) - per(&reports[1]);
    assert!((more - 3.0).abs() < 0.05, "{more}");

    let doc = std::fs::read_to_string(&svg).expect("the SVG was written");
    let doc = roxmltree::Document::parse(&doc).expect("well-formed XML");
    let text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains("naive") && text.contains("fixed"), "{text}");

    let out = common::heaplab([
        "soak",
        "--target",
        &naive.url,
        "--pid",
        &pid(&naive),
        "--rps",
        "20",
        "--duration",
        "1s",
    ]);
    let first = format!(
        "soak: {} ({}, pid {}) at 20 req/s for 1s, open loop\n",
        naive.url,
        naive.url,
        naive.child.id()
    );
    assert!(out.starts_with(&first), "{out}");
    assert!(
        out.contains("  sent         20 = 20 answered + 0 failed + 0 timed out; at most "),
        "{out}"
    );
    assert!(
        out.contains(&format!("(VmRSS, /proc/{}/status)", naive.child.id())),
        "{out}"
    );
    assert!(out.contains("  peak RSS     "), "{out}");
}
