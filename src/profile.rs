//! `heaplab profile`: one variant's requests under heapmeter's sampling
//! heap profiler ([`run_sampled`]), or under dhat's ([`run`], `--dhat`).
//!
//! The sampler records one allocation per 512 KiB allocated on average with
//! its call stack, weighted so that the estimates are unbiased, and writes
//! pprof, DHAT JSON, folded stacks or a flamegraph ([`Format`]). dhat
//! records every allocation made while the requests ran, with the call
//! stack that made it; open its file in dhat's viewer ([`DH_VIEW`]).
//! `naive` shows three large blocks per request, all freed (short lifetimes);
//! `retained_listener` shows the same blocks still alive at the end, held by
//! the event bus; a fix shows the one load and nothing per request.
//!
//! The binary must route allocations through `dhat::Alloc` for this to see
//! anything: `heaplab`'s global allocator is
//! `heapmeter::CountingAlloc<`[`ProfilingSwitch`]`>`, and [`run`] turns the
//! switch on before it starts the profiler.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fraudcheck::{build, Env, ManualClock, Variant};

use crate::alloc::ProfilingSwitch;
use crate::error::{Error, Result};
use crate::workload::{Workload, SHORT_POOL};

/// dhat's viewer, which opens the JSON file in the browser.
pub const DH_VIEW: &str = "https://nnethercote.github.io/dh_view/dh_view.html";

/// What to profile.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileConfig {
    /// The variant.
    pub variant: Variant,
    /// Requests to run under the profiler.
    pub requests: u64,
    /// Risky users in the store.
    pub users: usize,
    /// Seed of the ids and payments.
    pub seed: u64,
    /// The file to write.
    pub out: PathBuf,
    /// Mean sampling interval of the sampler, in bytes.
    pub rate: u64,
    /// The sampler's output format; from `out`'s extension when `None`.
    pub format: Option<Format>,
}

/// What the sampler writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// pprof's `profile.proto`, gzipped (`.pb.gz`).
    Pprof,
    /// DHAT's JSON, for dhat's viewer (`.json`).
    Dhat,
    /// Folded stacks of the in-use bytes (`.folded`).
    Folded,
    /// A flamegraph SVG of the in-use bytes (`.svg`).
    Flamegraph,
}

impl Format {
    /// The format a file name asks for: `.pb.gz`, `.json`, `.folded`,
    /// `.svg`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        [
            (".pb.gz", Format::Pprof),
            (".json", Format::Dhat),
            (".folded", Format::Folded),
            (".svg", Format::Flamegraph),
        ]
        .into_iter()
        .find(|(ext, _)| name.ends_with(ext))
        .map(|(_, f)| f)
    }
}

/// What the sampler found over the profiled requests.
#[derive(Clone, Debug, PartialEq)]
pub struct SampledReport {
    /// The exact counts of the requests (this thread, the check's build
    /// included).
    pub exact: heapmeter::Stats,
    /// The sampled profile of the same span.
    pub profile: heapmeter::Profile,
    /// Requests that returned an error.
    pub errors: u64,
    /// The format written.
    pub format: Format,
    /// The file written.
    pub out: PathBuf,
}

