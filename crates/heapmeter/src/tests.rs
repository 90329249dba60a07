//! The allocator tested as this crate's own global allocator.

use std::alloc::{alloc, dealloc, realloc, Layout};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;

use crate::*;

#[test]
fn vec_with_capacity_is_one_alloc_and_one_free() {
    let ((), s) = measure(|| drop(black_box(Vec::<u8>::with_capacity(100))));
    assert_eq!(s.allocs, 1);
    assert_eq!(s.bytes_allocated, 100);
    assert_eq!(s.deallocs, 1);
    assert_eq!(s.bytes_deallocated, 100);
    assert_eq!(s.reallocs, 0);
    assert_eq!(s.peak_bytes, 100);
    assert_eq!(s.net_bytes(), 0);
}

#[test]
fn leaked_box_retains_its_size() {
    let (leaked, s) = measure(|| Box::leak(black_box(Box::new([7u8; 64]))));
    assert_eq!(leaked[63], 7);
    assert_eq!((s.allocs, s.deallocs), (1, 0));
    assert_eq!(s.net_bytes(), 64);
}

#[test]
fn nothing_allocated_is_zero() {
    let (v, s) = measure(|| black_box(2u64) + 2);
    assert_eq!(v, 4);
    assert!(s.is_zero());
    assert_eq!(s, Stats::default());
}

#[test]
fn realloc_grow_and_shrink() {
    let mut v: Vec<u8> = Vec::with_capacity(10);
    let ((), s) = measure(|| {
        v.reserve_exact(100); // grow 10 → 100 (len is 0)
        v.shrink_to(40); // shrink 100 → 40 (len is 0, so exactly 40)
    });
    assert_eq!(v.capacity(), 40);
    assert_eq!(s.allocs, 0);
    assert_eq!(s.reallocs, 2);
    assert_eq!(s.bytes_allocated, 90);
    assert_eq!(s.bytes_deallocated, 60);
    assert_eq!(s.net_bytes(), 30);
    assert_eq!(s.peak_bytes, 90);
}

#[test]
fn zeroed_and_over_aligned_layouts() {
    let layout = Layout::from_size_align(4096, 4096).unwrap();
    let ((), s) = measure(|| {
        // SAFETY: the layout has a non-zero size; the pointer is checked and
        // then freed with the same layout.
        unsafe {
            let p = std::alloc::alloc_zeroed(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % 4096, 0);
            assert_eq!(*p.add(4095), 0);
            let p = realloc(p, layout, 8192);
            assert!(!p.is_null());
            dealloc(p, Layout::from_size_align(8192, 4096).unwrap());
        }
    });
    assert_eq!((s.allocs, s.reallocs, s.deallocs), (1, 1, 1));
    assert_eq!(s.bytes_allocated, 8192);
    assert_eq!(s.bytes_deallocated, 8192);
    assert_eq!(s.peak_bytes, 8192);
}

#[test]
fn zero_sized_types_do_not_allocate() {
    let ((), s) = measure(|| {
        let v: Vec<()> = black_box(vec![(); 1000]);
        drop(v);
        drop(black_box(Box::new(())));
    });
    assert!(s.is_zero());
}

#[test]
fn nested_scopes_outer_includes_inner() {
    let ((inner, _keep), outer) = measure(|| {
        let a = black_box(vec![0u8; 100]);
        let ((), inner) = measure(|| drop(black_box(vec![0u8; 1000])));
        (inner, a)
    });
    assert_eq!(
        (inner.allocs, inner.bytes_allocated, inner.peak_bytes),
        (1, 1000, 1000)
    );
    assert_eq!((outer.allocs, outer.bytes_allocated), (2, 1100));
    // The outer peak saw 100 live bytes, then 1000 more inside the inner scope.
    assert_eq!(outer.peak_bytes, 1100);
    assert_eq!(outer.net_bytes(), 100);
}

#[test]
fn peak_survives_a_panicking_inner_scope() {
    let ((), outer) = measure(|| {
        let r = std::panic::catch_unwind(|| {
            measure(|| {
                let _v = black_box(vec![0u8; 512]);
                panic!("inner");
            })
        });
        assert!(r.is_err());
    });
    assert!(outer.peak_bytes >= 512, "{outer}");
}

#[test]
fn freed_on_another_thread() {
    let (v, here) = measure(|| vec![1u8; 300]);
    let (_, there) = thread::spawn(move || measure(|| drop(v))).join().unwrap();
    assert_eq!(here.net_bytes(), 300);
    assert_eq!((there.deallocs, there.bytes_deallocated), (1, 300));
    assert_eq!(there.net_bytes(), -300);
}

