//! The text of `--help`: what each column means, and the variants as the
//! catalogue (`fraudcheck::Variant::ALL`) lists them.

use fraudcheck::Variant;

/// What each column of the replay table means (also in `replay --help`).
pub const REPLAY_LEGEND: &str = "\
requests      requests replayed for the variant (all pods)
allocs/req    heap allocations per request, mean (exact, counted by heapmeter)
bytes/req     bytes allocated per request, mean (freed or not)
peak/pod      highest memory of any pod: baseline + what the check holds + a request's peak
OOMKills      pods killed for passing the limit and restarted cold (= restarts)
first kill    virtual time (h:mm:ss) of the first OOMKill
alert         when the growth alert (deriv(memory[5m]) > --alert-rate for 10m, on each pod's
              memory every 15 s) first fired, and how long before the first OOMKill
queries       queries that reached the risky-user store
q/miss db     store queries per cache-miss episode as the database sees them: mean / max
q/miss pod    the same counted per pod: 1 means each pod asked once (single flight)
µs/req        wall time inside is_risky per request, median
core/pod      share of one core that is_risky takes at one pod's request rate";

/// What each column of the compare table means (also in `compare --help`).
pub const COMPARE_LEGEND: &str = "\
allocs/req    heap allocations per warm request, mean
bytes/req     bytes allocated per warm request, mean
retained/req  bytes still allocated after each request, mean (a leak keeps them)
verdict       leak: retained bytes keep growing; churn: allocates but keeps nothing; clean: no allocation
ns/req        wall time per warm request, median of timed batches";

/// What `profile` prints (also in `profile --help`).
pub const PROFILE_LEGEND: &str = "\
Figures (heapmeter's sampler, the default):
  allocated  bytes allocated over the run: the sampled estimate beside the exact count
  in use     bytes still live at the end, with the check alive: a leak shows here
  top sites  call sites by estimated bytes in use and allocated

Figures with --dhat (dhat's HeapStats over the profiled requests):
  total      blocks and bytes allocated (dhat counts a realloc as a new block)
  at peak    blocks and bytes live when live bytes peaked
  at end     blocks and bytes still live at the end, with the check alive: a leak shows here

Open a .pb.gz with `go tool pprof`, a .json in dhat's viewer:
https://nnethercote.github.io/dh_view/dh_view.html";

/// The variants' names, comma-separated, in the catalogue's order.
pub fn variant_names() -> String {
    Variant::names().collect::<Vec<_>>().join(", ")
}

/// The top-level help's closing lines: every variant, the fixes named.
pub fn variants() -> String {
    format!(
        "Variants: {} (the fixes: {}).",
        variant_names(),
        Variant::ALL
            .iter()
            .filter(|v| v.is_fix())
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The help line of a `--variant` flag: `what`, then the valid names.
pub fn variant_flag(what: &str) -> String {
    format!("{what} ({})", variant_names())
}

/// `replay --help`'s closing text.
pub fn replay() -> String {
    format!(
        "Each request runs the variant's real code, measured by heapmeter; only the \
         clock is simulated, so hours take seconds. A pod's memory is --baseline plus \
         what its check object holds. A store query waits for one of the pod's \
         --store-connections, then takes --store-latency; with --memory resident the \
         requests waiting are counted in flight (they hold nothing of the check until \
         the store answers, and nothing after the answer takes virtual time: the burst \
         of memory when a stalled store answers is measured on the real services, see \
         docs/BENCHMARKS.md). A pod that passes --limit is OOMKilled, its requests in \
         flight are lost, and it is restarted cold. The cache lives outside the pods and survives restarts. A \
         check that fails is decided by the fail policy (open: the payment passes).\n\n\
         Columns:\n{}",
        indent(REPLAY_LEGEND)
    )
}

/// `compare --help`'s closing text.
pub fn compare() -> String {
    format!(
        "Each variant runs against a warm cache that never expires (only the first \
         request misses).\n\nColumns (and --json fields):\n{}\n\n--json prints exactly \
         an array of objects with the fields variant, users, allocs_per_request, \
         bytes_per_request, retained_bytes_per_request, verdict, ns_per_request.",
        indent(COMPARE_LEGEND)
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The variants as a Markdown table (name, fix or not, summary): the table
/// the README carries, checked against the catalogue by a test.
pub fn variant_table_markdown() -> String {
    let mut out = String::from("| variant | fix | what it does |\n|---|---|---|\n");
    for v in Variant::ALL {
        let fix = if v.is_fix() { "yes" } else { "no" };
        out += &format!("| `{}` | {fix} | {} |\n", v.name(), v.summary());
    }
    out
}
