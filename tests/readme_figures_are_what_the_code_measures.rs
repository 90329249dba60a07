//! Every figure the README quotes is what the code measures or what it is
//! configured with: the per-request allocations of the variants, the
//! replay's and the soak's defaults, the compressed alert, the sampler's
//! interval. Each figure is computed here and looked up in the README, so
//! neither can change without the other. (The README is read on a code
//! host, not compiled by rustdoc, so it carries no doctests of its own.)

mod common;
mod quoted;

use clap::Parser;
use fraudcheck::Variant;
use heaplab::render::format::count;
use heaplab::replay::ReplayConfig;
use heaplab_staging::cli::{ServeArgs, SoakArgs};
use heapmeter::{CountingAlloc, LeakDetector, Verdict};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

const README: &str = include_str!("../README.md");

fn assert_quoted(figure: &str, what: &str) {
    quoted::assert_quoted("README.md", README, figure, what);
}

#[test]
fn the_per_request_allocations_are_the_measured_ones() {
    let users = 1_000;
    let per = |variant| {
        let (_env, check, payments) = common::warm(variant, users);
        heapmeter::per_op(200, |i| check.is_risky(common::nth(&payments, i)))
    };
    let verdict = |variant| {
        let (_env, check, payments) = common::warm(variant, users);
        LeakDetector::new()
            .warmup(20)
            .phases(5)
            .run(|i| check.is_risky(common::nth(&payments, i)))
    };

    let naive = per(Variant::Naive);
    let scan = per(Variant::ParseAndScan);
    for (variant, figures) in [(Variant::Naive, naive), (Variant::ParseAndScan, scan)] {
        assert_eq!(verdict(variant).verdict, Verdict::Churn, "{variant}");
        assert_eq!(figures.allocs.fract(), 0.0, "{variant}: {figures:?}");
        assert_eq!(
            figures.bytes_allocated.fract(),
            0.0,
            "{variant}: {figures:?}"
        );
    }
    assert_quoted(
        &format!(
            "Per warm request at {}: `naive` {} allocations and {} B (churn), `parse_and_scan` {} and {} B (churn)",
            format_args!("{} users", count(users as u64)),
            naive.allocs,
            count(naive.bytes_allocated as u64),
            scan.allocs,
            count(scan.bytes_allocated as u64),
        ),
        "naive's and parse_and_scan's allocations per request",
    );

    // "keeps one set per request (a leak)": what it retains is one set.
    let leak = verdict(Variant::RetainedListener);
    assert_eq!(leak.verdict, Verdict::Leak);
    let (env, _, _) = common::warm(Variant::Naive, users);
    let ids = env.store.active_ids();
    let (set, one) = heapmeter::measure(|| fraudcheck::id_set(&ids));
    drop(set);
    let sets = leak.retained_bytes_per_op / one.bytes_allocated as f64;
    assert!((1.0..1.01).contains(&sets), "{sets} sets per request");
    assert_quoted(
        "`retained_listener` keeps one set per request (a leak)",
        "the leak",
    );

    for fix in Variant::ALL.into_iter().filter(|v| v.is_fix()) {
        let figures = per(fix);
        assert_eq!((figures.allocs, figures.reallocs), (0.0, 0.0), "{fix}");
        assert_eq!(figures.bytes_allocated, 0.0, "{fix}");
    }
    assert_quoted("and the fixes allocate nothing", "the fixes");
}

#[test]
fn the_replay_defaults_are_the_incidents() {
    // NOTE: src/cli/args.rs tests that `heaplab replay` without flags is
    // `ReplayConfig::default()`.
    let c = ReplayConfig::default();
    assert_eq!(c.duration.as_secs() % 3600, 0);
    assert_eq!(c.limit % (1 << 30), 0);
    let hours = c.duration.as_secs() / 3600;
    let gib = c.limit >> 30;
    assert_quoted(
        &format!(
            "# {} pods, {} req/s, {hours} h, {gib} GiB, TTL {} s, {} users",
            c.pods,
            c.rps,
            c.ttl.as_secs(),
            count(c.users as u64)
        ),
        "the replay's defaults",
    );
    assert_quoted(
        &format!("every variant, {hours} simulated hours"),
        "the replay's duration",
    );
    assert_quoted(
        &format!(
            "about {} requests a second, and its pods were OOMKilled at their {gib} GiB limit",
            c.rps
        ),
        "the incident's rate and limit, which the replay mirrors",
    );
}

#[derive(Parser)]
struct Soak {
    #[command(flatten)]
    soak: SoakArgs,
}

#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    serve: ServeArgs,
}

#[test]
fn the_staging_figures_are_the_commands_defaults() {
    let soak = Soak::parse_from(["soak"]).soak;
    assert_quoted(
        &format!(
            "soak # {} req/s, {} s per variant, in-process",
            soak.rps,
            soak.duration.as_secs()
        ),
        "the soak's rate and duration",
    );

    let serve = Serve::parse_from(["serve", "--variant", "ttl_refresh"]).serve;
    assert_quoted(
        &format!("GET /healthz on {}", serve.listen),
        "the service's address",
    );

    let script = include_str!("../scripts/staging");
    let staging = script
        .lines()
        .find_map(|l| l.strip_prefix("DURATION=${1:-"))
        .and_then(|rest| rest.strip_suffix("s}"))
        .expect("scripts/staging sets its default DURATION in seconds");
    assert_quoted(
        &format!("ttl_refresh for {staging} s each"),
        "scripts/staging's soak duration",
    );

    // The post-mortem's 5 m window held for 10 m, divided by the soak's
    // --compress, is the window and hold of the rule Prometheus runs.
    let (window, hold) = (300 / soak.compress, 600 / soak.compress);
    assert_quoted(
        &format!(
            "time-compressed {}x for a soak of minutes: a {window} s window held for {hold} s",
            soak.compress
        ),
        "the compressed alert",
    );
    let rules = include_str!("../scripts/prometheus/heaplab.rules.yml");
    assert!(rules.contains(&format!("deriv(heapmeter_live_bytes[{window}s]) > 1e6")));
    assert!(rules.contains(&format!("for: {hold}s")));
    assert_quoted(
        "`deriv(heapmeter_live_bytes[5m]) > 1e6`",
        "the production rule",
    );
}

#[test]
fn the_sampling_interval_is_the_samplers_default() {
    let interval = heapmeter::sampling::DEFAULT_INTERVAL;
    assert_eq!(interval % 1024, 0);
    assert_quoted(
        &format!("// sampled call sites, {} KiB", interval / 1024),
        "the sampler's default interval",
    );
}

#[test]
fn the_incidents_bytes_per_request_are_chapter_twos() {
    // Chapter 2's doctest computes the bytes kept per request from the
    // incident's panel and asserts them; the README rounds that figure.
    let chapter = include_str!("../docs/02-what-killed-the-pods.md");
    let line = chapter
        .lines()
        .find(|l| l.starts_with("assert_eq!(format!(\"{per_request:.0} B\"), \""))
        .expect("chapter 2 asserts the bytes per request");
    let bytes: f64 = line
        .split('"')
        .nth(3)
        .and_then(|b| b.strip_suffix(" B"))
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("a figure in B: {line}"));
    assert_quoted(
        &format!("steady {:.1} KB per request", bytes / 1e3),
        "the bytes per request the incident's graph climbs by",
    );
}
