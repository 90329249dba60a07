//! re_memory (rerun's memory tracker): its `AccountingAllocator` around
//! `System`, with call-stack tracking turned on first thing in `main`, as
//! its crate documentation sets it up
//! (`accounting_allocator::set_tracking_callstacks(true)`), at its default
//! `TrackingOptions`: blocks under 1 KiB are only counted, blocks from
//! 1 KiB to 1 MiB get a stack one time in 64 (chosen by a hash of the
//! address), blocks of 1 MiB and more always get one. Every call also
//! updates shared atomic counters.

use bench_allocators::Sampling;
use re_memory::accounting_allocator::{self, TrackingOptions};

#[global_allocator]
static GLOBAL: re_memory::AccountingAllocator<std::alloc::System> =
    re_memory::AccountingAllocator::new(std::alloc::System);

fn start(sampling: Sampling) {
    if sampling == Sampling::EveryAllocation {
        // Every block gets a stack: none is "small", all are "big".
        accounting_allocator::set_tracking_options(TrackingOptions {
            small_size: 0,
            medium_size: 0,
        });
    }
    accounting_allocator::set_tracking_callstacks(true);
}

fn main() -> std::process::ExitCode {
    bench_allocators::main(start, None)
}
