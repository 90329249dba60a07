//! A profile's labels (a request's method and route, once the sampler
//! records them) are pprof string labels on each sample: prost reads them
//! back, `go tool pprof -tagfocus=route=/payments` keeps only that route's
//! samples, `Profile::with_label` does the same in Rust, and stacks that
//! differ only by their labels stay apart in `Profile::diff`.
//!
//! The labels are set here by hand, the way the sampler will set them for
//! the allocations made while a request was polled.

#[macro_use]
mod common;

use std::hint::black_box;
use std::process::Command;

use heapmeter::{sampling, CountingAlloc, Profile, SampleType};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();

#[inline(never)]
fn payments_route(kept: &mut Vec<Vec<u8>>) {
    for _ in 0..10 {
        kept.push(black_box(vec![1u8; 1000]));
    }
}

#[inline(never)]
fn users_route(kept: &mut Vec<Vec<u8>>) {
    for _ in 0..5 {
        kept.push(black_box(vec![2u8; 2000]));
    }
}

fn labelled(profile: &Profile) -> Profile {
    let mut p = profile.clone();
    for s in &mut p.stacks {
        let site = s.site_name();
        let (method, route) = if site.contains("payments_route") {
            ("POST", "/payments")
        } else if site.contains("users_route") {
            ("GET", "/users/{id}")
        } else {
            continue;
        };
        s.labels = vec![
            ("method".to_string(), method.to_string()),
            ("route".to_string(), route.to_string()),
        ];
    }
    p
}

#[test]
fn labels_are_written_and_selected() {
    // NOTE: the kept vector's own buffer is made before sampling starts.
    let mut kept = Vec::with_capacity(15);
    sampling::clear();
    let session = sampling::start_seeded(1, 3).expect("installed");
    payments_route(&mut kept);
    users_route(&mut kept);
    let plain = sampling::profile();
    drop(session);
    sampling::clear();
    let profile = labelled(&plain);

    let payments = profile.with_label("route", "/payments");
    assert_eq!(payments.inuse_space(), 10_000.0);
    assert_eq!(payments.total(SampleType::InuseObjects), 10.0);
    assert!(payments
        .stacks
        .iter()
        .all(|s| s.label("method") == Some("POST")));
    assert_eq!(
        profile.with_label("route", "/users/{id}").inuse_space(),
        10_000.0
    );
    assert_eq!(profile.with_label("route", "/nowhere").stacks.len(), 0);

    // Same addresses, other labels: other stacks.
    let moved = profile.diff(&plain);
    assert_eq!(
        moved.with_label("route", "/payments").inuse_space(),
        10_000.0
    );
    let unlabelled_before: f64 = moved
        .stacks
        .iter()
        .filter(|s| s.labels.is_empty() && s.site_name().contains("payments_route"))
        .map(|s| s.inuse_space)
        .sum();
    assert_eq!(unlabelled_before, -10_000.0);
    assert_eq!(profile.diff(&profile).inuse_space(), 0.0);

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("labelled.pb.gz");
    let mut file = std::fs::File::create(&path).expect("create");
    profile.write_pprof(&mut file).expect("write");
    drop(file);

    let p = common::pprof::read(&path);
    let s = |i: i64| p.string(i);
    let inuse_of = |route: &str| -> i64 {
        p.sample
            .iter()
            .filter(|x| {
                x.label
                    .iter()
                    .any(|l| s(l.key) == "route" && s(l.str) == route)
            })
            .map(|x| x.value[3])
            .sum()
    };
    assert_eq!(inuse_of("/payments"), 10_000);
    assert_eq!(inuse_of("/users/{id}"), 10_000);

    match Command::new("go")
        .args(["tool", "pprof", "-top", "-tagfocus=route=/payments"])
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("payments_route"), "{text}");
            assert!(!text.contains("users_route"), "{text}");
            assert!(
                text.contains("Showing nodes accounting for 9.77kB"),
                "10,000 B: {text}"
            );
        }
        _ => skipped!("SKIPPED: go tool pprof -tagfocus (install Debian's golang-go)"),
    }
    drop(kept);
}
