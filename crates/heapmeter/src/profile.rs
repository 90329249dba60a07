//! Sampled heap profiles: by stack, unbiased, symbolised; their writers.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use crate::engine::table::RawSnapshot;
use crate::symbolize::{self, Symbols};
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
/// first (pprof writes them as the `Line`s of one `Location`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Frame {
    /// Instruction address (a return address for every frame but the
    /// first).
    pub ip: u64,
    /// Full demangled function name, without the hash suffix (pprof's
    /// `system_name`); `0x…` if unknown. With `debug = "line-tables-only"`
    /// an inlined function has its bare name only (`get`, `{async_fn#0}`):
    /// line tables hold no more. See [`Frame::name`] for the name shown.
    pub function: String,
    /// Source file, if known.
    pub file: Option<String>,
    /// Line in `file`, if known.
    pub line: Option<u32>,
    /// Whether this frame is inlined into the next one (its caller, at the
    /// same address). The frames up to the first that is not form one
    /// pprof `Location`, whose `Line`s they are.
    pub inlined: bool,
}

impl Frame {
    /// The name a reader sees (pprof's `Function.name`): generic arguments
    /// left out, the Self type of `<T as Trait>::method` kept with its path
    /// and the trait by its last segment (`<kv::Store as Api>::get`).
    ///
    /// A bare name from line tables is given the module its source file
    /// stands for (`do_alloc` in hashbrown's `src/raw/alloc.rs` is
    /// `hashbrown::raw::alloc::do_alloc`), so that filters on paths
    /// (`go tool pprof -hide='^(alloc|core|std)::'`) work the same with line
    /// tables as with full debug info. NOTE: a method named this way shows
    /// without its type; the full name, in [`Frame::function`], is left as
    /// the debug info has it.
    pub fn name(&self) -> String {
        symbolize::display_name(&symbolize::qualified_path(self))
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, " ({}:{line})", short_path(file)),
            (Some(file), None) => write!(f, " ({})", short_path(file)),
            _ => Ok(()),
        }
    }
}

/// The tail of a source path from its crate's `src/` (or the file name).
fn short_path(path: &str) -> &str {
    let cut = ["/src/", "/library/", "/tests/", "/examples/", "/benches/"]
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
    /// own frames removed): with `labels`, the stack's identity.
    pub ips: Vec<u64>,
    /// Resolved frames, innermost first.
    pub frames: Vec<Frame>,
    /// Labels of the samples at this stack, such as
    /// `[("method", "GET"), ("route", "/payments")]`: the request whose
    /// poll made the allocations. Empty for allocations made outside a
    /// labelled request. Stacks with different labels are different
    /// stacks; pprof writes them as the samples' string labels, which
    /// `go tool pprof -tagfocus=route=/payments` selects.
    pub labels: Vec<(String, String)>,
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
            .find(|f| !is_plumbing(f))
            .or(self.frames.first())
    }

    /// [`site`](ProfileStack::site) as text, `"?"` for an empty stack.
    pub fn site_name(&self) -> String {
        self.site()
            .map_or_else(|| "?".to_string(), Frame::to_string)
    }

    /// The value of label `key`, if the stack has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a frame is the standard library's (or hashbrown's) allocation
/// plumbing rather than a call site: judged by the module its function
/// lives in, or by the trait it implements
/// (`<u8 as alloc::vec::SpecFromElem>::from_elem`).
fn is_plumbing(frame: &Frame) -> bool {
    const LIBS: [&str; 4] = ["alloc", "core", "std", "hashbrown"];
    let path = symbolize::qualified_path(frame);
    let (owner, trait_path) = symbolize::owner(&path);
    let lib = |p: &str| LIBS.iter().any(|lib| symbolize::in_module(p, lib));
    lib(&owner) || trait_path.as_deref().is_some_and(lib) || path.starts_with("__rust")
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
    /// The exact live bytes of the process above their level when sampling
    /// started ([`sampling::live_bytes_since_start`](crate::sampling::live_bytes_since_start)),
    /// to set beside the in-use estimate ([`Profile::inuse_space`]): they
    /// agree, within sampling error, when what was live before is neither
    /// freed nor grown meanwhile. `None` where not taken; the writers print
    /// both when it is set (the pprof routes set it).
    pub exact_inuse_space: Option<u64>,
}

