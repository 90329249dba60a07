//! Teaching chapters: why the incident happened, how to measure it, and how
//! to catch it before production.
//!
//! Each chapter is a Markdown file in `docs/`, compiled into this
//! documentation, so every code sample in it runs as a test with
//! `cargo test`.

/// Chapter 1.
pub mod incident {
    #![doc = include_str!("../docs/01-the-incident.md")]
}

/// Chapter 2.
pub mod counting_allocations {
    #![doc = include_str!("../docs/02-counting-allocations.md")]
}

/// Chapter 3.
pub mod leak_or_churn {
    #![doc = include_str!("../docs/03-leak-or-churn.md")]
}

/// Chapter 4.
pub mod fixes {
    #![doc = include_str!("../docs/04-the-fixes.md")]
}

/// Chapter 5.
pub mod catching_it_in_staging {
    #![doc = include_str!("../docs/05-catching-it-in-staging.md")]
}

/// Chapter 6.
pub mod measuring_a_request {
    #![doc = include_str!("../docs/06-measuring-a-request.md")]
}

/// The measured figures.
pub mod benchmarks {
    #![doc = include_str!("../docs/BENCHMARKS.md")]
}
