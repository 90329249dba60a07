//! Bad input ends with a one-line `error:` message on stderr and a non-zero
//! exit: never a panic, never a backtrace.

mod common;

use common::fails;

#[test]
fn bad_input_fails_with_one_line() {
    // Unknown variant: the message lists the valid ones.
    for cmd in ["replay", "compare", "profile"] {
        fails(&[cmd, "--variant", "leaky"], "retained_listener");
    }
    fails(&["replay", "--variant", "naive,nope"], "ttl_refresh");

    // Zero and negative figures.
    fails(&["replay", "--pods", "0"], "greater than zero");
    fails(&["replay", "--pods", "-2"], "greater than zero");
    fails(&["replay", "--rps", "0"], "greater than zero");
    fails(&["replay", "--rps", "-100"], "greater than zero");
    fails(&["replay", "--users", "0"], "greater than zero");
    fails(&["replay", "--duration", "0s"], "greater than zero");
    fails(&["replay", "--duration", "-5m"], "negative");
    fails(&["replay", "--ttl", "0"], "greater than zero");
    fails(&["replay", "--limit", "0"], "greater than zero");
    fails(&["replay", "--store-connections", "0"], "greater than zero");
    fails(&["compare", "--users", "0"], "greater than zero");
    fails(&["compare", "--requests", "-1"], "greater than zero");
    fails(
        &["profile", "--variant", "naive", "--requests", "0"],
        "greater than zero",
    );

    // Unparsable durations and sizes.
    fails(
        &["replay", "--duration", "4 fortnights"],
        "invalid duration",
    );
    fails(&["replay", "--duration", "h"], "invalid duration");
    fails(&["replay", "--store-latency", "fast"], "invalid duration");
    fails(&["replay", "--limit", "1GiX"], "invalid size");
    fails(&["replay", "--baseline", "lots"], "invalid size");
    fails(
        &["replay", "--memory", "rss"],
        "expected `live` or `resident`",
    );
    fails(&["replay", "--pods", "four"], "not a number");

    // A limit the rest of the service already uses up.
    fails(&["replay", "--limit", "64MiB"], "--baseline");
    fails(
        &["replay", "--limit", "1MiB", "--baseline", "1MiB"],
        "not above",
    );

    // Unwritable output files.
    fails(
        &[
            "replay",
            "--duration",
            "1m",
            "--svg",
            "/nonexistent-dir/graph.svg",
        ],
        "cannot write /nonexistent-dir/graph.svg",
    );
    fails(
        &[
            "profile",
            "--variant",
            "naive",
            "--out",
            "/nonexistent-dir/dhat.json",
        ],
        "cannot write /nonexistent-dir/dhat.json",
    );

    // Usage mistakes are one line too.
    fails(&["replay", "--frobnicate"], "--frobnicate");
    fails(&["profile"], "--variant");
    fails(&["explode"], "explode");
}

#[test]
fn help_shows_defaults_on_every_subcommand() {
    for (cmd, defaults) in [
        (
            "replay",
            &[
                "[default: 4]",
                "[default: 100]",
                "[default: 4h]",
                "[default: 1GiB]",
                "[default: 200ms]",
                "[default: 10]",
                "[default: 128MiB]",
            ][..],
        ),
        ("compare", &["[default: 10000]", "[default: 1000]"][..]),
        (
            "profile",
            &[
                "[default: 1000]",
                "[default: 512KiB]",
                "[default: heap.pb.gz",
            ][..],
        ),
    ] {
        let out = assert_cmd::cargo::cargo_bin_cmd!("heaplab")
            .args([cmd, "--help"])
            .output()
            .expect("heaplab runs");
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for d in defaults {
            assert!(help.contains(d), "{cmd} --help lacks {d}: {help}");
        }
    }
}