impl Profile {
    /// Symbolises a raw snapshot: one stack per raw stack, in its order.
    /// The symbolisation's caches are freed before it returns, so that
    /// taking a profile leaves the measured heap as it found it.
    pub(crate) fn from_raw(raw: RawSnapshot, interval: u64, totals: Stats) -> Profile {
        let stacks = {
            let mut symbols = Symbols::default();
            raw.stacks
                .into_iter()
                .map(|s| {
                    let (ips, frames) = symbols.stack(&s.frames);
                    ProfileStack {
                        ips,
                        frames,
                        labels: s
                            .labels
                            .iter()
                            .map(|&(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        samples: s.samples,
                        alloc_objects: s.alloc_objects,
                        alloc_space: s.alloc_space,
                        inuse_objects: s.inuse_objects,
                        inuse_space: s.inuse_space,
                    }
                })
                .collect()
        };
        symbolize::release_caches();
        Profile {
            interval,
            stacks,
            totals,
            live_samples: raw.live_samples,
            dropped: raw.dropped,
            exact_inuse_space: None,
        }
    }

    /// The stacks whose label `key` is `value` (`("route", "/payments")`),
    /// as `go tool pprof -tagfocus=key=value` would keep them.
    pub fn with_label(&self, key: &str, value: &str) -> Profile {
        Profile {
            stacks: self
                .stacks
                .iter()
                .filter(|s| s.label(key) == Some(value))
                .cloned()
                .collect(),
            exact_inuse_space: None,
            ..self.clone_without_stacks()
        }
    }

    fn clone_without_stacks(&self) -> Profile {
        Profile {
            interval: self.interval,
            stacks: Vec::new(),
            totals: self.totals,
            live_samples: self.live_samples,
            dropped: self.dropped,
            exact_inuse_space: self.exact_inuse_space,
        }
    }

    /// A line comparing the in-use estimate with the exact live bytes
    /// since sampling started, when those are known.
    pub fn inuse_agreement(&self) -> Option<String> {
        let exact = self.exact_inuse_space?;
        let estimate = self.inuse_space();
        let ratio = if exact == 0 {
            String::from("-")
        } else {
            format!("{:.1} %", 100.0 * estimate / exact as f64)
        };
        Some(format!(
            "in use since sampling started: estimated {estimate:.0} B, exact {exact} B ({ratio} of exact)"
        ))
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
    /// Stacks are matched by their addresses and their labels.
    pub fn diff(&self, earlier: &Profile) -> Profile {
        fn key(s: &ProfileStack) -> (&[u64], &[(String, String)]) {
            (&s.ips, &s.labels)
        }
        let mut before: HashMap<_, &ProfileStack> =
            earlier.stacks.iter().map(|s| (key(s), s)).collect();
        let mut stacks: Vec<ProfileStack> = self
            .stacks
            .iter()
            .map(|s| {
                let mut d = s.clone();
                if let Some(b) = before.remove(&key(s)) {
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
            exact_inuse_space: match (self.exact_inuse_space, earlier.exact_inuse_space) {
                (Some(now), Some(then)) => Some(now.saturating_sub(then)),
                _ => None,
            },
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
                        .map(|f| f.name().replace([';', ' '], "_"))
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
        self.write_pprof_as(out, SampleType::InuseSpace)
    }

    /// [`write_pprof`](Profile::write_pprof) with `default` as the sample
    /// type pprof shows unless told otherwise (Go's `allocs` profile is the
    /// same data shown as `alloc_space`).
    #[cfg(feature = "pprof")]
    pub fn write_pprof_as(&self, out: impl Write, default: SampleType) -> io::Result<()> {
        let bytes = crate::pprof::encode(self, default);
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        gz.write_all(&bytes)?;
        gz.finish()?;
        Ok(())
    }

    /// A flamegraph SVG of `kind` (through `inferno`). A profile with no
    /// sample of `kind` draws a frame that says so.
    #[cfg(feature = "flamegraph")]
    pub fn write_flamegraph(
        &self,
        mut out: impl Write,
        kind: SampleType,
        title: &str,
    ) -> io::Result<()> {
        let lines = self.folded_lines(kind);
        if lines.is_empty() {
            return write!(out, "{}", empty_flamegraph(title, kind, self.interval));
        }
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_string();
        options.count_name = kind.unit().to_string();
        inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), out)
            .map_err(io::Error::other)
    }
}

/// The SVG of a flamegraph without samples (inferno refuses to draw one).
#[cfg(feature = "flamegraph")]
fn empty_flamegraph(title: &str, kind: SampleType, interval: u64) -> String {
    let why = if interval == 0 {
        "sampling is off".to_string()
    } else {
        format!("sampled every {interval} bytes on average")
    };
    format!(
        "<?xml version=\"1.0\" standalone=\"no\"?>\n\
         <svg version=\"1.1\" width=\"1200\" height=\"110\" viewBox=\"0 0 1200 110\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n\
         <rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#eeeeee\"/>\n\
         <text x=\"600\" y=\"40\" font-family=\"Verdana\" font-size=\"17\" text-anchor=\"middle\">{}</text>\n\
         <text x=\"600\" y=\"80\" font-family=\"Verdana\" font-size=\"14\" text-anchor=\"middle\">\
         No samples of {kind}: nothing to draw ({why}).</text>\n\
         </svg>\n",
        xml_text(title)
    )
}

/// `s` with XML's special characters escaped.
#[cfg(feature = "flamegraph")]
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(inuse_space: f64) -> ProfileStack {
        ProfileStack {
            ips: vec![1],
            frames: Vec::new(),
            labels: Vec::new(),
            samples: 1,
            alloc_objects: 1.0,
            alloc_space: inuse_space,
            inuse_objects: 1.0,
            inuse_space,
        }
    }

    #[test]
    fn the_estimate_is_set_beside_the_exact_live_bytes_when_known() {
        let mut profile = Profile {
            interval: 1,
            stacks: vec![stack(990.0)],
            totals: Stats::default(),
            live_samples: 1,
            dropped: 0,
            exact_inuse_space: None,
        };
        assert_eq!(profile.inuse_agreement(), None);
        profile.exact_inuse_space = Some(1000);
        assert_eq!(
            profile.inuse_agreement().as_deref(),
            Some("in use since sampling started: estimated 990 B, exact 1000 B (99.0 % of exact)")
        );
        #[cfg(feature = "pprof")]
        {
            let bytes = crate::pprof::encode(&profile, SampleType::InuseSpace);
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                text.contains("heapmeter: in use since sampling started: estimated 990 B"),
                "the pprof comments carry the line"
            );
        }
    }
}
