//! Teaching chapters: why the incident happened, how to measure it, and how
//! to catch it before production.
//!
//! Each chapter is a Markdown file in `docs/`, compiled into this
//! documentation, so every code sample in it runs as a test with
//! `cargo test`. The build script (`build.rs`) embeds each chapter's SVG
//! figures in its page, where the Markdown beside it links them.

/// Chapter 1: the incident, the code that shipped, and what was claimed about it.
pub mod incident {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/01-the-incident.md"))]
}

/// Chapter 2: counting allocations exactly, per thread and per request.
pub mod counting_allocations {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/02-counting-allocations.md"))]
}

/// Chapter 3: a leak or only churn? Retained bytes against allocated bytes.
pub mod leak_or_churn {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/03-leak-or-churn.md"))]
}

/// Chapter 4: the published fixes and the real ones, measured.
pub mod fixes {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/04-the-fixes.md"))]
}

/// Chapter 5: catching it before production: budgets, compare, replay, profiles.
pub mod catching_it_in_staging {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/05-catching-it-in-staging.md"))]
}

/// Chapter 6: measuring a request in async code, and the alert on heap growth.
pub mod measuring_a_request {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/06-measuring-a-request.md"))]
}

/// Chapter 7: where is it? From a leak verdict to its call site with a sampled profile.
pub mod where_is_it {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/07-where-is-it.md"))]
}

/// Chapter 9: heapmeter in your own service: the allocator, the layer, the
/// metrics, the profiles, the release profile, what each costs, and from an
/// alert to the leaking handler in three commands.
pub mod in_your_service {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/09-heapmeter-in-your-service.md"))]
}

/// Chapter 8: what can push the incident's pods to their limit, measured.
pub mod what_killed_the_pods {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/08-what-killed-the-pods.md"))]
}

/// Chapter 9: what heapmeter does not see, and why.
pub mod limits {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/09-limits.md"))]
}

/// The measured figures, with the commands that reproduce them.
pub mod benchmarks {
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/BENCHMARKS.md"))]
}
