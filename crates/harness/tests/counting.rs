//! The counting allocator's numbers, in a test binary of its own: the counts are global, so no
//! other test may allocate while they are taken.

use std::hint::black_box;

use harness::measure::count_allocations;

#[test]
fn counts_allocations_peaks_and_what_is_kept() {
    let (kept, stats) = count_allocations(|| {
        let scratch = black_box(vec![1u8; 4096]);
        drop(scratch);
        vec![0u64; 100]
    })
    .expect("the global-allocator feature installs the counting allocator");
    assert_eq!(kept.len(), 100);
    assert_eq!(stats.allocations, 2);
    assert_eq!(stats.allocated, 4096 + 800);
    assert_eq!(stats.peak, 4096);
    assert_eq!(stats.retained, 800);

    // Outside a count nothing moves: a second count of no work finds nothing.
    let _ = black_box(vec![0u8; 1 << 20]);
    let ((), idle) = count_allocations(|| ()).expect("installed");
    assert_eq!((idle.allocations, idle.allocated, idle.peak), (0, 0, 0));
}
