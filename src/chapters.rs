//! Teaching chapters: why the incident happened, how to measure it, and how
//! to catch it before production.
//!
//! Each chapter is a Markdown file in `docs/`, compiled into this
//! documentation, so every code sample in it runs as a test with
//! `cargo test`. The build script (`build.rs`) embeds each chapter's SVG
//! figures in its page, where the Markdown beside it links them.
//!
//! The modules are named after their subjects, not their numbers: the
//! numbers follow the book's order, which may change.

/// Chapter 1: the incident, the code that shipped, and what was claimed about it.
pub mod incident {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/01-the-incident.md"))]
}

/// Chapter 2: what killed the pods: the incident's own numbers, the facts
/// one by one, and the answers for the Rust and the Node.js reader.
pub mod what_killed_the_pods {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/02-what-killed-the-pods.md"))]
}

/// Chapter 3: counting allocations exactly, per thread and per request.
pub mod counting_allocations {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/03-counting-allocations.md"))]
}

/// Chapter 4: a leak or only churn? Retained bytes against allocated bytes.
pub mod leak_or_churn {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/04-leak-or-churn.md"))]
}

/// Chapter 5: the published fixes and the real ones, measured.
pub mod fixes {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/05-the-fixes.md"))]
}

/// Chapter 6: catching it before production: budgets, compare, replay, profiles, the soak.
pub mod catching_it_in_staging {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/06-catching-it-in-staging.md"))]
}

/// Chapter 7: measuring a request in async code, and the alert on heap growth.
pub mod measuring_a_request {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/07-measuring-a-request.md"))]
}

/// Chapter 8: where is it? From a leak verdict to its call site with a sampled profile.
pub mod where_is_it {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/08-where-is-it.md"))]
}

/// Chapter 9: heapmeter in your own service: the allocator, the layer, the
/// metrics, the profiles, the release profile, what each costs, and from an
/// alert to the leaking handler in three commands.
pub mod in_your_service {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/09-heapmeter-in-your-service.md"))]
}

/// Chapter 10: live and resident memory, measured: churn, glibc's arenas,
/// requests in flight and a real leak against a pod's limit.
pub mod live_and_resident_memory {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/10-live-and-resident-memory.md"))]
}

/// Chapter 11: what heapmeter does not see, and why.
pub mod limits {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/11-limits.md"))]
}

/// The measured figures, with the commands that reproduce them.
pub mod benchmarks {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/BENCHMARKS.md"))]
}