#[test]
fn measure_is_exact_while_other_threads_allocate() {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(Barrier::new(4));
    let noisy: Vec<_> = (0..3)
        .map(|t| {
            let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
            thread::spawn(move || {
                let mut i = 0usize;
                loop {
                    let v = black_box(vec![t as u8; 1 + i % 700]);
                    let mut s = black_box(String::with_capacity(i % 50));
                    s.push('x');
                    drop((v, s));
                    if i == 0 {
                        started.wait(); // measuring starts once all three allocate
                    }
                    i += 1;
                    if stop.load(Relaxed) {
                        return i;
                    }
                }
            })
        })
        .collect();
    started.wait();
    for round in 0..1_000u64 {
        let ((), s) = measure(|| {
            let mut v = black_box(Vec::<u64>::with_capacity(16));
            v.extend(0..16);
            v.push(round); // 16 → 32 elements: one growing realloc
            drop(black_box(v));
        });
        assert_eq!(
            (s.allocs, s.reallocs, s.deallocs),
            (1, 1, 1),
            "round {round}"
        );
        assert_eq!(
            (s.bytes_allocated, s.bytes_deallocated),
            (256, 256),
            "round {round}"
        );
        assert_eq!(s.peak_bytes, 256, "round {round}");
    }
    stop.store(true, Relaxed);
    let spins: usize = noisy.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(spins > 0);
}

#[test]
fn per_op_excludes_warmup_and_keeps_exact_means() {
    let mut cache: HashMap<u64, u64> = HashMap::new();
    // The warm-up call fills the cache; then each op is a lookup.
    let per = per_op(500, |_| *cache.entry(7).or_insert(1));
    assert_eq!(per.ops, 500);
    assert_eq!(per.allocs, 0.0);
    assert_eq!(per.bytes_allocated, 0.0);

    let per = per_op(500, |i| vec![i as u16; 32]);
    assert_eq!(
        (per.allocs, per.deallocs, per.bytes_allocated),
        (1.0, 1.0, 64.0)
    );
    assert_eq!(per.retained_bytes, 0.0);
    assert_eq!(per.max_peak_bytes, 64);
    assert_eq!(per.total.allocs, 500);

    let zero = per_op(0, |i| vec![i; 8]);
    assert_eq!((zero.ops, zero.allocs), (0, 0.0));
}

#[test]
fn budget_passes_and_fails_with_a_diff() {
    let per = per_op(100, |i| vec![i; 3]);
    Budget::new()
        .max_allocs(1)
        .max_bytes(24)
        .max_retained_bytes(0)
        .check(&per)
        .unwrap();
    let over = Budget::new()
        .max_allocs(0)
        .max_reallocs(5)
        .max_bytes(10)
        .check(&per)
        .unwrap_err();
    assert_eq!(over.scope, BudgetScope::PerOp(100));
    let limits: Vec<Limit> = over.exceeded.iter().map(|e| e.limit).collect();
    assert_eq!(limits, [Limit::Allocs, Limit::Bytes]);
    assert_eq!(
        over.to_string(),
        "over budget (per op, 100 ops):\n  \
         allocs           actual 1     budget 0     over by 1\n  \
         bytes            actual 24 B  budget 10 B  over by 14 B"
    );
}

#[test]
fn budget_checks_stats() {
    let ((), s) = measure(|| drop(black_box(vec![0u8; 2048])));
    Budget::new()
        .max_allocs(1)
        .max_peak_bytes(2048)
        .check(&s)
        .unwrap();
    let over = Budget::new().max_peak_bytes(1024).check(&s).unwrap_err();
    assert_eq!(
        over.to_string(),
        "over budget (whole scope):\n  peak bytes       actual 2.0 KiB  budget 1.0 KiB  over by 1.0 KiB"
    );
}

#[test]
#[should_panic(expected = "heapmeter: naive: over budget (per op, 10 ops):")]
fn assert_budget_panics_with_the_diff() {
    let per = per_op(10, |i| i.to_string());
    assert_budget!(per, Budget::new().max_allocs(0), "naive");
}

#[test]
fn two_scopes_added_equal_the_scope_that_holds_both() {
    let mut parts = Vec::new();
    let (kept, whole) = measure(|| {
        let (kept, a) = measure(|| black_box(vec![0u8; 300]));
        parts.push(a);
        let ((), b) = measure(|| {
            let mut v = black_box(Vec::<u8>::with_capacity(100));
            v.reserve_exact(500); // a growing realloc: 500 live on top of 300
            drop(v);
        });
        parts.push(b);
        kept
    });
    // `parts` grew inside `whole` too: compare the counts that the pushes
    // did not touch, then the exact sum of the two parts.
    let sum: Stats = parts.iter().sum();
    assert_eq!(sum, parts[0] + parts[1]);
    assert_eq!((sum.allocs, sum.reallocs, sum.deallocs), (2, 1, 1));
    assert_eq!(sum.bytes_allocated, 800);
    assert_eq!(sum.net_bytes(), 300);
    assert_eq!(sum.peak_bytes, 800, "500 live on top of the 300 kept");
    // The reverse order would have peaked at 500: the peak depends on it.
    assert_eq!((parts[1] + parts[0]).peak_bytes, 500);
    assert!(whole.peak_bytes >= sum.peak_bytes, "{whole} vs {sum}");
    drop(kept);
}

