//! Measuring what things cost: best-of-N timing and a counting allocator.
//!
//! Timings are noisy on a shared machine, so lessons compare the *best* of several runs and assert
//! only large ratios; the exact numbers belong in `benches/` (criterion).

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mimalloc::MiMalloc;

use crate::Error;

/// The timings of several runs of the same work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The fastest run: the least disturbed by the rest of the machine.
    pub best: Duration,
    /// The median run.
    pub median: Duration,
    pub runs: usize,
}

impl Timing {
    /// Best time in seconds.
    pub fn secs(&self) -> f64 {
        self.best.as_secs_f64()
    }

    /// How many times faster `self` is than `other` (best against best).
    pub fn speedup_over(&self, other: &Timing) -> f64 {
        other.secs() / self.secs().max(1e-12)
    }

    /// Throughput for `units` of work per run (e.g. bytes → bytes per second).
    pub fn rate(&self, units: f64) -> f64 {
        units / self.secs().max(1e-12)
    }
}

/// Runs `work` `runs` times (at least once) and keeps the best and median durations. The result of
/// each run goes through `black_box`, so the compiler cannot drop the work.
pub fn best_of<T>(runs: usize, mut work: impl FnMut() -> T) -> Timing {
    let runs = runs.max(1);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed()
        })
        .collect();
    times.sort();
    Timing {
        best: times[0],
        median: times[runs / 2],
        runs,
    }
}

/// Runs `first` and `second` alternately, `runs` times each, and keeps the best and median
/// durations of each. For a ratio between two kernels: whatever else the machine is doing (another
/// process on the other core, a frequency change) falls on both alike, where two separate
/// [`best_of`] series could each meet a different load.
pub fn best_of_interleaved<A, B>(
    runs: usize,
    mut first: impl FnMut() -> A,
    mut second: impl FnMut() -> B,
) -> (Timing, Timing) {
    let runs = runs.max(1);
    let (mut a, mut b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let start = Instant::now();
        black_box(first());
        a.push(start.elapsed());
        let start = Instant::now();
        black_box(second());
        b.push(start.elapsed());
    }
    let summary = |mut times: Vec<Duration>| {
        times.sort();
        Timing {
            best: times[0],
            median: times[runs / 2],
            runs,
        }
    };
    (summary(a), summary(b))
}

// The counters move only while [`count_allocations`] runs: outside it an allocation costs one
// relaxed load of COUNTING beyond mimalloc's own work, so that threads allocating in parallel do
// not contend for the counters' cache line.
static COUNTING: AtomicBool = AtomicBool::new(false);
// Signed: memory allocated before a count and freed during it lowers the live count below zero.
// Only differences of it are ever reported.
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// The workspace's global allocator: mimalloc, with byte counts for [`count_allocations`].
///
/// The harness installs it as the `#[global_allocator]` of every program that links it with the
/// `global-allocator` feature, which the workspace's dependency on the harness names: every lesson,
/// every bench and head-to-head then run on it (a program that uses nothing of the harness names
/// it with `use harness as _;`). A Jupyter kernel (the notebooks) builds the harness without the
/// feature and keeps its own allocator.
///
/// Why mimalloc and not the system's: glibc's malloc hands out each block above 32 MiB as a fresh
/// mapping and returns it to the kernel when it is freed, so a program that makes a new large array
/// per call (`&x * a + &y`) pays for zero-filling every page of it again; mimalloc keeps freed
/// pages for the next allocation. polars-python ships jemalloc for the same reason.
pub struct CountingAllocator;

#[cfg(feature = "global-allocator")]
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

