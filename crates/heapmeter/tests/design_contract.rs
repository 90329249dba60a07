//! The public contract, written as the design document writes it: these
//! names and types are what code outside the project compiles against.

use heapmeter::{CountingAlloc, Stats};

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

fn work() -> Vec<u8> {
    vec![1; 100]
}

fn work_i(i: u64) -> u64 {
    i * 2
}

#[test]
fn contract_compiles_and_holds() -> Result<(), Box<dyn std::error::Error>> {
    let (value, stats): (Vec<u8>, Stats) = heapmeter::measure(work);
    let _: u64 = stats.allocs;
    let _: u64 = stats.reallocs;
    let _: u64 = stats.deallocs;
    let _: u64 = stats.bytes_allocated;
    let _: u64 = stats.bytes_deallocated;
    let _: u64 = stats.peak_bytes;
    let net: i64 = stats.net_bytes();
    assert_eq!((stats.allocs, net, value.len()), (1, 100, 100));

    let (_value, process): (Vec<u8>, Stats) = heapmeter::measure_process(work);
    // One test in this file: nothing else allocates 100 bytes meanwhile.
    assert!(
        process.allocs >= 1 && process.bytes_allocated >= 100,
        "{process}"
    );

    let per: heapmeter::PerOp = heapmeter::per_op(1_000, work_i);
    heapmeter::Budget::new()
        .max_allocs(0)
        .max_bytes(0)
        .check(&per)?;

    let report = heapmeter::LeakDetector::new().run(work_i);
    let verdict: heapmeter::Verdict = report.verdict;
    assert_eq!(verdict, heapmeter::Verdict::Clean);
    let _: f64 = report.retained_bytes_per_op;
    let _: f64 = report.allocated_bytes_per_op;
    Ok(())
}