#[test]
fn a_scope_measured_whole_equals_the_sum_of_its_steps() {
    let mut steps = [Stats::default(); 4];
    let (kept, whole) = measure(|| {
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(4);
        for (i, step) in steps.iter_mut().enumerate() {
            let (v, s) = measure(|| {
                drop(black_box(vec![1u8; 1000]));
                black_box(vec![2u8; 10 * (i + 1)])
            });
            kept.push(v);
            *step = s;
        }
        kept
    });
    // The outer scope also counts the `Vec::with_capacity(4)` of `kept`.
    let outer_only = Stats {
        allocs: 1,
        bytes_allocated: 4 * 24,
        peak_bytes: 4 * 24,
        ..Stats::default()
    };
    assert_eq!(whole, outer_only + steps.iter().sum::<Stats>());
    // Subtraction keeps the left side's peak: the rest's cannot be known.
    let steps_sum: Stats = steps.into_iter().sum();
    assert_eq!(
        whole - outer_only,
        Stats {
            peak_bytes: whole.peak_bytes,
            ..steps_sum
        }
    );
    assert_eq!(
        steps_sum.peak_bytes,
        60 + 1000,
        "the last step's churn on 60 kept"
    );
    let mut acc = whole;
    acc -= outer_only;
    acc += Stats::default();
    assert_eq!(acc.net_bytes(), 10 + 20 + 30 + 40);
    drop(kept);
}

#[test]
#[allow(deprecated)]
fn the_deprecated_budget_scope_name_still_compiles_and_compares() {
    let per = per_op(10, |i| vec![i; 1]);
    let over = Budget::new().max_allocs(0).check(&per).unwrap_err();
    assert_eq!(over.scope, Scope::PerOp(10));
}

#[test]
fn stats_display_is_compact() {
    let ((), s) = measure(|| drop(black_box(vec![0u8; 1536])));
    assert_eq!(
        s.to_string(),
        "1 alloc, 0 reallocs, 1 dealloc, 1.5 KiB allocated, 1.5 KiB freed, peak 1.5 KiB, net +0 B"
    );
}

// ---- the leak detector: each case and its wrong-answer twin ----

#[test]
fn leak_of_16_bytes_per_op() {
    let mut kept: Vec<Box<[u8; 16]>> = Vec::with_capacity(70_000);
    let report = LeakDetector::new().run(|i| kept.push(Box::new([i as u8; 16])));
    assert_eq!(report.verdict, Verdict::Leak, "{report}");
    assert_eq!(report.retained_bytes_per_op, 16.0, "{report}");
    assert_eq!(report.ops, 64_000);
}

#[test]
fn leak_of_16_bytes_per_op_beside_8_kb_of_churn_is_still_a_leak() {
    let mut kept: Vec<u128> = Vec::new(); // grows by doubling: retained in steps
    let report = LeakDetector::new().run(|i| {
        kept.push(i as u128);
        black_box(vec![0u8; 8_000])
    });
    assert_eq!(report.verdict, Verdict::Leak, "{report}");
    assert!(
        (report.retained_bytes_per_op - 16.0).abs() < 1.0,
        "{report}"
    );
}

#[test]
fn leak_of_1_kib_every_10th_op() {
    let mut kept: Vec<Box<[u8; 1024]>> = Vec::with_capacity(7_000);
    let report = LeakDetector::new().run(|i| {
        if i % 10 == 0 {
            kept.push(Box::new([0; 1024]));
        }
    });
    assert_eq!(report.verdict, Verdict::Leak, "{report}");
    assert!(
        (report.retained_bytes_per_op - 102.4).abs() < 0.1,
        "{report}"
    );
}

#[test]
fn churn_of_8_kb_per_op() {
    let report = LeakDetector::new().run(|i| black_box(vec![i as u8; 8_000]));
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
    assert_eq!(report.retained_bytes_per_op, 0.0);
    assert_eq!(report.allocated_bytes_per_op, 8_000.0);
    assert_eq!(report.allocs_per_op, 1.0);
    assert_eq!(report.time_to_limit(100.0, 1 << 30), None);
}

#[test]
fn churn_that_frees_late_is_not_a_leak() {
    // Twin of the churn case: each op keeps its buffer until the next op,
    // so retained bytes wobble by one buffer but do not grow.
    let mut last: Option<Vec<u8>> = None;
    let report = LeakDetector::new().run(|i| last = Some(vec![i as u8; 8_000]));
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
}

