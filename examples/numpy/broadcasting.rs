//! # Broadcasting and vectorisation (NumPy → ndarray)
//!
//! **Question:** What are the broadcasting rules, and why is vectorised code fast?
//!
//! **Answer:** Line the shapes up from the right; each pair of dimensions must be equal or one of
//! them 1, and a 1 (or a missing dimension) is stretched to match. ndarray stretches it with a
//! stride of 0, so a broadcast view allocates nothing and rereads the same memory; shapes that do
//! not fit are an error, not a guess. In NumPy the speed of vectorised code comes from running the
//! loop once in compiled code instead of through the interpreter per element. The price of
//! broadcasting is that it can materialise every combination: an n × m × d intermediate.
//!
//! **Evidence:** Six shape pairs follow the rule exactly as ndarray's `broadcast` does, and (3,)
//! against (3, 4) is refused. The column means broadcast to 178 × 13 have strides [0, 1] after zero
//! allocations, and centring leaves column means of 2.5e-13. Squared distances from 600 points to
//! 200 centres in 50 dimensions peak at 47 MiB of heap by broadcasting (the 46 MiB intermediate)
//! against 1 MiB by ‖a‖² + ‖b‖² − 2·a·bᵀ, agreeing to 1e-13. Hand loops and the expression give
//! bit-identical centred matrices.
//!
//! **Run:** `cargo run --example broadcasting` (add `-- --quick` for a short run).

use anyhow::Result;
use harness::measure::{self, count_allocations};
use harness::prelude::*;
use ndarray::{Array1, Array2, Axis, IxDyn};
use ndarray_rand::RandomExt;
use rand_distr::Normal;

/// The sizes of two shapes position by position once aligned from the right, the shorter padded
/// with 1s in front: (3,) and (3, 4) give [(1, 3), (3, 4)].
fn aligned(a: &[usize], b: &[usize]) -> Vec<(usize, usize)> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], k: usize| {
        if k < n - s.len() {
            1
        } else {
            s[k - (n - s.len())]
        }
    };
    (0..n).map(|k| (at(a, k), at(b, k))).collect()
}

/// The element-wise maximum of two aligned shapes (the only candidate joint shape).
fn elementwise_max(a: &[usize], b: &[usize]) -> Vec<usize> {
    aligned(a, b).into_iter().map(|(x, y)| x.max(y)).collect()
}

/// NumPy's broadcasting rule: the joint shape of `a` and `b`, or why there is none.
fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    aligned(a, b)
        .into_iter()
        .enumerate()
        .map(|(k, pair)| match pair {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(format!(
                "dimension {k} (from the left of the aligned shapes) is {x} in one and {y} in the other"
            )),
        })
        .collect()
}

/// Centres `x` the way a loop in Python would: one indexed subtraction per element.
fn centre_by_indexing(x: &Array2<f64>, means: &Array1<f64>) -> Array2<f64> {
    let (rows, cols) = x.dim();
    let mut out = Array2::<f64>::zeros((rows, cols));
    for i in 0..rows {
        for j in 0..cols {
            out[[i, j]] = x[[i, j]] - means[j];
        }
    }
    out
}

