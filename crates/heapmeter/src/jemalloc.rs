//! jemalloc's own statistics (feature `jemalloc`): what the allocator holds
//! beside what the program asked for.
//!
//! heapmeter counts the bytes the program requested; jemalloc rounds each
//! request up to a size class, keeps pages of free runs, and maps memory
//! it has not returned to the system. These figures show that gap: the
//! memory a pod's limit sees is nearer `resident` than `allocated`.
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: heapmeter::CountingAlloc<heapmeter::jemalloc::Jemalloc> =
//!     heapmeter::CountingAlloc::new(heapmeter::jemalloc::Jemalloc);
//!
//! let kept = vec![1u8; 1 << 20];
//! let s = heapmeter::jemalloc::stats().unwrap();
//! assert!(s.allocated >= 1 << 20);
//! assert!(s.active >= s.allocated && s.resident >= s.active && s.mapped >= s.active);
//! # drop(kept);
//! ```

use core::fmt;

use tikv_jemalloc_ctl::{epoch, stats as ctl};

pub use tikv_jemallocator::Jemalloc;

/// jemalloc's statistics at one moment, in bytes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct JemallocStats {
    /// Bytes allocated by the program, in bytes (rounded up to size classes).
    pub allocated: u64,
    /// Bytes in active pages, in bytes: a multiple of the page size.
    pub active: u64,
    /// Bytes in physically resident data pages, in bytes (what RSS sees).
    pub resident: u64,
    /// Bytes in active extents mapped by the allocator, in bytes.
    pub mapped: u64,
    /// Bytes retained: unmapped but kept virtual address space, in bytes.
    pub retained: u64,
    /// Bytes of jemalloc's own metadata, in bytes.
    pub metadata: u64,
}

/// A statistic could not be read from jemalloc.
#[derive(Debug)]
pub struct Error(tikv_jemalloc_ctl::Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heapmeter: reading jemalloc statistics failed: {}",
            self.0
        )
    }
}

impl std::error::Error for Error {}

impl From<tikv_jemalloc_ctl::Error> for Error {
    fn from(e: tikv_jemalloc_ctl::Error) -> Error {
        Error(e)
    }
}

/// `Result` with this module's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// Advances jemalloc's statistics epoch (its figures are cached until
/// then) and reads them.
///
/// # Errors
///
/// If jemalloc does not answer a `mallctl` read (built without statistics,
/// for instance).
pub fn stats() -> Result<JemallocStats> {
    epoch::advance()?;
    Ok(JemallocStats {
        allocated: ctl::allocated::read()? as u64,
        active: ctl::active::read()? as u64,
        resident: ctl::resident::read()? as u64,
        mapped: ctl::mapped::read()? as u64,
        retained: ctl::retained::read()? as u64,
        metadata: ctl::metadata::read()? as u64,
    })
}
