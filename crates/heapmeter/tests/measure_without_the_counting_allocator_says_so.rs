//! A process whose global allocator is not `CountingAlloc` gets a panic that
//! says how to install it, never a silent measurement of zero.

#[test]
fn measure_panics_with_the_install_hint() {
    let err = std::panic::catch_unwind(|| heapmeter::measure(|| vec![0u8; 64]))
        .expect_err("measure must not report zeros without the counting allocator");
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        msg.contains("CountingAlloc is not the global allocator"),
        "{msg}"
    );
}
