//! Whether [`CountingAlloc`](crate::CountingAlloc) is the global allocator,
//! and the one message that says it is not.
//!
//! NOTE: `measure` (in `scope.rs`) words the same message inline today;
//! [`NOT_INSTALLED`] is a copy of it, kept identical by a test, until that
//! code calls [`require_installed`] too.

use std::hint::black_box;

/// What heapmeter says when `CountingAlloc` is not the global allocator,
/// and how to install it.
pub(crate) const NOT_INSTALLED: &str =
    "heapmeter: CountingAlloc is not the global allocator; add\n    \
     #[global_allocator]\n    \
     static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = \
     heapmeter::CountingAlloc::new(std::alloc::System);";

/// Whether `CountingAlloc` is the global allocator of this process. Makes
/// one allocation if no thread has allocated through it yet, so that an
/// early call (the first line of `main`) is not mistaken for "not
/// installed".
pub(crate) fn installed() -> bool {
    if crate::alloc::installed() {
        return true;
    }
    drop(black_box(Box::new(0u8)));
    crate::alloc::installed()
}

/// [`NOT_INSTALLED`] on one line, for an HTTP answer or a log line.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn not_installed_line() -> String {
    NOT_INSTALLED
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Panics with [`NOT_INSTALLED`] unless `CountingAlloc` is the global
/// allocator: for what would otherwise report zeros silently.
#[track_caller]
pub(crate) fn require_installed() {
    if !installed() {
        panic!("{NOT_INSTALLED}");
    }
}