#[test]
fn cache_that_fills_to_a_bound_is_not_a_leak() {
    // Fills 4,096 entries during the warm-up and the first phases, then
    // every op replaces an entry's value: bounded, but churning.
    let mut cache: HashMap<u64, Vec<u8>> = HashMap::new();
    let report = LeakDetector::new().run(|i| {
        cache.insert(i % 4_096, vec![1; 100]);
    });
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
    assert!(report.retained_bytes_per_op.abs() < 1.0, "{report}");
}

#[test]
fn cache_still_filling_is_a_leak() {
    // Twin: the same cache with a bound beyond the run keeps growing.
    let mut cache: HashMap<u64, Vec<u8>> = HashMap::new();
    let report = LeakDetector::new().run(|i| {
        cache.insert(i % 1_000_000, vec![1; 100]);
    });
    assert_eq!(report.verdict, Verdict::Leak, "{report}");
}

#[test]
fn buffer_reused_after_warmup_is_clean() {
    let mut buf: Vec<u8> = Vec::new();
    let report = LeakDetector::new().run(|i| {
        buf.clear();
        buf.extend(std::iter::repeat_n(i as u8, 4_096));
        buf.len()
    });
    assert_eq!(report.verdict, Verdict::Clean, "{report}");
    assert_eq!(report.allocs_per_op, 0.0);
}

#[test]
fn buffer_reallocated_each_op_is_churn_not_clean() {
    // Twin: the same work with a fresh buffer each time.
    let report = LeakDetector::new().run(|i| {
        let mut buf: Vec<u8> = Vec::new();
        buf.extend(std::iter::repeat_n(i as u8, 4_096));
        buf.len()
    });
    assert_eq!(report.verdict, Verdict::Churn, "{report}");
}

#[test]
fn time_to_limit_of_a_leak() {
    let mut kept: Vec<Box<[u8; 16]>> = Vec::with_capacity(70_000);
    let report = LeakDetector::new().run(|_| kept.push(Box::new([0; 16])));
    // 16 B/op at 100 ops/s: 1 GiB in 2^30 / 1600 s.
    let t = report.time_to_limit(100.0, 1 << 30).unwrap();
    assert_eq!(t.as_secs(), (1u64 << 30) / 1600);
    assert_eq!(report.time_to_limit(0.0, 1 << 30), None);
}

#[test]
fn detector_samples_double() {
    let report = LeakDetector::new().warmup(10).phases(3).run(|_| ());
    let ops: Vec<u64> = report.samples.iter().map(|s| s.ops).collect();
    assert_eq!(ops, [10, 20, 40, 80]);
    assert_eq!(report.verdict, Verdict::Clean);
}

#[test]
fn uses_raw_alloc_too() {
    let layout = Layout::new::<[u64; 4]>();
    let ((), s) = measure(|| {
        // SAFETY: non-zero size; freed with the same layout. `black_box`
        // keeps the optimiser from deleting the unused pair in release.
        unsafe {
            let p = black_box(alloc(layout));
            assert!(!p.is_null());
            dealloc(black_box(p), layout);
        }
    });
    assert_eq!((s.allocs, s.deallocs, s.bytes_allocated), (1, 1, 32));
}

#[test]
fn a_refused_allocation_is_not_counted() {
    // 64 TiB: a valid layout that no allocator here grants. Sizes from
    // 256 KiB up take the slow path, which counts after the inner call.
    let mut v: Vec<u8> = Vec::new();
    let (refused, s) = measure(|| v.try_reserve_exact(1 << 46).is_err());
    assert!(refused);
    assert_eq!((s.allocs, s.bytes_allocated, s.peak_bytes), (0, 0, 0));
    // The next allocation is counted as usual.
    let ((), s) = measure(|| drop(black_box(vec![0u8; 300_000])));
    assert_eq!(
        (s.allocs, s.bytes_allocated, s.peak_bytes),
        (1, 300_000, 300_000)
    );
}

#[test]
fn a_peak_is_found_between_frees_and_at_the_end() {
    let ((), s) = measure(|| {
        let a = black_box(vec![0u8; 100]);
        let b = black_box(vec![0u8; 50]);
        drop(a); // live 150 just before: the peak
        let c = black_box(vec![0u8; 90]); // live 140
        drop(b);
        drop(c);
        let d = black_box(vec![0u8; 200]); // live 200 at the end, never freed inside
        std::mem::forget(d);
    });
    assert_eq!(s.peak_bytes, 200);
    let ((), s) = measure(|| {
        let a = black_box(vec![0u8; 100]);
        let b = black_box(vec![0u8; 50]);
        drop(a);
        drop(b);
        drop(black_box(vec![0u8; 120]));
    });
    assert_eq!(s.peak_bytes, 150);
}
