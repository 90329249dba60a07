//! The sampler's tables are fixed-size statics (it runs inside the
//! allocator and cannot grow them): chapter 11 quotes their limits, and this
//! test reaches each of them with the sampling interval at 1 byte (every
//! allocation sampled) so the chapter's figures are the ones the code has.

use std::hint::black_box;

use heaplab::render::format::count;
use heapmeter::sampling;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

const CHAPTER: &str = include_str!("../docs/11-limits.md");

/// One of eight distinct functions per level of the call tree: the return
/// address into `level::<K>` is what makes each path's stack distinct.
#[inline(never)]
fn level<const K: u32>(path: u32, depth: u32) -> usize {
    // NOTE: `K` in the body keeps the eight copies from being merged, and
    // the work after the call keeps it from becoming a tail call.
    let n = descend(path, depth);
    black_box(n + K as usize)
}

#[inline(never)]
fn descend(path: u32, depth: u32) -> usize {
    if depth == 0 {
        return black_box(Vec::<u8>::with_capacity(8)).capacity();
    }
    let next = path / 8;
    let n = match path % 8 {
        0 => level::<0>(next, depth - 1),
        1 => level::<1>(next, depth - 1),
        2 => level::<2>(next, depth - 1),
        3 => level::<3>(next, depth - 1),
        4 => level::<4>(next, depth - 1),
        5 => level::<5>(next, depth - 1),
        6 => level::<6>(next, depth - 1),
        _ => level::<7>(next, depth - 1),
    };
    black_box(n)
}

/// Allocates at the bottom of `depth` nested calls.
#[inline(never)]
fn deep(depth: u32) -> usize {
    if depth == 0 {
        return black_box(Vec::<u8>::with_capacity(8)).capacity();
    }
    black_box(deep(depth - 1)) + 1
}

#[test]
fn the_sampler_keeps_3072_stacks_49152_live_blocks_and_48_frames_at_most() {
    // Live sampled blocks: keep more than the table holds.
    sampling::clear();
    let session = sampling::start(1).unwrap();
    let kept: Vec<Box<u64>> = (0..60_000).map(|i| black_box(Box::new(i))).collect();
    let live = sampling::live_samples();
    drop(session);
    drop(kept);
    sampling::clear();

    // Distinct stacks: 8^4 = 4,096 call paths, each allocating once.
    let session = sampling::start(1).unwrap();
    for path in 0..4_096 {
        black_box(descend(path, 4));
    }
    drop(session);
    let stacks = sampling::profile();
    sampling::clear();

    // Frames: an allocation 200 calls deep.
    let session = sampling::start(1).unwrap();
    black_box(deep(200));
    drop(session);
    let frames = sampling::profile();
    sampling::clear();

    assert_eq!(live, 49_152, "live sampled blocks at most ¾ of 65,536");
    assert_eq!(
        stacks.stacks.len(),
        3_072,
        "distinct stacks at most ¾ of 4,096"
    );
    assert!(
        stacks.dropped > 0,
        "samples beyond the table are counted as dropped"
    );
    // The capture keeps 48 frames, the allocator's and the sampler's own
    // among them (at most 24, which the profile removes): what is left of
    // a stack 200 calls deep is its innermost `deep` frames, and fewer than 48.
    let deepest = frames.stacks.iter().max_by_key(|s| s.ips.len()).unwrap();
    let outermost = &deepest.frames.last().unwrap().function;
    assert!(
        outermost.contains("deep"),
        "cut inside the recursion: {outermost}"
    );
    assert!(
        (24..48).contains(&deepest.ips.len()),
        "{} frames",
        deepest.ips.len()
    );

    for figure in [
        format!("{} distinct stacks", count(stacks.stacks.len() as u64)),
        format!("{} live sampled blocks", count(live)),
    ] {
        assert!(CHAPTER.contains(&figure), "chapter 11 quotes {figure:?}");
    }
}
