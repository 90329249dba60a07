//! Sampled heap profiles: by stack, unbiased, symbolised; their writers.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use crate::engine::table::{RawSnapshot, RawStack};
use crate::Stats;

/// One of the four values of a heap profile, as Go and pprof name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// Allocations made (estimated count).
    AllocObjects,
    /// Bytes allocated (estimated).
    AllocSpace,
    /// Live blocks (estimated count).
    InuseObjects,
    /// Live bytes (estimated).
    InuseSpace,
}

impl SampleType {
    /// All four, in pprof's order.
    pub const ALL: [SampleType; 4] = [
        SampleType::AllocObjects,
        SampleType::AllocSpace,
        SampleType::InuseObjects,
        SampleType::InuseSpace,
    ];

    /// `alloc_objects`, `alloc_space`, `inuse_objects` or `inuse_space`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SampleType::AllocObjects => "alloc_objects",
            SampleType::AllocSpace => "alloc_space",
            SampleType::InuseObjects => "inuse_objects",
            SampleType::InuseSpace => "inuse_space",
        }
    }

    /// `count` or `bytes`.
    pub const fn unit(self) -> &'static str {
        match self {
            SampleType::AllocObjects | SampleType::InuseObjects => "count",
            SampleType::AllocSpace | SampleType::InuseSpace => "bytes",
        }
    }
}

impl fmt::Display for SampleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resolved frame of a sampled stack. An instruction address inside
/// inlined code resolves to several frames with the same `ip`, innermost
/// first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Frame {
    /// Instruction address (a return address for every frame but the
    /// first).
    pub ip: u64,
    /// Demangled function name, without the hash suffix; `0x…` if unknown.
    pub function: String,
    /// Source file, if known.
    pub file: Option<String>,
    /// Line in `file`, if known.
    pub line: Option<u32>,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.function)?;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, " ({}:{line})", short_path(file)),
            (Some(file), None) => write!(f, " ({})", short_path(file)),
            _ => Ok(()),
        }
    }
}

/// The tail of a source path from its crate's `src/` (or the file name).
fn short_path(path: &str) -> &str {
    let cut = ["/src/", "/library/"]
        .iter()
        .filter_map(|m| {
            path.rfind(m)
                .map(|i| path[..i].rfind('/').map_or(0, |j| j + 1))
        })
        .max();
    &path[cut.unwrap_or(0)..]
}

/// A sampled call stack and its estimates.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProfileStack {
    /// Unresolved instruction addresses, innermost first (the allocator's
    /// own frames removed): the stack's identity.
    pub ips: Vec<u64>,
    /// Resolved frames, innermost first.
    pub frames: Vec<Frame>,
    /// Samples taken at this stack (raw count).
    pub samples: u64,
    /// Estimated allocations made here.
    pub alloc_objects: f64,
    /// Estimated bytes allocated here, in bytes.
    pub alloc_space: f64,
    /// Estimated live blocks allocated here.
    pub inuse_objects: f64,
    /// Estimated live bytes allocated here, in bytes.
    pub inuse_space: f64,
}

impl ProfileStack {
    /// The value of one sample type.
    pub fn value(&self, kind: SampleType) -> f64 {
        match kind {
            SampleType::AllocObjects => self.alloc_objects,
            SampleType::AllocSpace => self.alloc_space,
            SampleType::InuseObjects => self.inuse_objects,
            SampleType::InuseSpace => self.inuse_space,
        }
    }

    /// The call site: the innermost frame outside the standard library's
    /// allocation plumbing (`alloc::`, `core::`, `std::`, `hashbrown::`),
    /// or the innermost frame.
    pub fn site(&self) -> Option<&Frame> {
        self.frames
            .iter()
            .find(|f| !is_plumbing(&f.function))
            .or(self.frames.first())
    }

    /// [`site`](ProfileStack::site) as text, `"?"` for an empty stack.
    pub fn site_name(&self) -> String {
        self.site()
            .map_or_else(|| "?".to_string(), Frame::to_string)
    }
}