/// Shape pairs to try the rule on: four that broadcast and two that do not.
const SHAPE_PAIRS: [(&[usize], &[usize]); 6] = [
    (&[3, 1], &[1, 4]),
    (&[4], &[3, 4]),
    (&[5, 1, 3], &[4, 1]),
    (&[3], &[3, 4]),
    (&[2, 3], &[3, 2]),
    (&[1], &[7, 1, 2]),
];

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %% The rule
    // The rule, written out: align shapes from the right, pad the shorter with 1s, and in each
    // position the sizes must agree or one must be 1.
    let mut agree: usize = 0;
    for (a, b) in SHAPE_PAIRS {
        let ours = broadcast_shape(a, b);
        // ndarray's own answer: if any joint shape exists it is the element-wise maximum of the
        // right-aligned shapes, so ask `broadcast` (which returns None when it cannot) for that.
        let joint = elementwise_max(a, b);
        let x = ndarray::ArrayD::<f64>::zeros(IxDyn(a));
        let y = ndarray::ArrayD::<f64>::zeros(IxDyn(b));
        let ndarray_accepts =
            x.broadcast(IxDyn(&joint)).is_some() && y.broadcast(IxDyn(&joint)).is_some();
        if ours.as_ref().ok() == ndarray_accepts.then_some(&joint) {
            agree += 1;
        }
        match &ours {
            Ok(shape) => println!("{a:?} with {b:?} → {shape:?}"),
            Err(e) => println!("{a:?} with {b:?} → error: {e}"),
        }
    }
    let incompatible = broadcast_shape(&[3], &[3, 4]);
    lesson.claim(
        "the broadcasting rule agrees with ndarray, and an incompatible pair is an error",
        agree == SHAPE_PAIRS.len() && incompatible.is_err(),
        format!(
            "{agree} of {} shape pairs agree with ndarray's broadcast(); (3,) with (3, 4) gives: {}",
            SHAPE_PAIRS.len(),
            incompatible.as_ref().err().map_or("no error".into(), |e| e.clone())
        ),
        &[("pairs_agreeing", agree as f64)],
    );

    // %% A broadcast view
    // Centring the wine data. mean_axis(Axis(0)) gives a vector of 13 column means, shape (13,);
    // subtracting it from the (178, 13) matrix stretches it over the rows.
    let x = datasets::wine()?.features;
    let means: Array1<f64> = x.mean_axis(Axis(0)).expect("wine has rows");

    // A broadcast view repeats the vector with a row stride of 0 and allocates nothing.
    let (strides, stats) = count_allocations(|| {
        let view = means
            .broadcast(x.dim())
            .expect("(13,) broadcasts to (178, 13)");
        // Copy the strides into a fixed array: collecting them into a Vec would itself allocate.
        [view.strides()[0], view.strides()[1]]
    })?;
    lesson.claim(
        "a broadcast view has stride 0 and allocates nothing",
        strides[0] == 0 && stats.allocations == 0,
        format!(
            "means.broadcast((178, 13)) has strides {strides:?} and made {} allocations",
            stats.allocations
        ),
        &[
            ("broadcast_row_stride", strides[0] as f64),
            ("allocations", stats.allocations as f64),
        ],
    );

    // %% Centring
    // Subtracting the means stretches them over the 178 rows; the centred columns must then have
    // mean zero up to rounding.
    let centred = &x - &means;
    let centred_means = centred.mean_axis(Axis(0)).expect("wine has rows");
    // Summing n values of magnitude up to |x| leaves a rounding error of at most about
    // n · ε · max|x|, per column; that is the tolerance, not an arbitrary small number.
    let n = x.nrows() as f64;
    let worst = centred_means
        .iter()
        .zip(x.columns())
        .map(|(m, col)| {
            let bound = n * f64::EPSILON * col.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
            m.abs() / bound
        })
        .fold(0.0, f64::max);
    lesson.claim(
        "centred columns have mean ≈ 0",
        worst <= 1.0,
        format!(
            "the largest |column mean| after centring is {:.1e}, {:.2} of its rounding bound n·ε·max|x|",
            centred_means.iter().fold(0.0_f64, |a, v| a.max(v.abs())),
            worst
        ),
        &[("worst_mean_over_bound", worst)],
    );

    // %% The cost of broadcasting
    // The cost side of broadcasting: it materialises every combination. Squared distances from
    // n points to m centres in d dimensions as `(a[:, None, :] - b[None, :, :])**2` build an
    // n × m × d intermediate; the matrix form ‖a‖² + ‖b‖² − 2·a·bᵀ needs only the n × m result.
    let (n_points, m_centres, dims): (usize, usize, usize) =
        lesson.pick((600, 200, 50), (200, 100, 20));
    let mut rng = lesson.rng(2);
    let a = Array2::random_using((n_points, dims), Normal::new(0.0, 1.0)?, &mut rng);
    let b = Array2::random_using((m_centres, dims), Normal::new(0.0, 1.0)?, &mut rng);
    let (by_broadcast_3d, broadcast_stats) = count_allocations(|| {
        let diff = &a.view().insert_axis(Axis(1)) - &b.view().insert_axis(Axis(0));
        diff.mapv_into(|v| v * v).sum_axis(Axis(2))
    })?;
    let (by_matrix, matrix_stats) = count_allocations(|| {
        let mut d2 = a.dot(&b.t());
        d2.mapv_inplace(|v| -2.0 * v);
        d2 += &a.map_axis(Axis(1), |r| r.dot(&r)).insert_axis(Axis(1));
        d2 += &b.map_axis(Axis(1), |r| r.dot(&r)).insert_axis(Axis(0));
        d2
    })?;
    // Both are sums of d squares of numbers of size ~1, so they agree to rounding: each entry's
    // error is at most a few d·ε times the squared norms involved.
    let largest = by_broadcast_3d
        .iter()
        .fold(0.0_f64, |m: f64, v: &f64| m.max(v.abs()));
    let differ = (&by_broadcast_3d - &by_matrix)
        .iter()
        .fold(0.0_f64, |m: f64, v: &f64| m.max(v.abs()));
    let agree = differ <= 8.0 * dims as f64 * f64::EPSILON * largest;
    let intermediate = (n_points * m_centres * dims * std::mem::size_of::<f64>()) as f64;
    let result_bytes = (n_points * m_centres * std::mem::size_of::<f64>()) as f64;
    println!(
        "squared distances {n_points}×{m_centres} in {dims} dimensions: broadcasting peaks at {}, the matrix form at {} (the result alone is {})",
        measure::bytes(broadcast_stats.peak as f64),
        measure::bytes(matrix_stats.peak as f64),
        measure::bytes(result_bytes)
    );
    lesson.claim(
        "broadcasting builds the whole n × m × d intermediate; the matrix form needs a fraction of it",
        agree
            && broadcast_stats.peak as f64 >= intermediate
            && (matrix_stats.peak as f64) * 4.0 < broadcast_stats.peak as f64,
        format!(
            "peak heap {} with broadcasting (the intermediate alone is {}), {} with ‖a‖² + ‖b‖² − 2·a·bᵀ; the two agree to {differ:.1e}",
            measure::bytes(broadcast_stats.peak as f64),
            measure::bytes(intermediate),
            measure::bytes(matrix_stats.peak as f64)
        ),
        &[
            ("broadcast_peak_bytes", broadcast_stats.peak as f64),
            ("matrix_peak_bytes", matrix_stats.peak as f64),
            ("intermediate_bytes", intermediate),
        ],
    );

    // %% Timing
    // Timing: centring a larger matrix three ways. Loops index every element; the broadcast
    // expression allocates the result and runs a flat loop; the in-place form (`x -= &means`)
    // reuses the input's buffer. All three compute x[i, j] − m[j] for the same m, so the results
    // must be identical to the last bit.
    let (rows, cols): (usize, usize) = lesson.pick((4000, 500), (1000, 200));
    let mut rng = lesson.rng(1);
    let big = Array2::random_using((rows, cols), Normal::new(5.0, 2.0)?, &mut rng);
    let big_means = big.mean_axis(Axis(0)).expect("rows");
    let runs: usize = lesson.pick(10, 5);
    let t_loops = best_of(runs, || centre_by_indexing(&big, &big_means));
    let t_broadcast = best_of(runs, || &big - &big_means);
    // The in-place form is timed on its own: each run subtracts the means once more from the
    // working copy (only the time matters there); then a fresh copy is centred once for the check.
    let mut work = big.clone();
    let t_in_place = best_of(runs, || work -= &big_means);
    work.assign(&big);
    work -= &big_means;
    let by_broadcast = &big - &big_means;
    let identical = centre_by_indexing(&big, &big_means) == by_broadcast && work == by_broadcast;
    println!(
        "centring {rows}×{cols}: loops {}, broadcast {}, in place {}",
        measure::duration(t_loops.best),
        measure::duration(t_broadcast.best),
        measure::duration(t_in_place.best)
    );
    lesson.claim(
        "loops, the broadcast expression and the in-place form give identical results",
        identical,
        format!(
            "bit-for-bit equal on a {rows}×{cols} matrix; the broadcast expression ran {:.1}× as fast as the loops",
            t_broadcast.speedup_over(&t_loops)
        ),
        &[("speedup_broadcast_over_loops", t_broadcast.speedup_over(&t_loops))],
    );
    lesson.metric("centre_loops_s", t_loops.secs());
    lesson.metric("centre_broadcast_s", t_broadcast.secs());
    lesson.metric("centre_in_place_s", t_in_place.secs());

    // %% The figure
    // The three timings side by side.
    figure!(lesson, "centring_time", plot::SIZE, |root| {
        plot::BarChart::new(
            &format!("Centring a {rows}×{cols} matrix (best of {runs})"),
            "milliseconds",
        )
        .bar("indexed loops", t_loops.secs() * 1e3)
        .bar("&x - &means", t_broadcast.secs() * 1e3)
        .bar("x -= &means", t_in_place.secs() * 1e3)
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
