//! `heaplab profile`: one variant's requests under dhat's heap profiler.
//!
//! The profile holds every allocation made while the requests ran, with the
//! call stack that made it; open the file in dhat's viewer ([`DH_VIEW`]).
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
use std::path::PathBuf;
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
    /// The dhat JSON file to write.
    pub out: PathBuf,
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
    if config.requests == 0 {
        return Err(Error::Zero { what: "--requests" });
    }
    if config.users == 0 {
        return Err(Error::Zero { what: "--users" });
    }
    // Fail before the work, not when dhat writes at the end (dhat would only
    // print a warning).
    File::create(&config.out).map_err(|source| Error::Write {
        path: config.out.clone(),
        source,
    })?;
    let env = Env::with_clock(config.users, config.seed, Arc::new(ManualClock::new()));
    let pool = (config.requests as usize).min(SHORT_POOL);
    let workload = Workload::new(config.users, config.seed, pool);

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