fn is_plumbing(function: &str) -> bool {
    const LIBS: [&str; 6] = [
        "alloc::",
        "core::",
        "std::",
        "hashbrown::",
        "__rust",
        "__rdl",
    ];
    let f = function.trim_start_matches('<');
    // `<u8 as alloc::vec::SpecFromElem>::from_elem`: a library trait's
    // method is plumbing too.
    let as_trait = f
        .split_once(" as ")
        .is_some_and(|(_, t)| LIBS.iter().any(|p| t.starts_with(p)));
    as_trait || LIBS.iter().any(|p| f.starts_with(p))
}

/// Whether a frame belongs to the allocator or the sampler themselves.
fn is_allocator_frame(function: &str) -> bool {
    [
        "heapmeter::engine::",
        "<heapmeter::engine::",
        "backtrace::backtrace::",
        "backtrace::trace",
        "__rust_alloc",
        "__rust_realloc",
        "__rust_dealloc",
        "__rdl_",
        "__rg_",
        "alloc::alloc::",
        "<alloc::alloc::Global",
        "GlobalAlloc",
    ]
    .iter()
    .any(|p| function.contains(p))
}

/// Estimates by call site, from [`Profile::sites`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SiteTotal {
    /// The call site (see [`ProfileStack::site`]).
    pub site: String,
    /// The summed value (bytes or a count, as asked).
    pub value: f64,
}

/// A sampled heap profile, from [`sampling::profile`](crate::sampling::profile).
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::system();
/// use heapmeter::{sampling, SampleType};
///
/// let session = sampling::start(1).unwrap();
/// let kept = vec![0u8; 4096];
/// let profile = sampling::profile();
/// drop(session);
/// let top = &profile.sites(SampleType::InuseSpace)[0];
/// assert!(top.value >= 4096.0, "{top:?}");
/// let mut folded = Vec::new();
/// profile.write_folded(&mut folded, SampleType::InuseSpace).unwrap();
/// assert!(String::from_utf8(folded).unwrap().contains("rust_out"));
/// # drop(kept);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Profile {
    /// Mean sampling interval when taken, in bytes (0: sampling was off).
    pub interval: u64,
    /// Every sampled stack.
    pub stacks: Vec<ProfileStack>,
    /// The exact process totals when the profile was taken (the counters,
    /// all threads, since the process started), to set beside the
    /// estimates.
    pub totals: Stats,
    /// Live sampled blocks.
    pub live_samples: u64,
    /// Samples dropped because a table was full (0 unless stated).
    pub dropped: u64,
}

impl Profile {
    pub(crate) fn from_raw(raw: RawSnapshot, interval: u64, totals: Stats) -> Profile {
        let mut symbols = Symbols::default();
        let stacks = raw.stacks.into_iter().map(|s| symbols.stack(s)).collect();
        Profile {
            interval,
            stacks,
            totals,
            live_samples: raw.live_samples,
            dropped: raw.dropped,
        }
    }

    /// The sum of one sample type over all stacks.
    pub fn total(&self, kind: SampleType) -> f64 {
        self.stacks.iter().map(|s| s.value(kind)).sum()
    }

    /// Estimated live bytes, in bytes.
    pub fn inuse_space(&self) -> f64 {
        self.total(SampleType::InuseSpace)
    }

    /// Estimated bytes allocated, in bytes.
    pub fn alloc_space(&self) -> f64 {
        self.total(SampleType::AllocSpace)
    }

    /// The sum of `kind` over the stacks whose call site (see
    /// [`ProfileStack::site_name`]) contains `site`, such as a function's
    /// name.
    pub fn at_site(&self, site: &str, kind: SampleType) -> f64 {
        self.stacks
            .iter()
            .filter(|s| s.site_name().contains(site))
            .map(|s| s.value(kind))
            .sum()
    }

