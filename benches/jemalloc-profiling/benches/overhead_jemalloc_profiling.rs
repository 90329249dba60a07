//! Profiler overhead with jemalloc's own heap profiler on: `prof:true`,
//! `lg_prof_sample:19` (one sample per 512 KiB on average, as heapmeter's
//! default), the configuration `jemalloc_pprof` recommends (see
//! `benches/common/overhead.rs` in the root package for the workloads).

#[path = "../../common/overhead.rs"]
mod overhead;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this symbol at start-up (with the
/// `_rjem_` prefix that tikv-jemalloc-sys gives its symbols).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:19\0";

fn main() {
    // SAFETY: both names are jemalloc options of these types (a bool and a
    // size_t), read-only.
    let (prof, lg) = unsafe {
        (
            tikv_jemalloc_ctl::raw::read::<bool>(b"opt.prof\0").expect("opt.prof"),
            tikv_jemalloc_ctl::raw::read::<usize>(b"opt.lg_prof_sample\0")
                .expect("opt.lg_prof_sample"),
        )
    };
    assert!(
        prof && lg == 19,
        "jemalloc profiling is not configured: prof {prof}, lg_prof_sample {lg}"
    );
    let mut c = overhead::config();
    overhead::benches(&mut c, "jemalloc_profiling");
    c.final_summary();
}
