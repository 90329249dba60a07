//! jemalloc with its own heap profiler on at a mean interval of 512 KiB:
//! `prof:true,lg_prof_sample:19`, the configuration `jemalloc_pprof`
//! recommends and heapmeter's default interval.
//!
//! Built only with the package's `jemalloc-profiling` feature (jemalloc
//! compiled with `--enable-prof`), in a cargo invocation of its own: see
//! `Cargo.toml`.

use bench_allocators::Sampling;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this symbol at start-up (with the
/// `_rjem_` prefix that tikv-jemalloc-sys gives its symbols);
/// `_RJEM_MALLOC_CONF` in the environment overrides it.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:19\0";

/// The `sample` workload's runs set `_RJEM_MALLOC_CONF` to
/// `lg_prof_sample:0` (every allocation); jemalloc reads it at start-up,
/// after the symbol above. (`prof.reset` can change the rate of a running
/// profiler, but each thread keeps the countdown it drew at the old rate.)
fn start(sampling: Sampling) {
    let expected = match sampling {
        Sampling::Table => 19,
        Sampling::EveryAllocation => 0,
    };
    // SAFETY: `opt.prof` is a read-only bool, `prof.lg_sample` a read-only
    // size_t, in a jemalloc built with profiling.
    let (prof, lg) = unsafe {
        (
            tikv_jemalloc_ctl::raw::read::<bool>(b"opt.prof\0"),
            tikv_jemalloc_ctl::raw::read::<usize>(b"prof.lg_sample\0"),
        )
    };
    assert_eq!(
        (prof, lg),
        (Ok(true), Ok(expected)),
        "jemalloc's profiler is not configured as this row says"
    );
}

fn main() -> std::process::ExitCode {
    bench_allocators::main(start, None)
}
