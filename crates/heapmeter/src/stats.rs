//! What a measurement reports.

use core::fmt;

/// Allocation activity over one scope (see [`measure`](crate::measure)).
///
/// A `realloc` counts once in `reallocs` and never in `allocs` or
/// `deallocs`; a growing one adds its growth to `bytes_allocated`, a
/// shrinking one adds its shrinkage to `bytes_deallocated`. So
/// `net_bytes()` is always the change in live bytes. dhat instead counts a
/// realloc as a new block of the full new size: dhat's `total_blocks` is
/// `allocs + reallocs` here, its `curr_bytes` and `max_bytes` match
/// `net_bytes()` and `peak_bytes`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Stats {
    /// Calls to `alloc` and `alloc_zeroed`: blocks handed out.
    pub allocs: u64,
    /// Calls to `realloc`: blocks resized (grown or shrunk, moved or not).
    pub reallocs: u64,
    /// Calls to `dealloc`: blocks freed.
    pub deallocs: u64,
    /// Bytes handed out, in bytes: every `alloc`'s size plus every growing
    /// `realloc`'s growth.
    pub bytes_allocated: u64,
    /// Bytes given back, in bytes: every `dealloc`'s size plus every
    /// shrinking `realloc`'s shrinkage.
    pub bytes_deallocated: u64,
    /// Highest live bytes above the scope's start, in bytes.
    pub peak_bytes: u64,
}

impl Stats {
    /// Bytes retained by the scope, in bytes: allocated minus deallocated.
    /// Negative when the scope freed more than it allocated.
    pub const fn net_bytes(&self) -> i64 {
        self.bytes_allocated.wrapping_sub(self.bytes_deallocated) as i64
    }

    /// Whether the scope made no allocation, reallocation or deallocation.
    pub const fn is_zero(&self) -> bool {
        self.allocs == 0 && self.reallocs == 0 && self.deallocs == 0
    }

    /// Sum of two disjoint scopes' counts; the peak is the larger of the two.
    pub(crate) const fn plus(&self, o: &Stats) -> Stats {
        Stats {
            allocs: self.allocs.wrapping_add(o.allocs),
            reallocs: self.reallocs.wrapping_add(o.reallocs),
            deallocs: self.deallocs.wrapping_add(o.deallocs),
            bytes_allocated: self.bytes_allocated.wrapping_add(o.bytes_allocated),
            bytes_deallocated: self.bytes_deallocated.wrapping_add(o.bytes_deallocated),
            peak_bytes: if self.peak_bytes > o.peak_bytes {
                self.peak_bytes
            } else {
                o.peak_bytes
            },
        }
    }

    /// Counts of `self` since an earlier snapshot `before` of the same
    /// monotonic totals; `peak_bytes` is left at zero.
    pub(crate) const fn since(&self, before: &Stats) -> Stats {
        Stats {
            allocs: self.allocs.wrapping_sub(before.allocs),
            reallocs: self.reallocs.wrapping_sub(before.reallocs),
            deallocs: self.deallocs.wrapping_sub(before.deallocs),
            bytes_allocated: self.bytes_allocated.wrapping_sub(before.bytes_allocated),
            bytes_deallocated: self
                .bytes_deallocated
                .wrapping_sub(before.bytes_deallocated),
            peak_bytes: 0,
        }
    }
}

/// Compact, one line: `3 allocs, 1 realloc, 3 deallocs, 1.5 KiB allocated,
/// 1.5 KiB freed, peak 1.0 KiB, net +0 B`.
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} alloc{}, {} realloc{}, {} dealloc{}, {} allocated, {} freed, peak {}, net {}{}",
            self.allocs,
            plural(self.allocs),
            self.reallocs,
            plural(self.reallocs),
            self.deallocs,
            plural(self.deallocs),
            Bytes(self.bytes_allocated as f64),
            Bytes(self.bytes_deallocated as f64),
            Bytes(self.peak_bytes as f64),
            if self.net_bytes() < 0 { "-" } else { "+" },
            Bytes(self.net_bytes().unsigned_abs() as f64),
        )
    }
}

/// A byte count printed with a binary unit: `512 B`, `1.5 KiB`, `3.2 MiB`.
///
/// ```
/// assert_eq!(heapmeter::Bytes(1536.0).to_string(), "1.5 KiB");
/// assert_eq!(heapmeter::Bytes(512.0).to_string(), "512 B");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Bytes(pub f64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        let mut v = self.0;
        if v.abs() < 1024.0 {
            return if v.fract() == 0.0 {
                write!(f, "{v} B")
            } else {
                write!(f, "{v:.1} B")
            };
        }
        let mut unit = 0;
        v /= 1024.0;
        while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        write!(f, "{v:.1} {}", UNITS[unit])
    }
}
