//! The pprof file of the retained-listener leak decodes with protobuf
//! readers that are not heapmeter's writer (prost, with messages written
//! from pprof's `profile.proto`; and `go tool pprof` when Go is installed),
//! and its top in-use call site is the set each request builds (`id_set`).

#[macro_use]
mod common;

use std::io::Read;
use std::process::Command;

use fraudcheck::Variant;
use heapmeter::{sampling, CountingAlloc};
use prost::Message;

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::system();

/// The messages of github.com/google/pprof/proto/profile.proto that the
/// test reads (field numbers and types as there).
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(bool, tag = "7")]
        pub has_functions: bool,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(uint64, tag = "3")]
        pub address: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
    }
}

/// Library frames that are not a call site of the program.
fn is_library(name: &str) -> bool {
    let n = name.trim_start_matches('<');
    ["alloc::", "core::", "std::", "hashbrown::"]
        .iter()
        .any(|p| n.starts_with(p) || name.contains(&format!(" as {p}")))
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
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("open"))
        .read_to_end(&mut bytes)
        .expect("gzip");
    let p = pb::Profile::decode(&bytes[..]).expect("a valid profile.proto message");
    let s = |i: i64| p.string_table[i as usize].as_str();
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
        s(p.function
            .iter()
            .find(|f| f.id == id)
            .expect("function")
            .name)
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
            .find(|name| !is_library(name))
            .unwrap_or("?");
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
}
