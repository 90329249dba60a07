//! The memory series: the timeline cut into [`SERIES_POINTS`] slices, each
//! with the pods' highest memory in it.

use serde::Serialize;

use super::fleet::Fleet;
use super::ReplayConfig;

/// Points in each memory series.
pub const SERIES_POINTS: u64 = 240;

/// One point of a memory series: a slice of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryPoint {
    /// End of the slice, in seconds of virtual time.
    pub t_s: f64,
    /// Highest memory each pod reached in the slice, in bytes (baseline
    /// included).
    pub pod_peak_bytes: Vec<u64>,
    /// The highest of `pod_peak_bytes`, in bytes.
    pub max_pod_bytes: u64,
    /// Memory of all pods together at the end of the slice, in bytes.
    pub total_bytes: u64,
    /// OOMKills in the slice.
    pub oom_kills: u64,
}

/// Cuts the replay's `n` requests into slices and records a point as each
/// slice ends.
#[derive(Debug)]
pub(crate) struct Series {
    requests: u64,
    points: u64,
    duration_s: f64,
    /// Slices closed so far.
    closed: u64,
    out: Vec<MemoryPoint>,
}

impl Series {
    pub(crate) fn new(config: &ReplayConfig) -> Series {
        let requests = config.requests();
        let points = SERIES_POINTS.min(requests).max(1);
        Series {
            requests,
            points,
            duration_s: config.duration.as_secs_f64(),
            closed: 0,
            out: Vec::with_capacity(points as usize),
        }
    }

    /// Closes the slices that end at or before request `k`.
    pub(crate) fn after_request(&mut self, k: u64, fleet: &mut Fleet) {
        let slice_of_next =
            ((k + 1) as u128 * u128::from(self.points) / u128::from(self.requests)) as u64;
        while self.closed < slice_of_next {
            self.closed += 1;
            let (pod_peak_bytes, total_bytes, oom_kills) = fleet.close_slice();
            self.out.push(MemoryPoint {
                t_s: self.duration_s * self.closed as f64 / self.points as f64,
                max_pod_bytes: pod_peak_bytes.iter().copied().max().unwrap_or(0),
                pod_peak_bytes,
                total_bytes,
                oom_kills,
            });
        }
    }

    /// The points recorded.
    pub(crate) fn into_points(self) -> Vec<MemoryPoint> {
        self.out
    }
}