    /// Values of `kind` summed by call site, largest first (zeros left out).
    pub fn sites(&self, kind: SampleType) -> Vec<SiteTotal> {
        let mut by: HashMap<String, f64> = HashMap::new();
        for s in &self.stacks {
            *by.entry(s.site_name()).or_default() += s.value(kind);
        }
        let mut sites: Vec<SiteTotal> = by
            .into_iter()
            .filter(|(_, v)| *v != 0.0)
            .map(|(site, value)| SiteTotal { site, value })
            .collect();
        sites.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
        sites
    }

    /// What changed since `earlier`: every estimate of this profile minus
    /// the same stack's in `earlier` (the in-use difference is what grew
    /// between the two moments). Stacks only in `earlier` come out negative.
    pub fn diff(&self, earlier: &Profile) -> Profile {
        let mut before: HashMap<&[u64], &ProfileStack> =
            earlier.stacks.iter().map(|s| (&s.ips[..], s)).collect();
        let mut stacks: Vec<ProfileStack> = self
            .stacks
            .iter()
            .map(|s| {
                let mut d = s.clone();
                if let Some(b) = before.remove(&s.ips[..]) {
                    d.samples = d.samples.saturating_sub(b.samples);
                    d.alloc_objects -= b.alloc_objects;
                    d.alloc_space -= b.alloc_space;
                    d.inuse_objects -= b.inuse_objects;
                    d.inuse_space -= b.inuse_space;
                }
                d
            })
            .collect();
        stacks.extend(before.into_values().map(|b| ProfileStack {
            samples: 0,
            alloc_objects: -b.alloc_objects,
            alloc_space: -b.alloc_space,
            inuse_objects: -b.inuse_objects,
            inuse_space: -b.inuse_space,
            ..b.clone()
        }));
        Profile {
            interval: self.interval,
            stacks,
            totals: self.totals.since(&earlier.totals),
            live_samples: self.live_samples,
            dropped: self.dropped.saturating_sub(earlier.dropped),
        }
    }

