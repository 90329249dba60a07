//! Allocation budgets: limits a test holds the code to.

use core::fmt;

use crate::{Bytes, PerOp, Stats};

/// Limits on allocation activity, checked against a [`PerOp`] (limits per
/// operation) or a [`Stats`] (limits for the whole scope).
///
/// Every limit is inclusive and unset by default: a fresh `Budget` accepts
/// anything.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// use heapmeter::Budget;
///
/// let table: Vec<u64> = (0..1000).collect();
/// let per = heapmeter::per_op(100, |i| table.binary_search(&i).is_ok());
/// Budget::new().max_allocs(0).max_bytes(0).check(&per).unwrap();
///
/// let per = heapmeter::per_op(100, |i| vec![i; 8]);
/// let over = Budget::new().max_allocs(0).check(&per).unwrap_err();
/// assert_eq!(
///     over.to_string(),
///     "over budget (per op, 100 ops):\n  allocs           actual 1  budget 0  over by 1"
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    allocs: Option<f64>,
    reallocs: Option<f64>,
    bytes: Option<f64>,
    retained_bytes: Option<f64>,
    peak_bytes: Option<f64>,
}

impl Budget {
    /// A budget with no limits.
    pub const fn new() -> Budget {
        Budget {
            allocs: None,
            reallocs: None,
            bytes: None,
            retained_bytes: None,
            peak_bytes: None,
        }
    }

    /// At most `n` allocations (`alloc` and `alloc_zeroed` calls).
    pub const fn max_allocs(mut self, n: u64) -> Budget {
        self.allocs = Some(n as f64);
        self
    }

    /// At most `n` reallocations.
    pub const fn max_reallocs(mut self, n: u64) -> Budget {
        self.reallocs = Some(n as f64);
        self
    }

    /// At most `n` bytes allocated, in bytes.
    pub const fn max_bytes(mut self, n: u64) -> Budget {
        self.bytes = Some(n as f64);
        self
    }

    /// At most `n` bytes retained (allocated minus freed), in bytes.
    pub const fn max_retained_bytes(mut self, n: u64) -> Budget {
        self.retained_bytes = Some(n as f64);
        self
    }

    /// At most `n` bytes live at once above the start, in bytes (for a
    /// [`PerOp`], the largest peak of one op).
    pub const fn max_peak_bytes(mut self, n: u64) -> Budget {
        self.peak_bytes = Some(n as f64);
        self
    }

    /// Checks `measured` against every limit set, and names each one
    /// exceeded.
    ///
    /// # Errors
    ///
    /// [`OverBudget`] when at least one limit is exceeded.
    pub fn check<M: Measured + ?Sized>(&self, measured: &M) -> Result<(), OverBudget> {
        let (scope, m) = measured.figures();
        let candidates = [
            (Limit::Allocs, self.allocs, m.allocs),
            (Limit::Reallocs, self.reallocs, m.reallocs),
            (Limit::Bytes, self.bytes, m.bytes),
            (Limit::RetainedBytes, self.retained_bytes, m.retained_bytes),
            (Limit::PeakBytes, self.peak_bytes, m.peak_bytes),
        ];
        let mut over = OverBudget {
            scope,
            exceeded: Vec::new(),
        };
        for (limit, budget, actual) in candidates {
            if let Some(budget) = budget {
                if actual > budget {
                    over.exceeded.push(Exceeded {
                        limit,
                        actual,
                        budget,
                    });
                }
            }
        }
        if over.exceeded.is_empty() {
            Ok(())
        } else {
            Err(over)
        }
    }
}

/// What a [`Budget`] can be checked against: [`PerOp`] or [`Stats`].
///
/// Sealed on purpose: the trait's one method is private (it lives on the
/// supertrait `sealed::Sealed`, which code outside the crate cannot name),
/// so how a budget reads its figures can change without breaking anyone,
/// and new kinds of measurement are added here, not downstream.
pub trait Measured: sealed::Sealed {}

mod sealed {
    use super::{BudgetScope, Figures};

    /// The private supertrait that seals [`Measured`](super::Measured).
    pub trait Sealed {
        /// The scope's label and its figures.
        fn figures(&self) -> (BudgetScope, Figures);
    }
}

/// What a budget was checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetScope {
    /// Means per op over this many ops.
    PerOp(u64),
    /// One whole scope.
    Total,
}

/// The former name of [`BudgetScope`], which read too much like a
/// measurement's scope.
#[deprecated(note = "renamed `BudgetScope`")]
pub type Scope = BudgetScope;

/// The figures a budget compares, all as `f64` so means and totals share one path.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    allocs: f64,
    reallocs: f64,
    bytes: f64,
    retained_bytes: f64,
    peak_bytes: f64,
}

