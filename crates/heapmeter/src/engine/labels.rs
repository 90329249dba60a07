//! Request labels: small sets of key-value pairs (`method`, `route`) that a
//! measured future carries into its polls, so that the samples taken while
//! it is polled carry them too.
//!
//! The allocator only ever sees a label's number, stored in the thread's
//! slot; the names live here, interned once each outside the allocator and
//! kept for the life of the process. Label sets are few (a service's routes
//! times its methods); past [`MAX_LABELS`] a new set gets number 0, no
//! label.

use std::sync::RwLock;

/// A label's pairs, in the order they were given.
pub(crate) type Pairs = &'static [(&'static str, &'static str)];

/// The most distinct label sets a process interns.
pub(crate) const MAX_LABELS: usize = 4096;

/// Label sets by number; number 0 is the empty set.
static NAMES: RwLock<Vec<Pairs>> = RwLock::new(Vec::new());

/// The number of the label set `pairs`, interned on first use (the
/// strings are copied and kept); 0 for an empty set or once
/// [`MAX_LABELS`] sets are interned.
pub(crate) fn intern(pairs: &[(&str, &str)]) -> u16 {
    if pairs.is_empty() {
        return 0;
    }
    let same = |p: &Pairs| p.len() == pairs.len() && p.iter().zip(pairs).all(|(a, b)| a == b);
    let find = |names: &[Pairs]| names.iter().position(same).map(|i| i as u16 + 1);
    if let Some(n) = find(&NAMES.read().unwrap_or_else(|e| e.into_inner())) {
        return n;
    }
    let mut names = NAMES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = find(&names) {
        return n;
    }
    if names.len() + 1 >= MAX_LABELS {
        return 0;
    }
    let kept: Vec<(&'static str, &'static str)> =
        pairs.iter().map(|&(k, v)| (leak(k), leak(v))).collect();
    names.push(Vec::leak(kept));
    names.len() as u16
}

fn leak(s: &str) -> &'static str {
    String::leak(s.to_owned())
}

/// The pairs of label number `n` (empty for 0 or an unknown number).
pub(crate) fn pairs(n: u16) -> Pairs {
    if n == 0 {
        return &[];
    }
    NAMES
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(usize::from(n) - 1)
        .copied()
        .unwrap_or(&[])
}
