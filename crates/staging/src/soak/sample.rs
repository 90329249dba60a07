//! One scrape of a target: its `/metrics` figures, its resident memory from
//! `/proc`, and how many requests the soak had had answered by then.

use serde::Serialize;

use super::exposition::Figures;
use super::proc::Resident;

/// One scrape, at a time since the soak's start (the same start for every
/// target of one soak: one time axis).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since the soak started.
    pub at_secs: f64,
    /// Requests the target had answered by then (the soak's own count).
    pub answered: u64,
    /// What its `/metrics` served (all `None` without one).
    pub figures: Figures,
    /// Its `/proc/PID/status` memory, when the soak has its pid.
    pub resident: Option<Resident>,
}

impl Sample {
    /// Resident bytes: `VmRSS` when the soak has the pid, else the
    /// target's own `process_resident_memory_bytes`.
    pub fn resident_bytes(&self) -> Option<f64> {
        self.resident
            .map(|r| r.rss_bytes as f64)
            .or(self.figures.resident_bytes)
    }
}

/// The heap figure a soak follows, judges and draws: heapmeter's live
/// bytes where the target serves them; else V8's used heap after its last
/// full GC (the live heap then); else V8's used heap now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HeapMetric {
    /// `heapmeter_live_bytes`: the bytes the program holds, exactly.
    #[serde(rename = "heapmeter_live_bytes")]
    Live,
    /// `nodejs_heap_used_after_major_gc_bytes`: V8's used heap at the end
    /// of its last full GC.
    #[serde(rename = "nodejs_heap_used_after_major_gc_bytes")]
    V8AfterGc,
    /// `nodejs_heap_size_used_bytes`: V8's `heapUsed`, garbage not yet
    /// collected included.
    #[serde(rename = "nodejs_heap_size_used_bytes")]
    V8Used,
}

impl HeapMetric {
    /// The series' name.
    pub fn name(self) -> &'static str {
        match self {
            HeapMetric::Live => "heapmeter_live_bytes",
            HeapMetric::V8AfterGc => "nodejs_heap_used_after_major_gc_bytes",
            HeapMetric::V8Used => "nodejs_heap_size_used_bytes",
        }
    }

    /// What it is, in a few words.
    pub fn what(self) -> &'static str {
        match self {
            HeapMetric::Live => "live bytes",
            HeapMetric::V8AfterGc => "V8's heap after full GCs",
            HeapMetric::V8Used => "V8's used heap",
        }
    }

    /// The name of its row in the text report.
    pub fn row(self) -> &'static str {
        match self {
            HeapMetric::Live => "live",
            HeapMetric::V8AfterGc => "V8 post-GC",
            HeapMetric::V8Used => "V8 heap",
        }
    }

    /// Its value in `s`, in bytes.
    pub fn of(self, s: &Sample) -> Option<f64> {
        match self {
            HeapMetric::Live => s.figures.live_bytes,
            HeapMetric::V8AfterGc => s.figures.v8_heap_after_gc_bytes,
            HeapMetric::V8Used => s.figures.v8_heap_used_bytes,
        }
    }

    /// Every one, in order of preference.
    pub const ALL: [HeapMetric; 3] = [HeapMetric::Live, HeapMetric::V8AfterGc, HeapMetric::V8Used];

    /// The one the samples have, first in order of preference.
    pub fn served_in(samples: &[Sample]) -> Option<HeapMetric> {
        HeapMetric::ALL
            .into_iter()
            .find(|m| samples.iter().any(|s| m.of(s).is_some()))
    }
}