impl CountingAllocator {
    fn grew(size: usize) {
        if !COUNTING.load(Ordering::Relaxed) {
            return;
        }
        ALLOCATED.fetch_add(size, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        let size = size as isize;
        let now = CURRENT
            .fetch_add(size, Ordering::Relaxed)
            .wrapping_add(size);
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn shrank(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            CURRENT.fetch_sub(size as isize, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded unchanged to mimalloc; the counters have no effect on the memory
// handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { MiMalloc.alloc(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            Self::shrank(layout.size());
            Self::grew(new_size);
        }
        new
    }
}

/// What a piece of work allocated on the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocStats {
    /// Bytes requested in total (a reallocation counts its new size).
    pub allocated: usize,
    /// Number of allocations and reallocations.
    pub allocations: usize,
    /// The most heap the work held at once, above what was live when it started.
    pub peak: usize,
    /// Heap still held when the work returned, above what was live when it started (what its
    /// result owns, if it returns something that allocates).
    pub retained: isize,
}

fn reset_counters() {
    for counter in [&CURRENT, &PEAK] {
        counter.store(0, Ordering::Relaxed);
    }
    for counter in [&ALLOCATED, &ALLOCATIONS] {
        counter.store(0, Ordering::Relaxed);
    }
}

/// Runs `work` and counts its heap use. Counts are global, so run it while no other thread of the
/// lesson allocates, and not from two threads at once. Fails when the [`CountingAllocator`] is not
/// the program's allocator, so that a memory claim can never pass on zeros.
pub fn count_allocations<T>(work: impl FnOnce() -> T) -> Result<(T, AllocStats), Error> {
    reset_counters();
    COUNTING.store(true, Ordering::SeqCst);
    // One allocation to see whether the counting allocator is the one in place.
    black_box(Vec::<u8>::with_capacity(1));
    if ALLOCATIONS.load(Ordering::Relaxed) == 0 {
        COUNTING.store(false, Ordering::SeqCst);
        return Err(Error::NoCountingAllocator);
    }
    reset_counters();
    let value = work();
    COUNTING.store(false, Ordering::SeqCst);
    let stats = AllocStats {
        allocated: ALLOCATED.load(Ordering::Relaxed),
        allocations: ALLOCATIONS.load(Ordering::Relaxed),
        peak: PEAK.load(Ordering::Relaxed).max(0) as usize,
        retained: CURRENT.load(Ordering::Relaxed),
    };
    Ok((value, stats))
}

/// The page faults this process has taken so far that the kernel served from memory (minor
/// faults: a page zero-filled on first touch, or mapped in again), from `getrusage`; `None` where
/// the system cannot say.
pub fn minor_page_faults() -> Option<u64> {
    // SAFETY: getrusage writes the usage of this process into the struct it is given and nothing
    // else; an all-zero rusage is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    (status == 0).then_some(usage.ru_minflt as u64)
}

/// The arithmetic mean (NaN for no values).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation (divisor n − 1).
pub fn sample_sd(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0)).sqrt()
}

/// The standard error of the mean, sd / √n: how far a mean of these values is likely to be from
/// the mean it estimates.
pub fn standard_error(values: &[f64]) -> f64 {
    sample_sd(values) / (values.len() as f64).sqrt()
}

/// The least-squares slope of y against x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let k = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / k;
    let my = points.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// The least-squares slope of log10(y) against log10(x): the exponent of a power law y ∝ x^k.
pub fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.log10(), y.log10())).collect();
    slope(&logs)
}

/// Formats a byte count with a binary unit (B, KiB, MiB, GiB).
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Formats a duration in the unit that suits it (ns, µs, ms, s).
pub fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1e-6 {
        format!("{:.0} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_is_not_slower_than_median() {
        let t = best_of(5, || (0..1000u64).sum::<u64>());
        assert_eq!(t.runs, 5);
        assert!(t.best <= t.median);
    }

    #[test]
    #[cfg(not(feature = "global-allocator"))]
    fn counting_needs_the_allocator() {
        // Without the feature the test binary runs on the system allocator: nothing to count with.
        // (With it, tests/counting.rs checks the counts, alone in its binary.)
        assert!(matches!(
            count_allocations(|| vec![0u8; 10]),
            Err(Error::NoCountingAllocator)
        ));
    }

    #[test]
    fn mean_sd_and_standard_error_by_hand() {
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&v), 5.0);
        assert!((sample_sd(&v) - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((standard_error(&v) - (32.0f64 / 7.0 / 8.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn slopes_of_exact_lines_and_power_laws() {
        assert!((slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]) - 2.0).abs() < 1e-12);
        let cubic: Vec<(f64, f64)> = (1..6).map(|i| (i as f64, (i as f64).powi(3))).collect();
        assert!((log_log_slope(&cubic) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.0 MiB");
    }
}
