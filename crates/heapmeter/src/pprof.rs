//! A small encoder of pprof's `profile.proto` (the messages and field
//! numbers of github.com/google/pprof/proto/profile.proto), enough for a
//! heap profile: sample types, samples with their string labels, one
//! mapping, locations with inlined lines, functions and the string table.
//!
//! A function has two names: `name`, what `go tool pprof` prints (generic
//! arguments left out, the Self type of `<T as Trait>::method` kept), and
//! `system_name`, the full demangled name. They differ whenever the full
//! name has a `<`: pprof takes a function whose two names are equal for one
//! it has yet to demangle and cuts every `<…>` out of it, which turns
//! `<kv::Store as kv::Api>::get` into `::get`.

use std::collections::HashMap;

use crate::profile::{Profile, SampleType};

/// Protobuf wire types.
const VARINT: u64 = 0;
const LEN: u64 = 2;

#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint(field << 3 | wire);
    }

    /// An integer field (int64 and uint64 share the varint encoding for
    /// the non-negative values written here; negatives are two's
    /// complement, ten bytes, as protobuf's int64).
    fn int(&mut self, field: u64, v: i64) {
        if v != 0 {
            self.key(field, VARINT);
            self.varint(v as u64);
        }
    }

    fn bool(&mut self, field: u64, v: bool) {
        self.int(field, i64::from(v));
    }

    fn bytes(&mut self, field: u64, b: &[u8]) {
        self.key(field, LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn msg(&mut self, field: u64, m: Msg) {
        self.bytes(field, &m.0);
    }

    fn packed(&mut self, field: u64, vs: impl IntoIterator<Item = i64>) {
        let mut inner = Msg::default();
        for v in vs {
            inner.varint(v as u64);
        }
        self.bytes(field, &inner.0);
    }
}

/// Interned strings; index 0 is the empty string, as the format requires.
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        Strings {
            table: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }

    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

fn value_type(strings: &mut Strings, kind: &str, unit: &str) -> Msg {
    let mut m = Msg::default();
    m.int(1, strings.id(kind));
    m.int(2, strings.id(unit));
    m
}

/// The uncompressed `Profile` message.
pub(crate) fn encode(profile: &Profile, default: SampleType) -> Vec<u8> {
    let mut strings = Strings::new();
    let mut out = Msg::default();
    for kind in SampleType::ALL {
        let vt = value_type(&mut strings, kind.as_str(), kind.unit());
        out.msg(1, vt);
    }

    // Locations (one per address and number of frames kept there: the
    // allocator's frames may be cut from the innermost address) and
    // functions (one per full name and file).
    let mut locations: HashMap<(u64, usize), u64> = HashMap::new();
    let mut location_msgs: Vec<Msg> = Vec::new();
    let mut functions: HashMap<(&str, Option<&str>), u64> = HashMap::new();
    let mut function_msgs: Vec<Msg> = Vec::new();
    for stack in &profile.stacks {
        let mut ids = Vec::new();
        let mut i = 0;
        while i < stack.frames.len() {
            let ip = stack.frames[i].ip;
            // One address: its inlined frames and the one that holds them.
            let len = stack.frames[i..]
                .iter()
                .position(|f| !f.inlined)
                .map_or(stack.frames.len() - i, |k| k + 1);
            let group = &stack.frames[i..i + len];
            i += len;
            let next_id = locations.len() as u64 + 1;
            let id = *locations.entry((ip, group.len())).or_insert_with(|| {
                let mut loc = Msg::default();
                loc.int(1, next_id as i64);
                loc.int(2, 1);
                loc.int(3, ip as i64);
                // Innermost first: pprof's order for a location's lines.
                for f in group {
                    let key = (f.function.as_str(), f.file.as_deref());
                    let next_fn = functions.len() as u64 + 1;
                    let fn_id = *functions.entry(key).or_insert_with(|| {
                        let mut func = Msg::default();
                        func.int(1, next_fn as i64);
                        func.int(2, strings.id(&f.name()));
                        func.int(3, strings.id(&f.function));
                        func.int(4, strings.id(f.file.as_deref().unwrap_or("")));
                        function_msgs.push(func);
                        next_fn
                    });
                    let mut line = Msg::default();
                    line.int(1, fn_id as i64);
                    line.int(2, i64::from(f.line.unwrap_or(0)));
                    loc.msg(4, line);
                }
                location_msgs.push(loc);
                next_id
            });
            ids.push(id as i64);
        }
        let mut sample = Msg::default();
        sample.packed(1, ids);
        sample.packed(2, SampleType::ALL.map(|k| stack.value(k).round() as i64));
        for (key, value) in &stack.labels {
            let mut label = Msg::default();
            label.int(1, strings.id(key));
            label.int(2, strings.id(value));
            sample.msg(3, label);
        }
        out.msg(2, sample);
    }

    let mut mapping = Msg::default();
    mapping.int(1, 1);
    mapping.int(3, i64::MAX);
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    mapping.int(5, strings.id(&exe));
    mapping.bool(7, true);
    mapping.bool(8, true);
    mapping.bool(9, true);
    mapping.bool(10, true);
    out.msg(3, mapping);
    for loc in location_msgs {
        out.msg(4, loc);
    }
    for func in function_msgs {
        out.msg(5, func);
    }
    let period = value_type(&mut strings, "space", "bytes");
    let mut comments = vec![strings.id(&format!(
        "heapmeter: exact totals {} allocs, {} bytes allocated, {} bytes live; {} samples dropped",
        profile.totals.allocs + profile.totals.reallocs,
        profile.totals.bytes_allocated,
        profile.totals.net_bytes(),
        profile.dropped
    ))];
    if let Some(line) = profile.inuse_agreement() {
        comments.push(strings.id(&format!("heapmeter: {line}")));
    }
    let default_type = strings.id(default.as_str());
    for s in &strings.table {
        out.bytes(6, s.as_bytes());
    }
    out.msg(11, period);
    out.int(12, profile.interval as i64);
    out.packed(13, comments);
    out.int(14, default_type);
    out.0
}