impl Measured for PerOp {}

impl sealed::Sealed for PerOp {
    fn figures(&self) -> (BudgetScope, Figures) {
        let f = Figures {
            allocs: self.allocs,
            reallocs: self.reallocs,
            bytes: self.bytes_allocated,
            retained_bytes: self.retained_bytes,
            peak_bytes: self.max_peak_bytes as f64,
        };
        (BudgetScope::PerOp(self.ops), f)
    }
}

impl Measured for Stats {}

impl sealed::Sealed for Stats {
    fn figures(&self) -> (BudgetScope, Figures) {
        let f = Figures {
            allocs: self.allocs as f64,
            reallocs: self.reallocs as f64,
            bytes: self.bytes_allocated as f64,
            retained_bytes: self.net_bytes() as f64,
            peak_bytes: self.peak_bytes as f64,
        };
        (BudgetScope::Total, f)
    }
}

/// The limits of a [`Budget`].
///
/// NOTE: `#[non_exhaustive]` because budgets will gain limits (frees,
/// reallocated bytes) and a `match` over the exceeded ones must keep
/// compiling when they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`Budget::max_allocs`].
    Allocs,
    /// [`Budget::max_reallocs`].
    Reallocs,
    /// [`Budget::max_bytes`].
    Bytes,
    /// [`Budget::max_retained_bytes`].
    RetainedBytes,
    /// [`Budget::max_peak_bytes`].
    PeakBytes,
}

impl Limit {
    fn label(self) -> &'static str {
        match self {
            Limit::Allocs => "allocs",
            Limit::Reallocs => "reallocs",
            Limit::Bytes => "bytes",
            Limit::RetainedBytes => "retained bytes",
            Limit::PeakBytes => "peak bytes",
        }
    }

    fn is_bytes(self) -> bool {
        !matches!(self, Limit::Allocs | Limit::Reallocs)
    }
}

/// One exceeded limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exceeded {
    /// Which limit.
    pub limit: Limit,
    /// The measured figure (a mean for [`BudgetScope::PerOp`]).
    pub actual: f64,
    /// The limit's value.
    pub budget: f64,
}

/// A [`Budget`] check that failed: every exceeded limit, in a fixed order.
///
/// Its `Display` reads like a diff, one line per limit:
///
/// ```text
/// over budget (per op, 1000 ops):
///   allocs           actual 3        budget 0  over by 3
///   bytes            actual 24.7 KiB budget 0  over by 24.7 KiB
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OverBudget {
    /// What was checked.
    pub scope: BudgetScope,
    /// The limits exceeded.
    pub exceeded: Vec<Exceeded>,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            BudgetScope::PerOp(n) => write!(f, "over budget (per op, {n} ops):")?,
            BudgetScope::Total => write!(f, "over budget (whole scope):")?,
        }
        let show = |limit: Limit, v: f64| {
            if limit.is_bytes() {
                Bytes(v).to_string()
            } else if v.fract() == 0.0 {
                format!("{v}")
            } else {
                format!("{v:.3}")
            }
        };
        let rows: Vec<[String; 3]> = self
            .exceeded
            .iter()
            .map(|e| {
                [
                    show(e.limit, e.actual),
                    show(e.limit, e.budget),
                    show(e.limit, e.actual - e.budget),
                ]
            })
            .collect();
        let wa = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
        let wb = rows.iter().map(|r| r[1].len()).max().unwrap_or(0);
        for (e, [actual, budget, over]) in self.exceeded.iter().zip(&rows) {
            write!(
                f,
                "\n  {:<16} actual {actual:<wa$}  budget {budget:<wb$}  over by {over}",
                e.limit.label()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for OverBudget {}

/// Checks a [`Budget`] and panics with the [`OverBudget`] text if it is
/// exceeded.
///
/// ```should_panic
/// # #[global_allocator]
/// # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
/// #     heapmeter::CountingAlloc::new(std::alloc::System);
/// use heapmeter::{assert_budget, Budget};
///
/// let per = heapmeter::per_op(10, |i| i.to_string());
/// assert_budget!(per, Budget::new().max_allocs(0)); // panics: 1 alloc per op
/// ```
#[macro_export]
macro_rules! assert_budget {
    ($measured:expr, $budget:expr $(,)?) => {
        if let ::core::result::Result::Err(over) = $crate::Budget::check(&$budget, &$measured) {
            ::core::panic!("heapmeter: {}", over);
        }
    };
    ($measured:expr, $budget:expr, $($msg:tt)+) => {
        if let ::core::result::Result::Err(over) = $crate::Budget::check(&$budget, &$measured) {
            ::core::panic!("heapmeter: {}: {}", ::core::format_args!($($msg)+), over);
        }
    };
}
