//! What a measurement reports.

use core::fmt;
use core::iter::Sum;
use core::ops::{Add, AddAssign, Sub, SubAssign};

/// Allocation activity over one scope (see [`measure`](crate::measure)).
///
/// A `realloc` counts once in `reallocs` and never in `allocs` or
/// `deallocs`; a growing one adds its growth to `bytes_allocated`, a
/// shrinking one adds its shrinkage to `bytes_deallocated`. So
/// `net_bytes()` is always the change in live bytes. dhat instead counts a
/// realloc as a new block of the full new size: dhat's `total_blocks` is
/// `allocs + reallocs` here, its `curr_bytes` and `max_bytes` match
/// `net_bytes()` and `peak_bytes`.
///
/// # Arithmetic
///
/// `a + b` is the activity of scope `a` followed by scope `b` **on the same
/// live memory** (one request after another, the polls of one future): the
/// counts add, and the peak is the higher of `a`'s peak and `b`'s peak
/// lifted by what `a` retained, `max(a.peak_bytes, a.net_bytes() +
/// b.peak_bytes)` (never below zero). That is the exact peak of the joined
/// scope, so the order matters for `peak_bytes` (and only for it); `Sum`
/// adds in iteration order, starting from `Stats::default()`.
///
/// `a - b` takes `b`'s counts out of `a`'s (`b` being a part of `a`, or an
/// earlier snapshot of the same counters); the peak of what remains cannot
/// be known from the two, so `a - b` keeps `a.peak_bytes` (an upper bound
/// only when `b` retained nothing). All counts wrap instead of panicking.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// use std::hint::black_box;
///
/// let (kept, first) = heapmeter::measure(|| black_box(vec![0u8; 100]));
/// let ((), second) = heapmeter::measure(|| drop(black_box(vec![0u8; 50])));
/// let both = first + second;
/// assert_eq!((both.allocs, both.deallocs), (2, 1));
/// assert_eq!(both.net_bytes(), 100);
/// // The 50-byte block was live on top of the 100 that `first` kept.
/// assert_eq!(both.peak_bytes, 150);
/// assert_eq!((both - second).allocs, first.allocs);
/// # drop(kept);
/// ```
///
/// NOTE: `#[non_exhaustive]` because the allocator may learn to count more
/// (failed allocations, say); code outside the crate reads the fields and
/// builds a `Stats` from `Stats::default()` or arithmetic.
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
    #[inline]
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
    #[inline]
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

impl From<crate::engine::Counts> for Stats {
    /// A slot's (or a sum of slots') counters, peak 0.
    #[inline]
    fn from(c: crate::engine::Counts) -> Stats {
        Stats {
            allocs: c.allocs,
            reallocs: c.reallocs,
            deallocs: c.deallocs,
            bytes_allocated: c.bytes_allocated,
            bytes_deallocated: c.bytes_deallocated,
            peak_bytes: 0,
        }
    }
}

impl Add for Stats {
    type Output = Stats;

    /// `self` followed by `rhs`; see [Arithmetic](Stats#arithmetic).
    #[inline]
    fn add(self, rhs: Stats) -> Stats {
        let lifted = self.net_bytes().saturating_add_unsigned(rhs.peak_bytes);
        Stats {
            peak_bytes: self.peak_bytes.max(lifted.max(0) as u64),
            ..self.plus(&rhs)
        }
    }
}

impl AddAssign for Stats {
    #[inline]
    fn add_assign(&mut self, rhs: Stats) {
        *self = *self + rhs;
    }
}

impl Sub for Stats {
    type Output = Stats;

    /// `self` without the counts of its part `rhs`; see
    /// [Arithmetic](Stats#arithmetic).
    fn sub(self, rhs: Stats) -> Stats {
        Stats {
            peak_bytes: self.peak_bytes,
            ..self.since(&rhs)
        }
    }
}

impl SubAssign for Stats {
    fn sub_assign(&mut self, rhs: Stats) {
        *self = *self - rhs;
    }
}

impl Sum for Stats {
    fn sum<I: Iterator<Item = Stats>>(iter: I) -> Stats {
        iter.fold(Stats::default(), Add::add)
    }
}

impl<'a> Sum<&'a Stats> for Stats {
    fn sum<I: Iterator<Item = &'a Stats>>(iter: I) -> Stats {
        iter.copied().sum()
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