    /// Folded stacks (`root;…;leaf value`, one line per stack with a
    /// nonzero value, rounded), the input of flamegraph tools.
    pub fn write_folded(&self, mut out: impl Write, kind: SampleType) -> io::Result<()> {
        for line in self.folded_lines(kind) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    fn folded_lines(&self, kind: SampleType) -> Vec<String> {
        let mut lines: Vec<String> = self
            .stacks
            .iter()
            .filter_map(|s| {
                let v = s.value(kind).round();
                (v > 0.0).then(|| {
                    let names: Vec<String> = s
                        .frames
                        .iter()
                        .rev()
                        .map(|f| f.function.replace([';', ' '], "_"))
                        .collect();
                    format!("{} {}", names.join(";"), v as u64)
                })
            })
            .collect();
        lines.sort();
        lines
    }

    /// DHAT's JSON format (`dhatFileVersion` 2, `rust-heap`), for DHAT's
    /// viewer: total bytes and blocks are the allocated estimates; bytes and
    /// blocks at the end (and, lacking a peak, at the maximum) the in-use
    /// estimates. Lifetimes are not sampled (0).
    pub fn write_dhat_json(&self, mut out: impl Write) -> io::Result<()> {
        let mut ftbl: Vec<String> = vec!["[root]".to_string()];
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut pps = Vec::new();
        for s in &self.stacks {
            let fs: Vec<String> = s
                .frames
                .iter()
                .map(|f| {
                    let text = format!("{:#x}: {f}", f.ip);
                    let i = *index.entry(text.clone()).or_insert_with(|| {
                        ftbl.push(text);
                        ftbl.len() - 1
                    });
                    i.to_string()
                })
                .collect();
            let (tb, tbk) = (s.alloc_space.round(), s.alloc_objects.round());
            let (eb, ebk) = (s.inuse_space.round(), s.inuse_objects.round());
            pps.push(format!(
                "{{\"tb\":{tb},\"tbk\":{tbk},\"tl\":0,\"mb\":{eb},\"mbk\":{ebk},\"gb\":{eb},\"gbk\":{ebk},\"eb\":{eb},\"ebk\":{ebk},\"fs\":[{}]}}",
                fs.join(",")
            ));
        }
        let ftbl: Vec<String> = ftbl.iter().map(|f| json_string(f)).collect();
        write!(
            out,
            "{{\"dhatFileVersion\":2,\"mode\":\"rust-heap\",\"verb\":\"Allocated\",\"bklt\":true,\"bkacc\":false,\"tu\":\"µs\",\"Mtu\":\"s\",\"tuth\":10,\"cmd\":{},\"pid\":{},\"tg\":0,\"te\":0,\n\"pps\":[\n{}\n],\n\"ftbl\":[\n{}\n]}}\n",
            json_string(&format!("heapmeter sampled profile, interval {} bytes", self.interval)),
            std::process::id(),
            pps.join(",\n"),
            ftbl.join(",\n")
        )
    }

    /// pprof's `profile.proto`, gzipped (what `go tool pprof`, pprof's web
    /// UI, Pyroscope and Grafana read): the four sample types, one location
    /// per instruction address with its inlined frames as lines.
    #[cfg(feature = "pprof")]
    pub fn write_pprof(&self, out: impl Write) -> io::Result<()> {
        let bytes = crate::pprof::encode(self);
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        gz.write_all(&bytes)?;
        gz.finish()?;
        Ok(())
    }

    /// A flamegraph SVG of `kind` (through `inferno`).
    #[cfg(feature = "flamegraph")]
    pub fn write_flamegraph(
        &self,
        out: impl Write,
        kind: SampleType,
        title: &str,
    ) -> io::Result<()> {
        let lines = self.folded_lines(kind);
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_string();
        options.count_name = kind.unit().to_string();
        inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), out)
            .map_err(io::Error::other)
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Resolves addresses once each.
#[derive(Default)]
struct Symbols {
    cache: HashMap<usize, Vec<Frame>>,
}

impl Symbols {
    fn resolve(&mut self, ip: usize, first: bool) -> Vec<Frame> {
        self.cache
            .entry(ip)
            .or_insert_with(|| {
                let mut frames = Vec::new();
                // NOTE: a return address points after the call; the call's
                // line is the one of the byte before it.
                let probe = if first { ip } else { ip.saturating_sub(1) };
                backtrace::resolve(probe as *mut core::ffi::c_void, |sym| {
                    let function = sym
                        .name()
                        .map_or_else(|| format!("{ip:#x}"), |n| format!("{n:#}"));
                    frames.push(Frame {
                        ip: ip as u64,
                        function,
                        file: sym.filename().map(|p| p.display().to_string()),
                        line: sym.lineno(),
                    });
                });
                if frames.is_empty() {
                    frames.push(Frame {
                        ip: ip as u64,
                        function: format!("{ip:#x}"),
                        file: None,
                        line: None,
                    });
                }
                frames
            })
            .clone()
    }

    fn stack(&mut self, raw: RawStack) -> ProfileStack {
        let resolved: Vec<Vec<Frame>> = raw
            .frames
            .iter()
            .enumerate()
            .map(|(i, &ip)| self.resolve(ip, i == 0))
            .collect();
        // Drop the allocator's and the sampler's own frames: everything up
        // to the last one of them.
        // NOTE: only near the top, where the allocator runs.
        let cut = resolved
            .iter()
            .take(24)
            .rposition(|fs| fs.iter().any(|f| is_allocator_frame(&f.function)))
            .map_or(0, |i| i + 1);
        let ips = raw.frames[cut..].iter().map(|&ip| ip as u64).collect();
        let frames = resolved.into_iter().skip(cut).flatten().collect();
        ProfileStack {
            ips,
            frames,
            samples: raw.samples,
            alloc_objects: raw.alloc_objects,
            alloc_space: raw.alloc_space,
            inuse_objects: raw.inuse_objects,
            inuse_space: raw.inuse_space,
        }
    }
}
