//! The pprof file of the retained-listener leak decodes with protobuf
//! readers that are not heapmeter's writer (prost, with messages written
//! from pprof's `profile.proto`; and `go tool pprof` when Go is installed),
//! and its top in-use call site is the set each request builds (`id_set`).
//! Its functions have a readable name that keeps the Self type of
//! `<T as Trait>::method` and the full demangled name as `system_name`
//! (pprof cuts every `<…>` out of a function whose two names are equal);
//! inlined frames are lines of their address's one location; and
//! `go tool pprof -top`, with its default flags, names the variant's type.

#[macro_use]
mod common;

use std::process::Command;

use fraudcheck::Variant;
use heapmeter::{sampling, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();

/// Library frames that are not a call site of the program: by the path
/// of their name, or (for the bare names of functions inlined in a build
/// with line tables only, such as hashbrown's `do_alloc`) by their file,
/// in the standard library's sources (its own dependencies under
/// `/rust/deps/`) or a registry crate's.
fn is_library(name: &str, file: &str) -> bool {
    let n = name.trim_start_matches('<');
    ["alloc::", "core::", "std::", "hashbrown::"]
        .iter()
        .any(|p| n.starts_with(p) || name.contains(&format!(" as {p}")))
        || file.starts_with("/rustc/")
        || file.starts_with("/rust/deps/")
        || file.contains("/.cargo/registry/")
}

#[test]
fn decodes_and_tops_at_the_set() {
    let (_env, check, payments) = common::warm(Variant::RetainedListener, 1_000);
    let session = sampling::start_seeded(sampling::DEFAULT_INTERVAL, 11).expect("installed");
    for i in 0..1_000 {
        check.is_risky(common::nth(&payments, i)).expect("request");
    }
    let profile = sampling::profile();
    drop(session);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("retained.pb.gz");
    let mut file = std::fs::File::create(&path).expect("create");
    profile.write_pprof(&mut file).expect("write");
    drop(file);

    // prost, through flate2's gzip reader.
    let p = common::pprof::read(&path);
    let s = |i: i64| p.string(i);
    let types: Vec<&str> = p.sample_type.iter().map(|t| s(t.r#type)).collect();
    assert_eq!(
        types,
        [
            "alloc_objects",
            "alloc_space",
            "inuse_objects",
            "inuse_space"
        ]
    );
    assert_eq!(p.period, sampling::DEFAULT_INTERVAL as i64);
    assert_eq!(s(p.default_sample_type), "inuse_space");
    let function = |id: u64| {
        let f = p.function.iter().find(|f| f.id == id).expect("function");
        (s(f.name), s(f.filename))
    };
    let mut by_site: std::collections::HashMap<String, i64> = Default::default();
    for sample in &p.sample {
        let site = sample
            .location_id
            .iter()
            .flat_map(|id| {
                &p.location
                    .iter()
                    .find(|l| l.id == *id)
                    .expect("location")
                    .line
            })
            .map(|line| function(line.function_id))
            .find(|(name, file)| !is_library(name, file))
            .map_or("?", |(name, _)| name);
        *by_site.entry(site.to_string()).or_default() += sample.value[3];
    }
    let (top, inuse) = by_site.iter().max_by_key(|(_, v)| **v).expect("samples");
    // NOTE: without debug info (release), `id_set` is inlined into the
    // request path and its frame is the caller's.
    let set_site = |name: &str| name.contains("id_set") || name.contains("RetainedListenerCheck");
    assert!(
        set_site(top),
        "top in-use site {top} ({inuse} B): {by_site:?}"
    );
    assert!(*inuse > 10_000_000, "1,000 sets of about 18 KB: {inuse}");

    // The variant's frame keeps its Self type; its full name is the system
    // name, and the two differ.
    let variant = p
        .function
        .iter()
        .find(|f| s(f.name).contains("RetainedListenerCheck as FraudCheck>::is_risky"))
        .unwrap_or_else(|| {
            let names: Vec<&str> = p.function.iter().map(|f| s(f.name)).collect();
            panic!("no function names the variant's type: {names:#?}")
        });
    assert_ne!(s(variant.name), s(variant.system_name));
    assert!(
        s(variant.system_name)
            .starts_with("<fraudcheck::variants::retained_listener::RetainedListenerCheck<")
            && s(variant.system_name).ends_with(" as fraudcheck::check::FraudCheck>::is_risky"),
        "{}",
        s(variant.system_name)
    );
    // pprof would cut `<…>` out of a function whose two names are equal.
    for f in &p.function {
        assert!(
            !s(f.name).contains('<') || f.name != f.system_name,
            "{} would show as {:?}",
            s(f.name),
            s(f.name).split('>').next_back()
        );
    }
    // Some address holds inlined frames: one location, several lines.
    assert!(
        p.location.iter().any(|l| l.line.len() > 1),
        "inlined frames are lines of one location"
    );

    // go tool pprof, if installed.
    let go = Command::new("go")
        .args(["tool", "pprof", "-top", "-sample_index=inuse_space"])
        .arg("-hide=^<?(alloc|core|std|hashbrown)::")
        .arg(&path)
        .output();
    match go {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let first = text
                .lines()
                .skip_while(|l| !l.trim_start().starts_with("flat"))
                .nth(1)
                .unwrap_or_default();
            assert!(set_site(first), "go tool pprof -top:\n{text}");
            eprintln!("go tool pprof -top: {}", first.trim());
        }
        _ => skipped!("SKIPPED: go tool pprof (install Debian's golang-go to check with it)"),
    }
    // With its default flags, too: the variant's type is named.
    if let Ok(out) = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .arg(&path)
        .output()
    {
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("<fraudcheck::variants::retained_listener::RetainedListenerCheck as FraudCheck>::is_risky"),
                "go tool pprof -top:\n{text}"
            );
        }
    }
}