/// Runs `config.requests` requests of the variant with heapmeter's heap
/// sampling on at `config.rate` and writes the profile to `config.out`.
///
/// As with [`run`], the check is built while the profiler runs and dropped
/// after the profile is taken, so a leak shows as bytes in use.
pub fn run_sampled(config: &ProfileConfig) -> Result<SampledReport> {
    let (env, workload) = prepare(config)?;
    let format = config
        .format
        .or_else(|| Format::from_path(&config.out))
        .ok_or_else(|| Error::ProfileFormat {
            path: config.out.clone(),
        })?;
    let file = File::create(&config.out).map_err(|source| Error::Write {
        path: config.out.clone(),
        source,
    })?;
    heapmeter::sampling::clear();
    let session = heapmeter::sampling::start(config.rate).map_err(|e| match e {
        heapmeter::sampling::SamplingError::ZeroInterval => Error::Zero { what: "--rate" },
        other => Error::Sampling(other),
    })?;
    let ((check, errors), exact) = heapmeter::measure(|| {
        let check = build(config.variant, &env);
        let mut errors = 0;
        for i in 0..config.requests {
            if black_box(check.is_risky(workload.payment(i))).is_err() {
                errors += 1;
            }
        }
        (check, errors)
    });
    drop(session);
    let mut profile = heapmeter::sampling::profile();
    drop(check);
    profile.totals = exact;
    let write = |mut out: BufWriter<File>| -> std::io::Result<()> {
        let title = format!("{}: in-use bytes by call stack", config.variant);
        let in_use = heapmeter::SampleType::InuseSpace;
        match format {
            Format::Pprof => profile.write_pprof(&mut out)?,
            Format::Dhat => profile.write_dhat_json(&mut out)?,
            Format::Folded => profile.write_folded(&mut out, in_use)?,
            Format::Flamegraph => profile.write_flamegraph(&mut out, in_use, &title)?,
        }
        out.flush()
    };
    write(BufWriter::new(file)).map_err(|source| Error::Write {
        path: config.out.clone(),
        source,
    })?;
    Ok(SampledReport {
        exact,
        profile,
        errors,
        format,
        out: config.out.clone(),
    })
}

/// Checks the figures and makes the environment and the payments, before
/// any profiler starts.
fn prepare(config: &ProfileConfig) -> Result<(Env, Workload)> {
    if config.requests == 0 {
        return Err(Error::Zero { what: "--requests" });
    }
    if config.users == 0 {
        return Err(Error::Zero { what: "--users" });
    }
    let env = Env::with_clock(config.users, config.seed, Arc::new(ManualClock::new()));
    let pool = (config.requests as usize).min(SHORT_POOL);
    Ok((env, Workload::new(config.users, config.seed, pool)))
}

/// dhat's totals over the profiled requests (its `HeapStats`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileReport {
    /// Blocks allocated over the run.
    pub total_blocks: u64,
    /// Bytes allocated over the run.
    pub total_bytes: u64,
    /// Blocks still allocated at the end.
    pub curr_blocks: usize,
    /// Bytes still allocated at the end.
    pub curr_bytes: usize,
    /// Blocks allocated at the peak of live bytes.
    pub max_blocks: usize,
    /// Live bytes at their peak.
    pub max_bytes: usize,
    /// Requests that returned an error.
    pub errors: u64,
    /// The file written.
    pub out: PathBuf,
}

/// Runs `config.requests` requests of the variant under a dhat heap
/// profiler and writes its profile to `config.out`.
///
/// The environment and the payments are made before the profiler starts;
/// the check is built under it (so its first load shows) and dropped after
/// the file is written (so a leak shows as bytes alive at the end).
///
/// # Panics
///
/// If a dhat profiler is already running in this process.
pub fn run(config: &ProfileConfig) -> Result<ProfileReport> {
    let (env, workload) = prepare(config)?;
    // Fail before the work, not when dhat writes at the end (dhat would only
    // print a warning).
    File::create(&config.out).map_err(|source| Error::Write {
        path: config.out.clone(),
        source,
    })?;

    ProfilingSwitch::turn_on();
    let profiler = dhat::Profiler::builder().file_name(&config.out).build();
    let check = build(config.variant, &env);
    let mut errors = 0;
    for i in 0..config.requests {
        if black_box(check.is_risky(workload.payment(i))).is_err() {
            errors += 1;
        }
    }
    let stats = dhat::HeapStats::get();
    drop(profiler);
    drop(check);
    Ok(ProfileReport {
        total_blocks: stats.total_blocks,
        total_bytes: stats.total_bytes,
        curr_blocks: stats.curr_blocks,
        curr_bytes: stats.curr_bytes,
        max_blocks: stats.max_blocks,
        max_bytes: stats.max_bytes,
        errors,
        out: config.out.clone(),
    })
}
