//! `heaplab soak --svg FILE` checks that FILE can be written before a
//! minute of soak, and says so in one line.

#[test]
fn an_unwritable_svg_path_is_refused_before_the_soak() {
    let out = assert_cmd::cargo::cargo_bin_cmd!("heaplab")
        .args([
            "soak",
            "--duration",
            "60s",
            "--svg",
            "/nonexistent-dir/soak.svg",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "the soak ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot write /nonexistent-dir/soak.svg: ")
            && stderr.lines().count() == 1,
        "{stderr}"
    );
}
